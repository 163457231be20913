// One sticky PR comment per job (and matrix leg) and config: found by a hidden marker across every page of
// the PR's comments, updated in place, or created when missing. Plain REST over fetch:
//   GET   /repos/{owner}/{repo}/issues/{pr}/comments?per_page=100   (Link: <...>; rel="next")
//   POST  /repos/{owner}/{repo}/issues/{pr}/comments                {body}
//   PATCH /repos/{owner}/{repo}/issues/comments/{id}                {body}
// A PR from a fork gets a read-only token (403): the caller warns and goes on.

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
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

export interface PostedComment {
  id: number;
  url: string;
  action: 'created' | 'updated';
}

/** Updates the comment holding `marker`, or creates one. Throws GitHubApiError on an HTTP error. */
export async function upsertComment(t: CommentTarget, marker: string, body: string): Promise<PostedComment> {
  const base = `${t.apiUrl.replace(/\/+$/, '')}/repos/${t.repository}`;
  const existing = await findComment(t, `${base}/issues/${t.pullRequest}/comments?per_page=100`, marker);
  if (existing !== undefined) {
    const c = await call<{ id: number; html_url: string }>(t, 'PATCH', `${base}/issues/comments/${existing}`, { body });
    return { id: c.id, url: c.html_url, action: 'updated' };
  }
  const c = await call<{ id: number; html_url: string }>(t, 'POST', `${base}/issues/${t.pullRequest}/comments`, { body });
  return { id: c.id, url: c.html_url, action: 'created' };
}

/**
 * Our comment: its body starts with the marker (a comment that merely quotes the marker is someone else's).
 * Anyone can start a comment with it, so one by the Actions bot wins over others on the same page.
 */
async function findComment(t: CommentTarget, first: string, marker: string): Promise<number | undefined> {
  const origin = new URL(first).origin;
  let url: string | undefined = first;
  let other: number | undefined;
  for (let page = 0; url !== undefined && page < 100; page++) {
    const res = await request(t, 'GET', url);
    const comments = (await res.json()) as Array<{ id: number; body?: string | null; user?: { login?: string } | null }>;
    const hits = comments.filter((c) => typeof c.body === 'string' && c.body.startsWith(marker));
    const bot = hits.find((c) => c.user?.login === 'github-actions[bot]');
    if (bot) return bot.id;
    other ??= hits[0]?.id;
    const next = nextLink(res.headers.get('link'));
    // The token goes only to the API's own origin.
    url = next !== undefined && new URL(next).origin === origin ? next : undefined;
  }
  return other;
}

/** The rel="next" URL of a Link header. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part);
    if (m && m[2]!.split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

async function call<T>(t: CommentTarget, method: string, url: string, json: unknown): Promise<T> {
  return (await (await request(t, method, url, json)).json()) as T;
}

async function request(t: CommentTarget, method: string, url: string, json?: unknown): Promise<Response> {
  const res = await fetch(url, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${t.token}`,
      'x-github-api-version': '2022-11-28',
      'user-agent': 'loadgate',
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    signal: AbortSignal.timeout(t.timeoutMs ?? 15_000),
  });
  if (!res.ok) {
    let detail = '';
    try {
      detail = ((await res.json()) as { message?: string }).message ?? '';
    } catch {
      // Not JSON.
    }
    const path = new URL(url).pathname;
    throw new GitHubApiError(`${method} ${path}: ${res.status}${detail ? ` ${detail}` : ''}`, res.status);
  }
  return res;
}
