// Before/after summary of interleaved throughput.ts runs: is a change to loadgate's hot path faster,
// slower, or within the noise? On a shared machine absolute figures move by 2x between runs, so each
// run's loadgate figure is read against the tools measured in the same run, whose code did not
// change (autocannon, wrk, the paced floor, hey): CPU µs per request, loadgate's over theirs.
//
//   node bench/ab-summary.ts DIR      # DIR holds before-1/, after-1/, before-2/, ... each with one throughput-*.json
//
// Prints each run's figures, then per side the median and the range, and after/before of the medians.
// A difference smaller than either side's range is noise.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median } from './lib.ts';

interface ToolSummary {
  cpuUsPerRequest: number | null;
  rps?: number | null;
}
interface Bench {
  summary: { saturation: Record<string, ToolSummary>; fixedRate: Record<string, ToolSummary> };
}

const dir = process.argv[2];
if (!dir) {
  console.log('usage: node bench/ab-summary.ts DIR   (DIR/before-N/throughput-*.json, DIR/after-N/throughput-*.json)');
  process.exit(2);
}

/** The figures compared, each a function of one run's summary (null when the run lacks a tool). */
const FIGURES: Record<string, (b: Bench) => number | null> = {
  'sat µs/req': (b) => cpu(b, 'saturation', 'loadgate'),
  'sat /autocannon': (b) => ratio(cpu(b, 'saturation', 'loadgate'), cpu(b, 'saturation', 'autocannon')),
  'sat /wrk': (b) => ratio(cpu(b, 'saturation', 'loadgate'), cpu(b, 'saturation', 'wrk')),
  'fixed µs/req': (b) => cpu(b, 'fixedRate', 'loadgate'),
  'fixed /floor': (b) => ratio(cpu(b, 'fixedRate', 'loadgate'), cpu(b, 'fixedRate', 'paced-floor')),
  'fixed /autocannon': (b) => ratio(cpu(b, 'fixedRate', 'loadgate'), cpu(b, 'fixedRate', 'autocannon')),
  'fixed /hey': (b) => ratio(cpu(b, 'fixedRate', 'loadgate'), cpu(b, 'fixedRate', 'hey')),
};

function cpu(b: Bench, mode: 'saturation' | 'fixedRate', tool: string): number | null {
  return b.summary[mode][tool]?.cpuUsPerRequest ?? null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

const runs = readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && /^(before|after)-\d+$/.test(e.name))
  .map((e) => {
    const file = readdirSync(join(dir, e.name)).find((f) => /^throughput-.*\.json$/.test(f));
    if (!file) throw new Error(`no throughput-*.json in ${join(dir, e.name)}`);
    const [side, n] = e.name.split('-') as ['before' | 'after', string];
    return { side, n: Number(n), bench: JSON.parse(readFileSync(join(dir, e.name, file), 'utf8')) as Bench };
  })
  .sort((a, b) => a.n - b.n || (a.side === 'before' ? -1 : 1));

const names = Object.keys(FIGURES);
const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(9) : c.padStart(17))).join(' '));
row(['run', ...names]);
for (const r of runs) row([`${r.side} ${r.n}`, ...names.map((k) => fmt(FIGURES[k]!(r.bench), 2))]);

console.log('');
row(['side', ...names]);
const medians: Record<string, Record<string, number | null>> = {};
for (const side of ['before', 'after'] as const) {
  medians[side] = {};
  const cells = names.map((k) => {
    const xs = runs
      .filter((r) => r.side === side)
      .map((r) => FIGURES[k]!(r.bench))
      .filter((x): x is number => x !== null);
    const m = xs.length ? median(xs) : null;
    medians[side]![k] = m;
    return xs.length ? `${fmt(m, 2)} (${fmt(Math.min(...xs), 2)}-${fmt(Math.max(...xs), 2)})` : '-';
  });
  row([side, ...cells]);
}
row(['after/bef', ...names.map((k) => fmt(ratio(medians.after![k] ?? null, medians.before![k] ?? null), 3))]);
