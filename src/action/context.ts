// Where the action runs, from the runner's environment: the job, the workflow run and its attempt, the
// repository, the API, and the pull request (if the event has one). Read once; everything else takes these
// values. "Workflow" to keep it apart from loadgate's own run (RunResult, executeRun).

import { readFileSync } from 'node:fs';

export interface WorkflowContext {
  /** The job's id in the workflow (GITHUB_JOB). */
  job: string;
  /** Tells two loadgate steps in one job apart ('' for the usual single step): see stepKey. */
  step: string;
  runId: string;
  runAttempt: string;
  /** owner/name */
  repository: string;
  serverUrl: string;
  apiUrl: string;
  /** The pull request the event is about, if any. */
  pullRequest?: number;
  workspace: string;
}

export function readWorkflowContext(env: NodeJS.ProcessEnv = process.env): WorkflowContext {
  const pr = pullRequestNumber(env['GITHUB_EVENT_PATH']);
  return {
    job: env['GITHUB_JOB'] || 'job',
    step: stepKey(env['GITHUB_ACTION']),
    runId: env['GITHUB_RUN_ID'] || '0',
    runAttempt: env['GITHUB_RUN_ATTEMPT'] || '1',
    repository: env['GITHUB_REPOSITORY'] || '',
    serverUrl: (env['GITHUB_SERVER_URL'] || 'https://github.com').replace(/\/+$/, ''),
    apiUrl: (env['GITHUB_API_URL'] || 'https://api.github.com').replace(/\/+$/, ''),
    ...(pr !== undefined ? { pullRequest: pr } : {}),
    workspace: env['GITHUB_WORKSPACE'] || process.cwd(),
  };
}

/**
 * GITHUB_ACTION is the step's `id:`, or one the runner makes up from the action (`__owner_repo`, `__self`
 * for `uses: ./`) with `_2`, `_3`... for the second and later steps of the same action in a job. The first
 * unnamed step gets '' (names stay short); any other its id or its number, so two loadgate steps in a job
 * upload distinct artifacts and keep distinct comments.
 */
export function stepKey(action: string | undefined): string {
  if (!action) return '';
  if (!action.startsWith('__')) return action;
  return /_(\d+)$/.exec(action)?.[1] ?? '';
}

/** `.pull_request.number` of the event payload (pull_request and pull_request_target events). */
function pullRequestNumber(eventPath: string | undefined): number | undefined {
  if (!eventPath) return undefined;
  try {
    const event = JSON.parse(readFileSync(eventPath, 'utf8')) as { pull_request?: { number?: unknown } };
    const n = event.pull_request?.number;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GitHub Enterprise Server: artifacts v4 (the toolkit's client, actions/upload-artifact@v4) are not supported
 * there. The same test as the toolkit's: a server other than github.com, *.ghe.com or *.localhost.
 */
export function isGhes(ctx: WorkflowContext): boolean {
  const host = new URL(ctx.serverUrl).hostname.toLowerCase();
  return host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost');
}

/** The workflow run's page: the comment and the summary link to it. */
export function workflowRunUrl(ctx: WorkflowContext): string {
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}`;
}

/** An uploaded artifact's page (downloads the zip). */
export function artifactUrl(ctx: WorkflowContext, artifactId: number): string {
  return `${workflowRunUrl(ctx)}/artifacts/${artifactId}`;
}
