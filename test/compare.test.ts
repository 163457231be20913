// Comparisons against a baseline (issue 11), end to end through the CLI: two real services on 127.0.0.1,
// rounds of a second or so, the verdict read back from result.json. The services are the example model
// service with --extra-work-ms (CPU per prediction) and a tail-only server (test/helpers/tail-server.ts).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, applyOverrides, buildPlan, emptyConfig, readConfigFile } from '../src/plan/config.ts';
import { parseRegressionLine } from '../src/plan/regression.ts';
import { pairOrder } from '../src/run/compare.ts';
import { checkpoints } from '../src/verdict/compare.ts';
import type { CompareVerdict } from '../src/verdict/compare.ts';
import { CLI, NODE, REPO, eventually, killChildren, processAlive, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(killChildren);
after(removeTempDirs);

const SERVER = join(REPO, 'examples', 'insurance-charges', 'server.ts');
const TAIL = join(REPO, 'test', 'helpers', 'tail-server.ts');
const PREDICT = '/api/models/insurance_charges_model/prediction';
const BODY = '{"age": 42, "sex": "female", "bmi": 31.5, "children": 2, "smoker": false, "region": "northwest"}';
const model = (extraMs: number) => `${NODE} ${SERVER} --port {port} --extra-work-ms ${extraMs}`;

/** A config of the example service against a baseline, in rounds of `round`. */
function config(
  dir: string,
  o: {
    service: string;
    baseline: string;
    extra?: string;
    slos?: string[];
    rounds?: number;
    maxRounds?: number;
    round?: string;
    path?: string;
    body?: string;
  },
): string {
  return writeFile(
    dir,
    'loadgate.yml',
    [
      `service: {command: "${o.service}", ready: {path: ${o.path === undefined ? '/api/health/ready' : '/'}}}`,
      o.baseline,
      `request: {method: POST, path: "${o.path ?? PREDICT}", body: ${JSON.stringify(o.body ?? BODY)}}`,
      `load: {stages: [{duration: ${o.round ?? '1200ms'}, users: 1}]}`,
      `compare: {rounds: ${o.rounds ?? 8}${o.maxRounds ? `, max-rounds: ${o.maxRounds}` : ''}}`,
      `slos: ${JSON.stringify(o.slos ?? ['errors == 0'])}`,
      `output: ${join(dir, 'out')}`,
      o.extra ?? '',
    ].join('\n'),
  );
}

function comparisonOf(dir: string): CompareVerdict & { rounds: unknown } {
  const json = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
  return { ...json.verdict.comparison, storedRounds: json.rounds };
}

const metric = (c: CompareVerdict, key: string) => c.metrics.find((m) => m.key === key)!;

describe('regression lines and the compare: section', () => {
  it('reads regression lines beside the absolute ones, and names a bad one', () => {
    assert.deepEqual(parseRegressionLine('p99 regression < 10%'), {
      text: 'p99 regression < 10%',
      metric: { kind: 'latency', stat: 'percentile', percentile: 99 },
      limit: 0.1,
    });
    assert.equal(parseRegressionLine('error-rate regression < 0.5pp').limit, 0.005);
    assert.equal(parseRegressionLine('rps regression <= 5%').metric.kind, 'throughput');
    const dir = tempDir();
    const bad = (slo: string) => {
      const f = config(dir, { service: model(0), baseline: `baseline: {command: "${model(0)}"}`, slos: ['p50 < 1s', slo] });
      assert.throws(
        () => buildPlan(readConfigFile(f)),
        (e: Error) => e instanceof ConfigError && e.message.includes(`"${slo}"`) && /slos/.test(e.message),
      );
      return true;
    };
    bad('p99 regression < 10ms');
    bad('error-rate regression < 1%');
    bad('p99 regression 10%');
    bad('latency regression < 10%');
  });

  it('a regression line without a baseline is an error naming the line', () => {
    const dir = tempDir();
    const f = writeFile(
      dir,
      'c.yml',
      `service: {url: "http://127.0.0.1:9"}\nrequest: {path: /}\nload: {stages: [{duration: 1s, users: 1}]}\nslos: ["p99 regression < 10%"]\n`,
    );
    assert.throws(() => buildPlan(readConfigFile(f)), /"p99 regression < 10%" compares with a baseline, and there is none/);
  });

  it('an image baseline inherits the candidate container settings it leaves out', () => {
    const dir = tempDir();
    const f = writeFile(
      dir,
      'c.yml',
      'service: {image: "m:pr", port: 8000, cpus: 1, memory: 256m, env: {A: "1"}}\nbaseline: {image: "m:base"}\nrequest: {path: /}\n' +
        'load: {stages: [{duration: 4s, users: 1}]}\ncompare: {round: 2s, rounds: 6, order: alternate}\n',
    );
    const plan = buildPlan(readConfigFile(f));
    const b = plan.compare!.baseline!.service;
    assert.equal(b.kind, 'container');
    if (b.kind !== 'container') return;
    assert.deepEqual([b.image, b.port, b.cpus, b.memoryBytes, b.env], ['m:base', 8000, 1, 256 * 1024 * 1024, { A: '1' }]);
    assert.equal(plan.compare!.roundLoad.stages[0]!.durationMs, 2000);
    assert.throws(
      () => buildPlan(applyOverrides(readConfigFile(f), [{ path: ['compare', 'rounds'], value: '3', origin: '--rounds' }])),
      /--rounds.*at least 6/,
    );
  });

  it('flags give the baseline and the rounds', () => {
    const cfg = applyOverrides(emptyConfig(), [
      { path: ['service', 'url'], value: 'http://127.0.0.1:9' },
      { path: ['request', 'path'], value: '/' },
      { path: ['load', 'stages'], value: [{ duration: '2s', users: 1 }] },
      { path: ['baseline', 'result'], value: 'base.json', origin: '--baseline-result' },
    ]);
    const plan = buildPlan(cfg);
    assert.equal(plan.compare?.against, 'history');
  });

  it('orders pairs at random from the seed, about half each way, and the same for the same seed', () => {
    const orders = Array.from({ length: 200 }, (_, k) => pairOrder('random', 1, k)[0]);
    const first = orders.filter((o) => o === 'candidate').length;
    assert.ok(first > 70 && first < 130, `${first} of 200 pairs start with the candidate`);
    assert.deepEqual(
      orders.slice(0, 20),
      Array.from({ length: 20 }, (_, k) => pairOrder('random', 1, k)[0]),
    );
    assert.deepEqual(
      [0, 1, 2].map((k) => pairOrder('alternate', 1, k)[0]),
      ['candidate', 'baseline', 'candidate'],
    );
  });

  it('adds rounds only at checkpoints fixed before the run', () => {
    assert.deepEqual(checkpoints({ rounds: 10, maxRounds: 10 }), [10]);
    assert.deepEqual(checkpoints({ rounds: 10, maxRounds: 20 }), [10, 15, 20]);
  });
});

describe('comparing two services in the same job', { timeout: 180_000 }, () => {
  it('finds about 10% more CPU per prediction: p50 regressed, the interval excluding zero', async () => {
    const dir = tempDir();
    // On a busy machine a noisy pair widens the interval: up to 20 pairs at fixed checkpoints decide it.
    const f = config(dir, { service: model(11), baseline: `baseline: {command: "${model(10)}"}`, rounds: 10, maxRounds: 20, round: '1s' });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = comparisonOf(dir);
    const p50 = metric(c, 'p50');
    assert.equal(c.outcome, 'regressed');
    assert.equal(p50.verdict, 'regressed');
    assert.ok(p50.low! > 0, `p50 interval ${p50.low} to ${p50.high}`);
    assert.ok(p50.estimate! > 0.05 && p50.estimate! < 0.2, `p50 +${p50.estimate}`);
    assert.match(r.stdout, /FAIL: p50 \+\d+(\.\d)?% \(9\d(\.\d)?% CI .*\) vs base: regressed/);
    // Every round of both sides kept, histograms and all.
    const stored = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8')).rounds;
    assert.ok(stored.length >= 2 * 11 && stored.length % 2 === 0, `${stored.length} rounds`);
    assert.ok(stored.every((x: { result: { cells: Array<Array<{ latency: unknown }>> } }) => x.result.cells[0]![0]!.latency));
    assert.match(readFileSync(join(dir, 'out', 'report.md'), 'utf8'), /\*\*Comparison: regressed\*\*/);
    assert.match(readFileSync(join(dir, 'out', 'junit.xml'), 'utf8'), /classname="loadgate.regression"[^>]*>\s*<failure/);
    assert.match(readFileSync(join(dir, 'out', 'report.html'), 'utf8'), /<section id="comparison">[\s\S]*<svg/);
    assert.match(readFileSync(join(dir, 'out', 'compare.csv'), 'utf8'), /^round,baseline,0,0,yes/m);
  });

  it('the same service twice: same', async () => {
    const dir = tempDir();
    const f = config(dir, {
      service: model(10),
      baseline: `baseline: {command: "${model(10)}"}`,
      // On a busy shared machine a slow second lands in one round of a pair: 10 pairs and a 10% limit.
      slos: ['p50 regression < 10%', 'error-rate regression < 1pp'],
      rounds: 10,
      maxRounds: 20,
      round: '1s',
    });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 60_000 });
    const c = comparisonOf(dir);
    assert.equal(c.outcome, 'same', `${c.headline}\n${r.stdout}`);
    assert.equal(r.code, 0);
  });

  it('a tail-only regression: p99 regressed, p50 not', async () => {
    const dir = tempDir();
    const tail = (slowMs: number) => `${NODE} ${TAIL} --port {port} --base-ms 4 --slow-ms ${slowMs} --every 20`;
    const f = config(dir, {
      service: tail(13),
      baseline: `baseline: {command: "${tail(10)}"}`,
      path: '/',
      body: '{}',
      slos: ['p50 regression < 10%', 'p99 regression < 10%'],
      rounds: 10,
      maxRounds: 20,
      round: '1s',
    });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 60_000 });
    const c = comparisonOf(dir);
    assert.equal(metric(c, 'p99').verdict, 'regressed', `${c.headline}\n${r.stdout}`);
    assert.notEqual(metric(c, 'p50').verdict, 'regressed');
    assert.equal(r.code, 1);
  });
});

