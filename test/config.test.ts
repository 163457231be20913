// The configuration layer: YAML file -> raw config -> (flag overrides) -> Plan, and the errors a
// person sees when a config is wrong: each names the file and line (or the flag), the key path, and
// what was expected.

import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { flagOverrides } from '../src/cli.ts';
import { ConfigError, DEFAULTS, type RawConfig, applyOverrides, buildPlan, emptyConfig, readConfigFile } from '../src/plan/config.ts';
import { statusMatches } from '../src/plan/http.ts';
import type { ClosedLoad, OpenLoad, Plan, StatusSet } from '../src/plan/types.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const dir = tempDir('loadgate-config-');
let fileNo = 0;

/** Writes the YAML to a fresh file in the temp folder; returns its path. */
function yamlFile(text: string, name = `c${++fileNo}.yml`): string {
  return writeFile(dir, name, text);
}

function planOf(text: string): Plan {
  return buildPlan(readConfigFile(yamlFile(text)));
}

type Flags = Parameters<typeof flagOverrides>[0];

/** The plan from a config file (or none) with CLI flags on top, as `loadgate run` builds it. */
function planWithFlags(flags: Flags, text?: string): Plan {
  const cfg: RawConfig = text === undefined ? emptyConfig(dir) : readConfigFile(yamlFile(text));
  return buildPlan(applyOverrides(cfg, flagOverrides(flags, cfg.raw)));
}

/** Whether a status is in a set: for map() and filter(). */
const inSet = (set: StatusSet) => (status: number) => statusMatches(set, status);

/** The ConfigError (or UsageError) message building the plan throws. */
function errorOf(build: () => unknown): string {
  try {
    build();
  } catch (err) {
    assert.ok(err instanceof Error && (err.name === 'ConfigError' || err.name === 'UsageError'), `not a config error: ${String(err)}`);
    return err.message;
  }
  assert.fail('expected an error, but the config was accepted');
}

const SERVICE = 'service: {url: "http://127.0.0.1:8000"}\n';
const REQUEST = 'request: {path: /predict}\n';
const LOAD = 'load: {stages: [{duration: 1s, users: 1}]}\n';

describe('a valid closed-model config', () => {
  const bodies = writeFile(dir, 'bodies.jsonl', '{"age": 30}\n\n  {"age": 40}  \n[1, 2]\n');
  const file = yamlFile(`# a full closed-model config
service:
  command: node server.ts --port {port}
  cwd: .
  env:
    MODEL: small
    DEBUG: true
    EMPTY: ""
  ready:
    path: /health/ready
    timeout: 1m30s
    status: [200, "204-299"]
request:
  name: predict
  method: post
  path: /api/models/m/prediction
  headers:
    Authorization: Bearer abc
    X-Count: 3
  bodies: bodies.jsonl
  weight: 2
  expect-status: "200-201"
load:
  pacing: 30/m
  stages:
    - {duration: 30s, users: 5, spawn-rate: 2}
    - {name: peak, duration: 1m30s, users: 10}
    - {duration: 500ms, users: 0}
    - {duration: 2, users: 1}
timeout: 500ms
seed: 7
output: out/report
progress-interval: 2s
`);
  const plan = buildPlan(readConfigFile(file));

  it('reads the service command, cwd relative to the file, env as strings, and a {port} base URL', () => {
    assert.deepEqual(plan.service, {
      kind: 'command',
      command: 'node server.ts --port {port}',
      cwd: dir,
      env: { MODEL: 'small', DEBUG: 'true', EMPTY: '' },
      port: 0,
      baseUrl: 'http://127.0.0.1:{port}',
      onExit: 'stop',
    });
  });

  it('reads readiness: path, timeout, and a status set of single codes and ranges', () => {
    assert.equal(plan.readiness.path, '/health/ready');
    assert.equal(plan.readiness.timeoutMs, 90_000);
    const ok = [199, 200, 201, 203, 204, 250, 299, 300].filter(inSet(plan.readiness.okStatus));
    assert.deepEqual(ok, [200, 204, 250, 299]);
  });

  it('reads the request: method upper-cased, headers as strings, weight, status range', () => {
    assert.equal(plan.endpoints.length, 1);
    const ep = plan.endpoints[0]!;
    assert.equal(ep.name, 'predict');
    assert.equal(ep.method, 'POST');
    assert.equal(ep.path, '/api/models/m/prediction');
    assert.deepEqual(ep.headers, { Authorization: 'Bearer abc', 'X-Count': '3' });
    assert.equal(ep.weight, 2);
    assert.deepEqual([199, 200, 201, 202].map(inSet(ep.okStatus)), [false, true, true, false]);
  });

  it('loads the bodies file relative to the config: one body per non-empty line, trimmed', () => {
    assert.deepEqual(plan.endpoints[0]!.body, { kind: 'list', bodies: ['{"age": 30}', '{"age": 40}', '[1, 2]'], origin: bodies });
  });

  it('parses durations (30s, 1m30s, 500ms, bare seconds), pacing per minute, and the default spawn rate', () => {
    const load = plan.load as ClosedLoad;
    assert.equal(load.model, 'closed');
    assert.equal(load.perUserRate, 0.5);
    assert.deepEqual(
      load.stages.map((s) => [s.name, s.durationMs, s.users, s.spawnRate]),
      [
        ['5 users', 30_000, 5, 2],
        ['peak', 90_000, 10, 10_000], // no spawn-rate: all users at once
        ['0 users', 500, 0, 1_000],
        ['1 user', 2_000, 1, 1_000],
      ],
    );
  });

  it('reads timeout, seed, progress interval, and the output folder (relative to where loadgate runs)', () => {
    assert.equal(plan.timeoutMs, 500);
    assert.equal(plan.seed, 7);
    assert.equal(plan.progressIntervalMs, 2_000);
    assert.equal(plan.outputDir, resolve('out/report'));
    assert.equal(plan.configPath, file);
  });
});

