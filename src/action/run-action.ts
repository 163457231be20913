// The action's main step, start to finish: inputs -> plan -> run (reports written) -> artifact -> job summary
// -> PR comment -> outputs -> annotations -> the gate. What happens on GitHub after the run never loses the
// verdict: an upload or a comment that fails is a warning, and the step still passes or fails on the SLOs.
//
// Cancellation: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the tree 2.5 s after that. On
// the first signal the load stops, what was measured is written, the service is stopped (executeRun), and
// then publishing gets what is left of CANCEL_BUDGET_MS from the signal.

import { relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { ConfigError } from '../plan/config.ts';
import type { Plan } from '../plan/types.ts';
import { formatChecklist, formatProgress, formatSummary } from '../report/console.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { type RunHooks, type RunOutput, executeRun } from '../run.ts';
import { runStatus } from '../run/outcome.ts';
import { inert } from '../console-text.ts';
import { ServiceError, processStartTicks } from '../service/service.ts';
import { annotate, breachAnnotations } from '../publish/annotations.ts';
import { artifactName, uploadReportFolder } from '../publish/artifact.ts';
import { GitHubApiError, commentBody, commentMarker, upsertComment } from '../publish/comment.ts';
import { type OutputName, runOutputs } from '../publish/outputs.ts';
import { startFailureMarkdown, summaryMarkdown, writeSummary } from '../publish/summary.ts';
import { type WorkflowContext, artifactUrl, isGhes, readWorkflowContext, workflowRunUrl } from './context.ts';
import { Deadline } from './deadline.ts';
import { type ActionInputs, InputError, matrixKey, planFromInputs, readInputs } from './inputs.ts';
import { runnerState, saveContainer, saveProcessGroup } from './state.ts';

/** From the cancel signal to the end of publishing: well within the 7.5 s before SIGTERM. */
const CANCEL_BUDGET_MS = 6_000;
const UPLOAD_TIMEOUT_MS = 10 * 60_000;
const COMMENT_TIMEOUT_MS = 60_000;

/** The runner's cancel (SIGINT, then SIGTERM), and SIGHUP, all stop the run the same way. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

async function runAction(): Promise<void> {
  const ctx = readWorkflowContext(process.env);
  let inputs: ActionInputs;
  let plan: Plan;
  try {
    inputs = readInputs(
      (name, opts) => core.getInput(name, { trimWhitespace: opts?.trim ?? true }),
      (m) => core.warning(m),
    );
    // Masked in the log should anything ever print it (the runner masks its own token, not one passed in).
    if (inputs.githubToken) core.setSecret(inputs.githubToken);
    plan = planFromInputs(inputs);
    // An API key from a variable the workflow set from a secret is masked already; one set otherwise is not.
    for (const ep of plan.endpoints) {
      const key = ep.apiKeyEnv === undefined ? undefined : process.env[ep.apiKeyEnv]?.trim();
      if (key) core.setSecret(key);
    }
  } catch (e) {
    return failClearly(e);
  }

  const stop = new AbortController();
  const deadline = new Deadline(stop.signal, CANCEL_BUDGET_MS);
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    core.info(`${sig}: stopping the load, writing what was measured, stopping the service, uploading the reports`);
    stop.abort(new Error(`interrupted by ${sig}`));
  };
  // Kept until the end: a signal while publishing also bounds what is left to do.
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  try {
    await runAndPublish(ctx, inputs, plan, stop.signal, deadline);
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
  }
}

async function runAndPublish(
  ctx: WorkflowContext,
  inputs: ActionInputs,
  plan: Plan,
  signal: AbortSignal,
  deadline: Deadline,
): Promise<void> {
  const matrix = matrixKey(inputs.matrix);
  const name = artifactName(inputs.artifactName, ctx.job, ctx.step, matrix, ctx.runAttempt);
  /** The whole report folder as one artifact: its id, or undefined (said how) when the upload fails. */
  const upload = async (onFailure: (message: string) => void): Promise<number | undefined> => {
    if (isGhes(ctx)) {
      // The toolkit would refuse with a warning of its own that points at githubstatus.com: say it once, plainly.
      core.info(
        `No artifact: GitHub Enterprise Server (${ctx.serverUrl}) does not support artifacts v4. The reports are in ` +
          `${plan.outputDir}; upload them in a later step with actions/upload-artifact@v3.`,
      );
      return undefined;
    }
    if (!process.env['ACTIONS_RUNTIME_TOKEN']) {
      // Not on a runner (@github/local-action, a plain `node dist/main.js`): nothing to upload to, and no failure.
      core.info(`No artifact: not on a GitHub runner (no ACTIONS_RUNTIME_TOKEN). The reports are in ${plan.outputDir}.`);
      return undefined;
    }
    try {
      const a = await deadline.bound(uploadReportFolder(name, plan.outputDir), UPLOAD_TIMEOUT_MS, 'the artifact upload');
      core.info(`Uploaded the reports (${a.files} files) as the artifact "${a.name}" (id ${a.id})`);
      return a.id;
    } catch (e) {
      onFailure((e as Error).message);
      return undefined;
    }
  };
  const stages = plan.load.stages.length;
  const hooks: RunHooks = {
    log: (line) => info(line),
    signal,
    onProgress: (p) => info(formatProgress(p, stages)),
    // The post step removes it if this process cannot (killed, or out of time on a cancel).
    onServiceStarted: (s) => {
      if (s.kind === 'container') saveContainer(runnerState, { engine: s.cli, id: s.id });
      if (s.kind === 'command') {
        const startTicks = processStartTicks(s.pid);
        if (startTicks) saveProcessGroup(runnerState, { pgid: s.pid, startTicks });
      }
    },
  };
  let run: RunOutput;
  try {
    run = await executeRun(plan, hooks);
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof ServiceError)) throw e;
    // The run never got going: the folder may still hold the service's log, which says why.
    core.setFailed(inert(e.message));
    try {
      await writeSummary(startFailureMarkdown(`loadgate · ${ctx.job}`, e.message));
    } catch (err) {
      core.info(`No job summary: ${(err as Error).message}`);
    }
    setOutput('verdict', 'error');
    setOutput('status', 'not-measured');
    setOutput('report-dir', plan.outputDir);
    const id = await upload((message) => core.info(`No artifact: ${message}`));
    if (id !== undefined) {
      setOutput('artifact-id', String(id));
      setOutput('artifact-url', artifactUrl(ctx, id));
    }
    return;
  }

  const { result, verdict, resultFile } = run;
  if (result.status !== 'not-started') info(`\n${formatSummary(result)}`);
  info('');
  info(formatChecklist(result, verdict));

  // 1. The whole report folder as one artifact.
  const artifactId = await upload((message) =>
    core.warning(`Could not upload the reports as an artifact: ${message}. They are in ${plan.outputDir}.`),
  );
  // The summary and the comment link the artifact, or say where the reports are when there is none.
  const reportUrl = artifactId !== undefined ? artifactUrl(ctx, artifactId) : undefined;
  const mdOpts = {
    title: `loadgate · ${ctx.job}`,
    ...(reportUrl !== undefined ? { reportLink: reportUrl } : { reportDir: plan.outputDir }),
  };

  // 2. The job summary.
  try {
    await writeSummary(summaryMarkdown(result, verdict, mdOpts));
  } catch (e) {
    core.info(`No job summary: ${(e as Error).message}`);
  }

  // 3. The sticky PR comment.
  const commentUrl = await postComment(ctx, inputs, plan, matrix, result, verdict, mdOpts, deadline);

  // 4. Outputs.
  const outputs: Record<OutputName, string> = {
    ...runOutputs(result, verdict),
    status: runStatus(result, verdict, signal.aborted),
    'report-dir': plan.outputDir,
    'result-file': resultFile,
    'artifact-id': artifactId === undefined ? '' : String(artifactId),
    'artifact-url': reportUrl ?? '',
    'comment-url': commentUrl ?? '',
  };
  for (const [k, v] of Object.entries(outputs)) setOutput(k as OutputName, v);

  // 5. Annotations, then 6. the gate.
  // Nothing was measured when the load never started: no SLO "breached", only why (below).
  if (result.status !== 'not-started') annotate(breachAnnotations(verdict, ctx.workspace));
  const status = outputs.status;
  if (status === 'interrupted') {
    core.setFailed(inert(`loadgate: the run was interrupted (${result.reason ?? 'cancelled'}); the reports hold what was measured`));
  } else if (status === 'not-measured') {
    // Not a breach: fail-on-breach does not turn it into a pass.
    core.setFailed(
      inert(`loadgate: the service was not measured as planned: ${result.reason ?? result.service?.exit?.summary ?? 'see the report'}`),
    );
  } else if (!verdict.pass) {
    const why = [
      ...(verdict.comparison?.fails ? [verdict.comparison.headline] : []),
      ...verdict.outcomes.filter((o) => !o.pass).map((o) => o.sentence),
      ...verdict.problems,
    ];
    const msg = inert(`loadgate: ${why.join('; ') || `the run was ${result.status}`}`);
    if (inputs.failOnBreach) core.setFailed(msg);
    else core.warning(`${msg} (fail-on-breach is false: the step passes)`);
  }
  if (verdict.comparison?.outcome === 'inconclusive' && !verdict.comparison.fails && verdict.comparison.against !== 'calibration') {
    core.warning(`loadgate: the comparison with the baseline is inconclusive (${verdict.comparison.headline}); it does not fail the step`);
  }
}

