// CLI flags and action inputs are one table of settings (src/plan/settings.ts) applied by one set of rules
// (src/plan/overrides.ts): every row is exercised here from each front end that has it, the same settings
// given either way make the same plan, and what the table says a row excludes or needs is enforced.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InputError, RUN_INPUTS, type RunInput, inputOverrides } from '../src/action/inputs.ts';
import { type Flags, UsageError, flagOverrides } from '../src/cli.ts';
import { applyOverrides, buildPlan, readConfigFile } from '../src/plan/config.ts';
import { type SettingName, type Side, SETTINGS, SETTING_NAMES, excludedBy, nameOn, setting } from '../src/plan/settings.ts';
import type { ContainerPlan, Plan } from '../src/plan/types.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const dir = tempDir('loadgate-overrides-');
writeFile(dir, 'Dockerfile', 'FROM scratch\n');
const BODIES = writeFile(dir, 'b.jsonl', '{"a":1}\n{"a":2}\n');
const PROMPTS = writeFile(dir, 'p.jsonl', '{"prompt":"a"}\n{"messages":[{"role":"user","content":"b"}]}\n');
// The API key's variable must be set for a plan that names it (its value is read, never shown).
process.env['LOADGATE_TEST_OVERRIDES_KEY'] = 'k';
const SCHEMA = writeFile(dir, 'schema.json', JSON.stringify({ type: 'object', properties: { x: { type: 'integer' } }, required: ['x'] }));
let n = 0;

type FlagValues = Record<string, string | string[]>;
type InputValues = Partial<Record<RunInput, string>>;

function values(inputs: InputValues): Record<RunInput, string> {
  return Object.fromEntries(RUN_INPUTS.map((k) => [k, inputs[k] ?? ''])) as Record<RunInput, string>;
}

function viaFlags(file: string, flags: FlagValues): Plan {
  const cfg = readConfigFile(file);
  return buildPlan(applyOverrides(cfg, flagOverrides(flags as Flags, cfg.raw)));
}

function viaInputs(file: string, inputs: InputValues): Plan {
  const cfg = readConfigFile(file);
  return buildPlan(applyOverrides(cfg, inputOverrides(values(inputs), cfg.raw)));
}

function both(yaml: string, flags: FlagValues, inputs: InputValues): [Plan, Plan] {
  const file = writeFile(dir, `c${++n}.yml`, yaml);
  return [viaFlags(file, flags), viaInputs(file, inputs)];
}

/**
 * A plan as data: its functions (status matchers) by their source, so two plans built apart compare;
 * without `where` (what a later message names: "--schema (request.schema)", which rightly differs).
 */
function comparable(plan: Plan): unknown {
  return JSON.parse(JSON.stringify(plan, (k, v: unknown) => (k === 'where' ? undefined : typeof v === 'function' ? String(v) : v)));
}

const REST = 'request: {path: /p}\nload: {pacing: 1/s, stages: [{duration: 1s, users: 1}]}\n';
const BASE = `service: {url: "http://127.0.0.1:9"}\n${REST}`;

/**
 * One case per group of settings that go together, given by flags, by inputs, or both. With both, the two
 * plans must be equal; either way the plan must differ from the file's own and pass `check`.
 */
interface Case {
  what: string;
  flags?: FlagValues;
  inputs?: InputValues;
  check: (plan: Plan) => void;
}

/** Ten minutes from when the tests start: within the hour start-at may be ahead. */
const START_AT = new Date(Date.now() + 600_000).toISOString();

