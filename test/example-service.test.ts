// Tests for the bundled example model service (examples/insurance-charges): the server is
// started as a real child process, as loadgate users would run it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../examples/insurance-charges/', import.meta.url));
const SERVER = join(DIR, 'server.ts');
const PREDICT = '/api/models/insurance_charges_model/prediction';
const METADATA = '/api/models/insurance_charges_model/metadata';

// The schema text the Python service printed; the metadata endpoint must serve exactly this.
const SEED_INPUT_SCHEMA = `{"title":"InsuranceChargesModelInput","description":"Schema for input of the model's predict method.","type":"object","properties":{"age":{"title":"Age","description":"Age of primary beneficiary in years.","minimum":18,"maximum":65,"type":"integer"},"sex":{"title":"Sex","description":"Gender of beneficiary.","allOf":[{"$ref":"#/definitions/SexEnum"}]},"bmi":{"title":"Body Mass Index","description":"Body mass index of beneficiary.","minimum":15.0,"maximum":50.0,"type":"number"},"children":{"title":"Children","description":"Number of children covered by health insurance.","minimum":0,"maximum":5,"type":"integer"},"smoker":{"title":"Smoker","description":"Whether beneficiary is a smoker.","type":"boolean"},"region":{"title":"Region","description":"Region where beneficiary lives.","allOf":[{"$ref":"#/definitions/RegionEnum"}]}},"definitions":{"SexEnum":{"title":"SexEnum","description":"Enumeration for the value of the 'sex' input of the model.","enum":["male","female"],"type":"string"},"RegionEnum":{"title":"RegionEnum","description":"Enumeration for the value of the 'region' input of the model.","enum":["southwest","southeast","northwest","northeast"],"type":"string"}},"required":["age","sex","bmi","children","smoker","region"]}`;
const SEED_OUTPUT_SCHEMA = `{"title":"InsuranceChargesModelOutput","type":"object","properties":{"charges":{"title":"Charges","description":"Individual medical costs billed by health insurance to customer in US dollars.","type":"number"}},"required":["charges"]}`;

const PERSON = { age: 42, sex: 'female', bmi: 31.5, children: 2, smoker: false, region: 'northwest' };

// The servers must not pick up settings from the developer's shell.
const baseEnv = { ...process.env };
for (const name of ['HOST', 'PORT', 'EXTRA_WORK_MS', 'STARTUP_DELAY_MS']) delete baseEnv[name];

// Every child is tracked, so none outlives the tests even when an assertion fails midway.
const children = new Set<ChildProcess>();
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
after(() => {
  for (const child of children) if (alive(child)) process.kill(child.pid!, 'SIGKILL');
});

function launch(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [SERVER, ...args], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return child;
}

interface Server {
  child: ChildProcess;
  url: string;
}

