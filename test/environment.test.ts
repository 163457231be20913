// Where a run ran (src/metrics/environment.ts): what is read from this machine, the steal column of
// /proc/stat, how two environments differ, and that result.json keeps it; and an invalid run's verdict.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Environment, environmentDifferences, machineAfter, machineBefore, readSteal } from '../src/metrics/environment.ts';
import { parseRunResult, serializeRunResult } from '../src/metrics/result.ts';
import { evaluate } from '../src/verdict/evaluate.ts';
import { STATUS_EXIT, runStatus } from '../src/run/outcome.ts';
import { constructedResult } from './fixtures/result.ts';

const base: Environment = {
  cpuModel: 'Intel Xeon',
  cpuCount: 2,
  memoryBytes: 8 * 2 ** 30,
  os: 'Linux (Debian 12)',
  kernel: '6.1.0',
  arch: 'x64',
  node: 'v24.21.0',
  loadgate: '0.1.0',
  generatorCpu: 0.1,
};

describe('where it ran', () => {
  it('reads this machine, the runner from its environment, and the steal over the run', () => {
    const before = machineBefore();
    const until = performance.now() + 50; // a few clock ticks (jiffies) so that /proc/stat moves
    while (performance.now() < until);
    const e = machineAfter(before, 0.25, {
      RUNNER_NAME: 'GitHub Actions 7',
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      ImageOS: 'ubuntu24',
      ImageVersion: '20261124.1',
    });
    assert.ok(e.cpuCount >= 1 && e.memoryBytes > 0 && e.cpuModel !== '');
    assert.equal(e.node, process.version);
    assert.deepEqual(e.runner, { name: 'GitHub Actions 7', os: 'Linux', arch: 'X64', image: 'ubuntu24', imageVersion: '20261124.1' });
    assert.equal(e.generatorCpu, 0.25);
    assert.ok(e.cpuStealPercent !== undefined && e.cpuStealPercent >= 0 && e.cpuStealPercent <= 100);
    assert.equal(machineAfter(machineBefore(), 0, {}).runner, undefined, 'no runner outside CI');
  });

  it('takes steal from the eighth column of the aggregate cpu line', () => {
    assert.deepEqual(readSteal('cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n'), [35, 1000]);
    assert.equal(readSteal('garbage'), null);
  });

  it('says how two environments differ, and nothing for the same one', () => {
    assert.deepEqual(environmentDifferences(base, { ...base, generatorCpu: 0.9 }), []);
    assert.deepEqual(
      environmentDifferences(base, { ...base, cpuCount: 4, node: 'v24.22.0', serviceImage: { image: 'm', digest: 'sha256:1' } }),
      ['CPU count: 2 vs 4', 'Node: v24.21.0 vs v24.22.0', 'service image: unknown vs m', 'service image digest: unknown vs sha256:1'],
    );
    assert.deepEqual(environmentDifferences(base, { ...base, memoryBytes: 16 * 2 ** 30, cpuStealPercent: 12 }), [
      'memory: 8 GiB vs 16 GiB',
      "the second run's machine had 12% of its CPU stolen",
    ]);
    assert.deepEqual(environmentDifferences(base, undefined), ['one of the runs does not say where it ran']);
  });

  it('result.json keeps the environment and the generator, and an older result without them still reads', () => {
    const r = constructedResult();
    r.environment = base;
    r.generator = { cpu: 0.1, eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, exhausted: 0, limits: [] };
    const back = parseRunResult(serializeRunResult(r));
    assert.deepEqual(back.environment, base);
    assert.deepEqual(back.generator, r.generator);
    assert.equal(parseRunResult(serializeRunResult(constructedResult())).environment, undefined);
  });
});

describe('an invalid run', () => {
  it('fails the verdict saying the run did not measure the service, not as a breach', () => {
    const r = constructedResult();
    r.status = 'invalid';
    r.generator = {
      cpu: 0.97,
      eventLoopDelayP99Ms: 1,
      eventLoopDelayMaxMs: 2,
      exhausted: 0,
      limits: ['the generator used 97% of a core: it was the bottleneck'],
    };
    const v = evaluate(r, []);
    assert.equal(v.pass, false);
    assert.deepEqual(v.problems, ['the run did not measure the service: the generator used 97% of a core: it was the bottleneck']);
    assert.equal(runStatus(r, v, false), 'not-measured');
    assert.equal(STATUS_EXIT[runStatus(r, v, false)], 3, 'exit 3, not the breach code');
  });
});