async function postComment(
  ctx: WorkflowContext,
  inputs: ActionInputs,
  plan: Plan,
  matrix: string,
  result: RunOutput['result'],
  verdict: RunOutput['verdict'],
  mdOpts: { title: string; reportLink?: string; reportDir?: string },
  deadline: Deadline,
): Promise<string | undefined> {
  if (!inputs.comment) return undefined;
  if (ctx.pullRequest === undefined) {
    core.info('No pull request in this event: no PR comment (the job summary has the report).');
    return undefined;
  }
  if (!inputs.githubToken || !ctx.repository) {
    core.warning('No github-token (or GITHUB_REPOSITORY): cannot comment on the pull request.');
    return undefined;
  }
  // One comment per job, matrix leg and config: a second loadgate step with another config gets its own.
  const configId = plan.configPath ? relative(ctx.workspace, resolve(plan.configPath)) : 'inputs';
  const marker = commentMarker(ctx.job, ctx.step, matrix, configId);
  const body = commentBody(marker, renderMarkdown(result, verdict, mdOpts), workflowRunUrl(ctx));
  try {
    const c = await deadline.bound(
      upsertComment(
        { apiUrl: ctx.apiUrl, repository: ctx.repository, pullRequest: ctx.pullRequest, token: inputs.githubToken },
        marker,
        body,
      ),
      COMMENT_TIMEOUT_MS,
      'the PR comment',
    );
    core.info(`${c.action === 'created' ? 'Posted' : 'Updated'} the PR comment: ${c.url}`);
    return c.url;
  } catch (e) {
    if (e instanceof GitHubApiError && (e.status === 403 || e.status === 404)) {
      core.warning(
        `Could not comment on pull request #${ctx.pullRequest} (${e.message}). A pull request from a fork gets a read-only ` +
          'token; otherwise give the job "permissions: pull-requests: write". The job summary has the report.',
      );
    } else {
      core.warning(`Could not comment on pull request #${ctx.pullRequest}: ${(e as Error).message}`);
    }
    return undefined;
  }
}

