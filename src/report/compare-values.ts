// How a compared metric's values read in every report: ms for latency, % for the error rate, req/s,
// CPU ms per request; and the words for a comparison's answer and what it was compared with.

import type { CompareVerdict, MetricComparison } from '../verdict/compare.ts';
import { formatShift } from '../verdict/compare.ts';
import type { ShiftVerdict } from '../verdict/shift.ts';

export function formatValue(m: Pick<MetricComparison, 'metric'>, v: number | null | undefined): string {
  if (v === null || v === undefined) return 'n/a';
  switch (m.metric.kind) {
    case 'latency':
      return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
    case 'error-rate':
      return `${(v * 100).toFixed(v < 0.01 ? 2 : 1)}%`;
    case 'throughput':
      return `${v.toFixed(v < 100 ? 1 : 0)}/s`;
    case 'cpu':
      return `${v.toFixed(v < 10 ? 2 : 1)} ms CPU`;
  }
}

/** "+12.0% (+8.0% to +16.0%)", or "n/a" without data. */
export function formatDelta(m: MetricComparison): string {
  if (m.estimate === null) return 'n/a';
  const ci = m.low === null || m.high === null ? 'no interval: too few rounds' : `${formatShift(m, m.low)} to ${formatShift(m, m.high)}`;
  return `${formatShift(m, m.estimate)} (${ci})`;
}

export const VERDICT_MARK: Record<ShiftVerdict, string> = { same: '🟰', improved: '✅', regressed: '❌', inconclusive: '❔' };

/** What the candidate was compared with, in a few words. */
export function againstText(c: CompareVerdict): string {
  if (c.against === 'history') return 'a stored result (across runs and machines, unpaired rounds)';
  if (c.against === 'calibration') return 'a second instance of itself (A/A calibration)';
  return `the baseline, in the same job (${c.mode === 'parallel' ? 'both at once, duet' : 'interleaved rounds'}, paired)`;
}

export function limitText(m: MetricComparison): string {
  return m.scale === 'difference'
    ? `${(m.minEffect * 100).toFixed(2).replace(/\.?0+$/, '')}pp`
    : `${(m.minEffect * 100).toFixed(1).replace(/\.0$/, '')}%`;
}