describe('a valid open-model config', () => {
  const plan = planOf(`service:
  url: http://127.0.0.1:8000/base/
  ready: /ready
requests:
  - {path: /health}
  - {path: /predict, body: {age: 30, smoker: false}}
  - {name: raw, method: PUT, path: /raw, body: "plain text"}
load:
  max-in-flight: 50
  stages:
    - {duration: 10s, rate: 5}
    - {duration: 20s, rate: 50, ramp: true}
    - {name: cool, duration: 1m, rate: 0.5, ramp: "false"}
`);

  it('reads a URL service without its trailing slash, and ready: as a path with 2xx/3xx meaning ready', () => {
    assert.deepEqual(plan.service, { kind: 'url', baseUrl: 'http://127.0.0.1:8000/base' });
    assert.equal(plan.readiness.path, '/ready');
    assert.equal(plan.readiness.timeoutMs, DEFAULTS.readyTimeoutMs);
    assert.deepEqual([200, 302, 404, 503].map(inSet(plan.readiness.okStatus)), [true, true, false, false]);
  });

  it('reads several requests: GET without a body, POST with one (a mapping becomes JSON), names and weights by default', () => {
    assert.deepEqual(
      plan.endpoints.map((e) => [e.name, e.method, e.path, e.body, e.weight]),
      [
        ['GET /health', 'GET', '/health', { kind: 'none' }, 1],
        ['POST /predict', 'POST', '/predict', { kind: 'fixed', body: '{"age":30,"smoker":false}' }, 1],
        ['raw', 'PUT', '/raw', { kind: 'fixed', body: 'plain text' }, 1],
      ],
    );
    // Default success: any status below 400.
    assert.deepEqual([200, 302, 399, 400, 500].map(inSet(plan.endpoints[0]!.okStatus)), [true, true, true, false, false]);
  });

  it('reads rate stages with ramps, and max-in-flight', () => {
    const load = plan.load as OpenLoad;
    assert.equal(load.model, 'open');
    assert.equal(load.maxInFlight, 50);
    assert.deepEqual(
      load.stages.map((s) => [s.name, s.durationMs, s.rate, s.ramp]),
      [
        ['5/s', 10_000, 5, false],
        ['ramp to 50/s', 20_000, 50, true],
        ['cool', 60_000, 0.5, false],
      ],
    );
  });
});

describe('defaults', () => {
  const plan = planOf(SERVICE + REQUEST + LOAD);

  it('fills in timeout, seed, output, progress interval, readiness, pacing and max-in-flight', () => {
    assert.equal(plan.timeoutMs, DEFAULTS.timeoutMs);
    assert.equal(plan.seed, DEFAULTS.seed);
    assert.equal(plan.outputDir, resolve(DEFAULTS.output));
    assert.equal(plan.progressIntervalMs, DEFAULTS.progressIntervalMs);
    assert.equal(plan.readiness.path, '/');
    // Without a readiness path, any answer below 500 (even 404 from /) means the server is up.
    assert.deepEqual([200, 404, 499, 500, 503].map(inSet(plan.readiness.okStatus)), [true, true, true, false, false]);
    assert.equal((plan.load as ClosedLoad).perUserRate, 0);
    assert.equal(planOf(`${SERVICE + REQUEST}load: {stages: [{duration: 1s, rate: 1}]}\n`).load.model === 'open' && true, true);
    assert.equal(
      (planOf(`${SERVICE + REQUEST}load: {stages: [{duration: 1s, rate: 1}]}\n`).load as OpenLoad).maxInFlight,
      DEFAULTS.maxInFlight,
    );
  });

  it('accepts pacing as 1/s, 30/m, 3600/h, none, or a bare number', () => {
    const pacing = (p: string) =>
      (planOf(`${SERVICE + REQUEST}load: {pacing: ${p}, stages: [{duration: 1s, users: 1}]}\n`).load as ClosedLoad).perUserRate;
    assert.deepEqual(['1/s', '30/m', '3600/h', 'none', '2', '0.5', '"2"', '" 4 / s "'].map(pacing), [1, 0.5, 1, 0, 2, 0.5, 2, 4]);
  });

  it('a command with port: and no {port} listens there; with url: the URL says where', () => {
    const withPort = planOf(`service: {command: "python app.py", port: 8123}\n${REQUEST}${LOAD}`);
    assert.deepEqual(withPort.service, {
      kind: 'command',
      command: 'python app.py',
      cwd: dir,
      env: {},
      port: 8123,
      baseUrl: 'http://127.0.0.1:8123',
      onExit: 'stop',
    });
    const withUrl = planOf(`service: {command: "docker run -p {port}:80 img", url: "http://127.0.0.1:{port}/v1/"}\n${REQUEST}${LOAD}`);
    assert.equal(withUrl.service.baseUrl, 'http://127.0.0.1:{port}/v1');
  });
});