describe('the baseline from a stored result', { timeout: 120_000 }, () => {
  it('records rounds in one run and compares a later one with them, labelled as across runs', async () => {
    const dir = tempDir();
    const first = writeFile(
      dir,
      'base.yml',
      [
        `service: {command: "${model(10)}", ready: {path: /api/health/ready}}`,
        `request: {method: POST, path: "${PREDICT}", body: ${JSON.stringify(BODY)}}`,
        'load: {stages: [{duration: 1200ms, users: 1}]}',
        'compare: {rounds: 6}',
        `output: ${join(dir, 'base')}`,
      ].join('\n'),
    );
    const r1 = await runNode([CLI, 'run', '-c', first], { timeoutMs: 60_000 });
    assert.equal(r1.code, 0, r1.stdout + r1.stderr);
    const f = config(dir, {
      service: model(13),
      baseline: `baseline: {result: ${join(dir, 'base', 'result.json')}}`,
      rounds: 6,
      slos: ['p50 regression < 10%'],
    });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 60_000 });
    const c = comparisonOf(dir);
    assert.equal(c.against, 'history');
    assert.equal(c.paired, false);
    assert.equal(metric(c, 'p50').verdict, 'regressed', c.headline);
    assert.equal(r.code, 1);
    assert.match(readFileSync(join(dir, 'out', 'report.md'), 'utf8'), /across runs and machines/);
    // Where the stored run ran is its result's `environment`, as a single run's (no second record beside
    // the rounds), and it is this run's baseline side, shown beside this run's machine.
    const storedJson = JSON.parse(readFileSync(join(dir, 'base', 'result.json'), 'utf8'));
    assert.equal(storedJson.roundsEnvironment, undefined);
    assert.equal(storedJson.environment.cpuCount, availableParallelism());
    assert.deepEqual(c.environments?.baseline, storedJson.environment);
    assert.equal(c.environments?.candidate?.kernel, storedJson.environment.kernel);
    assert.equal(c.baselineStartedAt, storedJson.startedAt);
    assert.ok(!c.warnings.some((w) => /differs/.test(w)), `the same machine: ${c.warnings.join('; ')}`);
    assert.match(readFileSync(join(dir, 'out', 'report.md'), 'utf8'), /\| CPU \| .* × \d+ \| .* × \d+ \|/);
  });

  it('a result without rounds is a configuration error naming the file', async () => {
    const dir = tempDir();
    const stored = writeFile(dir, 'old.json', '{"formatVersion": 1}');
    const f = config(dir, { service: model(10), baseline: `baseline: {result: ${stored}}` });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 30_000 });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /old\.json: it has no rounds/);
  });
});

