// A paired A/B of loadgate itself: the same load from two checkouts (say main and a branch), one
// after the other against one nginx, pair after pair, the order swapped every pair. It answers "did
// this change make the hot path slower?" more sharply than whole throughput.ts runs on a shared
// machine, where the other tools take most of each run and the host's load moves between them: here
// every run is loadgate, and each after/before ratio is taken from two runs seconds apart.
//
//   node bench/ab.ts --before ../main --after . [--pairs 8] [--duration 5] [--mode both|saturation|fixed] [--rate 2000]
//
// Each checkout runs its own bench/loadgate-child.ts with its own node_modules, under the same
// pinning and the same steady-state window as throughput.ts (saturation: closed model, 10 users, no
// wait; fixed: open model at --rate, maxInFlight 10). The figure is CPU µs per request; a run whose
// generator got under 90% of its core at saturation is marked disturbed. Writes bench/results/ab-*.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildArgs, ChildResult } from './loadgate-child.ts';
import { BENCH_DIR, BODY, TARGET_CORE, fmt, machine, median, pinSelf, runTool, sleep, stamp, startNginx, windowCpu } from './lib.ts';

const { values: opt } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    pairs: { type: 'string', default: '8' },
    duration: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'both' },
    rate: { type: 'string', default: '2000' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});
if (!opt.before || !opt.after || !['both', 'saturation', 'fixed'].includes(opt.mode)) {
  console.error(
    'usage: node bench/ab.ts --before DIR --after DIR [--pairs 8] [--duration 5] [--mode both|saturation|fixed] [--rate 2000] [--out DIR]',
  );
  process.exit(2);
}
const SIDES = { before: resolve(opt.before), after: resolve(opt.after) };
const PAIRS = Number(opt.pairs);
const D = Number(opt.duration);
const RATE = Number(opt.rate);
if (!(PAIRS > 0 && D >= 4 && RATE > 0)) throw new Error('--pairs must be positive, --duration at least 4 s (the window skips start-up)');
const MODES = opt.mode === 'both' ? (['saturation', 'fixed'] as const) : ([opt.mode] as const);
type Side = keyof typeof SIDES;
type Mode = (typeof MODES)[number];

interface Run {
  mode: Mode;
  pair: number;
  side: Side;
  rps: number;
  generatorCpu: number | null;
  cpuUsPerRequest: number | null;
  /** process.cpuUsage() around runLoad, per request: the whole load, measured in µs rather than clock ticks. */
  inProcessCpuUsPerRequest: number;
  /** Voluntary context switches per request: how often the event loop slept and woke. */
  wakeupsPerRequest: number | null;
  disturbed: boolean;
}

async function runSide(side: Side, mode: Mode, url: string, workerPid: number, pair: number): Promise<Run> {
  const dir = SIDES[side];
  const args: ChildArgs =
    mode === 'saturation'
      ? { baseUrl: url, model: 'closed', users: 10, durationMs: D * 1000, body: BODY }
      : { baseUrl: url, model: 'open', rate: RATE, maxInFlight: 10, durationMs: D * 1000, body: BODY };
  const run = await runTool([join(dir, 'node_modules/.bin/node'), join(dir, 'bench/loadgate-child.ts'), JSON.stringify(args)], {
    watch: [workerPid],
  });
  if (run.code !== 0) throw new Error(`${side} exited with ${run.code}: ${run.stderr.slice(0, 2000)}`);
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ChildResult;
  const w = mode === 'saturation' ? windowCpu(run.samples, 1500, D * 1000) : windowCpu(run.samples, 2000, D * 1000 - 500);
  return {
    mode,
    pair,
    side,
    rps: r.rps,
    generatorCpu: w ? w.share : null,
    cpuUsPerRequest: w && r.rps > 0 ? (w.share * 1e6) / r.rps : null,
    inProcessCpuUsPerRequest: r.requests > 0 ? (r.loadCpuUserUs + r.loadCpuSystemUs) / r.requests : NaN,
    wakeupsPerRequest: w && r.rps > 0 ? w.switchesPerSecond / r.rps : null,
    disturbed: mode === 'saturation' && (w === null || w.share < 0.9),
  };
}

