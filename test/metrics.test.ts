import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserializeHistogram, maxMs, newHistogram, percentileMs, recordUs, serializeHistogram } from '../src/metrics/histogram.ts';
import { Recorder } from '../src/metrics/recorder.ts';
import { mergeStats, meanMs, parseRunResult, serializeRunResult, statsFor } from '../src/metrics/result.ts';
import { mulberry32 } from '../src/payload/random.ts';
import { constructedResult } from './fixtures/result.ts';

const PCTS = [0, 1, 25, 50, 66, 75, 90, 95, 99, 99.9, 99.99, 100];

function randomHistogram(seed: number, n: number) {
  const rnd = mulberry32(seed);
  const h = newHistogram();
  // Log-normal-ish latencies from 50 µs to tens of seconds, with a far outlier.
  for (let i = 0; i < n; i++) recordUs(h, Math.exp(rnd() * 12 + 4));
  recordUs(h, 90_000_000);
  return h;
}

describe('histograms', () => {
  it('round-trip through JSON with identical counts, percentiles, min, max and total', () => {
    for (const seed of [1, 2, 3]) {
      const h = randomHistogram(seed, 20_000);
      const back = deserializeHistogram(JSON.parse(JSON.stringify(serializeHistogram(h))));
      assert.equal(back.totalCount, h.totalCount);
      assert.equal(back.maxValue, h.maxValue);
      assert.equal(back.minNonZeroValue, h.minNonZeroValue);
      for (const p of PCTS) assert.equal(back.getValueAtPercentile(p), h.getValueAtPercentile(p), `p${p}`);
      for (let i = 0; i < h.countsArrayIndex(h.maxValue) + 1; i++) {
        if (back.getCountAtIndex(i) !== h.getCountAtIndex(i)) assert.fail(`bucket ${i} differs`);
      }
    }
  });

  it('an empty histogram round-trips and reports no percentiles', () => {
    const back = deserializeHistogram(serializeHistogram(newHistogram()));
    assert.equal(back.totalCount, 0);
    assert.equal(percentileMs(back, 99), null);
    assert.equal(maxMs(back), null);
  });

  it('percentiles are within 0.1% of the exact ones and never above the max', () => {
    const rnd = mulberry32(7);
    const values = Array.from({ length: 50_000 }, () => 100 + rnd() * 200_000);
    const h = newHistogram();
    for (const v of values) recordUs(h, v);
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]! / 1000;
      const got = percentileMs(h, p)!;
      assert.ok(Math.abs(got - exact) / exact < 0.001 + 1e-9, `p${p}: ${got} vs ${exact}`);
    }
    assert.ok(percentileMs(h, 100)! <= maxMs(h)!);
  });

  it('clamps values outside the trackable range instead of throwing', () => {
    const h = newHistogram();
    recordUs(h, 0);
    recordUs(h, 10 * 3_600_000_000);
    assert.equal(h.totalCount, 2);
  });
});

describe('recorder and RunResult', () => {
  it('counts per stage and endpoint, classifies errors, and merges scopes', () => {
    const r = constructedResult();
    const total = statsFor(r);
    assert.equal(total.requests, 4);
    assert.equal(total.failures, 3);
    assert.deepEqual(total.errors, {
      status: 1,
      timeout: 1,
      refused: 1,
      reset: 0,
      'bad-response': 0,
      'stream-error': 0,
      'stream-cut': 0,
      'stream-empty': 0,
      other: 0,
    });
    assert.equal(total.latency.totalCount, 3, 'refused has no latency; the timeout does');
    assert.equal(statsFor(r, { stage: 1 }).requests, 2);
    assert.equal(statsFor(r, { endpoint: 1 }).failures, 2);
    assert.equal(statsFor(r, { stage: 0, endpoint: 1 }).errors.status, 1);
    assert.ok(Math.abs(meanMs(total)! - (5 + 7 + 1000) / 3) < 1e-9, 'the mean is exact');
    assert.equal(mergeStats([]).requests, 0);
  });

  it('groups failures and keeps the first bytes of failing bodies', () => {
    const r = constructedResult();
    assert.equal(r.failures[0]!.error, 'connect ECONNREFUSED');
    assert.equal(r.failures[0]!.count, 2);
    assert.equal(r.failures[0]!.firstSeenMs, 2200);
    assert.equal(r.failures[0]!.lastSeenMs, 2300);
    assert.equal(r.failures.find((f) => f.kind === 'status')!.sample, '<html>busy</html>');
  });

  it('writes one timeline point per second, the last one partial, with cumulative totals', () => {
    const r = constructedResult();
    assert.deepEqual(
      r.timeline.map((p) => p.t),
      [1, 2, 2.6],
    );
    assert.deepEqual(
      r.timeline.map((p) => p.requests),
      [2, 0, 2],
    );
    assert.deepEqual(
      r.timeline.map((p) => p.totalRequests),
      [2, 2, 4],
    );
    assert.equal(r.timeline[2]!.span, 0.6);
    assert.equal(r.timeline[0]!.span, undefined);
    assert.equal(r.timeline[2]!.stage, 1);
    assert.equal(r.timeline[0]!.inFlight, 3);
    assert.equal(r.timeline[0]!.p99, 7);
    assert.deepEqual(
      r.timeline.map((p) => p.maxSendLag),
      [0, 0, 12.5],
      'the lag was recorded in the last second',
    );
  });

  it('serializes to JSON and back without loss, histograms included', () => {
    const r = constructedResult();
    const json = serializeRunResult(r);
    const back = parseRunResult(json);
    assert.equal(serializeRunResult(back), json, 'a second round trip gives the same bytes');
    for (const p of PCTS) assert.equal(percentileMs(statsFor(back).latency, p), percentileMs(statsFor(r).latency, p));
    assert.equal(back.sendLag!.totalCount, 1);
    assert.equal(percentileMs(back.serviceTime!, 50), 4);
    assert.deepEqual(back.timeline, r.timeline);
  });

  it('rejects a result of another format version', () => {
    const json = serializeRunResult(constructedResult()).replace('"formatVersion":1', '"formatVersion":99');
    assert.throws(() => parseRunResult(json), /format version 99/);
  });

  it('progress windows: rates over the seconds closed since the last call, repeated when none closed', () => {
    const rec = new Recorder(1, ['a'], { stageAt: () => 0, inFlight: () => 0 }, { sendLag: false });
    for (let t = 100; t < 1000; t += 100) rec.response(0, 0, t, 2000, 10, true);
    assert.deepEqual(rec.takeWindow(), { rps: 0, p95: null, totalRequests: 0, totalFailures: 0 }, 'nothing closed yet');
    rec.advance(1000);
    const w = rec.takeWindow();
    assert.equal(w.rps, 9);
    assert.ok(Math.abs(w.p95! - 2) < 0.01);
    rec.response(0, 0, 1200, 4000, 10, false);
    assert.deepEqual(
      rec.takeWindow(),
      { rps: 9, p95: w.p95, totalRequests: 9, totalFailures: 0 },
      'no new whole second: the last figures again',
    );
    rec.advance(2000);
    assert.deepEqual(rec.takeWindow(), { rps: 1, p95: 4, totalRequests: 10, totalFailures: 1 });
  });
});
