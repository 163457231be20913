// The action's main step, start to finish: inputs -> plan -> run (reports written) -> artifact -> job summary
// -> PR comment -> outputs -> annotations -> the gate. What happens on GitHub after the run never loses the
// verdict: an upload or a comment that fails is a warning, and the step still passes or fails on the SLOs.
//
// Cancellation: the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the tree 2.5 s after that. On
// the first signal the load stops, what was measured is written, the service is stopped (executeRun), and
// then publishing gets what is left of CANCEL_BUDGET_MS from the signal.

import { join, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import type { RunResult } from '../metrics/result.ts';
import { ConfigError, DEFAULTS } from '../plan/config.ts';
import type { Plan } from '../plan/types.ts';
import { formatChecklist, formatProgress, formatSummary } from '../report/console.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { ReportError } from '../report/write.ts';
import { RESULT_FILE, type RunHooks, type RunOutput, executeRun } from '../run.ts';
import { type RunStatusWord, runStatus } from '../run/outcome.ts';
import { inert } from '../console-text.ts';
import { ServiceError, processStartTicks } from '../service/service.ts';
import { annotate, breachAnnotations } from '../publish/annotations.ts';
import { artifactName, shardArtifactName, uploadReportFolder } from '../publish/artifact.ts';
import { GitHubApiError, commentBody, commentMarker, upsertComment } from '../publish/comment.ts';
import { type OutputName, runOutputs } from '../publish/outputs.ts';
import { shardSummaryLine, startFailureMarkdown, summaryMarkdown, writeSummary } from '../publish/summary.ts';
import type { Verdict } from '../verdict/types.ts';
import { type WorkflowContext, artifactUrl, isGhes, readWorkflowContext, workflowRunUrl } from './context.ts';
import { Deadline } from './deadline.ts';
import { MergeError, type MergeJobOutput, runMergeJob } from './merge-job.ts';
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
  let plan: Plan | undefined;
  try {
    inputs = readInputs(
      (name, opts) => core.getInput(name, { trimWhitespace: opts?.trim ?? true }),
      (m) => core.warning(m),
    );
    // Masked in the log should anything ever print it (the runner masks its own token, not one passed in).
    if (inputs.githubToken) core.setSecret(inputs.githubToken);
    // A merge job runs nothing: it has no plan, only the shards' results.
    if (!inputs.merge) plan = planFromInputs(inputs);
    // An API key from a variable the workflow set from a secret is masked already; one set otherwise is not.
    for (const ep of plan?.endpoints ?? []) {
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
    if (plan) await runAndPublish(ctx, inputs, plan, stop.signal, deadline);
    else await mergeAndPublish(ctx, inputs, inputs.merge!, stop.signal, deadline);
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
  }
}

/** The whole report folder as one artifact: its id, or undefined (said how) when there is none. */
async function uploadFolder(
  ctx: WorkflowContext,
  name: string,
  dir: string,
  deadline: Deadline,
  onFailure: (message: string) => void,
): Promise<number | undefined> {
  if (isGhes(ctx)) {
    // The toolkit would refuse with a warning of its own that points at githubstatus.com: say it once, plainly.
    core.info(
      `No artifact: GitHub Enterprise Server (${ctx.serverUrl}) does not support artifacts v4. The reports are in ` +
        `${dir}; upload them in a later step with actions/upload-artifact@v3.`,
    );
    return undefined;
  }
  if (!process.env['ACTIONS_RUNTIME_TOKEN']) {
    // Not on a runner (@github/local-action, a plain `node dist/main.js`): nothing to upload to, and no failure.
    core.info(`No artifact: not on a GitHub runner (no ACTIONS_RUNTIME_TOKEN). The reports are in ${dir}.`);
    return undefined;
  }
  try {
    const a = await deadline.bound(uploadReportFolder(name, dir), UPLOAD_TIMEOUT_MS, 'the artifact upload');
    core.info(`Uploaded the reports (${a.files} files) as the artifact "${a.name}" (id ${a.id})`);
    return a.id;
  } catch (e) {
    onFailure((e as Error).message);
    return undefined;
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
  // A shard job's artifact is named for the merge job to find (merge-pattern).
  const name = plan.shard
    ? shardArtifactName(inputs.artifactName, plan.shard, ctx.runAttempt)
    : artifactName(inputs.artifactName, ctx.job, ctx.step, matrix, ctx.runAttempt);
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
    const id = await uploadFolder(ctx, name, plan.outputDir, deadline, (message) => core.info(`No artifact: ${message}`));
    if (id !== undefined) {
      setOutput('artifact-id', String(id));
      setOutput('artifact-url', artifactUrl(ctx, id));
    }
    return;
  }
  // One PR comment per job, matrix leg and config: a second loadgate step with another config gets its own.
  const configId = plan.configPath ? relative(ctx.workspace, resolve(plan.configPath)) : 'inputs';
  const { status: known, ...output } = run;
  await publish(ctx, inputs, {
    ...output,
    outputDir: plan.outputDir,
    artifactName: name,
    marker: commentMarker(ctx.job, ctx.step, matrix, configId),
    interrupted: signal.aborted,
    ...(known && !signal.aborted ? { status: known } : {}),
    ...(plan.shard ? { shard: plan.shard } : {}),
    deadline,
  });
}

/** A merge job (merge: true): the shard jobs' artifacts downloaded and merged, then published as one run. */
async function mergeAndPublish(
  ctx: WorkflowContext,
  inputs: ActionInputs,
  merge: NonNullable<ActionInputs['merge']>,
  signal: AbortSignal,
  deadline: Deadline,
): Promise<void> {
  const outputDir = resolve(inputs.values['report-dir'] || DEFAULTS.output);
  if (isGhes(ctx) || !process.env['ACTIONS_RUNTIME_TOKEN']) {
    const where = isGhes(ctx)
      ? `GitHub Enterprise Server (${ctx.serverUrl}) does not support artifacts v4`
      : 'not on a GitHub runner (no ACTIONS_RUNTIME_TOKEN)';
    core.setFailed(
      `merge: true downloads the shard jobs' artifacts, and there are none to download: ${where}. \`loadgate merge DIR... --out DIR\` merges shard folders anywhere.`,
    );
    return;
  }
  let merged: MergeJobOutput;
  try {
    core.info(`Downloading this workflow run's artifacts named like "${merge.pattern}"`);
    merged = await deadline.bound(runMergeJob(merge.pattern, outputDir, merge), UPLOAD_TIMEOUT_MS, 'downloading the shard artifacts');
  } catch (e) {
    // Nothing to merge, or results that cannot merge (another plan, the same shard twice): one clear message.
    if (e instanceof MergeError || e instanceof ReportError) return core.setFailed(inert(`loadgate: ${e.message}`));
    return core.setFailed(inert(`loadgate: could not download the shard artifacts: ${(e as Error).message}`));
  }
  for (const a of merged.merged) core.info(`Merged ${a.name} (artifact ${a.id})`);
  for (const n of merged.notes) core.info(n);
  for (const p of merged.incomplete) core.info(`${merged.incompleteAllowed ? 'Allowed, incomplete' : 'Incomplete'}: ${p}`);
  await publish(ctx, inputs, {
    result: merged.result,
    verdict: merged.verdict,
    resultFile: join(outputDir, RESULT_FILE),
    outputDir,
    artifactName: artifactName(inputs.artifactName, ctx.job, ctx.step, matrixKey(inputs.matrix), ctx.runAttempt),
    marker: commentMarker(ctx.job, ctx.step, matrixKey(inputs.matrix), 'merge'),
    interrupted: signal.aborted,
    // As `loadgate merge` ends: an incomplete run not allowed did not measure the service as planned (exit 3).
    status: signal.aborted ? 'interrupted' : merged.status,
    notMeasured: `incomplete run: ${merged.incomplete.join('; ')} (allow-incomplete: true judges what was measured)`,
    deadline,
  });
}

interface ToPublish {
  result: RunResult;
  verdict: Verdict;
  resultFile: string;
  outputDir: string;
  artifactName: string;
  /** The sticky comment's marker: one comment per job, matrix leg and config. */
  marker: string;
  interrupted: boolean;
  /** How it ended, when the caller knows better than the result and verdict alone (a merge). */
  status?: RunStatusWord;
  /** Why, when it did not measure the service as planned, if the result's reason does not say it (a merge). */
  notMeasured?: string;
  /** A shard job: its artifact is for the merge job; no PR comment, a one-line summary. */
  shard?: { index: number; count: number };
  deadline: Deadline;
}

/** Artifact, job summary, PR comment, outputs, annotations, the gate: the same for a run and a merge. */
async function publish(ctx: WorkflowContext, inputs: ActionInputs, p: ToPublish): Promise<void> {
  const { result, verdict, deadline } = p;
  if (result.status !== 'not-started') info(`\n${formatSummary(result)}`);
  info('');
  info(formatChecklist(result, verdict));

  // 1. The whole report folder as one artifact.
  const artifactId = await uploadFolder(ctx, p.artifactName, p.outputDir, deadline, (message) =>
    core.warning(`Could not upload the reports as an artifact: ${message}. They are in ${p.outputDir}.`),
  );
  // The summary and the comment link the artifact, or say where the reports are when there is none.
  const reportUrl = artifactId !== undefined ? artifactUrl(ctx, artifactId) : undefined;
  const mdOpts = {
    title: `loadgate · ${ctx.job}`,
    ...(reportUrl !== undefined ? { reportLink: reportUrl } : { reportDir: p.outputDir }),
  };

  // 2. The job summary: a shard's is one line (the merge job has the report).
  try {
    await writeSummary(
      p.shard
        ? shardSummaryLine(result, p.shard, artifactId !== undefined ? p.artifactName : undefined)
        : summaryMarkdown(result, verdict, mdOpts),
    );
  } catch (e) {
    core.info(`No job summary: ${(e as Error).message}`);
  }

  // 3. The sticky PR comment: a shard leaves it to the merge job (one comment for the whole load).
  const commentUrl = p.shard ? undefined : await postComment(ctx, inputs, p.marker, result, verdict, mdOpts, deadline);
  if (p.shard) core.info("A shard posts no PR comment: the merge job (merge: true) posts the whole load's.");

  // 4. Outputs.
  const outputs: Record<OutputName, string> = {
    ...runOutputs(result, verdict),
    status: p.status ?? runStatus(result, verdict, p.interrupted),
    'report-dir': p.outputDir,
    'result-file': p.resultFile,
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
      inert(
        `loadgate: the service was not measured as planned: ${p.notMeasured ?? result.reason ?? result.service?.exit?.summary ?? 'see the report'}`,
      ),
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
  marker: string,
  result: RunResult,
  verdict: Verdict,
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