/** Starts server.ts on a free port and resolves once it printed its "listening on" line. */
function startServer(args: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const child = launch(['--port', '0', ...args], env);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 10_000);
    child.stderr!.on('data', (data) => {
      stderr += data;
    });
    child.stdout!.on('data', (data) => {
      stdout += data;
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${stderr}`));
    });
  });
}

/** Sends a signal to the server (by PID) and waits for it to exit. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (!alive(child)) return { code: child.exitCode, signal: child.signalCode };
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  process.kill(child.pid!, signal);
  const [code, exitSignal] = await exited;
  return { code, signal: exitSignal };
}

/** Runs a process to completion, collecting its output. */
async function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => {
    stdout += data;
  });
  child.stderr.on('data', (data) => {
    stderr += data;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function charges(url: string, person: object): Promise<number> {
  const res = await post(url + PREDICT, person);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(typeof res.json.charges, 'number');
  return res.json.charges as number;
}

describe('example service', () => {
  let url = '';
  let child: ChildProcess | undefined;
  before(async () => ({ url, child } = await startServer()));
  after(async () => {
    if (child) await stop(child);
  });

  test('a valid prediction is a finite number and deterministic', async () => {
    const first = await charges(url, PERSON);
    assert.ok(Number.isFinite(first) && first > 0, String(first));
    assert.equal(first, Math.round(first * 100) / 100, 'rounded to cents');
    assert.equal(await charges(url, PERSON), first);
  });

  test('the model has learned real effects', async () => {
    const people = [
      { ...PERSON },
      { ...PERSON, sex: 'male', bmi: 24.3, children: 0, region: 'southeast' },
      { ...PERSON, bmi: 36.8, children: 4, region: 'northeast' },
      { ...PERSON, sex: 'male', bmi: 28.1, region: 'southwest' },
    ];
    for (const person of people) {
      const smoker = await charges(url, { ...person, smoker: true });
      const nonSmoker = await charges(url, { ...person, smoker: false });
      assert.ok(smoker > nonSmoker, `smoker ${smoker} <= non-smoker ${nonSmoker} for ${JSON.stringify(person)}`);
    }
    let older = 0;
    let younger = 0;
    for (const person of people) {
      older += await charges(url, { ...person, age: 60 });
      younger += await charges(url, { ...person, age: 25 });
    }
    assert.ok(older > younger, `age 60 total ${older} <= age 25 total ${younger}`);
  });

  const invalid: [name: string, body: unknown, field: string, text: string][] = [
    ['age below range', { ...PERSON, age: 17 }, 'age', 'ensure this value is greater than or equal to 18'],
    ['age above range', { ...PERSON, age: 66 }, 'age', 'ensure this value is less than or equal to 65'],
    ['non-integer age', { ...PERSON, age: 30.5 }, 'age', 'value is not a valid integer'],
    ['bmi below range', { ...PERSON, bmi: 14.99 }, 'bmi', 'ensure this value is greater than or equal to 15.0'],
    ['bmi above range', { ...PERSON, bmi: 50.01 }, 'bmi', 'ensure this value is less than or equal to 50.0'],
    ['bmi as a string', { ...PERSON, bmi: '30' }, 'bmi', 'value is not a valid float'],
    ['non-integer children', { ...PERSON, children: 1.5 }, 'children', 'value is not a valid integer'],
    ['children above range', { ...PERSON, children: 6 }, 'children', 'ensure this value is less than or equal to 5'],
    ['bad sex enum', { ...PERSON, sex: 'other' }, 'sex', "permitted: 'male', 'female'"],
    ['bad region enum', { ...PERSON, region: 'north' }, 'region', 'value is not a valid enumeration member'],
    ['smoker as a string', { ...PERSON, smoker: 'yes' }, 'smoker', 'value could not be parsed to a boolean'],
    ['null field', { ...PERSON, age: null }, 'age', 'none is not an allowed value'],
    ['missing field', { ...PERSON, region: undefined }, 'region', 'field required'],
    ['malformed JSON', '{"age": 42,', 'body', 'invalid JSON'],
    ['empty body', '', 'body', 'invalid JSON'],
    ['array body', '[1, 2]', 'body', 'value is not a valid dict'],
    ['number body', '42', 'body', 'value is not a valid dict'],
  ];
  for (const [name, body, field, text] of invalid) {
    test(`400 for ${name}`, async () => {
      const res = await post(url + PREDICT, body);
      assert.equal(res.status, 400);
      assert.equal(res.json.type, 'ValidationError');
      const messages = res.json.messages as string[];
      assert.ok(
        messages.some((m) => m.startsWith(`Field '${field}' `) && m.includes(text)),
        `no message about ${field} saying "${text}" in ${JSON.stringify(messages)}`,
      );
    });
  }

  test('every problem is reported at once', async () => {
    const res = await post(url + PREDICT, {});
    assert.equal(res.status, 400);
    assert.deepEqual(
      (res.json.messages as string[]).map((m) => /^Field '(\w+)'/.exec(m)?.[1]),
      ['age', 'sex', 'bmi', 'children', 'smoker', 'region'],
    );
  });

  test('bodies up to 1 MiB are accepted, larger ones get 413', async () => {
    const json = JSON.stringify(PERSON);
    const exact = json + ' '.repeat(1024 * 1024 - json.length);
    assert.equal((await post(url + PREDICT, exact)).status, 200);
    assert.equal((await post(url + PREDICT, `${exact} `)).status, 413);
    assert.equal((await charges(url, PERSON)) > 0, true, 'the service still answers afterwards');
  });

  test('models list and metadata', async () => {
    const models = await get(`${url}/api/models`);
    assert.equal(models.status, 200);
    const [model, ...others] = JSON.parse(models.text).models;
    assert.deepEqual(others, []);
    assert.equal(typeof model.description, 'string');
    assert.deepEqual(
      { ...model, description: '' },
      { display_name: 'Insurance Charges Model', qualified_name: 'insurance_charges_model', description: '', version: '0.1.0' },
    );
    const metadata = await get(url + METADATA);
    assert.equal(metadata.status, 200);
    const body = JSON.parse(metadata.text);
    assert.equal(body.qualified_name, 'insurance_charges_model');
    assert.deepEqual(body.input_schema, JSON.parse(SEED_INPUT_SCHEMA));
    assert.deepEqual(body.output_schema, JSON.parse(SEED_OUTPUT_SCHEMA));
    assert.ok(metadata.text.includes(`"input_schema":${SEED_INPUT_SCHEMA}`), 'input schema served byte for byte');
  });

  test('health and readiness', async () => {
    assert.deepEqual(await get(`${url}/api/health`).then((r) => [r.status, JSON.parse(r.text)]), [200, { health_status: 'HEALTHY' }]);
    assert.deepEqual(await get(`${url}/api/health/ready`).then((r) => [r.status, JSON.parse(r.text)]), [
      200,
      { readiness_status: 'ACCEPTING_TRAFFIC' },
    ]);
  });

  test('/openapi.json describes the prediction endpoint', async () => {
    const res = await get(`${url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes('#/definitions/'), 'all $refs point into components');
    const doc = JSON.parse(res.text);
    assert.equal(doc.openapi, '3.0.2');
    for (const path of ['/api/health', '/api/health/ready', '/api/models', METADATA, PREDICT]) assert.ok(doc.paths[path], path);
    const op = doc.paths[PREDICT].post;
    assert.deepEqual(op.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/InsuranceChargesModelInput' });
    assert.deepEqual(op.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/InsuranceChargesModelOutput' });
    assert.deepEqual(op.responses['400'].content['application/json'].schema, { $ref: '#/components/schemas/Error' });
    const schemas = doc.components.schemas;
    const { definitions, ...input } = JSON.parse(SEED_INPUT_SCHEMA.replaceAll('#/definitions/', '#/components/schemas/'));
    assert.deepEqual(schemas.InsuranceChargesModelInput, input);
    assert.deepEqual(schemas.SexEnum, definitions.SexEnum);
    assert.deepEqual(schemas.RegionEnum, definitions.RegionEnum);
    assert.deepEqual(schemas.InsuranceChargesModelOutput, JSON.parse(SEED_OUTPUT_SCHEMA));
    for (const [, name] of res.text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g))
      assert.ok(schemas[name!], `dangling $ref ${name}`);
  });

  test('unknown paths get 404, wrong methods 405', async () => {
    assert.deepEqual(await get(`${url}/nope`).then((r) => [r.status, JSON.parse(r.text)]), [404, { detail: 'Not Found' }]);
    const otherModel = await post(`${url}/api/models/other_model/prediction`, PERSON);
    assert.deepEqual([otherModel.status, otherModel.json], [404, { detail: 'Not Found' }]);
    assert.equal((await get(`${url}/api/models/other_model/metadata`)).status, 404);
    const wrongMethod = await get(url + PREDICT);
    assert.deepEqual([wrongMethod.status, JSON.parse(wrongMethod.text)], [405, { detail: 'Method Not Allowed' }]);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    assert.equal((await post(`${url}/api/models`, PERSON)).status, 405);
  });
});

