// Stream metrics as the recorder keeps them (src/metrics/recorder.ts, stream-stats.ts): TTFT, every ITL
// gap, TPOT and E2E in histograms with exact sums, output in tokens or chunks apart, the buffering rule,
// per-request objectives (goodput), the per-second timeline, and that all of it survives result.json and
// merges exactly across shards (src/metrics/merge.ts). The recorder is fed StreamSamples here, as the
// HTTP clients' StreamAccumulator hands them over; test/stream-client.test.ts measures real sockets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentileMs, serializeHistogram } from '../src/metrics/histogram.ts';
import { ESTIMATED_STREAM_TIMELINE_FIELDS, ROUNDED_TIMELINE_FIELDS, mergeResults } from '../src/metrics/merge.ts';
import { Recorder } from '../src/metrics/recorder.ts';
import { RESULT_FORMAT_VERSION, type RunResult, type Stats, parseRunResult, serializeRunResult, statsFor } from '../src/metrics/result.ts';
import type { StreamSample, StreamStats } from '../src/metrics/stream-stats.ts';
import { mulberry32 } from '../src/payload/random.ts';
import type { RequestObjectiveSet } from '../src/plan/types.ts';

/** A streamed answer: first token at `ttft` ms, then `gaps`, [DONE] at `e2e`; usage when `tokens` is given. */
function answer(ttft: number, gaps: number[], e2e: number, tokens?: number, promptTokens = -1): StreamSample {
  const output = tokens ?? gaps.length + 1;
  return {
    nonStreaming: false,
    ttft,
    e2e,
    itl: gaps,
    tpot: output >= 2 ? (e2e - ttft) / (output - 1) : NaN,
    output,
    outputUnit: tokens === undefined ? 'chunks' : 'tokens',
    promptTokens,
  };
}

const jsonAnswer = (ms: number, tokens: number): StreamSample => ({
  nonStreaming: true,
  ttft: ms,
  e2e: ms,
  itl: [],
  tpot: NaN,
  output: tokens,
  outputUnit: 'tokens',
  promptTokens: 7,
});

const probe = { stageAt: () => 0, inFlight: () => 0 };

function recorder(sets: RequestObjectiveSet[] = [], stream = [true, false]): Recorder {
  return new Recorder(2, ['chat', 'health'], probe, { sendLag: false, stream, requestObjectives: sets });
}

const set = (id: string, ...objectives: RequestObjectiveSet['objectives']): RequestObjectiveSet => ({ id, objectives });