describe('a plan is plain data', () => {
  const envFile = writeFile(dir, 'model.env', 'A=1\n');
  const containerText = `service:
  image: my/model:1
  port: 8000
  env-file: ${envFile}
  args: --ulimit "nofile=1024:2048"
  cmd: [serve, --workers, 2]
  cpus: 200m
  memory: 256Mi
  on-exit: continue
  ready: {path: /ready, status: [200, "204-299"]}
requests:
  - name: predict
    path: /predict
    schema: {inline: {type: object, properties: {age: {type: integer}}, required: [age]}}
    generate: 20
    invalid: 10%
    invalid-status: [400, 422]
    check-response: true
    expect-status: 200-201
  - {path: /health}
load:
  stages: [{duration: 2s, rate: 5}, {name: up, duration: 2s, rate: 10, ramp: true}]
monitors: [echo 1, {name: replicas, command: echo 2, every: 1s}]
warm-up: 1s
slos:
  - p99 < 100ms in stage up
  - errors == 0 for endpoint predict, abort after 1s
`;

  it('survives JSON unchanged (so it can be printed into a result and compared): no functions, no undefined keys', () => {
    const plans = [
      planOf(containerText),
      planOf(SERVICE + REQUEST + LOAD),
      planOf(
        `service: {command: "node s.ts --port {port}"}\nrequest: {path: /p, body: {a: 1}}\nload: {pacing: 1/s, stages: [{duration: 1s, users: 2}]}\n`,
      ),
    ];
    for (const plan of plans) assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });

  it('status sets are inclusive ranges, with 2xx-3xx for success, 4xx for invalid requests and below 500 for readiness by default', () => {
    const plan = planOf(containerText);
    assert.deepEqual(plan.readiness.okStatus, [
      [200, 200],
      [204, 299],
    ]);
    assert.deepEqual(
      plan.endpoints.map((e) => e.okStatus),
      [[[200, 201]], [[200, 399]]],
    );
    assert.deepEqual(plan.endpoints[0]!.invalid, {
      share: 0.1,
      okStatus: [
        [400, 400],
        [422, 422],
      ],
    });
    assert.equal(plan.endpoints[0]!.checkOutput, true);
    assert.deepEqual(planOf(SERVICE + REQUEST + LOAD).readiness.okStatus, [[200, 499]]);
    assert.deepEqual(planOf(SERVICE.replace('}', ', ready: /r}') + REQUEST + LOAD).readiness.okStatus, [[200, 399]]);
    assert.deepEqual(
      planOf(`${SERVICE}request: {path: /p, preset: rest-model-service, model: m, invalid: 5%}\n${LOAD}`).endpoints[0]!.invalid,
      { share: 0.05, okStatus: [[400, 499]] },
    );
  });
});

