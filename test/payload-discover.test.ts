// Schema discovery against real servers on 127.0.0.1: the bundled example service (its /openapi.json
// and its rest_model_service metadata endpoint), small node:http servers for the error cases, and an
// Open Inference Protocol server that checks every /infer body strictly. Generated bodies are sent to
// each and must all be accepted.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { stringify as toYaml } from 'yaml';
import { MODEL_NAME, inputSchema, outputSchema } from '../examples/insurance-charges/model.ts';
import { buildOpenApi } from '../examples/insurance-charges/openapi.ts';
import { buildCorpus } from '../src/payload/corpus.ts';
import { DiscoveryError, discoverFirst, discoverSchema, type Discovered } from '../src/payload/discover.ts';
import { applyPreset, findPreset } from '../src/payload/presets.ts';
import { closeAllServers, closedPort, startServer } from './helpers/http.ts';

const SERVER = fileURLToPath(new URL('../examples/insurance-charges/server.ts', import.meta.url));
const PREDICT = `/api/models/${MODEL_NAME}/prediction`;

// ---- helpers: processes and servers, all stopped in `after` ----

const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  await closeAllServers();
});

/** Starts the example service on a free port; resolves with its URL once it printed "listening on". */
async function startExample(): Promise<{ url: string; child: ChildProcess }> {
  const env = { ...process.env };
  for (const k of ['HOST', 'PORT', 'EXTRA_WORK_MS', 'STARTUP_DELAY_MS']) delete env[k];
  const child = spawn(process.execPath, [SERVER, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`example service did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example service exited with ${code}: ${err}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(child.pid!, 'SIGTERM');
  await exited;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A node:http server answering with `handler`, closed in `after`; its URL. */
const httpServer = async (handler: Handler): Promise<string> => (await startServer({ handler })).url;

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** POSTs every body; returns the status counts and the first few rejections. */
async function postAll(url: string, bodies: readonly string[]): Promise<{ counts: Record<number, number>; rejected: string[] }> {
  const counts: Record<number, number> = {};
  const rejected: string[] = [];
  for (const body of bodies) {
    const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
    if (res.statusCode !== 200 && rejected.length < 3) rejected.push(`${res.statusCode} ${text}\n  for ${body}`);
  }
  return { counts, rejected };
}

async function discoveryError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DiscoveryError, `expected a DiscoveryError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected discovery to fail');
}

// ---- the example service ----

describe('discovery from the example service (rest_model_service API)', () => {
  let url = '';
  let child: ChildProcess | undefined;
  before(async () => ({ url, child } = await startExample()));
  after(async () => {
    if (child) await stopChild(child);
  });

  it('GET /openapi.json: the prediction request body, through components; 500 generated bodies all accepted', async () => {
    const d = await discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'POST', path: PREDICT });
    assert.equal(d.kind, 'schema');
    if (d.kind !== 'schema') return;
    assert.equal(d.origin, `GET ${url}/openapi.json: POST ${PREDICT}`);
    assert.deepEqual(d.schema, { $ref: '#/components/schemas/InsuranceChargesModelInput' });
    const corpus = buildCorpus(d, { count: 500, seed: 1 });
    const { counts, rejected } = await postAll(url + PREDICT, corpus.bodies);
    assert.deepEqual(counts, { 200: 500 }, rejected.join('\n'));
  });

  it('GET /api/models/{name}/metadata: input_schema and output_schema; 500 generated bodies all accepted', async () => {
    const d = await discoverSchema({ kind: 'rest-model-service', model: MODEL_NAME }, { baseUrl: url });
    assert.equal(d.kind, 'schema');
    if (d.kind !== 'schema') return;
    assert.deepEqual(d.schema, inputSchema);
    assert.deepEqual(d.outputSchema, outputSchema);
    assert.equal(d.origin, `GET ${url}/api/models/${MODEL_NAME}/metadata: input_schema`);
    const corpus = buildCorpus(d, { count: 500, seed: 2 });
    const { counts, rejected } = await postAll(url + PREDICT, corpus.bodies);
    assert.deepEqual(counts, { 200: 500 }, rejected.join('\n'));
  });

  it('the rest-model-service preset: predict path, readiness path, and the metadata source first', async () => {
    const ep = applyPreset(findPreset('rest_model_service'), MODEL_NAME);
    const ready = await request(url + ep.readyPath);
    assert.equal(ready.statusCode, 200);
    await ready.body.dump();
    const d = await discoverFirst(ep.schemaSources, { baseUrl: url });
    assert.match(d.origin, /metadata: input_schema$/);
    const { counts } = await postAll(url + ep.path, buildCorpus(d, { count: 50, seed: 3 }).bodies);
    assert.deepEqual(counts, { 200: 50 });
  });

  it('errors name the URL and what was wrong', async () => {
    assert.equal(
      await discoveryError(discoverSchema({ kind: 'rest-model-service', model: 'nope' }, { baseUrl: url })),
      `GET ${url}/api/models/nope/metadata: HTTP 404: "{\\"detail\\":\\"Not Found\\"}"`,
    );
    const noPath = await discoveryError(discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'POST', path: '/predict' }));
    assert.equal(
      noPath,
      `GET ${url}/openapi.json: no path matches /predict; the document has: GET /api/health, GET /api/health/ready, GET /api/models, ` +
        `GET /api/models/${MODEL_NAME}/metadata, POST /api/models/${MODEL_NAME}/prediction`,
    );
    assert.equal(
      await discoveryError(discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'PUT', path: PREDICT })),
      `GET ${url}/openapi.json: ${PREDICT} has no PUT operation; it has: POST`,
    );
    assert.equal(
      await discoveryError(discoverSchema({ kind: 'openapi' }, { baseUrl: url, method: 'GET', path: '/api/health' })),
      `GET ${url}/openapi.json: GET /api/health takes no request body`,
    );
    assert.equal(
      await discoveryError(discoverSchema({ kind: 'openapi', url: '/api/health' }, { baseUrl: url, method: 'POST', path: PREDICT })),
      `GET ${url}/api/health: not an OpenAPI document (no "openapi"/"swagger" version and "paths")`,
    );
    assert.match(
      await discoveryError(discoverSchema({ kind: 'oip', model: MODEL_NAME }, { baseUrl: url })),
      new RegExp(`^GET ${url}/v2/models/${MODEL_NAME}: HTTP 404`),
    );
  });
});