describe('stream metrics in the recorder', () => {
  it('keeps TTFT, every ITL gap, TPOT and E2E with exact sums, and output in tokens or chunks apart', () => {
    const rec = recorder();
    // Latency is the whole response, as always; E2E equals it for a stream.
    rec.response(0, 0, 10, 500_000, 900, true, 'status', answer(100, [20, 30, 50], 200, 8, 12));
    rec.response(0, 0, 20, 300_000, 900, true, 'status', answer(150.0004, [25.5, 24.5], 300));
    rec.response(0, 1, 30, 80_000, 900, true, 'status', answer(80, [], 80));
    const s = statsFor({ cells: rec.cells, segments: [{ stage: 0 }, { stage: 1 }], endpoints: [{}, {}] } as unknown as RunResult);
    const st = s.stream!;
    assert.equal(st.streams, 3);
    assert.equal(st.ttft.totalCount, 3);
    assert.equal(st.ttftSumUs, 100_000 + 150_000 + 80_000, 'sums of whole µs');
    assert.equal(st.itl.totalCount, 5, 'every gap');
    assert.equal(st.itlSumUs, 20_000 + 30_000 + 50_000 + 25_500 + 24_500);
    assert.equal(percentileMs(st.itl, 100), 50);
    // TPOT: (200 - 100) / 7 for the first (8 tokens by usage), (300 - 150) / 2 for the second (3 chunks); none for one unit.
    assert.equal(st.tpot.totalCount, 2);
    assert.equal(st.tpotSumUs, Math.round(100_000 / 7) + 75_000);
    assert.equal(st.e2eSumUs, 200_000 + 300_000 + 80_000);
    assert.deepEqual([st.outputTokens.totalCount, st.outputTokensSum], [1, 8]);
    assert.deepEqual([st.outputChunks.totalCount, st.outputChunksSum], [2, 4]);
    assert.deepEqual([st.inputTokensSum, st.inputTokensAnswers], [12, 1]);
    assert.equal(s.latency.totalCount, 3);
    assert.equal(rec.cells[0]![1]!.stream, undefined, 'an endpoint that does not stream keeps no stream stats');
  });

  it('counts JSON answers and buffered streams; failures add nothing to the stream histograms', () => {
    const rec = recorder();
    rec.response(0, 0, 1, 1000, 1, true, 'status', jsonAnswer(400, 20));
    rec.response(0, 0, 2, 1000, 1, true, 'status', answer(390, [1, 1, 1], 400)); // 4 chunks, first at 97.5% of E2E
    rec.response(0, 0, 3, 1000, 1, true, 'status', answer(359, [1, 1, 1], 400)); // 89.75%: streamed
    rec.response(0, 0, 4, 1000, 1, true, 'status', answer(399, [1, 1], 400)); // 3 chunks: too short to tell
    rec.response(0, 0, 5, 1000, 1, false, 'stream-cut');
    rec.transportError(0, 0, 6, 'timeout', 5000);
    const st = rec.cells[0]![0]!.stream!;
    assert.equal(st.streams, 4);
    assert.equal(st.nonStreaming, 1);
    assert.equal(st.buffered, 1);
    assert.equal(st.ttft.totalCount, 4, 'a JSON answer has a TTFT (= E2E)');
    assert.equal(st.tpot.totalCount, 3, 'and no TPOT');
    assert.equal(rec.cells[0]![0]!.errors['stream-cut'], 1);
    // A cell of a stream endpoint where every request failed still says "no stream completed".
    const only = recorder();
    only.transportError(0, 1, 1, 'refused', null);
    assert.equal(only.cells[1]![0]!.stream?.streams, 0);
    assert.equal(only.cells[0]![0]!.stream, undefined, 'a cell nothing ended in stays empty');
  });

  it('goodput: a successful request counts for each set it met entirely, a metric it lacks counting as met', () => {
    const sets = [
      set('ttft < 300ms', { metric: 'ttft', belowMs: 300, inclusive: false }),
      set('ttft <= 100ms', { metric: 'ttft', belowMs: 100, inclusive: true }),
      set('ttft < 100ms', { metric: 'ttft', belowMs: 100, inclusive: false }),
      set('itl < 40ms', { metric: 'itl', belowMs: 40, inclusive: false }),
      set('tpot < 30ms, e2e < 500ms', { metric: 'tpot', belowMs: 30, inclusive: false }, { metric: 'e2e', belowMs: 500, inclusive: false }),
      set('latency < 250ms', { metric: 'latency', belowMs: 250, inclusive: false }),
    ];
    const rec = recorder(sets);
    for (const row of rec.cells) for (const cell of row) assert.deepEqual(Object.values(cell.good!), [0, 0, 0, 0, 0, 0]);
    // TTFT exactly 100, largest gap 50, TPOT 25, E2E 200, latency 200.
    rec.response(0, 0, 1, 200_000, 1, true, 'status', answer(100, [10, 50, 15], 200, 5));
    // One token: no ITL and no TPOT, both met; latency 300.
    rec.response(0, 0, 2, 300_000, 1, true, 'status', answer(90, [], 300, 1));
    // A JSON answer: TTFT = E2E = 450, no TPOT.
    rec.response(0, 0, 3, 450_000, 1, true, 'status', jsonAnswer(450, 30));
    // Failures count for none, however fast.
    rec.response(0, 0, 4, 1_000, 1, false, 'stream-error');
    rec.response(0, 0, 5, 1_000, 1, false, 'status');
    // An endpoint that does not stream is judged by its latency alone.
    rec.response(1, 0, 6, 100_000, 1, true);
    assert.deepEqual(rec.cells[0]![0]!.good, {
      'ttft < 300ms': 2,
      'ttft <= 100ms': 2,
      'ttft < 100ms': 1,
      'itl < 40ms': 2,
      'tpot < 30ms, e2e < 500ms': 3,
      'latency < 250ms': 1,
    });
    assert.deepEqual(Object.values(rec.cells[0]![1]!.good!), [1, 1, 1, 1, 1, 1]);
    assert.deepEqual(Object.values(rec.cells[1]![0]!.good!), [0, 0, 0, 0, 0, 0], 'every cell has every set');
    assert.equal(recorder().cells[0]![0]!.good, undefined, 'no sets, no counts');
  });

  it('per second: TTFT and ITL percentiles, answers, and output in tokens and chunks apart', () => {
    const rec = recorder();
    rec.response(0, 0, 100, 1, 1, true, 'status', answer(100, [20, 40], 200, 9));
    rec.response(0, 0, 600, 1, 1, true, 'status', answer(300, [30], 400));
    rec.response(1, 0, 700, 1, 1, true);
    rec.response(0, 0, 2500, 1, 1, true, 'status', answer(50, [10], 70, 2));
    rec.finish(2600);
    // HDR answers with the top of the value's bucket (0.1%): whole ms here.
    const ms = (x: number | null | undefined) => (typeof x === 'number' ? Math.round(x) : x);
    const [a, b, c] = rec.timeline;
    assert.deepEqual(
      [ms(a!.ttftP50), ms(a!.ttftP99), ms(a!.itlP50), ms(a!.itlP99), a!.streams, a!.outputTokens, a!.outputChunks],
      [100, 300, 30, 40, 2, 9, 2],
    );
    assert.deepEqual([b!.ttftP50, b!.itlP99, b!.streams, b!.outputTokens, b!.outputChunks], [null, null, 0, 0, 0]);
    assert.deepEqual([ms(c!.ttftP50), ms(c!.itlP50), c!.streams, c!.outputTokens], [50, 10, 1, 2]);
    const plain = new Recorder(1, ['x'], probe, { sendLag: false });
    plain.response(0, 0, 100, 1, 1, true);
    plain.finish(1000);
    assert.equal('ttftP50' in plain.timeline[0]!, false, 'a run without streams has no stream fields');
  });
});

