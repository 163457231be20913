// The merge (src/metrics/merge.ts) is exact: shards' results built through the real Recorder, merged,
// equal one Recorder fed every sample (histograms bucket for bucket, counts, failures, the timeline's
// per-second percentiles and histograms), before and after a trip through result.json; the per-second
// percentiles equal those of histograms merged by hand. The compact per-second histogram form round-trips
// exactly. Results without per-second histograms (older loadgate) still merge, their percentiles marked
// estimated. Results of different plans, or one shard twice, are refused; merging one result gives it back.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addEncodedCounts,
  encodeCounts,
  mergeHistograms,
  newHistogram,
  percentileMs,
  recordUs,
  serializeHistogram,
} from '../src/metrics/histogram.ts';
import { ESTIMATED_TIMELINE_FIELDS, MergeError, ROUNDED_TIMELINE_FIELDS, mergeResults } from '../src/metrics/merge.ts';
import { Recorder } from '../src/metrics/recorder.ts';
import {
  type ErrorKind,
  RESULT_FORMAT_VERSION,
  type RunResult,
  parseRunResult,
  serializeRunResult,
  statsFor,
} from '../src/metrics/result.ts';
import { shareOf } from '../src/plan/shard.ts';
import { mulberry32 } from '../src/payload/random.ts';

const SEGMENTS = [
  { index: 0, stage: 0, startMs: 0, endMs: 1500, warmup: true },
  { index: 1, stage: 0, startMs: 1500, endMs: 3000, warmup: false },
  { index: 2, stage: 1, startMs: 3000, endMs: 6000, warmup: false },
];
const ENDPOINTS = ['predict', 'health', 'predict (invalid)'];
const USERS = 9;
const END_MS = 5730;

interface Sample {
  atMs: number;
  endpoint: number;
  latencyUs: number;
  outcome: 'ok' | 'status' | 'timeout' | 'refused';
  lagMs: number;
}

