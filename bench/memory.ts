// Memory benchmark: one long loadgate run (open model, fixed rate) against the local nginx, its RSS
// sampled from /proc/PID/status (VmRSS) by this parent process, and its V8 heap reported by the
// child itself. Target: RSS at the end within 20% of RSS after 1 minute.
//
//   node bench/memory.ts [--minutes 10] [--rate 2000] [--max-in-flight 100] [--sample-every 5] [--out bench/results]
//   node bench/memory.ts --minutes 1.5      # smoke run

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildArgs, ChildResult } from './loadgate-child.ts';
import {
  BENCH_DIR,
  BODY,
  GENERATOR_CORE,
  LOADGATE_CHILD,
  NODE,
  TARGET_CORE,
  fmt,
  machine,
  pinSelf,
  runTool,
  stamp,
  startNginx,
  table,
} from './lib.ts';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '2000' },
    'max-in-flight': { type: 'string', default: '100' },
    'sample-every': { type: 'string', default: '5' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log('usage: node bench/memory.ts [--minutes 10] [--rate 2000] [--max-in-flight 100] [--sample-every 5] [--out DIR]');
  process.exit(0);
}
const MINUTES = Number(opt.minutes);
const RATE = Number(opt.rate);
const MAX_IN_FLIGHT = Number(opt['max-in-flight']);
const EVERY_S = Number(opt['sample-every']);
if (!(MINUTES >= 1.1) || !(RATE > 0) || !(MAX_IN_FLIGHT > 0) || !(EVERY_S > 0)) {
  throw new Error(
    '--minutes must be at least 1.1 (the reference point is at 1 minute); --rate, --max-in-flight and --sample-every positive',
  );
}
const durationMs = Math.round(MINUTES * 60_000);
const MB = 2 ** 20;

const info = machine();
pinSelf(TARGET_CORE);
const startedAt = new Date().toISOString();
console.log(
  `loadgate memory benchmark: open model ${RATE} req/s for ${MINUTES} min (maxInFlight ${MAX_IN_FLIGHT}), RSS sampled every ${EVERY_S} s`,
);
console.log(
  `machine: ${info.nproc} cores, ${info.cpuModel}, node ${info.node}; loadgate on core ${GENERATOR_CORE}, nginx on core ${TARGET_CORE}`,
);