const CASES: Case[] = [
  {
    what: 'a running service',
    flags: { url: 'http://127.0.0.1:7' },
    inputs: { 'service-url': 'http://127.0.0.1:7' },
    check: (p) => assert.equal(p.service.baseUrl, 'http://127.0.0.1:7'),
  },
  {
    what: 'a command on a fixed port',
    flags: { command: 'node s.ts', port: '8001' },
    inputs: { 'service-command': 'node s.ts', 'service-port': '8001' },
    check: (p) => assert.deepEqual([p.service.kind, p.service.baseUrl], ['command', 'http://127.0.0.1:8001']),
  },
  {
    what: 'an image and its port',
    flags: { image: 'm:2', port: '8000' },
    inputs: { 'service-image': 'm:2', 'service-port': '8000' },
    check: (p) => assert.deepEqual([(p.service as ContainerPlan).image, (p.service as ContainerPlan).port], ['m:2', 8000]),
  },
  {
    what: "an image's environment and limits",
    inputs: { 'service-image': 'm:2', 'service-port': '8000', 'service-env': 'A=1', 'service-cpus': '2', 'service-memory': '1g' },
    check: (p) => {
      const s = p.service as ContainerPlan;
      assert.deepEqual([s.env, s.cpus, s.memoryBytes], [{ A: '1' }, 2, 2 ** 30]);
    },
  },
  {
    what: 'a readiness path',
    flags: { 'ready-path': '/ready' },
    inputs: { 'service-ready': '/ready' },
    check: (p) => assert.equal(p.readiness.path, '/ready'),
  },
  { what: 'a readiness timeout', flags: { 'ready-timeout': '5s' }, check: (p) => assert.equal(p.readiness.timeoutMs, 5000) },
  {
    what: 'the request, as a path and a method or as "METHOD /path"',
    flags: { path: '/q', method: 'PUT' },
    inputs: { endpoint: 'PUT /q' },
    check: (p) => assert.deepEqual([p.endpoints[0]!.method, p.endpoints[0]!.path], ['PUT', '/q']),
  },
  {
    what: 'a fixed body',
    flags: { body: '{"x":1}' },
    inputs: { body: '{"x":1}' },
    check: (p) => assert.deepEqual(p.endpoints[0]!.body, { kind: 'fixed', body: '{"x":1}' }),
  },
  { what: 'a file of bodies', flags: { bodies: BODIES }, check: (p) => assert.equal(p.endpoints[0]!.body.kind, 'list') },
  {
    what: 'bodies from a schema',
    flags: { schema: SCHEMA },
    inputs: { schema: SCHEMA },
    check: (p) => assert.equal(p.endpoints[0]!.body.kind, 'generate'),
  },
  {
    what: 'how many bodies to generate',
    flags: { schema: SCHEMA, generate: '5' },
    check: (p) => assert.equal(p.endpoints[0]!.body.kind === 'generate' && p.endpoints[0]!.body.count, 5),
  },
  {
    what: 'a preset and its model',
    flags: { preset: 'open-inference', model: 'm' },
    inputs: { preset: 'open-inference', model: 'm' },
    check: (p) => assert.equal(p.readiness.path, '/v2/models/m/ready'),
  },
  {
    what: 'an OpenAI-compatible server: prompts from a file, the API key from a variable',
    flags: { preset: 'vllm', model: 'm', prompts: PROMPTS, 'api-key-env': 'LOADGATE_TEST_OVERRIDES_KEY' },
    inputs: { preset: 'vllm', model: 'm', prompts: PROMPTS, 'api-key-env': 'LOADGATE_TEST_OVERRIDES_KEY' },
    check: (p) => {
      const ep = p.endpoints[0]!;
      assert.deepEqual(
        [ep.stream, ep.apiKeyEnv, ep.body.kind === 'list' && ep.body.bodies.length],
        [true, 'LOADGATE_TEST_OVERRIDES_KEY', 2],
      );
    },
  },
  {
    what: 'one stage of users, paced',
    flags: { users: '3', duration: '2s', pacing: '2/s' },
    inputs: { users: '3', duration: '2s', pacing: '2/s' },
    check: (p) =>
      assert.deepEqual(p.load, {
        model: 'closed',
        perUserRate: 2,
        stages: [{ name: '3 users', durationMs: 2000, users: 3, spawnRate: 3000 }],
      }),
  },
  {
    what: 'users started per second',
    flags: { users: '3', duration: '2s', 'spawn-rate': '1' },
    check: (p) => assert.equal(p.load.model === 'closed' && p.load.stages[0]!.spawnRate, 1),
  },
  {
    what: 'one stage of rate, capped',
    flags: { rate: '5', duration: '2s', 'max-in-flight': '4' },
    inputs: { rate: '5', duration: '2s', 'max-in-flight': '4' },
    check: (p) =>
      assert.deepEqual(p.load, { model: 'open', maxInFlight: 4, stages: [{ name: '5/s', durationMs: 2000, rate: 5, ramp: false }] }),
  },
  {
    what: 'the stages as a list',
    inputs: { stages: '- {duration: 2s, users: 2}\n- {duration: 1s, users: 4}' },
    check: (p) =>
      assert.deepEqual(
        p.load.stages.map((s) => s.durationMs),
        [2000, 1000],
      ),
  },
  {
    what: 'SLOs, a flag each or a line each',
    flags: { slo: ['p99 < 1s', 'errors == 0'] },
    inputs: { slos: 'p99 < 1s\nerrors == 0' },
    check: (p) =>
      assert.deepEqual(
        p.slos.map((s) => s.text),
        ['p99 < 1s', 'errors == 0'],
      ),
  },
  {
    what: 'a baseline image, with the service container settings',
    flags: { image: 'm:2', port: '8000', 'baseline-image': 'm:1' },
    inputs: { 'service-image': 'm:2', 'service-port': '8000', 'baseline-image': 'm:1' },
    check: (p) =>
      assert.deepEqual(
        [(p.compare?.baseline?.service as ContainerPlan).image, (p.compare?.baseline?.service as ContainerPlan).port],
        ['m:1', 8000],
      ),
  },
  {
    what: 'a baseline command',
    flags: { 'baseline-command': 'node b.ts --port {port}' },
    inputs: { 'baseline-command': 'node b.ts --port {port}' },
    check: (p) => assert.equal(p.compare?.baseline?.service.kind, 'command'),
  },
  {
    what: 'a baseline result',
    flags: { 'baseline-result': 'main.json' },
    inputs: { 'baseline-result': 'main.json' },
    check: (p) => assert.match(p.compare?.resultFile ?? '', /\/main\.json$/),
  },
  {
    what: 'a baseline url and the round settings',
    flags: {
      'baseline-url': 'http://127.0.0.1:8',
      rounds: '12',
      round: '1s',
      'max-rounds': '20',
      'min-effect': '3%',
      'compare-mode': 'parallel',
      'fail-on-inconclusive': 'true',
    },
    inputs: {
      'baseline-url': 'http://127.0.0.1:8',
      rounds: '12',
      round: '1s',
      'max-rounds': '20',
      'min-effect': '3%',
      'compare-mode': 'parallel',
      'fail-on-inconclusive': 'true',
    },
    check: (p) => {
      const c = p.compare!;
      assert.deepEqual(
        [c.against, c.rounds, c.roundMs, c.maxRounds, c.minEffect, c.mode, c.failOnInconclusive],
        ['baseline', 12, 1000, 20, 0.03, 'parallel', true],
      );
    },
  },
  {
    what: 'an A/A calibration',
    flags: { 'baseline-url': 'http://127.0.0.1:8', calibrate: 'true' },
    inputs: { 'baseline-url': 'http://127.0.0.1:8', calibrate: 'true' },
    check: (p) => assert.equal(p.compare?.against, 'calibration'),
  },
  { what: 'a warm-up', flags: { 'warm-up': '500ms' }, inputs: { 'warm-up': '500ms' }, check: (p) => assert.equal(p.warmupMs, 500) },
  { what: 'a request timeout', flags: { timeout: '2s' }, inputs: { timeout: '2s' }, check: (p) => assert.equal(p.timeoutMs, 2000) },
  { what: 'a seed', flags: { seed: '7' }, check: (p) => assert.equal(p.seed, 7) },
  {
    what: 'the report folder',
    flags: { out: 'elsewhere' },
    inputs: { 'report-dir': 'elsewhere' },
    check: (p) => assert.match(p.outputDir, /\/elsewhere$/),
  },
  { what: 'the progress interval', flags: { 'progress-interval': '1s' }, check: (p) => assert.equal(p.progressIntervalMs, 1000) },
  {
    what: 'a shard',
    flags: { shard: '2/3' },
    inputs: { shard: '2/3' },
    check: (p) => assert.deepEqual([p.shard?.index, p.shard?.count], [1, 3]),
  },
  {
    what: 'a shared start',
    flags: { 'start-at': START_AT },
    inputs: { 'start-at': START_AT },
    check: (p) => assert.equal(p.startAt, Date.parse(START_AT)),
  },
  {
    what: 'an incomplete merge allowed',
    flags: { 'allow-incomplete': 'true' },
    inputs: { 'allow-incomplete': 'true' },
    check: (p) => assert.equal(p.allowIncomplete, true),
  },
  { what: 'workers', flags: { workers: '3' }, inputs: { workers: '3' }, check: (p) => assert.equal(p.workers, 3) },
];

