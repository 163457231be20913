// The rule that turns the generator's own figures into reasons a run did not measure the service
// (src/metrics/generator.ts): each limit alone, and what is deliberately not a limit.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatorLimits } from '../src/metrics/generator.ts';

const fine = { cpu: 0.3, eventLoopDelayP99Ms: 2, eventLoopDelayMaxMs: 20, scheduleErrorP99Ms: 0.8, exhausted: 0 };

describe('generator limits', () => {
  it('a generator within its means measured the service', () => {
    assert.deepEqual(generatorLimits(fine), []);
  });
  it('each limit alone is a reason, in words that say what to change', () => {
    assert.match(generatorLimits({ ...fine, exhausted: 3 })[0]!, /file descriptors.*ulimit -n/);
    assert.match(generatorLimits({ ...fine, cpu: 0.95 })[0]!, /95% of a core/);
    assert.match(generatorLimits({ ...fine, scheduleErrorP99Ms: 60 })[0]!, /60 ms off their schedule/);
    assert.match(generatorLimits({ ...fine, eventLoopDelayP99Ms: 300 })[0]!, /event loop was blocked/);
    assert.match(generatorLimits({ ...fine, eventLoopDelayMaxMs: 1500 })[0]!, /max 1500 ms/);
  });
  it('a service failing fast spins the generator: its CPU is then not a reason', () => {
    assert.deepEqual(generatorLimits({ ...fine, cpu: 0.99 }, { mostlyUnanswered: true }), []);
  });
  it('a short run is not judged on CPU: its start-up dominates the figure', () => {
    assert.deepEqual(generatorLimits({ ...fine, cpu: 0.99 }, { durationMs: 2000 }), []);
    assert.equal(generatorLimits({ ...fine, cpu: 0.99 }, { durationMs: 6000 }).length, 1);
  });
});