describe('server options', () => {
  test('--startup-delay-ms keeps readiness at 503 for a while, then 200', async () => {
    const { child, url } = await startServer(['--startup-delay-ms', '600']);
    try {
      const first = await get(`${url}/api/health/ready`);
      assert.deepEqual([first.status, JSON.parse(first.text)], [503, { readiness_status: 'NOT_READY' }]);
      assert.equal((await get(`${url}/api/health`)).status, 200, 'healthy while starting');
      assert.equal((await post(url + PREDICT, PERSON)).status, 503, 'no predictions before ready');
      const deadline = Date.now() + 10_000;
      let ready = first;
      while (ready.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await get(`${url}/api/health/ready`);
      }
      assert.deepEqual([ready.status, JSON.parse(ready.text)], [200, { readiness_status: 'ACCEPTING_TRAFFIC' }]);
      assert.ok((await charges(url, PERSON)) > 0);
    } finally {
      await stop(child);
    }
  });

  test('environment variables set options, flags override them', async () => {
    const fromEnv = await startServer([], { STARTUP_DELAY_MS: '60000' });
    try {
      assert.equal((await get(`${fromEnv.url}/api/health/ready`)).status, 503);
    } finally {
      await stop(fromEnv.child);
    }
    const overridden = await startServer(['--startup-delay-ms', '0'], { STARTUP_DELAY_MS: '60000' });
    try {
      assert.equal((await get(`${overridden.url}/api/health/ready`)).status, 200);
    } finally {
      await stop(overridden.child);
    }
  });

  test('--extra-work-ms makes each prediction take at least that long', async () => {
    const { child, url } = await startServer(['--extra-work-ms', '40']);
    try {
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        const value = await charges(url, PERSON);
        assert.ok(performance.now() - start >= 40, `prediction took ${performance.now() - start} ms`);
        assert.ok(Number.isFinite(value));
      }
    } finally {
      await stop(child);
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} closes the server and exits 0`, async () => {
      const { child, url } = await startServer();
      // A request first, so a keep-alive connection is open when the signal arrives.
      assert.ok((await charges(url, PERSON)) > 0);
      assert.deepEqual(await stop(child, signal), { code: 0, signal: null });
    });
  }

  const badOptions: [args: string[], env: Record<string, string>, text: string][] = [
    [['--port', 'abc'], {}, '--port'],
    [['--port', '70000'], {}, '--port'],
    [['--extra-work-ms', '1.5'], {}, '--extra-work-ms'],
    [['--startup-delay-ms=-1'], {}, '--startup-delay-ms'],
    [['--no-such-flag'], {}, '--no-such-flag'],
    [[], { EXTRA_WORK_MS: 'lots' }, 'EXTRA_WORK_MS'],
  ];
  for (const [args, env, text] of badOptions) {
    test(`bad option ${[...args, ...Object.entries(env).map((e) => e.join('='))].join(' ')} exits 2`, async () => {
      const { code, stdout, stderr } = await run([SERVER, ...args], env);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, new RegExp(text));
      assert.equal(stderr.trim().split('\n').length, 1, 'one line');
    });
  }
});

test('train.ts reproduces the committed model.json byte for byte', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'loadgate-train-'));
  try {
    const out = join(dir, 'model.json');
    const result = await run([join(DIR, 'train.ts'), '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    const [trained, committed] = await Promise.all([readFile(out), readFile(join(DIR, 'model.json'))]);
    assert.ok(trained.equals(committed), 'train.ts output differs from the committed model.json');
    const model = JSON.parse(trained.toString('utf8'));
    assert.ok(model.training.holdout_metrics.r2 > 0.8, `holdout R² ${model.training.holdout_metrics.r2}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
