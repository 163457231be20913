// The PR comment's network path, as on a self-hosted or GHES runner: through a proxy (HTTPS_PROXY/HTTP_PROXY)
// unless NO_PROXY exempts the host, across pages, with retries on 5xx and 429, and errors that give the cause.
// Each case runs upsertComment in a child process, because the toolkit reads the proxy settings and
// GITHUB_API_URL when it loads, as it does on a runner. The fake API is named 0.0.0.0 (loopback on Linux,
// but not exempt from the proxy as a `127.` host is: test/helpers/proxy.ts).

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commentMarker } from '../src/publish/comment.ts';
import { type FakeGitHub, startFakeGitHub } from './helpers/github.ts';
import { REPO, killChildren, startNode } from './helpers/process.ts';
import { type LoopbackProxy, startProxy, viaProxyName } from './helpers/proxy.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  killChildren();
  await Promise.all(closers.map((c) => c()));
});

async function fakeGitHub(pageSize?: number): Promise<FakeGitHub> {
  const gh = await startFakeGitHub(pageSize ? { pageSize } : {});
  closers.push(() => gh.close());
  return gh;
}

async function proxy(): Promise<LoopbackProxy> {
  const p = await startProxy();
  closers.push(() => p.close());
  return p;
}

const MARKER = commentMarker('perf', '', '', 'loadgate.yml');

interface Outcome {
  ok?: { id: number; url: string; action: string };
  error?: { name: string; message: string; status: number };
}

/** upsertComment in a fresh process with this environment (no proxy variables but these). */
async function comment(apiUrl: string, env: Record<string, string> = {}, retryBaseMs = 5): Promise<Outcome> {
  const target = { apiUrl, repository: 'o/r', pullRequest: 7, token: 't0ken', timeoutMs: 10_000, retryBaseMs };
  const script = `import { upsertComment } from ${JSON.stringify(join(REPO, 'src', 'publish', 'comment.ts'))};
try {
  console.log(JSON.stringify({ ok: await upsertComment(${JSON.stringify(target)}, ${JSON.stringify(MARKER)}, ${JSON.stringify(`${MARKER}\nreport`)}) }));
} catch (e) {
  console.log(JSON.stringify({ error: { name: e.name, message: e.message, status: e.status } }));
}`;
  const none = {
    HTTP_PROXY: undefined,
    HTTPS_PROXY: undefined,
    http_proxy: undefined,
    https_proxy: undefined,
    NO_PROXY: undefined,
    no_proxy: undefined,
    NODE_USE_ENV_PROXY: undefined,
  };
  const r = await startNode(['--input-type=module', '-e', script], { env: { ...none, GITHUB_API_URL: apiUrl, ...env }, timeoutMs: 30_000 })
    .exited;
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Outcome;
}

/** A port nothing listens on (a server opened and closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('the PR comment over the network', () => {
  it("goes through HTTPS_PROXY/HTTP_PROXY (Node's own fetch would go direct), across pages", async () => {
    const gh = await fakeGitHub(2);
    gh.addComments(7, ['a', 'b', 'c']);
    const p = await proxy();
    const api = viaProxyName(gh.url);
    const first = await comment(api, { HTTP_PROXY: p.url, HTTPS_PROXY: p.url });
    assert.equal(first.ok?.action, 'created', JSON.stringify(first));
    const second = await comment(api, { HTTP_PROXY: p.url, HTTPS_PROXY: p.url });
    assert.deepEqual([second.ok?.action, second.ok?.id], ['updated', first.ok?.id]);
    // Our comment is on page 2 of 2: both pages read, then the update.
    assert.deepEqual(gh.calls.slice(-3), [
      'GET /repos/o/r/issues/7/comments?per_page=100',
      'GET /repos/o/r/issues/7/comments?per_page=100&page=2',
      `PATCH /repos/o/r/issues/comments/${first.ok?.id}`,
    ]);
    const host = new URL(api).host;
    assert.ok(p.seen.length > 0 && p.seen.every((s) => s.includes(host)), p.seen.join('\n'));
    assert.ok(p.requests().includes('POST /repos/o/r/issues/7/comments'), p.requests().join('\n'));
    assert.ok(
      gh.authorizations.every((a) => a === 'token t0ken'),
      gh.authorizations.join(', '),
    );
  });

  it('NO_PROXY exempts the API host: straight to it', async () => {
    const gh = await fakeGitHub();
    const p = await proxy();
    const api = viaProxyName(gh.url);
    const r = await comment(api, { HTTP_PROXY: p.url, HTTPS_PROXY: p.url, NO_PROXY: `example.com,${new URL(api).hostname}` });
    assert.equal(r.ok?.action, 'created', JSON.stringify(r));
    assert.deepEqual(p.seen, []);
  });

  it('retries 5xx and 429 answers, then succeeds', async () => {
    const gh = await fakeGitHub();
    gh.failNext = [502, 429, 503];
    const r = await comment(gh.url);
    assert.equal(r.ok?.action, 'created', JSON.stringify(r));
    assert.deepEqual(gh.failNext, []);
    // Three failed answers, then the one that worked.
    assert.equal(gh.calls.filter((c) => c.startsWith('GET /repos')).length, 4, gh.calls.join('\n'));
  });

  it('a refused connection or a dead proxy says so, not a bare "fetch failed"', async () => {
    const port = await deadPort();
    const direct = await comment(`http://127.0.0.1:${port}`, {}, 1);
    assert.equal(direct.error?.name, 'GitHubApiError');
    assert.match(direct.error?.message ?? '', /^GET \/repos\/o\/r\/issues\/7\/comments: .*ECONNREFUSED/);
    const gh = await fakeGitHub();
    const viaDead = await comment(viaProxyName(gh.url), { HTTP_PROXY: `http://127.0.0.1:${port}` }, 1);
    assert.match(viaDead.error?.message ?? '', /^GET \/repos\/o\/r\/issues\/7\/comments: .*ECONNREFUSED/, JSON.stringify(viaDead));
    assert.deepEqual(gh.calls, []);
  });

  it("a 4xx is not retried and names the status and GitHub's message", async () => {
    const gh = await fakeGitHub();
    gh.mode = 'forbidden';
    const r = await comment(gh.url);
    assert.deepEqual(r.error, {
      name: 'GitHubApiError',
      message: 'POST /repos/o/r/issues/7/comments: 403 Resource not accessible by integration',
      status: 403,
    });
    assert.equal(gh.calls.filter((c) => c.startsWith('POST')).length, 1);
  });
});