// ---- fakes for fallbacks and odd answers ----

describe('discovery: fallbacks, files and odd answers', () => {
  let fake = '';
  before(async () => {
    const openapi = JSON.stringify(buildOpenApi());
    fake = await httpServer((req, res) => {
      if (req.url === '/openapi.json') return json(res, 200, openapi);
      if (req.url === '/html/openapi.json') return json(res, 200, '<!doctype html><title>Swagger UI</title>', 'text/html');
      if (req.url === '/api/models/old/metadata') return json(res, 200, { display_name: 'Old', qualified_name: 'old' });
      return json(res, 404, { detail: 'Not Found' });
    });
  });

  it('a rest_model_service without the metadata endpoint: the preset falls back to /openapi.json', async () => {
    const ep = applyPreset(findPreset('rest-model-service'), MODEL_NAME);
    const d = await discoverFirst(ep.schemaSources, { baseUrl: fake });
    assert.equal(d.origin, `GET ${fake}/openapi.json: POST ${PREDICT}`);
  });

  it('when every source fails, the error lists each', async () => {
    const msg = await discoveryError(
      discoverFirst(
        [
          { kind: 'rest-model-service', model: 'old' },
          { kind: 'openapi', url: '/html/openapi.json', method: 'POST', path: PREDICT },
        ],
        { baseUrl: fake },
      ),
    );
    assert.equal(
      msg,
      'no schema source worked:\n' +
        `  - GET ${fake}/api/models/old/metadata: the metadata has no "input_schema" object (rest_model_service 0.4 and later serve it; older ones: use the OpenAPI document)\n` +
        `  - GET ${fake}/html/openapi.json: the response is not JSON (content-type text/html): "<!doctype html><title>Swagger UI</title>"`,
    );
  });

  it('a refused connection and a timeout name the URL', async () => {
    const port = await closedPort();
    assert.match(
      await discoveryError(discoverSchema({ kind: 'openapi' }, { baseUrl: `http://127.0.0.1:${port}`, method: 'POST', path: '/p' })),
      new RegExp(`^GET http://127.0.0.1:${port}/openapi.json: ECONNREFUSED`),
    );
    const slow = await httpServer((_req, res) => setTimeout(() => json(res, 200, {}), 2000));
    assert.equal(
      await discoveryError(discoverSchema({ kind: 'openapi' }, { baseUrl: slow, method: 'POST', path: '/p', timeoutMs: 200 })),
      `GET ${slow}/openapi.json: no answer in 200 ms`,
    );
  });

  it('files: a JSON Schema in YAML, an OpenAPI document in JSON (templated path, server base path), errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadgate-payload-'));
    try {
      await writeFile(join(dir, 'schema.yaml'), toYaml(inputSchema));
      const d = await discoverSchema({ kind: 'file', file: 'schema.yaml' }, { baseDir: dir });
      assert.equal(d.kind === 'schema' && d.origin, join(dir, 'schema.yaml'));
      assert.deepEqual(d.kind === 'schema' && d.schema, inputSchema);
      const api = fileURLToPath(new URL('./fixtures/schemas/openapi-3.0.json', import.meta.url));
      const op = await discoverSchema({ kind: 'file', file: api }, { method: 'POST', path: '/v1/models/m1/score' });
      assert.equal(op.origin, `${api}: POST /v1/models/m1/score (as /models/{model}/score)`);
      assert.match(await discoveryError(discoverSchema({ kind: 'file', file: api })), /an OpenAPI document: say which operation/);
      assert.equal(
        await discoveryError(discoverSchema({ kind: 'file', file: api, method: 'POST', path: '/upload' })),
        `${api}: POST /upload: the request body is not JSON (content types: multipart/form-data)`,
      );
      await writeFile(join(dir, 'bad.json'), '{"type": ');
      assert.match(await discoveryError(discoverSchema({ kind: 'file', file: 'bad.json' }, { baseDir: dir })), /bad\.json: not valid JSON/);
      assert.match(
        await discoveryError(discoverSchema({ kind: 'file', file: 'missing.yaml' }, { baseDir: dir })),
        /missing\.yaml: cannot read \(ENOENT\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- Open Inference Protocol ----

const OIP_METADATA = {
  name: 'income-classifier',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [
    { name: 'numeric', datatype: 'FP32', shape: [-1, 6] },
    { name: 'categorical', datatype: 'INT64', shape: [-1, 3] },
    { name: 'flags', datatype: 'BOOL', shape: [-1, 2] },
    { name: 'notes', datatype: 'BYTES', shape: [-1] },
    { name: 'image', datatype: 'UINT8', shape: [-1, 2, 2, 3] },
  ],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
};

const RANGES: Record<string, [number, number]> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 2 ** 32 - 1],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** What a strict OIP server checks; returns the first problem or null. */
function checkInfer(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { inputs?: unknown }).inputs)) return 'inputs must be a list';
  const inputs = (body as { inputs: Array<Record<string, unknown>> }).inputs;
  if (inputs.length !== OIP_METADATA.inputs.length) return `expected ${OIP_METADATA.inputs.length} inputs, got ${inputs.length}`;
  let batch: number | undefined;
  for (const meta of OIP_METADATA.inputs) {
    const t = inputs.find((i) => i['name'] === meta.name);
    if (!t) return `missing input ${meta.name}`;
    if (t['datatype'] !== meta.datatype) return `${meta.name}: datatype ${String(t['datatype'])}, expected ${meta.datatype}`;
    const shape = t['shape'];
    if (!Array.isArray(shape) || shape.length !== meta.shape.length)
      return `${meta.name}: shape ${JSON.stringify(shape)} does not have rank ${meta.shape.length}`;
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i];
      if (!Number.isInteger(d) || d < 1) return `${meta.name}: bad dimension ${d}`;
      if (meta.shape[i] !== -1 && d !== meta.shape[i]) return `${meta.name}: dimension ${i} is ${d}, expected ${meta.shape[i]}`;
    }
    if (batch === undefined) batch = shape[0];
    else if (shape[0] !== batch) return `${meta.name}: batch ${shape[0]} differs from ${batch}`;
    const data = t['data'];
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Array.isArray(data) || data.length !== n)
      return `${meta.name}: data has ${Array.isArray(data) ? data.length : 'no'} elements, shape needs ${n}`;
    for (const x of data) {
      const dt = meta.datatype;
      const ok =
        dt === 'BOOL'
          ? typeof x === 'boolean'
          : dt === 'BYTES'
            ? typeof x === 'string'
            : dt.startsWith('FP')
              ? typeof x === 'number' && Number.isFinite(x)
              : typeof x === 'number' && Number.isInteger(x) && x >= RANGES[dt]![0] && x <= RANGES[dt]![1];
      if (!ok) return `${meta.name}: ${JSON.stringify(x)} is not a ${dt}`;
    }
  }
  return null;
}

