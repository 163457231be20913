// Generated bodies against a real FastAPI service (test/fastapi/app.py: FastAPI 0.92 + pydantic 1.10
// from Debian's python3-fastapi, python3-uvicorn, python3-pydantic, run by /usr/bin/python3). The
// schema is discovered from the service's /openapi.json (a templated path), and no generated body
// may be rejected: 500 sent one by one, then a 2 s load through the engine.
//
// Without those packages the tests fail when CI is set, and are skipped (with the reason) otherwise.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createTcpServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { runLoad } from '../src/load/engine.ts';
import { statsFor } from '../src/metrics/result.ts';
import { buildCorpus } from '../src/payload/corpus.ts';
import { discoverSchema } from '../src/payload/discover.ts';

// Debian's Python (the one first on PATH may be another build); LOADGATE_TEST_PYTHON overrides it.
const PYTHON = process.env['LOADGATE_TEST_PYTHON'] ?? '/usr/bin/python3';
const APP_DIR = fileURLToPath(new URL('./fastapi/', import.meta.url));
const PREDICT = '/api/models/customer_model/prediction';
const APT = 'apt-get install -y --no-install-recommends python3-fastapi python3-uvicorn python3-pydantic';

function pythonProblem(): string | null {
  const r = spawnSync(
    PYTHON,
    ['-c', 'import fastapi, uvicorn, pydantic; print(fastapi.__version__, uvicorn.__version__, pydantic.VERSION)'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} lacks FastAPI/uvicorn/pydantic (${(r.stderr.trim().split('\n').pop() ?? '').trim()})`;
  return null;
}

const problem = pythonProblem();
const skip = problem && !process.env['CI'] ? `${problem}; install with: ${APT}` : false;

async function freePort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let child: ChildProcess | undefined;
after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => child && child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
});

/** Starts uvicorn on a free port (uvicorn 0.17 cannot report a port 0 choice) and waits until it answers. */
async function startFastApi(): Promise<string> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawn(PYTHON, ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port), '--no-access-log'], {
      cwd: APP_DIR,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && proc.exitCode === null) {
      try {
        const res = await request(`${url}/api/health/ready`);
        await res.body.dump();
        if (res.statusCode === 200) return url;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastOutput = output;
    if (proc.exitCode === null) process.kill(proc.pid!, 'SIGKILL');
    if (!/address already in use/i.test(output)) break;
  }
  throw new Error(`uvicorn did not become ready:\n${lastOutput}`);
}

describe('generated bodies against a real FastAPI + pydantic service', { skip }, () => {
  let url = '';
  before(async () => {
    if (problem) throw new Error(`${problem}: CI must install the Debian packages: ${APT}`);
    url = await startFastApi();
  });

  async function post(body: string): Promise<{ status: number; text: string }> {
    const res = await request(url + PREDICT, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: res.statusCode, text: await res.body.text() };
  }

  it('the service is strict: it rejects wrong bodies with 422', async () => {
    assert.equal((await post('{}')).status, 422);
    const d = await discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'POST', path: PREDICT });
    const good = JSON.parse(buildCorpus(d, { count: 1, seed: 1 }).bodies[0]!) as Record<string, unknown>;
    assert.equal((await post(JSON.stringify(good))).status, 200);
    assert.equal((await post(JSON.stringify({ ...good, unknown_field: 1 }))).status, 422, 'extra fields are forbidden');
    assert.equal((await post(JSON.stringify({ ...good, age: String(good['age']) }))).status, 422, 'no string-to-int coercion');
    assert.equal(
      (await post(JSON.stringify({ ...good, address: { ...(good['address'] as object), postal_code: '1234' } }))).status,
      422,
      'regex checked',
    );
  });

  it('discovers the request body from /openapi.json (a templated path) and all 500 generated bodies are accepted', async () => {
    const d = await discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'POST', path: PREDICT });
    assert.equal(d.origin, `GET ${url}/openapi.json: POST ${PREDICT} (as /api/models/{model_name}/prediction)`);
    const corpus = buildCorpus(d, { count: 500, seed: 7 });
    const rejected: string[] = [];
    for (const body of corpus.bodies) {
      const r = await post(body);
      if (r.status !== 200) rejected.push(`${r.status} ${r.text}\n  for ${body}`);
    }
    assert.equal(rejected.length, 0, `${rejected.length} of 500 rejected:\n${rejected.slice(0, 3).join('\n')}`);
    // The corpus exercises the optional and nested parts, not just the required minimum.
    const parsed = corpus.bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
    for (const k of ['dependents', 'previous_addresses', 'tags', 'scores', 'location', 'ip', 'premium', 'birthday']) {
      assert.ok(parsed.filter((p) => k in p).length > 200, `${k} present in most bodies`);
    }
  });

  it('a 2 s load through the engine with a pre-generated list: no request rejected', async () => {
    const d = await discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'POST', path: PREDICT });
    const corpus = buildCorpus(d, { count: 1000, seed: 8 });
    const result = await runLoad({
      baseUrl: url,
      endpoints: [
        {
          name: 'predict',
          method: 'POST',
          path: PREDICT,
          headers: {},
          body: { kind: 'list', bodies: corpus.bodies, origin: corpus.origin },
          weight: 1,
          okStatus: [[200, 299]],
        },
      ],
      load: { model: 'closed', perUserRate: 0, stages: [{ name: 'load', durationMs: 2000, users: 4, spawnRate: 1000 }] },
      timeoutMs: 10_000,
      seed: 1,
    });
    const stats = statsFor(result);
    assert.ok(stats.requests >= 100, `only ${stats.requests} requests in 2 s`);
    assert.equal(stats.failures, 0, JSON.stringify(result.failures, null, 1));
    assert.equal(result.status, 'completed');
  });
});
