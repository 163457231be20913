// Schemas, presets and generated bodies as the config and the CLI take them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildPlan, readConfigFile } from '../src/plan/config.ts';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';
import { readFileSync } from 'node:fs';
import { CLI, PATH_WITH_NODE, REPO, killChildren, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(() => {
  killChildren();
  removeTempDirs();
});

const dir = tempDir();
const LOAD = 'load:\n  stages: [{duration: 1s, rate: 5}]\n';
function plan(yaml: string) {
  return buildPlan(readConfigFile(writeFile(dir, `c${Math.random().toString(36).slice(2)}.yml`, yaml)));
}
function planError(yaml: string): string {
  try {
    plan(yaml);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected a config error');
}

describe('presets and schemas in the config', () => {
  it('a preset sets the predict path, method, readiness and where the schema is', () => {
    const p = plan(
      `service: {url: "http://127.0.0.1:1"}\nrequest:\n  preset: rest-model-service\n  model: insurance_charges_model\n  generate: 50\n${LOAD}`,
    );
    const ep = p.endpoints[0]!;
    assert.equal(ep.method, 'POST');
    assert.equal(ep.path, '/api/models/insurance_charges_model/prediction');
    assert.equal(p.readiness.path, '/api/health/ready');
    assert.ok(ep.body.kind === 'generate');
    assert.equal(ep.body.count, 50);
    assert.deepEqual(
      ep.body.sources.map((s) => s.kind),
      ['rest-model-service', 'openapi'],
    );
    const oip = plan(`service: {url: "http://127.0.0.1:1", ready: /healthz}\nrequest: {preset: triton, model: resnet}\n${LOAD}`);
    assert.equal(oip.endpoints[0]!.path, '/v2/models/resnet/infer');
    assert.equal(oip.readiness.path, '/healthz', 'an explicit ready: wins over the preset');
    const mlflow = plan(`service: {url: "http://127.0.0.1:1"}\nrequest: {preset: mlflow, schema: {inline: {type: object}}}\n${LOAD}`);
    assert.equal(mlflow.endpoints[0]!.path, '/invocations', 'MLflow serves one model: no model: needed');
    assert.ok(mlflow.endpoints[0]!.body.kind === 'generate' && mlflow.endpoints[0]!.body.wrap === 'dataframe_records');
  });

  it('schema: a file, or one source in a mapping; paths relative to the config', () => {
    const p = plan(`service: {url: "http://127.0.0.1:1"}\nrequest:\n  path: /p\n  schema: schemas/in.json\n${LOAD}`);
    const b = p.endpoints[0]!.body;
    assert.ok(b.kind === 'generate');
    assert.deepEqual(b.sources, [{ kind: 'file', file: join(dir, 'schemas/in.json') }]);
    assert.equal(p.endpoints[0]!.method, 'POST', 'a body means POST');
    const o = plan(
      `service: {url: "http://127.0.0.1:1"}\nrequest:\n  path: /predict\n  schema: {openapi: /docs.json, path: /predict}\n${LOAD}`,
    );
    assert.ok(o.endpoints[0]!.body.kind === 'generate');
    assert.deepEqual(o.endpoints[0]!.body.sources, [{ kind: 'openapi', url: '/docs.json', path: '/predict' }]);
  });

  it('rejects what cannot work, naming the line and key', () => {
    const svc = 'service: {url: "http://127.0.0.1:1"}\n';
    const cases: Array<[string, RegExp]> = [
      [
        `${svc}request: {preset: sagemaker, model: m}\n${LOAD}`,
        /:2 request\.preset: unknown preset "sagemaker"; known: rest-model-service/,
      ],
      [`${svc}request: {preset: torchserve}\n${LOAD}`, /:2 request\.model: missing: TorchServe/i],
      [`${svc}request: {path: /p, model: m}\n${LOAD}`, /request\.model: only applies with a preset:/],
      [`${svc}request: {path: /p, schema: auto}\n${LOAD}`, /request\.schema: auto needs a preset:/],
      [
        `${svc}request: {path: /p, body: {a: 1}, schema: s.json}\n${LOAD}`,
        /request\.schema: use one of body:, bodies: or schema:, not body and schema/,
      ],
      [`${svc}request: {path: /p, body: {a: 1}, generate: 10}\n${LOAD}`, /request\.generate: only applies to generated bodies/],
      [
        `${svc}request: {path: /p, schema: {openapi: /o.json, metadata: m}}\n${LOAD}`,
        /request\.schema: expected exactly one of openapi:, metadata:, oip:, mlflow:, file: or inline:, got openapi, metadata/,
      ],
      [`${svc}request: {path: /p, schema: {inline: 5}}\n${LOAD}`, /request\.schema\.inline: expected a JSON Schema mapping/],
      [
        `${svc}request: {preset: rest-model-service, model: m, wrap: instances}\n${LOAD}`,
        /request\.wrap: preset rest-model-service does not take wrap "instances"/,
      ],
      [`${svc}request: {preset: torchserve, model: m}\n${LOAD}`, /request\.schema: this model server publishes no input schema/],
    ];
    for (const [yaml, re] of cases) assert.match(planError(yaml), re);
  });

  it('bodies: a CSV file replays recorded rows as JSON bodies', () => {
    writeFile(dir, 'rec.csv', 'age,sex,smoker\n42,female,false\n30,male,true\n');
    const p = plan(`service: {url: "http://127.0.0.1:1"}\nrequest: {path: /p, bodies: rec.csv}\n${LOAD}`);
    const b = p.endpoints[0]!.body;
    assert.ok(b.kind === 'list');
    assert.deepEqual(
      b.bodies.map((x) => JSON.parse(x)),
      [
        { age: 42, sex: 'female', smoker: false },
        { age: 30, sex: 'male', smoker: true },
      ],
    );
  });
});

describe('generated bodies end to end', () => {
  const cli = (args: string[]) => runNode([CLI, 'run', ...args], { env: { PATH: PATH_WITH_NODE }, timeoutMs: 60_000 });
  const server = `node ${join(REPO, 'examples/insurance-charges/server.ts')} --host 127.0.0.1 --port {port}`;

  it('--preset and --model against the example service: bodies from its metadata, none rejected', async () => {
    const out = join(tempDir(), 'out');
    const r = await cli([
      '--command',
      server,
      '--preset',
      'rest-model-service',
      '--model',
      'insurance_charges_model',
      '--generate',
      '200',
      '--rate',
      '100',
      '--duration',
      '1.5s',
      '--out',
      out,
      '--slo',
      'errors == 0',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^Generated 200 request bodies for "POST \/api\/models\/insurance_charges_model\/prediction" from GET http:\/\/127\.0\.0\.1:\d+\/api\/models\/insurance_charges_model\/metadata: input_schema in \d+ ms/m,
    );
    const result = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(statsFor(result).requests, 150);
    assert.equal(statsFor(result).failures, 0);
  });

  it('a schema file with an unsupported construct stops the run before the service starts (exit 2)', async () => {
    const d = tempDir();
    writeFile(d, 'bad.json', JSON.stringify({ type: 'object', properties: { x: { not: { type: 'string' } } } }));
    const cfg = writeFile(d, 'c.yml', `service:\n  command: ${server}\nrequest:\n  path: /p\n  schema: bad.json\n${LOAD}`);
    const r = await cli(['--config', cfg, '--out', join(d, 'out')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /c\.yml:5 request\.schema: request "POST \/p": .*#\/properties\/x\/not: "not" is not supported/);
    assert.doesNotMatch(r.stdout, /Started the service/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  it('a schema the service does not publish: exit 2 naming the request and the URL, service stopped', async () => {
    const d = tempDir();
    const r = await cli([
      '--command',
      server,
      '--preset',
      'rest-model-service',
      '--model',
      'no_such_model',
      '--rate',
      '5',
      '--duration',
      '1s',
      '--out',
      join(d, 'out'),
    ]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /request "POST \/api\/models\/no_such_model\/prediction": .*no_such_model.*404/s);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });
});

describe('the error path and the response check', () => {
  const cli = (args: string[]) => runNode([CLI, 'run', ...args], { env: { PATH: PATH_WITH_NODE }, timeoutMs: 60_000 });
  const server = `node ${join(REPO, 'examples/insurance-charges/server.ts')} --host 127.0.0.1 --port {port}`;

  it('invalid: mixes in requests the service must reject; they are counted apart from the SLOs', async () => {
    const d = tempDir();
    const out = join(d, 'out');
    const cfg = writeFile(
      d,
      'c.yml',
      `service:\n  command: ${server}\nrequest:\n  name: predict\n  preset: rest-model-service\n  model: insurance_charges_model\n  invalid: 25%\n  check-response: true\n` +
        `load:\n  stages: [{duration: 2s, rate: 100}]\nslos: [errors == 0, error-rate == 0]\n`,
    );
    const r = await cli(['--config', cfg, '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.deepEqual(
      result.endpoints.map((e) => [e.name, e.role]),
      [
        ['predict', undefined],
        ['predict (invalid)', 'invalid'],
      ],
    );
    const bad = statsFor(result, { endpoint: 1 });
    assert.ok(bad.requests > 25 && bad.requests < 80, `about a quarter of 200: ${bad.requests}`);
    assert.equal(bad.failures, 0, 'the example service answers 400 to every invalid request');
    assert.equal(statsFor(result).requests, 200 - bad.requests, 'the totals leave the invalid requests out');
    assert.equal(statsFor(result, { includeInvalid: true }).requests, 200);
    assert.match(
      r.stdout,
      new RegExp(
        `^Invalid requests \\("predict \\(invalid\\)", outside the totals and SLOs\\): ${bad.requests} sent, ${bad.requests} rejected as expected\\.$`,
        'm',
      ),
    );
  });

  it('invalid requests the service accepts are failures of that endpoint; responses off the output schema fail the check', async () => {
    // A lax service: it accepts anything and answers {"charges": "n/a"} every third time.
    const { startServer } = await import('./helpers/http.ts');
    const meta = {
      input_schema: { type: 'object', properties: { age: { type: 'integer', minimum: 18, maximum: 65 } }, required: ['age'] },
      output_schema: { type: 'object', properties: { charges: { type: 'number' } }, required: ['charges'] },
    };
    let n = 0;
    const srv = await startServer({
      handler: (req, res) => {
        if (req.url === '/api/models/m/metadata') return res.end(JSON.stringify(meta));
        res.setHeader('content-type', 'application/json');
        res.end(++n % 3 === 0 ? '{"charges":"n/a"}' : '{"charges":1.5}');
      },
    });
    const d = tempDir();
    const out = join(d, 'out');
    const cfg = writeFile(
      d,
      'c.yml',
      `service:\n  url: ${srv.url}\nrequest:\n  name: p\n  preset: rms\n  model: m\n  invalid: 20%\n  check-response: true\nload:\n  stages: [{duration: 1.5s, rate: 60}]\nslos: [errors == 0]\n`,
    );
    let r;
    try {
      r = await cli(['--config', cfg, '--out', out]);
    } finally {
      await srv.close();
    }
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const result = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'));
    const main = statsFor(result, { endpoint: 0 });
    assert.ok(main.errors['bad-response'] > 5, JSON.stringify(main.errors));
    assert.equal(main.errors.status, 0);
    const f = result.failures.find((x) => x.kind === 'bad-response')!;
    assert.equal(f.error, 'the response does not match the output schema: /charges: "n/a" is not of type number');
    const bad = statsFor(result, { endpoint: 1 });
    assert.equal(bad.failures, bad.requests, 'every invalid request was accepted: each is a failure');
    assert.match(r.stdout, /Invalid requests .*rejected as expected, \d+ not \(status \d+\)/);
  });

  it('check-response without a published output schema is an error naming the request (exit 2)', async () => {
    const d = tempDir();
    writeFile(d, 'in.json', JSON.stringify({ type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }));
    const cfg = writeFile(
      d,
      'c.yml',
      `service:\n  command: ${server}\nrequest:\n  path: /p\n  schema: in.json\n  check-response: true\n${LOAD}`,
    );
    const r = await cli(['--config', cfg, '--out', join(d, 'out')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /request "POST \/p": check-response: .*publishes no output schema/);
  });
});