describe('config errors name file:line, the key path, and what was expected', () => {
  const cases: Array<{ what: string; yaml: string; line: number; path: string; says: RegExp }> = [
    {
      what: 'unknown stage key, with a did-you-mean',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 1s, users: 2, spawn_rate: 1}\n`,
      line: 5,
      path: 'load.stages[0].spawn_rate',
      says: /unknown key "spawn_rate" \(did you mean "spawn-rate"\?\); known keys: .*spawn-rate/,
    },
    {
      what: 'unknown top-level key, with a did-you-mean',
      yaml: `${SERVICE + REQUEST + LOAD}timout: 5s\n`,
      line: 4,
      path: 'timout',
      says: /unknown key "timout" \(did you mean "timeout"\?\)/,
    },
    {
      what: 'negative duration',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: -5s, users: 1}\n`,
      line: 5,
      path: 'load.stages[0].duration',
      says: /must be a positive duration, got "-5s"/,
    },
    {
      what: 'zero duration',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 0s, users: 1}\n`,
      line: 5,
      path: 'load.stages[0].duration',
      says: /must be a positive duration, got "0s"/,
    },
    {
      what: 'unreadable duration',
      yaml: `${SERVICE + REQUEST + LOAD}timeout: 5 sec\n`,
      line: 4,
      path: 'timeout',
      says: /expected a duration like 30s, 1m30s or 500ms, got "5 sec"/,
    },
    {
      what: 'missing request',
      yaml: SERVICE + LOAD,
      line: 1,
      path: 'request',
      says: /missing: the endpoint to load-test/,
    },
    {
      what: 'missing service',
      yaml: REQUEST + LOAD,
      line: 1,
      path: 'service',
      says: /missing: say where the service is, with url: .* or command:/,
    },
    {
      what: 'missing path',
      yaml: `${SERVICE}request:\n  method: POST\n  body: {a: 1}\n${LOAD}`,
      line: 2, // the line of request:, where path: is missing
      path: 'request.path',
      says: /missing: the path to request/,
    },
    {
      what: 'path without a leading slash',
      yaml: `${SERVICE}request: {path: predict}\n${LOAD}`,
      line: 2,
      path: 'request.path',
      says: /expected a path starting with \/, got "predict"/,
    },
    {
      what: 'users and rate stages mixed',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 1s, users: 2}\n    - {duration: 1s, rate: 5}\n`,
      line: 6,
      path: 'load.stages[1]',
      says: /uses rate but the first uses users: all stages must use the same model/,
    },
    {
      what: 'users and rate in one stage',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 1s, users: 2, rate: 5}\n`,
      line: 5,
      path: 'load.stages[0]',
      says: /either users: \(closed model\) or rate: \(open model\), not both/,
    },
    {
      what: 'neither users nor rate',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 1s}\n`,
      line: 5,
      path: 'load.stages[0]',
      says: /expected users: \(closed model\) or rate: \(open model\)/,
    },
    {
      what: 'non-integer users',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 1s, users: 2.5}\n`,
      line: 5,
      path: 'load.stages[0].users',
      says: /expected a whole number, got 2.5/,
    },
    {
      what: 'users not a number',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - {duration: 1s, users: many}\n`,
      line: 5,
      path: 'load.stages[0].users',
      says: /expected a number, got "many"/,
    },
    {
      what: 'bad pacing',
      yaml: `${SERVICE + REQUEST}load:\n  pacing: fast\n  stages: [{duration: 1s, users: 1}]\n`,
      line: 4,
      path: 'load.pacing',
      says: /expected requests per user like 1\/s or 30\/m, or none, got "fast"/,
    },
    {
      what: 'zero pacing rate',
      yaml: `${SERVICE + REQUEST}load:\n  pacing: 0/s\n  stages: [{duration: 1s, users: 1}]\n`,
      line: 4,
      path: 'load.pacing',
      says: /must be above 0 \(use none for no wait\)/,
    },
    {
      what: 'pacing with rate stages',
      yaml: `${SERVICE + REQUEST}load:\n  pacing: 1/s\n  stages: [{duration: 1s, rate: 1}]\n`,
      line: 4,
      path: 'load.pacing',
      says: /only applies to user stages/,
    },
    {
      what: 'max-in-flight with user stages',
      yaml: `${SERVICE + REQUEST}load:\n  max-in-flight: 5\n  stages: [{duration: 1s, users: 1}]\n`,
      line: 4,
      path: 'load.max-in-flight',
      says: /only applies to rate stages/,
    },
    {
      what: 'invalid URL',
      yaml: `service:\n  url: "localhost 8000"\n${REQUEST}${LOAD}`,
      line: 2,
      path: 'service.url',
      says: /expected an http\(s\) URL like http:\/\/127.0.0.1:8000, got "localhost 8000"/,
    },
    {
      what: 'URL that is not http',
      yaml: `service:\n  url: "ftp://127.0.0.1:21"\n${REQUEST}${LOAD}`,
      line: 2,
      path: 'service.url',
      says: /expected an http or https URL/,
    },
    {
      what: 'URL with a query',
      yaml: `service:\n  url: "http://127.0.0.1:8000/?key=1"\n${REQUEST}${LOAD}`,
      line: 2,
      path: 'service.url',
      says: /takes no query or fragment: put those in request.path/,
    },
    {
      what: 'command without {port}, port: or url:',
      yaml: `service:\n  command: python app.py\n${REQUEST}${LOAD}`,
      line: 2,
      path: 'service.command',
      says: /cannot tell where the started service listens: put \{port\} in the command .* or set port: or url:/,
    },
    {
      what: 'cwd: that is not a folder',
      yaml: `service:\n  command: python app.py --port {port}\n  cwd: no-such-folder\n${REQUEST}${LOAD}`,
      line: 3,
      path: 'service.cwd',
      says: /no-such-folder is not a directory/,
    },
    {
      what: 'command options without a command',
      yaml: `service:\n  url: http://127.0.0.1:8000\n  env: {A: b}\n${REQUEST}${LOAD}`,
      line: 3,
      path: 'service.env',
      says: /only applies with command:/,
    },
    {
      what: 'GET with a body',
      yaml: `${SERVICE}request:\n  method: GET\n  path: /predict\n  body: {age: 30}\n${LOAD}`,
      line: 3,
      path: 'request.method',
      says: /GET requests cannot carry a body/,
    },
    {
      what: 'unknown method',
      yaml: `${SERVICE}request: {method: FETCH, path: /p}\n${LOAD}`,
      line: 2,
      path: 'request.method',
      says: /expected one of GET, POST, .*got "FETCH"/,
    },
    {
      what: 'duplicate endpoint names',
      yaml: `${SERVICE}requests:\n  - {name: a, path: /x}\n  - {name: a, path: /y}\n${LOAD}`,
      line: 4,
      path: 'requests[1].name',
      says: /duplicate endpoint name "a"/,
    },
    {
      what: 'request: and requests: together',
      yaml: `${SERVICE + REQUEST}requests:\n  - {path: /y}\n${LOAD}`,
      line: 3, // the key's line, not the line where its list starts
      path: 'requests',
      says: /either request: .* or requests: .*, not both/,
    },
    {
      what: 'bodies file missing',
      yaml: `${SERVICE}request: {path: /p, bodies: missing.jsonl}\n${LOAD}`,
      line: 2,
      path: 'request.bodies',
      says: /cannot read .*missing\.jsonl: ENOENT/,
    },
    {
      what: 'body and bodies together',
      yaml: `${SERVICE}request: {path: /p, body: {}, bodies: x.jsonl}\n${LOAD}`,
      line: 2,
      path: 'request.bodies',
      says: /use one of body:, bodies: or schema:, not body and bodies/,
    },
    {
      what: 'bad expect-status range',
      yaml: `${SERVICE}request:\n  path: /p\n  expect-status: [200, "300-200"]\n${LOAD}`,
      line: 4,
      path: 'request.expect-status[1]',
      says: /expected a status range within 100-599, got "300-200"/,
    },
    {
      what: 'invalid header name',
      yaml: `${SERVICE}request:\n  path: /p\n  headers:\n    "Bad Header": x\n${LOAD}`,
      line: 5,
      path: 'request.headers.Bad Header',
      says: /"Bad Header" is not a valid header name/,
    },
    {
      what: 'a stage that is not a mapping',
      yaml: `${SERVICE + REQUEST}load:\n  stages:\n    - 30s\n`,
      line: 5,
      path: 'load.stages[0]',
      says: /expected a mapping, got "30s"/,
    },
    {
      what: 'no stages',
      yaml: `${SERVICE + REQUEST}load:\n  stages: []\n`,
      line: 4,
      path: 'load.stages',
      says: /expected at least 1 item, got 0/,
    },
    {
      what: 'a seed that is not a whole number',
      yaml: `${SERVICE + REQUEST + LOAD}seed: 1.5\n`,
      line: 4,
      path: 'seed',
      says: /expected a whole number, got 1.5/,
    },
  ];

  for (const c of cases) {
    it(c.what, () => {
      const file = yamlFile(c.yaml);
      const message = errorOf(() => buildPlan(readConfigFile(file)));
      const prefix = `${file}:${c.line} ${c.path}: `;
      assert.ok(message.startsWith(prefix), `expected the message to start with\n  ${prefix}\ngot\n  ${message}`);
      assert.match(message, c.says);
      assert.ok(!message.includes('\n'), `one line: ${message}`);
    });
  }

  it('a bodies file with an invalid JSON line names that line of that file', () => {
    const bodies = writeFile(dir, 'broken.jsonl', '{"a": 1}\n\n{"a": 2,}\n{"a": 3}\n');
    const file = yamlFile(`${SERVICE}request: {path: /p, bodies: broken.jsonl}\n${LOAD}`);
    const message = errorOf(() => buildPlan(readConfigFile(file)));
    assert.ok(message.startsWith(`${file}:2 request.bodies: ${bodies}:3 is not valid JSON (`), message);
  });

  it('a bodies file with no bodies says so', () => {
    writeFile(dir, 'empty.jsonl', '\n  \n');
    const file = yamlFile(`${SERVICE}request: {path: /p, bodies: empty.jsonl}\n${LOAD}`);
    assert.match(
      errorOf(() => buildPlan(readConfigFile(file))),
      /empty\.jsonl holds no request bodies/,
    );
  });

  it('a YAML syntax error names the line and column', () => {
    const file = yamlFile(`${SERVICE}request:\n  path: /p\n   method: GET\n${LOAD}`);
    const message = errorOf(() => readConfigFile(file));
    assert.match(message, new RegExp(`^${escape(file)}:3:\\d+: invalid YAML: `));
  });

  it('a key given twice is a YAML error at its line', () => {
    const file = yamlFile(`${SERVICE + REQUEST + LOAD}seed: 1\nseed: 2\n`);
    assert.match(
      errorOf(() => readConfigFile(file)),
      new RegExp(`^${escape(file)}:5:\\d+: invalid YAML: .*unique`),
    );
  });

  it('a top level that is not a mapping is named, with its line', () => {
    const list = yamlFile('- service\n- request\n');
    assert.equal(
      errorOf(() => readConfigFile(list)),
      `${list}:1 (top level): expected a mapping (service:, request:, load:), got a list`,
    );
    const scalar = yamlFile('\n\nloadgate\n');
    assert.equal(
      errorOf(() => readConfigFile(scalar)),
      `${scalar}:3 (top level): expected a mapping (service:, request:, load:), got "loadgate"`,
    );
  });

  it('a config file that cannot be read is named', () => {
    const missing = join(dir, 'nope.yml');
    assert.equal(
      errorOf(() => readConfigFile(missing)),
      `cannot read config file ${missing}: ENOENT`,
    );
  });

  it('errors are ConfigErrors (what the CLI reports without a stack)', () => {
    assert.throws(() => planOf(SERVICE + LOAD), ConfigError);
  });
});

