// compare.csv: one row per round (side, pair, order in time, warm-up, left out and why, every compared
// metric's value), then one row per metric with the shift and its interval; for spreadsheets.

import type { CompareVerdict } from '../verdict/compare.ts';
import { csvField } from './csv.ts';

export const COMPARE_CSV = 'compare.csv';

export function renderCompareCsv(c: CompareVerdict): string {
  const keys = c.metrics.map((m) => m.key);
  const rows: string[][] = [['Row', 'Side', 'Pair', 'Seq', 'Warm-up', 'Left out', 'Generator CPU', ...keys]];
  for (const r of c.rounds) {
    rows.push([
      'round',
      r.side,
      String(r.pair),
      String(r.seq),
      r.warmup ? 'yes' : 'no',
      r.excluded ?? '',
      r.generatorCpu.toFixed(3),
      ...keys.map((k) => num(r.values[k])),
    ]);
  }
  rows.push([]);
  rows.push(['Row', 'Metric', 'Baseline', 'Candidate', 'Change', 'CI low', 'CI high', 'Confidence', 'Min effect', 'Answer', 'Gates']);
  for (const m of c.metrics) {
    rows.push([
      'metric',
      m.key,
      num(m.baseline),
      num(m.candidate),
      num(m.estimate),
      num(m.low),
      num(m.high),
      m.confidence.toFixed(4),
      String(m.minEffect),
      m.verdict,
      m.gates ? 'yes' : 'no',
    ]);
  }
  return `${rows.map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

function num(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : String(Math.round(v * 1e6) / 1e6);
}