/**
 * A log line, inert: what the service said (its last output, error messages) cannot issue workflow
 * commands (::error::, ::add-mask::, ::stop-commands::) or drive a terminal.
 */
function info(text: string): void {
  core.info(inert(text));
}

/** Only the outputs action.yml declares (src/publish/outputs.ts). */
function setOutput(name: OutputName, value: string): void {
  core.setOutput(name, value);
}

/** A bad input or config: one clear message, no stack trace. Anything else is a bug: say so (the stack with LOADGATE_DEBUG=1). */
function failClearly(e: unknown): void {
  if (e instanceof InputError || e instanceof ConfigError || e instanceof ServiceError) core.setFailed(inert(e.message));
  else {
    const debug = process.env.LOADGATE_DEBUG === '1';
    core.setFailed(
      inert(
        `internal error: ${debug ? ((e as Error)?.stack ?? String(e)) : ((e as Error)?.message ?? String(e))}. This is a bug in loadgate: please report it` +
          (debug ? '.' : ' (set LOADGATE_DEBUG=1 for the stack trace).'),
      ),
    );
  }
}

/** For main.ts: never rejects (the exit code is set by core.setFailed). */
export async function runActionSafely(): Promise<void> {
  try {
    await runAction();
  } catch (e) {
    failClearly(e);
  }
}