describe('flag overrides', () => {
  const FILE = `service:
  command: node server.ts --port {port}
  ready: {path: /ready, timeout: 30s}
request:
  path: /predict
  body: {age: 30}
  headers: {X-Token: abc}
load:
  pacing: 1/s
  stages:
    - {duration: 10s, users: 5}
    - {duration: 10s, users: 1}
`;

  it('build a whole plan without a file', () => {
    const plan = planWithFlags({
      url: 'http://127.0.0.1:9000',
      path: '/p',
      method: 'put',
      body: '{"x":1}',
      users: '3',
      'spawn-rate': '2',
      duration: '1m30s',
      pacing: '2/s',
      timeout: '750ms',
      seed: '42',
      out: 'reports/here',
      'progress-interval': '1s',
      'ready-path': '/health',
      'ready-timeout': '5s',
    });
    assert.deepEqual(plan.service, { kind: 'url', baseUrl: 'http://127.0.0.1:9000' });
    assert.equal(plan.readiness.path, '/health');
    assert.equal(plan.readiness.timeoutMs, 5_000);
    const ep = plan.endpoints[0]!;
    assert.deepEqual([ep.method, ep.path, ep.body], ['PUT', '/p', { kind: 'fixed', body: '{"x":1}' }]);
    assert.deepEqual(plan.load, {
      model: 'closed',
      perUserRate: 2,
      stages: [{ name: '3 users', durationMs: 90_000, users: 3, spawnRate: 2 }],
    });
    assert.deepEqual([plan.timeoutMs, plan.seed, plan.outputDir, plan.progressIntervalMs], [750, 42, resolve('reports/here'), 1_000]);
    assert.equal(plan.configPath, undefined);
  });

  it('--rate makes one open-model stage; --max-in-flight caps it', () => {
    const plan = planWithFlags({ url: 'http://127.0.0.1:9000', path: '/p', rate: '25', duration: '2s', 'max-in-flight': '7' });
    assert.deepEqual(plan.load, { model: 'open', maxInFlight: 7, stages: [{ name: '25/s', durationMs: 2_000, rate: 25, ramp: false }] });
  });

  it('--pacing takes a bare number too, as the config does', () => {
    const plan = planWithFlags({ url: 'http://127.0.0.1:9000', path: '/p', users: '1', duration: '1s', pacing: '3' });
    assert.equal((plan.load as ClosedLoad).perUserRate, 3);
  });

  it('--url replaces a command service from the file, keeping its readiness', () => {
    const plan = planWithFlags({ url: 'http://10.0.0.5:8080/' }, FILE);
    assert.deepEqual(plan.service, { kind: 'url', baseUrl: 'http://10.0.0.5:8080' });
    assert.equal(plan.readiness.path, '/ready');
    assert.equal(plan.readiness.timeoutMs, 30_000);
  });

  it('--command replaces a running service (url: only) from the file: the load goes to the started command', () => {
    const plan = planWithFlags(
      { command: 'node other.ts --port {port}' },
      `service:\n  url: https://staging.example.com\n  ready: /ready\n${REQUEST}${LOAD}`,
    );
    assert.equal(plan.service.kind, 'command');
    assert.equal(plan.service.baseUrl, 'http://127.0.0.1:{port}');
    assert.equal(plan.readiness.path, '/ready');
  });

  it('--command keeps a url: that goes with the command in the file', () => {
    const plan = planWithFlags(
      { command: 'docker run -p {port}:80 img:2' },
      `service:\n  command: docker run -p {port}:80 img:1\n  url: http://127.0.0.1:{port}/v1\n${REQUEST}${LOAD}`,
    );
    assert.deepEqual([plan.service.kind, plan.service.baseUrl], ['command', 'http://127.0.0.1:{port}/v1']);
  });

  it('--users replaces the file stages and keeps its pacing; --rate drops the pacing', () => {
    const closed = planWithFlags({ users: '2', duration: '3s' }, FILE);
    assert.deepEqual(closed.load, {
      model: 'closed',
      perUserRate: 1,
      stages: [{ name: '2 users', durationMs: 3_000, users: 2, spawnRate: 2_000 }],
    });
    const open = planWithFlags({ rate: '10', duration: '3s' }, FILE);
    assert.equal(open.load.model, 'open');
    assert.equal(open.load.stages.length, 1);
  });

  it('--users over an open-model file drops max-in-flight', () => {
    const plan = planWithFlags(
      { users: '2', duration: '3s' },
      `${SERVICE + REQUEST}load: {max-in-flight: 9, stages: [{duration: 1s, rate: 3}]}\n`,
    );
    assert.equal(plan.load.model, 'closed');
  });

  it('--path keeps the rest of the file request; --body replaces bodies:, and --bodies a body:', () => {
    const plan = planWithFlags({ path: '/other' }, FILE);
    const ep = plan.endpoints[0]!;
    assert.deepEqual(
      [ep.method, ep.path, ep.body, ep.headers],
      ['POST', '/other', { kind: 'fixed', body: '{"age":30}' }, { 'X-Token': 'abc' }],
    );
    writeFile(dir, 'two.jsonl', '{"a":1}\n{"a":2}\n');
    const withBodies = planWithFlags({ bodies: join(dir, 'two.jsonl') }, FILE);
    assert.deepEqual(withBodies.endpoints[0]!.body, { kind: 'list', bodies: ['{"a":1}', '{"a":2}'], origin: join(dir, 'two.jsonl') });
    const fileWithBodies = `service: {url: "http://127.0.0.1:1"}\nrequest: {path: /p, bodies: two.jsonl}\n${LOAD}`;
    assert.deepEqual(planWithFlags({ body: '[1]' }, fileWithBodies).endpoints[0]!.body, { kind: 'fixed', body: '[1]' });
  });

  it('--ready-timeout keeps a ready: path given as a string', () => {
    const plan = planWithFlags({ 'ready-timeout': '2s' }, `service:\n  url: http://127.0.0.1:1\n  ready: /health\n${REQUEST}${LOAD}`);
    assert.deepEqual([plan.readiness.path, plan.readiness.timeoutMs], ['/health', 2_000]);
  });

  describe('an error in a flag value names the flag', () => {
    const base = { url: 'http://127.0.0.1:9000', path: '/p' };
    const cases: Array<[string, Flags, string, RegExp]> = [
      ['--users abc', { ...base, users: 'abc', duration: '1s' }, '--users (load.stages[0].users): ', /expected a number, got "abc"/],
      ['--users 1.5', { ...base, users: '1.5', duration: '1s' }, '--users (load.stages[0].users): ', /expected a whole number/],
      ['--duration abc', { ...base, users: '2', duration: 'abc' }, '--duration (load.stages[0].duration): ', /expected a duration/],
      [
        '--duration -1s with --rate',
        { ...base, rate: '5', duration: '-1s' },
        '--duration (load.stages[0].duration): ',
        /must be a positive duration/,
      ],
      [
        '--spawn-rate 0',
        { ...base, users: '2', duration: '1s', 'spawn-rate': '0' },
        '--spawn-rate (load.stages[0].spawn-rate): ',
        /must be greater than 0/,
      ],
      ['--rate -5', { ...base, rate: '-5', duration: '1s' }, '--rate (load.stages[0].rate): ', /must be at least 0/],
      [
        '--pacing fast',
        { ...base, users: '2', duration: '1s', pacing: 'fast' },
        '--pacing (load.pacing): ',
        /expected requests per user like 1\/s/,
      ],
      [
        '--pacing with --rate',
        { ...base, rate: '2', duration: '1s', pacing: '1/s' },
        '--pacing (load.pacing): ',
        /only applies to user stages/,
      ],
      [
        '--max-in-flight with --users',
        { ...base, users: '2', duration: '1s', 'max-in-flight': '3' },
        '--max-in-flight (load.max-in-flight): ',
        /only applies to rate stages/,
      ],
      ['--url nope', { ...base, url: 'nope', users: '1', duration: '1s' }, '--url (service.url): ', /expected an http\(s\) URL/],
      ['--path p', { ...base, path: 'p', users: '1', duration: '1s' }, '--path (request.path): ', /starting with \//],
      ['--method FETCH', { ...base, method: 'FETCH', users: '1', duration: '1s' }, '--method (request.method): ', /expected one of GET/],
      ['--timeout 0', { ...base, users: '1', duration: '1s', timeout: '0' }, '--timeout (timeout): ', /must be a positive duration/],
      ['--seed x', { ...base, users: '1', duration: '1s', seed: 'x' }, '--seed (seed): ', /expected a number/],
      [
        '--ready-timeout 0s',
        { ...base, users: '1', duration: '1s', 'ready-timeout': '0s' },
        '--ready-timeout (service.ready.timeout): ',
        /positive duration/,
      ],
      [
        '--command without {port}',
        { command: 'python app.py', path: '/p', users: '1', duration: '1s' },
        '--command (service.command): ',
        /cannot tell where/,
      ],
    ];
    for (const [what, flags, prefix, says] of cases) {
      it(what, () => {
        const message = errorOf(() => planWithFlags(flags));
        assert.ok(message.startsWith(prefix), `expected the message to start with\n  ${prefix}\ngot\n  ${message}`);
        assert.match(message, says);
      });
    }
  });

  describe('flags that do not go together are usage errors', () => {
    const base = { url: 'http://127.0.0.1:9000', path: '/p' };
    const cases: Array<[Flags, string]> = [
      [{ ...base, users: '2' }, '--users needs --duration (e.g. --duration 30s)'],
      [{ ...base, rate: '2' }, '--rate needs --duration (e.g. --duration 30s)'],
      [{ ...base, duration: '2s' }, '--duration needs --users or --rate'],
      [{ ...base, users: '2', rate: '3', duration: '1s' }, '--users (closed model) and --rate (open model) exclude each other'],
      [{ ...base, 'spawn-rate': '2' }, '--spawn-rate needs --users'],
      [{ ...base, command: 'x {port}' }, '--url and --command exclude each other: test a running service, or start one'],
      [{ ...base, body: '{}', bodies: 'b.jsonl' }, '--body and --bodies exclude each other'],
    ];
    for (const [flags, expected] of cases) {
      it(expected, () =>
        assert.equal(
          errorOf(() => planWithFlags(flags)),
          expected,
        ),
      );
    }

    it('--body that is not JSON', () => {
      assert.match(
        errorOf(() => planWithFlags({ ...base, body: '{age: 30}' })),
        /^--body: not valid JSON \(/,
      );
    });

    it('--path with a config of several requests', () => {
      const text = `${SERVICE}requests:\n  - {path: /a}\n  - {path: /b}\n${LOAD}`;
      assert.equal(
        errorOf(() => planWithFlags({ path: '/c' }, text)),
        '--path applies to a config with one request:, but this one has requests: (edit the file instead)',
      );
    });
  });

  describe('an error in what the file still says points at the file, not at a flag', () => {
    it('a bad header, with --path', () => {
      const text = `${SERVICE}request:\n  path: /p\n  headers: {"Bad Header": x}\n${LOAD}`;
      const message = errorOf(() => planWithFlags({ path: '/q' }, text));
      assert.match(message, /^\S+\.yml:4 request\.headers\.Bad Header: "Bad Header" is not a valid header name$/);
    });

    it('a bad pacing, with --users', () => {
      const text = `${SERVICE + REQUEST}load:\n  pacing: fast\n  stages: [{duration: 1s, users: 1}]\n`;
      assert.match(
        errorOf(() => planWithFlags({ users: '2', duration: '1s' }, text)),
        /^\S+\.yml:4 load\.pacing: expected requests per user/,
      );
    });

    it('a bad ready path given as a string, with --ready-timeout', () => {
      const text = `service:\n  url: http://127.0.0.1:1\n  ready: health\n${REQUEST}${LOAD}`;
      assert.match(
        errorOf(() => planWithFlags({ 'ready-timeout': '2s' }, text)),
        /^\S+\.yml:3 service\.ready\.path: expected a path starting with \//,
      );
    });

    it('a bad ready timeout, with --url', () => {
      const text = `service:\n  command: x --port {port}\n  ready: {path: /r, timeout: soon}\n${REQUEST}${LOAD}`;
      assert.match(
        errorOf(() => planWithFlags({ url: 'http://127.0.0.1:1' }, text)),
        /^\S+\.yml:3 service\.ready\.timeout: expected a duration/,
      );
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