interface HeapPoint {
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
const heap: HeapPoint[] = [];
const nginx = await startNginx(TARGET_CORE);
let run: Awaited<ReturnType<typeof runTool>>;
let lastPrint = 0;
try {
  const args: ChildArgs = {
    baseUrl: nginx.url,
    model: 'open',
    rate: RATE,
    maxInFlight: MAX_IN_FLIGHT,
    durationMs,
    body: BODY,
    memEveryMs: EVERY_S * 1000,
  };
  run = await runTool([NODE, LOADGATE_CHILD, JSON.stringify(args)], {
    sampleMs: EVERY_S * 1000,
    watch: [nginx.workerPid],
    onStdoutLine(line) {
      const m = JSON.parse(line) as { type: string } & HeapPoint;
      if (m.type !== 'mem') return;
      heap.push({ t: m.t, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
      if (m.t - lastPrint >= 60_000 || heap.length === 1) {
        lastPrint = m.t;
        console.log(
          `  ${fmt(m.t / 1000).padStart(4)} s  rss ${fmt(m.rss / MB, 1)} MB  heap used ${fmt(m.heapUsed / MB, 1)} MB  heap total ${fmt(m.heapTotal / MB, 1)} MB`,
        );
      }
    },
  });
} finally {
  await nginx.stop();
}
if (run.code !== 0) throw new Error(`loadgate child exited with ${run.code}: ${run.stderr.slice(0, 2000)}`);
const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ChildResult;

// The /proc samples are timed from the child's spawn, the heap points from just before runLoad.
const rssSamples = run.samples.map((s) => ({ t: s.t, rss: s.rss }));
const at = <T extends { t: number }>(xs: readonly T[], ms: number): T | undefined =>
  xs.reduce<T | undefined>((best, x) => (!best || Math.abs(x.t - ms) < Math.abs(best.t - ms) ? x : best), undefined);
const lastBefore = <T extends { t: number }>(xs: readonly T[], ms: number): T | undefined => xs.findLast((x) => x.t <= ms);
const rss1 = at(rssSamples, 60_000)!;
const rssEnd = lastBefore(rssSamples, durationMs)!;
const heap1 = at(heap, 60_000);
const heapEnd = lastBefore(heap, durationMs);
const rssMax = Math.max(...rssSamples.map((s) => s.rss));
// Trend after the first minute: least-squares slope of RSS, MB per minute.
const slope = (pts: Array<{ t: number; y: number }>) => {
  const n = pts.length;
  if (n < 2) return NaN;
  const mt = pts.reduce((s, p) => s + p.t, 0) / n;
  const my = pts.reduce((s, p) => s + p.y, 0) / n;
  const num = pts.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0);
  const den = pts.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return num / den;
};
const after1 = rssSamples.filter((s) => s.t >= 60_000 && s.t <= durationMs);
const rssSlopeMBPerMin = slope(after1.map((s) => ({ t: s.t / 60_000, y: s.rss / MB }))) as number;
const heapSlopeMBPerMin = slope(heap.filter((h) => h.t >= 60_000).map((h) => ({ t: h.t / 60_000, y: h.heapUsed / MB })));
const ratio = rssEnd.rss / rss1.rss;
const met = ratio <= 1.2;

console.log(
  `\n== loadgate memory, ${RATE} req/s for ${MINUTES} min: ${fmt(result.requests)} requests, ${result.failures} failures, ${result.unsent} unsent ==`,
);
console.log(
  table(
    ['', 'at 1 min', 'at end', 'end / 1 min', 'max', 'trend after 1 min'],
    [
      [
        'RSS (/proc VmRSS)',
        `${fmt(rss1.rss / MB, 1)} MB`,
        `${fmt(rssEnd.rss / MB, 1)} MB`,
        fmt(ratio, 3),
        `${fmt(rssMax / MB, 1)} MB`,
        `${fmt(rssSlopeMBPerMin, 2)} MB/min`,
      ],
      [
        'V8 heap used',
        heap1 ? `${fmt(heap1.heapUsed / MB, 1)} MB` : '-',
        heapEnd ? `${fmt(heapEnd.heapUsed / MB, 1)} MB` : '-',
        heap1 && heapEnd ? fmt(heapEnd.heapUsed / heap1.heapUsed, 3) : '-',
        `${fmt(Math.max(...heap.map((h) => h.heapUsed)) / MB, 1)} MB`,
        `${fmt(heapSlopeMBPerMin, 2)} MB/min`,
      ],
    ],
  ),
);
console.log(`target (RSS at end within 20% of RSS at 1 min): ${met ? 'MET' : 'MISSED'}`);
console.log(
  `latency p50 ${fmt(result.p50Ms, 3)} ms, p99 ${fmt(result.p99Ms, 3)} ms; generator CPU ${fmt(result.generatorCpu * 100, 1)}% of a core`,
);

mkdirSync(opt.out, { recursive: true });
const file = join(opt.out, `memory-${stamp()}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      benchmark: 'memory',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: info,
      config: {
        minutes: MINUTES,
        rate: RATE,
        maxInFlight: MAX_IN_FLIGHT,
        sampleEveryS: EVERY_S,
        generatorCore: GENERATOR_CORE,
        targetCore: TARGET_CORE,
        body: BODY,
      },
      summary: {
        rssAt1MinBytes: rss1.rss,
        rssAt1MinSampleS: rss1.t / 1000,
        rssAtEndBytes: rssEnd.rss,
        rssAtEndSampleS: rssEnd.t / 1000,
        rssEndOver1Min: ratio,
        rssMaxBytes: rssMax,
        rssSlopeMBPerMinAfter1Min: rssSlopeMBPerMin,
        heapUsedAt1MinBytes: heap1?.heapUsed ?? null,
        heapUsedAtEndBytes: heapEnd?.heapUsed ?? null,
        heapSlopeMBPerMinAfter1Min: heapSlopeMBPerMin,
        maxRssBytesFromTime: run.time?.maxRssBytes ?? null,
        targetMet: met,
      },
      result,
      rssSamples: rssSamples.map((s) => ({ t: Math.round(s.t), rss: s.rss })),
      heapSamples: heap,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nraw results: ${file}`);