// ---- result.json and shards ----

const SEGMENTS = [
  { index: 0, stage: 0, startMs: 0, endMs: 2000, warmup: false },
  { index: 1, stage: 1, startMs: 2000, endMs: 4000, warmup: false },
];
const SETS = [
  set('ttft < 300ms, tpot < 40ms', { metric: 'ttft', belowMs: 300, inclusive: false }, { metric: 'tpot', belowMs: 40, inclusive: false }),
  set('itl <= 60ms', { metric: 'itl', belowMs: 60, inclusive: true }),
];

interface Sample {
  atMs: number;
  endpoint: number;
  ok: boolean;
  latencyUs: number;
  stream?: StreamSample;
}

/** Random answers (fractional ms, as performance.now() gives) on a stream endpoint and a plain one. */
function samples(seed: number, n: number): Sample[] {
  const rand = mulberry32(seed);
  const out: Sample[] = [];
  for (let k = 0; k < n; k++) {
    const atMs = rand() * 3900;
    const endpoint = rand() < 0.8 ? 0 : 1;
    const ok = rand() < 0.93;
    if (endpoint === 1 || !ok) {
      out.push({ atMs, endpoint, ok, latencyUs: Math.floor(rand() * 1e5) });
      continue;
    }
    const ttft = 50 + rand() * 400;
    const gaps = Array.from({ length: Math.floor(rand() * 30) }, () => 5 + rand() * 80);
    const e2e = ttft + gaps.reduce((a, b) => a + b, 0) + rand() * 3;
    const stream =
      rand() < 0.05 ? jsonAnswer(e2e, 10) : answer(ttft, gaps, e2e, rand() < 0.5 ? gaps.length + 1 : undefined, rand() < 0.5 ? 20 : -1);
    out.push({ atMs, endpoint, ok, latencyUs: Math.floor(e2e * 1000), stream });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

function recorded(feed: readonly Sample[], shard: { index: number; count: number }): RunResult {
  const rec = new Recorder(
    SEGMENTS.length,
    ['chat', 'health'],
    { stageAt: (ms) => (ms < 2000 ? 0 : 1), inFlight: () => 0 },
    {
      sendLag: false,
      stream: [true, false],
      requestObjectives: SETS,
    },
  );
  for (const s of feed) {
    const seg = s.atMs < 2000 ? 0 : 1;
    if (s.ok) rec.response(s.endpoint, seg, s.atMs, s.latencyUs, 100, true, 'status', s.stream);
    else {
      rec.response(s.endpoint, seg, s.atMs, s.latencyUs, 100, false, 'stream-cut');
      rec.failure(s.endpoint, 'stream-cut', 'the stream ended before data: [DONE]', s.atMs);
    }
  }
  rec.finish(4000);
  return {
    formatVersion: RESULT_FORMAT_VERSION,
    tool: { name: 'loadgate', version: 'test' },
    startedAt: new Date(Date.UTC(2026, 10, 30, 12, 0, 0)).toISOString(),
    durationMs: 4000,
    status: 'completed',
    target: { baseUrl: 'http://127.0.0.1:9' },
    load: { model: 'closed', perUserRate: 0 },
    timeoutMs: 2000,
    seed: 1,
    stages: [
      { index: 0, name: 'a', startMs: 0, endMs: 2000, users: 1, spawnRate: 1 },
      { index: 1, name: 'b', startMs: 2000, endMs: 4000, users: 1, spawnRate: 1 },
    ],
    warmupMs: 0,
    segments: SEGMENTS,
    endpoints: [
      { name: 'chat', method: 'POST', path: '/v1/chat/completions' },
      { name: 'health', method: 'GET', path: '/health' },
    ],
    cells: rec.cells,
    failures: rec.failures,
    failuresNotItemized: 0,
    timeline: rec.timeline,
    unsent: 0,
    delayedByCap: 0,
    generatorCpu: 0.1,
    plan: { fingerprint: 'cafe', slos: [], ...(shard.count > 1 ? { shard } : {}) },
  };
}

const HISTOGRAMS = ['ttft', 'itl', 'tpot', 'e2e', 'outputTokens', 'outputChunks'] as const;

/** A cell's stream stats as plain data: histograms serialized bucket for bucket. */
function plain(s: Stats): unknown {
  const { latency, stream, ...rest } = s;
  return {
    ...rest,
    latency: serializeHistogram(latency),
    stream: stream && {
      ...stream,
      ...Object.fromEntries(HISTOGRAMS.map((h) => [h, serializeHistogram((stream as StreamStats)[h])])),
    },
  };
}

describe('stream metrics in result.json and across shards', () => {
  it('round-trip through result.json without loss', () => {
    const r = recorded(samples(7, 600), { index: 0, count: 1 });
    const json = serializeRunResult(r);
    const back = parseRunResult(json);
    assert.equal(serializeRunResult(back), json, 'a second trip gives the same bytes');
    for (const [s, row] of r.cells.entries())
      for (const [e, cell] of row.entries()) assert.deepEqual(plain(back.cells[s]![e]!), plain(cell));
    const st = statsFor(back).stream!;
    assert.ok(st.streams > 300 && st.itl.totalCount > 3000, `${st.streams} streams, ${st.itl.totalCount} gaps`);
    for (const p of [50, 99]) assert.equal(percentileMs(st.ttft, p), percentileMs(statsFor(r).stream!.ttft, p));
    assert.deepEqual(back.timeline, r.timeline);
    assert.ok(back.timeline.some((p) => (p.outputTokens ?? 0) > 0 && (p.outputChunks ?? 0) > 0));
  });

  it('shards merge exactly into what one recorder fed every answer keeps: histograms, sums, goodput', () => {
    for (const seed of [1, 2, 3]) {
      for (const n of [2, 3]) {
        const all = samples(seed, 500);
        const whole = recorded(all, { index: 0, count: 1 });
        const shards = Array.from({ length: n }, (_, i) =>
          recorded(
            all.filter((_, k) => k % n === i),
            { index: i, count: n },
          ),
        );
        for (const merged of [mergeResults(shards), mergeResults(shards.map((r) => parseRunResult(serializeRunResult(r))))]) {
          for (const [s, row] of whole.cells.entries()) {
            for (const [e, cell] of row.entries())
              assert.deepEqual(plain(merged.cells[s]![e]!), plain(cell), `seed ${seed}, ${n} shards, cell ${s},${e}`);
          }
          assert.deepEqual(statsFor(merged).good, statsFor(whole).good);
          // Per second: answers and output add up, and the TTFT and ITL percentiles come from the summed histograms.
          const perSecond = (r: RunResult) =>
            r.timeline.map((p) => [
              p.t,
              p.streams,
              p.outputTokens,
              p.outputChunks,
              p.ttftP50,
              p.ttftP99,
              p.itlP50,
              p.itlP99,
              p.ttftHistogram,
              p.ttftMax,
              p.itlHistogram,
              p.itlMax,
            ]);
          assert.deepEqual(perSecond(merged), perSecond(whole));
          assert.deepEqual(merged.plan?.estimated, [...ROUNDED_TIMELINE_FIELDS], 'nothing of the streams estimated');
        }
      }
    }
  });

  it('results without per-second stream histograms still merge: percentiles weighted, and named estimates', () => {
    const all = samples(11, 500);
    const shards = [0, 1].map((i) =>
      recorded(
        all.filter((_, k) => k % 2 === i),
        { index: i, count: 2 },
      ),
    );
    const older = shards.map((r) => ({
      ...r,
      timeline: r.timeline.map(({ ttftHistogram, ttftMax, itlHistogram, itlMax, ...p }) => p),
    }));
    const merged = mergeResults(older);
    assert.deepEqual(merged.plan?.estimated, [...ROUNDED_TIMELINE_FIELDS, ...ESTIMATED_STREAM_TIMELINE_FIELDS]);
    merged.timeline.forEach((p, k) => {
      const own = older.map((r) => r.timeline[k]?.ttftP50).filter((v): v is number => typeof v === 'number');
      if (typeof p.ttftP50 === 'number') assert.ok(p.ttftP50 >= Math.min(...own) - 1e-3 && p.ttftP50 <= Math.max(...own) + 1e-3);
      assert.equal(p.ttftHistogram, undefined);
    });
    assert.equal(
      merged.timeline.reduce((n, p) => n + (p.streams ?? 0), 0),
      statsFor(merged).stream!.streams,
    );
  });
});
