// Size of result.json for a long run, now that every timeline point carries its second's latency
// histogram (src/metrics/histogram.ts: encodeCounts), and what merging shards of such runs costs.
//
// An hour (or --seconds) of seconds is synthesised through the real Recorder: --rate requests a second
// (default 200, the order of a CI load test of a model service), latencies log-normal around a median of
// 30 ms (sigma 0.35: p99 about 68 ms) with 1% slow requests at 5-10x, the median drifting ±30% over the
// hour as a warming or autoscaling service does. The result is serialised as loadgate writes it, plain
// and gzipped, with and without the per-second histograms, and beside the [index delta, count] JSON
// pairs the histograms would take in serializeHistogram's form. Then --shards copies of it are merged
// (mergeResults) and timed: the merge job's cost for an hour of --shards matrix jobs.
//
//   node bench/result-size.ts [--seconds 3600] [--rate 200] [--shards 4]

import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { addEncodedCounts, newHistogram, serializeHistogram } from '../src/metrics/histogram.ts';
import { mergeResults } from '../src/metrics/merge.ts';
import { Recorder } from '../src/metrics/recorder.ts';
import { RESULT_FORMAT_VERSION, type RunResult, serializeRunResult } from '../src/metrics/result.ts';
import { mulberry32 } from '../src/payload/random.ts';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3600' },
    rate: { type: 'string', default: '200' },
    shards: { type: 'string', default: '4' },
  },
});
const SECONDS = Number(opt.seconds);
const RATE = Number(opt.rate);
const SHARDS = Number(opt.shards);

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** One shard's hour through the real Recorder, as the engine would snapshot it. */
function hour(seed: number, index: number, count: number): { result: RunResult; heapMiB: number } {
  const rand = mulberry32(seed);
  const heap0 = process.memoryUsage().heapUsed;
  const rec = new Recorder(1, ['predict'], { stageAt: () => 0, rateAt: () => RATE / count, inFlight: () => 3 }, { sendLag: true });
  const perSecond = RATE / count;
  for (let s = 0; s < SECONDS; s++) {
    const median = 30_000 * (1 + 0.3 * Math.sin((2 * Math.PI * s) / SECONDS));
    for (let k = 0; k < perSecond; k++) {
      const at = s * 1000 + ((k + index / count) * 1000) / perSecond;
      let us = median * Math.exp(0.35 * normal(rand));
      if (rand() < 0.01) us *= 5 + 5 * rand();
      rec.lag(rand());
      rec.response(0, 0, at, us, 420, rand() > 0.001);
      rec.service(us);
    }
  }
  rec.finish(SECONDS * 1000);
  const heapMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  const result: RunResult = {
    formatVersion: RESULT_FORMAT_VERSION,
    tool: { name: 'loadgate', version: 'bench' },
    startedAt: new Date(Date.UTC(2026, 10, 30, 18) + index * 3).toISOString(),
    durationMs: SECONDS * 1000,
    status: 'completed',
    target: { baseUrl: 'http://127.0.0.1:8000' },
    load: { model: 'open', maxInFlight: 100 },
    timeoutMs: 5000,
    seed,
    stages: [{ index: 0, name: '1', startMs: 0, endMs: SECONDS * 1000, rate: RATE / count }],
    warmupMs: 0,
    segments: [{ index: 0, stage: 0, startMs: 0, endMs: SECONDS * 1000, warmup: false }],
    endpoints: [{ name: 'predict', method: 'POST', path: '/predict' }],
    cells: rec.cells,
    failures: rec.failures,
    failuresNotItemized: 0,
    timeline: rec.timeline,
    unsent: 0,
    delayedByCap: 0,
    ...(rec.sendLag ? { sendLag: rec.sendLag } : {}),
    ...(rec.serviceTime ? { serviceTime: rec.serviceTime } : {}),
    generatorCpu: 0.05,
    plan: { fingerprint: 'bench', slos: [], ...(count > 1 ? { shard: { index, count } } : {}) },
  };
  return { result, heapMiB };
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MB`;

const t0 = performance.now();
const { result: whole, heapMiB } = hour(1, 0, 1);
const recordS = (performance.now() - t0) / 1000;
const json = serializeRunResult(whole);
const without = serializeRunResult({ ...whole, timeline: whole.timeline.map(({ histogram: _h, ...p }) => p) });
// The same seconds in serializeHistogram's [index delta, count] JSON pairs, for comparison.
const asPairs = JSON.stringify(
  whole.timeline.map((p) => {
    const h = newHistogram();
    if (p.histogram) addEncodedCounts(h, p.histogram);
    return serializeHistogram(h).counts;
  }),
);
const histChars = whole.timeline.reduce((t, p) => t + (p.histogram?.length ?? 0), 0);
const buckets = whole.timeline.reduce((t, p) => {
  const h = newHistogram();
  if (p.histogram) addEncodedCounts(h, p.histogram);
  return t + serializeHistogram(h).counts.length / 2;
}, 0);

console.log(`${SECONDS} s at ${RATE} req/s (${SECONDS * RATE} requests), recorded in ${recordS.toFixed(1)} s`);
console.log(`timeline points: ${whole.timeline.length}; non-empty buckets per second: ${(buckets / whole.timeline.length).toFixed(0)}`);
console.log(
  `per-second histograms in the compact form: ${kb(histChars)} (${(histChars / whole.timeline.length).toFixed(0)} characters a second)`,
);
console.log(`the same as [index delta, count] JSON pairs: ${kb(asPairs.length)}`);
console.log(`result.json with them:    ${mb(json.length)} plain, ${mb(gzipSync(json).length)} gzipped`);
console.log(`result.json without them: ${mb(without.length)} plain, ${mb(gzipSync(without).length)} gzipped`);
console.log(`recorder heap growth over the run (timeline included): ${heapMiB.toFixed(1)} MiB`);

// The merge job: SHARDS shards of the same hour at RATE/SHARDS each.
const shards = Array.from({ length: SHARDS }, (_, i) => hour(100 + i, i, SHARDS).result);
const m0 = performance.now();
const merged = mergeResults(shards);
const mergeS = (performance.now() - m0) / 1000;
const mergedJson = serializeRunResult(merged);
console.log(
  `merge of ${SHARDS} shards of ${SECONDS} s: ${mergeS.toFixed(2)} s; merged result.json ${mb(mergedJson.length)} plain, ${mb(gzipSync(mergedJson).length)} gzipped; estimated fields: ${merged.plan?.estimated?.join(', ')}`,
);
// A sanity check that the merged seconds are whole: every request counted.
const counted = merged.timeline.reduce((t, p) => t + p.requests, 0);
if (counted !== SECONDS * RATE) throw new Error(`merged timeline counts ${counted}, expected ${SECONDS * RATE}`);