describe('every setting, from each front end that has it', () => {
  const file = writeFile(dir, 'base.yml', BASE);
  const base = comparable(viaFlags(file, {}));
  for (const c of CASES) {
    it(c.what, () => {
      const plans = [...(c.flags ? [viaFlags(file, c.flags)] : []), ...(c.inputs ? [viaInputs(file, c.inputs)] : [])];
      for (const plan of plans) {
        c.check(plan);
        assert.notDeepEqual(comparable(plan), base, 'the setting changed the plan');
      }
      if (plans.length === 2) assert.deepEqual(comparable(plans[0]!), comparable(plans[1]!), 'the same plan from flags and from inputs');
    });
  }

  it('covers every row of the table: each flag and each input in some case', () => {
    const flags = new Set(CASES.flatMap((c) => Object.keys(c.flags ?? {})));
    const inputs = new Set(CASES.flatMap((c) => Object.keys(c.inputs ?? {})));
    for (const name of SETTING_NAMES) {
      const s = setting(name);
      if (s.flag) assert.ok(flags.has(s.flag), `--${s.flag} (${name}) is exercised by no case`);
      if (s.input) assert.ok(inputs.has(s.input), `input "${s.input}" (${name}) is exercised by no case`);
      assert.ok(s.flag || s.input, `${name} has neither a flag nor an input`);
    }
  });
});