describe('discovery: Open Inference Protocol model metadata', () => {
  let url = '';
  before(async () => {
    url = await httpServer((req, res, body) => {
      const m = OIP_METADATA.name;
      if (req.method === 'GET' && req.url === `/v2/models/${m}`) return json(res, 200, OIP_METADATA);
      if (req.method === 'GET' && req.url === `/v2/models/${m}/ready`) return json(res, 200, '');
      if (req.method === 'GET' && req.url === '/v2/models/broken')
        return json(res, 200, { name: 'broken', inputs: [{ name: 'x', datatype: 'float32', shape: [1] }] });
      if (req.method === 'POST' && req.url === `/v2/models/${m}/infer`) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return json(res, 400, { error: 'invalid JSON' });
        }
        const problem = checkInfer(parsed);
        if (problem) return json(res, 400, { error: problem });
        const batch = (parsed as { inputs: Array<{ shape: number[] }> }).inputs[0]!.shape[0]!;
        return json(res, 200, {
          model_name: m,
          outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [batch, 2], data: new Array(batch * 2).fill(0.5) }],
        });
      }
      return json(res, 404, { error: 'not found' });
    });
  });

  it('the open-inference preset: metadata -> 500 bodies, every one accepted by a strict /infer', async () => {
    const ep = applyPreset(findPreset('triton'), OIP_METADATA.name);
    const ready = await request(url + ep.readyPath);
    assert.equal(ready.statusCode, 200);
    await ready.body.dump();
    const d: Discovered = await discoverFirst(ep.schemaSources, { baseUrl: url });
    assert.equal(d.kind, 'oip');
    assert.equal(d.origin, `GET ${url}/v2/models/${OIP_METADATA.name}`);
    const corpus = buildCorpus(d, { count: 500, seed: 5, wrap: ep.wrap });
    const { counts, rejected } = await postAll(url + ep.path, corpus.bodies);
    assert.deepEqual(counts, { 200: 500 }, rejected.join('\n'));
    const batches = new Set(corpus.bodies.map((b) => (JSON.parse(b) as { inputs: Array<{ shape: number[] }> }).inputs[0]!.shape[0]));
    assert.deepEqual([...batches].sort(), [1, 2, 3, 4]);
  });

  it('the strict server does reject a wrong body (so the check above means something)', async () => {
    const d = await discoverSchema({ kind: 'oip', model: OIP_METADATA.name }, { baseUrl: url });
    const body = JSON.parse(buildCorpus(d, { count: 1, seed: 1 }).bodies[0]!) as { inputs: Array<{ data: unknown[] }> };
    body.inputs[0]!.data.pop();
    const { counts, rejected } = await postAll(`${url}/v2/models/${OIP_METADATA.name}/infer`, [JSON.stringify(body)]);
    assert.deepEqual(counts, { 400: 1 });
    assert.match(rejected[0]!, /numeric: data has \d+ elements, shape needs \d+/);
  });

  it('metadata that is not OIP is a discovery error naming the URL', async () => {
    assert.equal(
      await discoveryError(discoverSchema({ kind: 'oip', model: 'broken' }, { baseUrl: url })),
      `GET ${url}/v2/models/broken: not Open Inference Protocol model metadata: inputs[0].datatype "float32" is not one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES`,
    );
  });
});
