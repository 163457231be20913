// One sticky PR comment per job (and matrix leg) and config: found by a hidden marker across every page of
// the PR's comments, updated in place, or created when missing. REST through the toolkit's Octokit
// (`@actions/github` getOctokit, as actions/checkout does), so the comment goes where the artifact upload
// goes: HTTPS_PROXY/NO_PROXY honoured (Node's global fetch ignores them), GITHUB_API_URL as the base (GHES),
// Link pagination, and retries on 5xx, 429 and network errors (@octokit/plugin-retry; both already in the bundle):
//   GET   /repos/{owner}/{repo}/issues/{pr}/comments?per_page=100   (Link: <...>; rel="next")
//   POST  /repos/{owner}/{repo}/issues/{pr}/comments                {body}
//   PATCH /repos/{owner}/{repo}/issues/comments/{id}                {body}
// A PR from a fork gets a read-only token (403): the caller warns and goes on.

import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';

export const COMMENT_MAX_CHARS = 65_536;

/**
 * `<!-- loadgate:<job>[.<step>][-<matrix hash>]:<config id> -->`, with only characters that cannot end the
 * HTML comment. The step part tells two loadgate steps of one job apart (src/action/context.ts).
 */
export function commentMarker(job: string, step: string, matrixKey: string, configId: string): string {
  const safe = (s: string) => s.replace(/[^\w./-]+/g, '_').replace(/-{2,}/g, '-');
  return `<!-- loadgate:${safe(job)}${step ? `.${safe(step)}` : ''}${matrixKey ? `-${matrixKey}` : ''}:${safe(configId)} -->`;
}

/**
 * Pure: the comment body (marker first, then the report, then a link to the run), at most COMMENT_MAX_CHARS.
 * The report itself links the artifact (or names it when the upload failed).
 */
export function commentBody(marker: string, report: string, runUrl: string): string {
  const footer = `<sub>[Workflow run](${runUrl}) · this comment is updated on every run</sub>`;
  const body = `${marker}\n${report.trimEnd()}\n\n${footer}\n`;
  if (body.length <= COMMENT_MAX_CHARS) return body;
  // The report is rendered under its own cap; this is the last guard.
  return `${marker}\n${report.slice(0, COMMENT_MAX_CHARS - marker.length - footer.length - 20)}\n\n…\n\n${footer}\n`;
}

export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError';
  /** The HTTP status, or 0 when no answer came (the message then says why: refused, a proxy, DNS, a timeout). */
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface CommentTarget {
  apiUrl: string;
  /** owner/name */
  repository: string;
  pullRequest: number;
  token: string;
  /** For all the calls, retries included; default 60 s. */
  timeoutMs?: number;
  /** The first retry's wait (then 4x, 9x); default 1 s. Retries: 3. */
  retryBaseMs?: number;
}

export interface PostedComment {
  id: number;
  url: string;
  action: 'created' | 'updated';
}

type Comment = { id: number; body?: string | null | undefined; html_url: string; user?: { login?: string } | null };

/** Updates the comment holding `marker`, or creates one. Throws GitHubApiError, whose message gives the cause. */
export async function upsertComment(t: CommentTarget, marker: string, body: string): Promise<PostedComment> {
  const [owner = '', repo = ''] = t.repository.split('/');
  const baseUrl = t.apiUrl.replace(/\/+$/, '');
  const octokit = getOctokit(t.token, { baseUrl, userAgent: 'loadgate', retry: { retryAfterBaseValue: t.retryBaseMs ?? 1000 } }, retry);
  // Per call, so the toolkit's proxy-aware fetch (in the client's defaults) stays in place.
  const request = { signal: AbortSignal.timeout(t.timeoutMs ?? 60_000) };
  // The token goes only to the API's own origin, wherever a Link header points.
  const origin = new URL(baseUrl).origin;
  octokit.hook.before('request', (o) => {
    if (/^https?:/.test(o.url) && new URL(o.url).origin !== origin)
      throw new Error(`refusing to send the token to ${new URL(o.url).origin}`);
  });
  try {
    const existing = await findComment(octokit, { owner, repo, issue_number: t.pullRequest, per_page: 100, request }, marker);
    if (existing !== undefined) {
      const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing, body, request });
      return { id: data.id, url: data.html_url, action: 'updated' };
    }
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: t.pullRequest, body, request });
    return { id: data.id, url: data.html_url, action: 'created' };
  } catch (e) {
    throw apiError(e);
  }
}

type Octokit = ReturnType<typeof getOctokit>;

/**
 * Our comment: its body starts with the marker (a comment that merely quotes the marker is someone else's).
 * Anyone can start a comment with it, so one by the Actions bot wins over others on the same page.
 */
async function findComment(
  octokit: Octokit,
  params: { owner: string; repo: string; issue_number: number; per_page: number; request: { signal: AbortSignal } },
  marker: string,
): Promise<number | undefined> {
  let other: number | undefined;
  let pages = 0;
  for await (const { data } of octokit.paginate.iterator(octokit.rest.issues.listComments, params)) {
    const hits = (data as Comment[]).filter((c) => typeof c.body === 'string' && c.body.startsWith(marker));
    const bot = hits.find((c) => c.user?.login === 'github-actions[bot]');
    if (bot) return bot.id;
    other ??= hits[0]?.id;
    if (++pages >= 100) break;
  }
  return other;
}

/**
 * "METHOD /path: STATUS message" for an answer, "METHOD /path: cause" when none came: what went wrong, not
 * a bare "fetch failed" (Octokit puts the network error's cause in the message; a proxy's too).
 */
function apiError(e: unknown): Error {
  const err = e as {
    status?: number;
    message?: string;
    response?: { status: number; data?: unknown };
    request?: { method?: string; url?: string };
    cause?: unknown;
  };
  if (!err || typeof err !== 'object' || !('request' in err) || !err.request) {
    if ((e as Error)?.name === 'TimeoutError' || (e as Error)?.name === 'AbortError')
      return new GitHubApiError(`no answer from the GitHub API in time (${(e as Error).message})`, 0);
    return e as Error;
  }
  const where = `${err.request.method ?? ''} ${err.request.url ? new URL(err.request.url).pathname : ''}`.trim();
  if (err.response) {
    const detail = (err.response.data as { message?: string } | undefined)?.message ?? '';
    return new GitHubApiError(`${where}: ${err.response.status}${detail ? ` ${detail}` : ''}`, err.response.status);
  }
  const cause = err.cause as { name?: string; message?: string; cause?: { message?: string; code?: string } } | undefined;
  const why = cause?.name === 'AbortError' || cause?.name === 'TimeoutError' ? 'no answer in time' : (err.message ?? 'no answer');
  return new GitHubApiError(`${where}: ${why}`, 0);
}
