// The GitHub Action's main step. Thin wiring over the same run the CLI does: read the config named by
// the `config` input, run it, judge it, fail the step on a breach. (Inputs beyond `config`, the artifact,
// the job summary and the PR comment come with the action issue.)

import * as core from '@actions/core';
import { ConfigError, buildPlan, readConfigFile } from './plan/config.ts';
import { formatChecklist, formatSummary } from './report/console.ts';
import { executeRun } from './run.ts';
import { ServiceError } from './service/service.ts';

export async function runAction(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => stop.abort(new Error(`interrupted by ${sig}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const plan = buildPlan(readConfigFile(core.getInput('config', { required: true })));
    const { result, verdict, resultFile } = await executeRun(plan, { log: core.info, signal: stop.signal });
    core.info(formatSummary(result));
    core.info(formatChecklist(result, verdict));
    core.setOutput('verdict', verdict.pass ? 'pass' : 'fail');
    core.setOutput('result-file', resultFile);
    core.setOutput('report-dir', plan.outputDir);
    if (!verdict.pass) {
      const why = [...verdict.outcomes.filter((o) => !o.pass).map((o) => o.sentence), ...verdict.problems];
      core.setFailed(`loadgate: ${why.join('; ') || `the run was ${result.status}`}`);
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ServiceError) core.setFailed(e.message);
    else core.setFailed(`internal error: ${(e as Error)?.stack ?? String(e)}`);
  }
}

void runAction();