describe('the table', () => {
  it('names each flag and input once, and only rows it has', () => {
    for (const side of ['flag', 'input'] as const) {
      const names = SETTING_NAMES.map((n) => nameOn(side, n)).filter((x) => x !== undefined);
      assert.equal(new Set(names).size, names.length, `a ${side} named twice`);
    }
    for (const [name, s] of Object.entries(SETTINGS) as Array<[SettingName, (typeof SETTINGS)[SettingName]]>) {
      const refs: readonly string[] = [
        ...('excludes' in s ? s.excludes : []),
        ...('needs' in s ? s.needs : []),
        ...('needsWithoutFile' in s ? s.needsWithoutFile : []),
      ];
      for (const r of refs) assert.ok(SETTING_NAMES.includes(r as SettingName), `${name} refers to "${r}", which is no row`);
    }
  });

  // For each side: a setting given with one it excludes (each with what it needs) is refused, naming both.
  for (const side of ['flag', 'input'] as const) {
    it(`every pair it excludes is refused from the ${side === 'flag' ? 'CLI' : 'action'}, naming both`, () => {
      let pairs = 0;
      for (const a of SETTING_NAMES) {
        for (const b of excludedBy(a)) {
          if (!nameOn(side, a) || !nameOn(side, b)) continue;
          pairs++;
          const err = refusal(side, { ...withNeeds(side, a), ...withNeeds(side, b) });
          assert.match(err, /exclude each other/);
          assert.ok(err.includes(`${nameOn(side, a)}"`) || err.includes(`--${nameOn(side, a)} `), `${a} named in: ${err}`);
          assert.ok(err.includes(`${nameOn(side, b)}"`) || err.includes(`--${nameOn(side, b)} `), `${b} named in: ${err}`);
        }
      }
      assert.ok(pairs >= 8, `${pairs} pairs`);
    });

    it(`every setting given without what it needs is refused from the ${side === 'flag' ? 'CLI' : 'action'}`, () => {
      let checked = 0;
      for (const a of SETTING_NAMES) {
        const needs: readonly string[] = setting(a).needs ?? [];
        if (!nameOn(side, a) || needs.length === 0) continue;
        checked++;
        assert.match(refusal(side, { [a]: sample(a) }), new RegExp(`${nameOn(side, a)}"? needs `));
      }
      assert.ok(checked >= 3, `${checked} settings`);
    });
  }
});

/** A value that reads, for any row. */
function sample(name: SettingName): string {
  const samples: Partial<Record<SettingName, string>> = {
    body: '{}',
    endpoint: 'POST /p',
    stages: '- {duration: 1s, users: 1}',
    'service-env': 'A=1',
  };
  return samples[name] ?? '1';
}

/** The setting and the first of its needs that the side has (users needs duration, which needs users: one level is enough). */
function withNeeds(side: Side, name: SettingName): Partial<Record<SettingName, string>> {
  const needs: readonly string[] = setting(name).needs ?? [];
  const need = needs.find((m) => nameOn(side, m as SettingName) !== undefined) as SettingName | undefined;
  return { [name]: sample(name), ...(need ? { [need]: sample(need) } : {}) };
}

