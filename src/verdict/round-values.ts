// One number per round for each compared metric (p50, p99, mean, error rate, throughput, CPU per request),
// and whether the round can be used at all: a round the generator could not drive on time measured the
// generator, not the service, and is left out of the comparison (its pair with it).

import { percentileMs } from '../metrics/histogram.ts';
import { type RunResult, meanMs, statsFor } from '../metrics/result.ts';
import type { CompareMetric } from '../plan/regression.ts';

/** The generator counts as unable to keep up above this share of one core (Node's event loop is one core). */
export const GENERATOR_CPU_BOUND = 0.9;
/** Open model: requests leaving more than this late (p99, ms) mean the generator's timers slipped. */
export const SEND_LAG_P99_BOUND_MS = 20;

/** The key a metric goes by in tables, CSV columns and step outputs: p50, p99.9, mean, error-rate, rps, cpu. */
export function metricKey(m: CompareMetric): string {
  if (m.kind === 'latency') return m.stat === 'mean' ? 'mean' : `p${m.percentile}`;
  if (m.kind === 'throughput') return 'rps';
  return m.kind;
}

/** Words for a metric in a sentence or a table. */
export function metricLabel(m: CompareMetric): string {
  if (m.kind === 'latency') return m.stat === 'mean' ? 'mean latency' : `p${m.percentile} latency`;
  if (m.kind === 'throughput') return 'throughput';
  if (m.kind === 'cpu') return 'CPU per request';
  return 'error rate';
}

/**
 * The metric's value in one round, without its warm-up: latency in ms, error rate as a fraction, throughput
 * in requests/s, CPU in ms of CPU time per request. Null when the round has nothing to say (no responses,
 * the service not watched).
 */
export function roundValue(r: RunResult, m: CompareMetric): number | null {
  const s = statsFor(r, { excludeWarmup: true });
  switch (m.kind) {
    case 'latency':
      return m.stat === 'mean' ? meanMs(s) : percentileMs(s.latency, m.percentile);
    case 'error-rate':
      return s.requests === 0 ? null : s.failures / s.requests;
    case 'throughput': {
      const seconds = (r.durationMs - r.warmupMs) / 1000;
      return seconds > 0 ? s.requests / seconds : null;
    }
    case 'cpu': {
      const all = statsFor(r);
      const mean = r.resources?.meanCpuPercent;
      if (mean === undefined || all.requests === 0) return null;
      return ((mean / 100) * r.durationMs) / all.requests;
    }
  }
}

/** Why a round cannot be used (the generator could not drive it on time, or it did not complete); null if it can. */
export function roundProblem(r: RunResult): string | null {
  if (r.status !== 'completed') return `the round did not complete (${r.reason ?? r.status})`;
  if (r.generatorCpu >= GENERATOR_CPU_BOUND) {
    return `the load generator used ${Math.round(r.generatorCpu * 100)}% of a core: it could not drive the load on time`;
  }
  const lag = r.sendLag ? percentileMs(r.sendLag, 99) : null;
  if (lag !== null && lag > SEND_LAG_P99_BOUND_MS) {
    return `requests left up to ${Math.round(lag)} ms late (p99 send lag above ${SEND_LAG_P99_BOUND_MS} ms): the generator fell behind`;
  }
  if (statsFor(r, { excludeWarmup: true }).latency.totalCount === 0) return 'no responses in the round';
  return null;
}