const range = (xs: number[]) => (xs.length ? `${fmt(median(xs), 2)} (${fmt(Math.min(...xs), 2)}-${fmt(Math.max(...xs), 2)})` : '-');

pinSelf(TARGET_CORE);
const startedAt = new Date().toISOString();
const nginx = await startNginx(TARGET_CORE);
const runs: Run[] = [];
try {
  for (const mode of MODES) {
    console.log(`\n== ${mode}${mode === 'fixed' ? ` ${RATE} req/s` : ''}: ${PAIRS} pairs of ${D} s runs ==`);
    for (let pair = 1; pair <= PAIRS; pair++) {
      for (const side of pair % 2 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        const r = await runSide(side, mode, nginx.url, nginx.workerPid, pair);
        runs.push(r);
        console.log(
          `  pair ${pair} ${side.padEnd(6)} ${fmt(r.rps).padStart(8)} req/s  cpu ${fmt((r.generatorCpu ?? NaN) * 100)}%  ${fmt(r.cpuUsPerRequest, 2)} µs/req (in-process ${fmt(r.inProcessCpuUsPerRequest, 2)})  ${fmt(r.wakeupsPerRequest, 3)} wake-ups/req${r.disturbed ? '  (disturbed)' : ''}`,
        );
        await sleep(500);
      }
    }
    const of = (
      side: Side,
      clean: boolean,
      figure: 'cpuUsPerRequest' | 'inProcessCpuUsPerRequest' | 'wakeupsPerRequest' = 'cpuUsPerRequest',
    ) =>
      runs
        .filter((r) => r.mode === mode && r.side === side && (!clean || !r.disturbed) && r.cpuUsPerRequest !== null)
        .map((r) => r[figure] ?? NaN);
    const ratios = (clean: boolean, figure: 'cpuUsPerRequest' | 'inProcessCpuUsPerRequest' = 'cpuUsPerRequest') =>
      Array.from({ length: PAIRS }, (_, i) => {
        const [b, a] = (['before', 'after'] as const).map((s) => runs.find((r) => r.mode === mode && r.pair === i + 1 && r.side === s));
        return b && a && b[figure] && a[figure] && (!clean || (!a.disturbed && !b.disturbed)) ? a[figure]! / b[figure]! : NaN;
      }).filter(Number.isFinite);
    console.log(`  CPU µs/req, median (range): before ${range(of('before', false))}, after ${range(of('after', false))}`);
    console.log(`  after/before per pair: ${range(ratios(false))}`);
    console.log(
      `  in-process CPU µs/req: before ${range(of('before', false, 'inProcessCpuUsPerRequest'))}, after ${range(of('after', false, 'inProcessCpuUsPerRequest'))}; per pair ${range(ratios(false, 'inProcessCpuUsPerRequest'))}`,
    );
    console.log(
      `  wake-ups per request: before ${range(of('before', false, 'wakeupsPerRequest'))}, after ${range(of('after', false, 'wakeupsPerRequest'))}`,
    );
    if (mode === 'saturation') {
      console.log(
        `  undisturbed only: before ${range(of('before', true))}, after ${range(of('after', true))}; per pair ${range(ratios(true))}`,
      );
    }
  }
} finally {
  await nginx.stop();
}
mkdirSync(opt.out, { recursive: true });
const file = join(opt.out, `ab-${stamp()}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      benchmark: 'ab',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machine(),
      config: { sides: SIDES, pairs: PAIRS, durationS: D, rate: RATE, modes: MODES },
      runs,
    },
    null,
    1,
  ),
);
console.log(`\nraw results: ${file}`);