function samples(seed: number, count: number): Sample[] {
  const rand = mulberry32(seed);
  const out: Sample[] = Array.from({ length: count }, () => {
    const x = rand();
    return {
      atMs: Math.floor(rand() * END_MS * 10) / 10,
      endpoint: Math.floor(rand() * 3),
      // Integer µs with a long tail: 0.2 ms to ~2 s.
      latencyUs: 200 + Math.floor(Math.exp(rand() * 14.5)),
      outcome: x < 0.85 ? 'ok' : x < 0.93 ? 'status' : x < 0.97 ? 'timeout' : 'refused',
      lagMs: Math.floor(rand() * 3000) / 1000,
    };
  });
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** A RunResult as the engine snapshots one, from a Recorder fed `feed` (in time order). */
function recorded(feed: readonly Sample[], shard: { index: number; count: number }, fingerprint = 'f00d'): RunResult {
  const segAt = (ms: number) => SEGMENTS.findIndex((s) => ms < s.endMs);
  const rec = new Recorder(
    SEGMENTS.length,
    ENDPOINTS,
    { stageAt: (ms) => (ms < 3000 ? 0 : 1), usersAt: () => shareOf(USERS, shard.index, shard.count), inFlight: () => shard.index },
    {
      sendLag: true,
      invalid: [false, false, true],
    },
  );
  for (const s of feed) {
    const seg = segAt(s.atMs);
    rec.lag(s.lagMs);
    if (s.outcome === 'ok' || s.outcome === 'status') {
      rec.response(s.endpoint, seg, s.atMs, s.latencyUs, 100, s.outcome === 'ok');
      rec.service(s.latencyUs);
      if (s.outcome === 'status') rec.failure(s.endpoint, 'status', 'HTTP 503', s.atMs, 'busy');
    } else {
      const kind: ErrorKind = s.outcome;
      rec.transportError(s.endpoint, seg, s.atMs, kind, kind === 'timeout' ? s.latencyUs : null);
      rec.failure(s.endpoint, kind, kind === 'timeout' ? 'timeout after 2000 ms' : 'connect ECONNREFUSED', s.atMs);
    }
  }
  rec.finish(END_MS);
  return {
    formatVersion: RESULT_FORMAT_VERSION,
    tool: { name: 'loadgate', version: 'test' },
    startedAt: new Date(Date.UTC(2026, 10, 30, 12, 0, 0) + shard.index * 7).toISOString(),
    durationMs: END_MS,
    status: 'completed',
    target: { baseUrl: 'http://127.0.0.1:9' },
    load: { model: 'closed', perUserRate: 0 },
    timeoutMs: 2000,
    seed: 1 + shard.index,
    stages: [
      { index: 0, name: 'ramp', startMs: 0, endMs: 3000, users: shareOf(USERS, shard.index, shard.count), spawnRate: 3 / shard.count },
      { index: 1, name: 'hold', startMs: 3000, endMs: 6000, users: shareOf(USERS, shard.index, shard.count), spawnRate: 3 / shard.count },
    ],
    warmupMs: 1500,
    segments: SEGMENTS,
    endpoints: ENDPOINTS.map((name, k) => ({ name, method: 'POST', path: `/${k}`, ...(k === 2 ? { role: 'invalid' as const } : {}) })),
    cells: rec.cells,
    failures: rec.failures,
    failuresNotItemized: rec.failuresNotItemized,
    timeline: rec.timeline,
    unsent: shard.index,
    delayedByCap: 2 * shard.index,
    ...(rec.sendLag ? { sendLag: rec.sendLag } : {}),
    ...(rec.serviceTime ? { serviceTime: rec.serviceTime } : {}),
    generatorCpu: 0.1 * (shard.index + 1),
    plan: { fingerprint, slos: [], ...(shard.count > 1 ? { shard } : {}) },
  };
}

/** Shards and the whole from the same samples: sample k on shard `pick(k)`. */
function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function split(seed: number, n: number, pick: (k: number, rand: () => number) => number): { whole: RunResult; shards: RunResult[] } {
  const all = samples(seed, 1500 + (seed % 7) * 100);
  const rand = mulberry32(seed ^ 0xabc);
  const owner = all.map((_, k) => pick(k, rand));
  const whole = recorded(all, { index: 0, count: 1 });
  const shards = Array.from({ length: n }, (_, i) =>
    recorded(
      all.filter((_, k) => owner[k] === i),
      { index: i, count: n },
    ),
  );
  return { whole, shards };
}

const hist = (h: RunResult['sendLag']) => (h ? serializeHistogram(h) : undefined);

function assertSameMeasurements(merged: RunResult, whole: RunResult, what: string): void {
  for (const [s, row] of merged.cells.entries()) {
    for (const [e, cell] of row.entries()) {
      const w = whole.cells[s]![e]!;
      const at = `${what}: cell [${s}][${e}]`;
      assert.deepEqual(serializeHistogram(cell.latency), serializeHistogram(w.latency), `${at} histogram`);
      assert.deepEqual({ ...cell, latency: null }, { ...w, latency: null }, at);
    }
  }
  assert.deepEqual(hist(merged.sendLag), hist(whole.sendLag), `${what}: send lag`);
  assert.deepEqual(hist(merged.serviceTime), hist(whole.serviceTime), `${what}: service time`);
  const key = (f: RunResult['failures'][number]) => `${f.endpoint} ${f.kind} ${f.error}`;
  const sorted = (fs: RunResult['failures']) => [...fs].sort((a, b) => key(a).localeCompare(key(b)));
  assert.deepEqual(sorted(merged.failures), sorted(whole.failures), `${what}: failures`);
  for (const p of [50, 90, 99, 99.9]) {
    assert.equal(
      percentileMs(statsFor(merged, { excludeWarmup: true }).latency, p),
      percentileMs(statsFor(whole, { excludeWarmup: true }).latency, p),
    );
  }
  const exact = (tl: RunResult['timeline']) =>
    tl.map(({ t, span, stage, users, requests, failures, p50, p95, p99, max, histogram, totalRequests, totalFailures, totalP50 }) => ({
      t,
      span,
      stage,
      users,
      requests,
      failures,
      p50,
      p95,
      p99,
      max,
      histogram,
      totalRequests,
      totalFailures,
      totalP50,
    }));
  assert.deepEqual(exact(merged.timeline), exact(whole.timeline), `${what}: timeline`);
  // The running mean is the shards' rounded ones, weighted: within their rounding (1 µs).
  merged.timeline.forEach((p, k) => {
    const w = whole.timeline[k]!.totalMean;
    if (p.totalMean === null || w === null) assert.equal(p.totalMean, w);
    else assert.ok(Math.abs(p.totalMean - w) <= 0.001 + 1e-9, `${what}: totalMean ${p.totalMean} vs ${w} at ${p.t}`);
  });
}

/** Each second's latencies as hdr histograms built by hand from the samples (not through the recorder). */
function secondsByHand(feed: readonly Sample[]): Map<number, ReturnType<typeof newHistogram>> {
  const out = new Map<number, ReturnType<typeof newHistogram>>();
  for (const s of feed) {
    if (s.endpoint === 2 || s.outcome === 'refused') continue; // invalid requests stay apart; refused have no latency
    const k = Math.floor(s.atMs / 1000);
    if (!out.has(k)) out.set(k, newHistogram());
    recordUs(out.get(k)!, s.latencyUs);
  }
  return out;
}

describe('merging shards is exact', () => {
  it('N shards through the real Recorder merge into what one Recorder fed every sample records', () => {
    for (let seed = 1; seed <= 12; seed++) {
      for (const n of [2, 3, 5, 8]) {
        // Samples dealt at random, and round-robin as the open model deals arrivals.
        for (const pick of [(_k: number, rand: () => number) => Math.floor(rand() * n), (k: number) => k % n]) {
          const { whole, shards } = split(seed, n, pick);
          const merged = mergeResults(shards.reverse());
          assertSameMeasurements(merged, whole, `seed ${seed}, ${n} shards`);
          assert.deepEqual(
            merged.stages.map((s) => [s.users, s.spawnRate]),
            [
              [USERS, 3],
              [USERS, 3],
            ],
          );
          assert.equal(merged.unsent, (n * (n - 1)) / 2);
          assert.equal(merged.generatorCpu, Math.max(...shards.map((r) => r.generatorCpu)), 'the busiest generator');
          assert.deepEqual(
            merged.plan?.shards?.map((s) => [s.index, s.count, s.startOffsetMs]),
            [...Array(n).keys()].map((i) => [i, n, 7 * i]),
          );
          assert.deepEqual(merged.plan?.estimated, [...ROUNDED_TIMELINE_FIELDS], 'per-second percentiles are exact');
          // In flight at the end of each second: the shards' add up (each shard's probe says its index here).
          for (const p of merged.timeline) assert.equal(p.inFlight, (n * (n - 1)) / 2);
        }
      }
    }
  });

  it('is as exact after a trip through result.json', () => {
    const { whole, shards } = split(42, 4, (k) => k % 4);
    const viaJson = mergeResults(shards.map((r) => parseRunResult(serializeRunResult(r))));
    assertSameMeasurements(viaJson, whole, 'from JSON');
    assert.equal(serializeRunResult(viaJson), serializeRunResult(mergeResults(shards)));
  });

  it('merging one result gives it back', () => {
    const { whole } = split(5, 1, () => 0);
    const merged = mergeResults([whole], ['only']);
    const { plan, ...rest } = merged;
    const { plan: wholePlan, ...wholeRest } = whole;
    assert.deepEqual(JSON.parse(serializeRunResult(rest as RunResult)), JSON.parse(serializeRunResult(wholeRest as RunResult)));
    assert.equal(plan?.fingerprint, wholePlan?.fingerprint);
    assert.equal(plan?.estimated, undefined, 'one result: nothing estimated');
  });

  it("what each endpoint sent: the shards' parts of the body list add up", () => {
    const { shards } = split(8, 2, (k) => k % 2);
    const sent = (count: number, meanBytes: number) => [
      { endpoint: 'predict', kind: 'generated' as const, source: 'schema', count, seed: 1, meanBytes, example: '{}' },
    ];
    const merged = mergeResults([
      { ...shards[0]!, requestBodies: sent(12, 100) },
      { ...shards[1]!, requestBodies: sent(11, 110) },
    ]);
    assert.deepEqual(merged.requestBodies, [{ ...sent(23, (12 * 100 + 11 * 110) / 23)[0]! }]);
  });

  it("each second's percentiles are those of the shards' histograms for that second merged by hand", () => {
    for (const n of [2, 4]) {
      const all = samples(900 + n, 3000);
      const feeds = Array.from({ length: n }, (_, i) => all.filter((_, k) => k % n === i));
      const shards = feeds.map((f, i) => recorded(f, { index: i, count: n }));
      const merged = mergeResults(shards);
      const byHand = feeds.map(secondsByHand);
      let checked = 0;
      for (const p of merged.timeline) {
        const k = Math.ceil(p.t - 1e-9) - 1;
        const hs = byHand.flatMap((m) => (m.has(k) ? [m.get(k)!] : []));
        const h = mergeHistograms(hs);
        for (const [q, got] of [
          [50, p.p50],
          [95, p.p95],
          [99, p.p99],
        ] as const)
          assert.equal(got, percentileMs(h, q), `${n} shards, second ${k + 1}, p${q}`);
        assert.equal(p.max, h.totalCount === 0 ? null : h.maxValue / 1000);
        checked++;
      }
      assert.ok(checked >= 5);
    }
  });

  it('lines the shards up by their start: a shard that started 3 s after the others fills seconds 4, 5, ...', () => {
    const { shards } = split(21, 2, (k) => k % 2);
    const late = { ...shards[1]!, startedAt: new Date(Date.parse(shards[0]!.startedAt) + 3000).toISOString() };
    const merged = mergeResults([shards[0]!, late]);
    assert.equal(merged.plan?.shards?.[1]?.shiftS, 3);
    const at = (t: number) => merged.timeline.find((p) => Math.ceil(p.t - 1e-9) === t);
    // Second 1 has only shard 1's requests; second 4 has shard 1's fourth and shard 2's first.
    assert.equal(at(1)!.requests, shards[0]!.timeline[0]!.requests);
    assert.equal(at(4)!.requests, (shards[0]!.timeline[3]?.requests ?? 0) + shards[1]!.timeline[0]!.requests);
    assert.equal(merged.timeline.at(-1)!.totalRequests, sum(shards.map((r) => r.timeline.at(-1)!.totalRequests)));
  });

  it('results without per-second histograms (older loadgate) still merge; their percentiles are estimates, between the shards', () => {
    const { shards } = split(77, 3, (k) => k % 3);
    const old = shards.map((r) => ({ ...r, timeline: r.timeline.map(({ histogram: _h, ...p }) => p) }));
    const merged = mergeResults([shards[0]!, old[1]!, old[2]!]);
    assert.deepEqual(merged.plan?.estimated, [...ESTIMATED_TIMELINE_FIELDS]);
    assert.ok(
      merged.timeline.every((p) => p.histogram === undefined),
      'no histogram is made up',
    );
    merged.timeline.forEach((p, k) => {
      const own = shards.map((s) => s.timeline[k]?.p95).filter((v): v is number => typeof v === 'number');
      if (p.p95 !== null && own.length > 0) assert.ok(p.p95 >= Math.min(...own) - 1e-3 && p.p95 <= Math.max(...own) + 1e-3);
    });
  });
});

describe("a second's histogram in its compact form", () => {
  it('round-trips every bucket count, from one value to millions in a bucket, 1 µs to an hour', () => {
    const rand = mulberry32(5);
    for (let round = 0; round < 200; round++) {
      const h = newHistogram();
      const values = 1 + Math.floor(rand() * 2000);
      for (let k = 0; k < values; k++) {
        const us = rand() < 0.01 ? 3_600_000_000 * rand() : Math.exp(rand() * 16);
        h.recordValueWithCount(Math.max(1, Math.round(us)), rand() < 0.05 ? 1 + Math.floor(rand() * 5_000_000) : 1);
      }
      const back = newHistogram();
      assert.equal(addEncodedCounts(back, encodeCounts(h)), h.totalCount);
      assert.deepEqual(serializeHistogram(back).counts, serializeHistogram(h).counts);
    }
    assert.equal(encodeCounts(newHistogram()), '');
  });

  it('is about a third of the [delta, count] JSON pairs for a realistic second', () => {
    const rand = mulberry32(9);
    const h = newHistogram();
    for (let k = 0; k < 500; k++) recordUs(h, 20_000 + 8_000 * -Math.log(1 - rand()));
    const compact = encodeCounts(h).length;
    const pairs = JSON.stringify(serializeHistogram(h).counts).length;
    assert.ok(compact < pairs / 2, `${compact} characters vs ${pairs}`);
  });
});

describe('what a merge refuses', () => {
  const { shards } = split(3, 3, (k) => k % 3);

  it('shards of different plans, naming them', () => {
    const other = { ...shards[2]!, plan: { ...shards[2]!.plan!, fingerprint: 'beef' } };
    assert.throws(
      () => mergeResults([shards[0]!, shards[1]!, other], ['a', 'b', 'c']),
      (e: Error) => e instanceof MergeError && /different plans.*a, b \(plan f00d\) and c \(plan beef\)/.test(e.message),
    );
  });

  it('the same shard twice, a different split, a result without a fingerprint', () => {
    assert.throws(() => mergeResults([shards[0]!, shards[1]!, shards[1]!], ['a', 'b', 'c']), /shard 2\/3 is given twice: b and c/);
    const quarter = { ...shards[1]!, plan: { ...shards[1]!.plan!, shard: { index: 1, count: 4 } } };
    assert.throws(() => mergeResults([shards[0]!, quarter], ['a', 'b']), /split the plan differently: a is 1\/3, b is 2\/4/);
    const { plan: _p, ...old } = shards[0]!;
    assert.throws(() => mergeResults([old as RunResult, shards[1]!], ['old', 'b']), /old: no plan fingerprint/);
  });

  it('a failed shard makes the merged run as failed as the worst, and says which', () => {
    const broken: RunResult = { ...shards[1]!, status: 'interrupted', reason: 'interrupted by SIGTERM' };
    const merged = mergeResults([shards[0]!, broken, shards[2]!]);
    assert.equal(merged.status, 'interrupted');
    assert.equal(merged.reason, 'shard 2/3: interrupted by SIGTERM');
    assert.equal(merged.plan?.shards?.[1]?.status, 'interrupted');
  });
});