describe('faults on the baseline side', { timeout: 120_000 }, () => {
  it('a baseline that never becomes ready: an error naming it, both stopped', async () => {
    const dir = tempDir();
    const f = config(dir, { service: model(0), baseline: 'baseline: {command: "sleep 30 # {port}", ready: {path: /, timeout: 2s}}' });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 30_000 });
    // Not measured as planned (exit 3), and every report still written, saying why.
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /the baseline service: .*not ready after 2 s/);
    const written = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8')) as { status: string; reason: string };
    assert.equal(written.status, 'not-started');
    assert.match(written.reason, /baseline/);
    assert.ok(existsSync(join(dir, 'out', 'junit.xml')) && existsSync(join(dir, 'out', 'report.html')));
    for (const m of (r.stdout + r.stderr).matchAll(/\(pid (\d+)\)/g))
      assert.ok(await eventually(() => !processAlive(Number(m[1]))), `pid ${m[1]} still runs`);
  });

  it('a baseline that dies mid-run: not measured as planned (exit 3), naming it, the reports written, both stopped', async () => {
    const dir = tempDir();
    // The baseline serves for 4 s, then its shell kills it.
    const dying = `sh -c '${model(0)} & p=$!; sleep 4; kill -9 $p; exit 3'`;
    const f = config(dir, { service: model(0), baseline: `baseline: {command: "${dying}"}`, rounds: 6, round: '1s' });
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 40_000 });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /Problem: the baseline service (died|exited)/);
    const md = readFileSync(join(dir, 'out', 'report.md'), 'utf8');
    assert.match(md, /the baseline service (died|exited)/);
    for (const file of ['report.html', 'result.json', 'junit.xml', 'compare.csv']) assert.ok(existsSync(join(dir, 'out', file)), file);
    for (const m of r.stdout.matchAll(/\(pid (\d+)\)/g))
      assert.ok(await eventually(() => !processAlive(Number(m[1]))), `pid ${m[1]} still runs`);
  });
});