/** The message the side's front end refuses these settings with (over a file with one request). */
function refusal(side: Side, given: Partial<Record<SettingName, string>>): string {
  const raw = { request: { path: '/p' } };
  try {
    if (side === 'flag')
      flagOverrides(Object.fromEntries(Object.entries(given).map(([k, v]) => [nameOn('flag', k as SettingName)!, v])) as Flags, raw);
    else
      inputOverrides(
        values(Object.fromEntries(Object.entries(given).map(([k, v]) => [nameOn('input', k as SettingName)!, v])) as InputValues),
        raw,
      );
  } catch (e) {
    assert.ok(e instanceof (side === 'flag' ? UsageError : InputError), `not the front end's error: ${String(e)}`);
    return (e as Error).message;
  }
  return assert.fail(`accepted: ${JSON.stringify(given)}`);
}

describe('flags and inputs over a config file', () => {
  it("another image for the file's container keeps its port, env and limits, but not its build", () => {
    const yaml = `service:\n  image: model:dev\n  build: .\n  port: 8000\n  cpus: 0.5\n  env: {A: '1'}\n${REST}`;
    for (const plan of both(yaml, { image: 'ghcr.io/acme/model:1' }, { 'service-image': 'ghcr.io/acme/model:1' })) {
      const s = plan.service as ContainerPlan;
      assert.equal(s.image, 'ghcr.io/acme/model:1');
      assert.equal(s.build, undefined, "the given image runs: the file's Dockerfile is not built and tagged as it");
      assert.deepEqual([s.port, s.cpus, s.env], [8000, 0.5, { A: '1' }]);
    }
  });

  it("a readiness path from outside keeps the file's readiness timeout", () => {
    const yaml = `service:\n  url: http://127.0.0.1:9\n  ready: {path: /health, timeout: 90s}\n${REST}`;
    for (const plan of both(yaml, { 'ready-path': '/ready' }, { 'service-ready': '/ready' })) {
      assert.deepEqual([plan.readiness.path, plan.readiness.timeoutMs], ['/ready', 90_000]);
    }
    const short = `service:\n  url: http://127.0.0.1:9\n  ready: /health\n${REST}`;
    for (const plan of both(short, { 'ready-path': '/ready' }, { 'service-ready': '/ready' })) assert.equal(plan.readiness.path, '/ready');
  });

  it("a running URL replaces a command, keeping readiness; a new body replaces the file's", () => {
    const yaml = `service:\n  command: node s.ts --port {port}\n  cwd: .\n  ready: /health\nrequest: {path: /p, bodies: b.jsonl}\nload: {pacing: 1/s, stages: [{duration: 1s, users: 1}]}\n`;
    const [a, b] = both(yaml, { url: 'http://127.0.0.1:9', body: '{"x":1}' }, { 'service-url': 'http://127.0.0.1:9', body: '{"x":1}' });
    for (const plan of [a, b]) {
      assert.deepEqual(plan.service, { kind: 'url', baseUrl: 'http://127.0.0.1:9' });
      assert.equal(plan.readiness.path, '/health');
      assert.deepEqual(plan.endpoints[0]!.body, { kind: 'fixed', body: '{"x":1}' });
    }
  });

  it("one stage of rate replaces the file's user stages and their pacing", () => {
    const [a, b] = both(`service: {url: http://127.0.0.1:9}\n${REST}`, { rate: '20', duration: '2s' }, { rate: '20', duration: '2s' });
    for (const plan of [a, b]) {
      assert.equal(plan.load.model, 'open');
      assert.deepEqual(
        plan.load.stages.map((s) => s.durationMs),
        [2000],
      );
    }
  });

  it("stages from outside that start with users keep the file's pacing; with rate, its max-in-flight", () => {
    const closed = `service: {url: http://127.0.0.1:9}\nrequest: {path: /p}\nload: {pacing: 2/s, stages: [{duration: 1s, rate: 1}]}\n`;
    const users = viaInputs(writeFile(dir, `c${++n}.yml`, closed), { stages: '- {duration: 1s, users: 2}' });
    assert.deepEqual([users.load.model, users.load.model === 'closed' && users.load.perUserRate], ['closed', 2]);
    const open = `service: {url: http://127.0.0.1:9}\nrequest: {path: /p}\nload: {max-in-flight: 3, stages: [{duration: 1s, users: 1}]}\n`;
    const rate = viaInputs(writeFile(dir, `c${++n}.yml`, open), { stages: '[{duration: 1s, rate: 5}]' });
    assert.deepEqual([rate.load.model, rate.load.model === 'open' && rate.load.maxInFlight], ['open', 3]);
  });
});
