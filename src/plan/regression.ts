// Regression objectives: SLO lines that judge the candidate against the baseline instead of against a
// number, read beside the absolute ones in slos: (issue 11).
//
//   <metric> regression < <limit>        p99 regression < 10%     rps regression < 5%
//                                        error-rate regression < 0.5pp     cpu regression < 10%
//
// The limit is the smallest change that counts (the minimum effect): a percentage of the baseline for
// latency, throughput and CPU per request, percentage points for the error rate. The line fails when the
// comparison finds a regression: significant AND beyond the limit (src/verdict/shift.ts judgeShift).

/** A regression line that does not parse; slos: names its line. */
export class RegressionSyntaxError extends Error {
  override readonly name = 'RegressionSyntaxError';
}

/** A metric compared between the two sides, one value per round. */
export type CompareMetric =
  | { kind: 'latency'; stat: 'percentile'; percentile: number }
  | { kind: 'latency'; stat: 'mean' }
  /** Failed / all requests, a fraction. */
  | { kind: 'error-rate' }
  /** Requests per second (meaningful in a closed model: an open model sends the rate it is told). */
  | { kind: 'throughput' }
  /** The service's CPU time per request (when loadgate started and watched it). */
  | { kind: 'cpu' };

export interface RegressionObjective {
  /** The line as written. */
  text: string;
  metric: CompareMetric;
  /** The minimum effect: a fraction of the baseline (0.1 = 10%), or for error-rate a fraction in points (0.005 = 0.5pp). */
  limit: number;
  source?: { file: string; line: number };
}

/** True for a line in the regression grammar (so slos: can hand it here). */
export function isRegressionLine(text: string): boolean {
  return /^\s*\S+\s+regression\b/i.test(text);
}

const METRICS_HELP = 'p50, p95, p99 (any percentile), median, mean, error-rate, rps, cpu';

export function compareMetricOf(t: string): CompareMetric | null {
  const s = t.toLowerCase();
  const p = /^p\(?(\d+(?:\.\d+)?)\)?$/.exec(s);
  if (p) {
    const percentile = Number(p[1]);
    return percentile > 0 && percentile <= 100 ? { kind: 'latency', stat: 'percentile', percentile } : null;
  }
  if (s === 'median') return { kind: 'latency', stat: 'percentile', percentile: 50 };
  if (s === 'mean' || s === 'avg' || s === 'average') return { kind: 'latency', stat: 'mean' };
  if (s === 'error-rate' || s === 'error_rate') return { kind: 'error-rate' };
  if (s === 'rps' || s === 'throughput') return { kind: 'throughput' };
  if (s === 'cpu' || s === 'cpu-per-request') return { kind: 'cpu' };
  return null;
}

export function parseRegressionLine(text: string): RegressionObjective {
  const line = text.trim();
  const m = /^(\S+)\s+regression\s*(<=|<)?\s*(\S+)?\s*(.*)$/i.exec(line);
  if (!m) throw new RegressionSyntaxError(`expected "<metric> regression < <limit>", e.g. "p99 regression < 10%", got "${line}"`);
  const [, metricText = '', op, value, rest = ''] = m;
  const metric = compareMetricOf(metricText);
  if (!metric) throw new RegressionSyntaxError(`unknown metric "${metricText}" for a regression (expected ${METRICS_HELP})`);
  if (op === undefined || value === undefined) {
    throw new RegressionSyntaxError(`a regression line reads "${metricText} regression < 10%": the largest change allowed, after "<"`);
  }
  if (rest.trim() !== '')
    throw new RegressionSyntaxError(`unexpected "${rest.trim()}" after the limit (regression lines judge the whole run)`);
  const v = /^(\d+(?:\.\d+)?)(%|pp)?$/i.exec(value);
  if (!v) throw new RegressionSyntaxError(`expected a limit like 10% (or 0.5pp for error-rate), got "${value}"`);
  const n = Number(v[1]);
  const unit = (v[2] ?? '').toLowerCase();
  if (metric.kind === 'error-rate') {
    if (unit !== 'pp') throw new RegressionSyntaxError(`an error-rate regression is in percentage points, e.g. 0.5pp, got "${value}"`);
    if (!(n > 0 && n <= 100)) throw new RegressionSyntaxError(`the limit must be above 0pp and at most 100pp, got "${value}"`);
    return { text: line, metric, limit: n / 100 };
  }
  if (unit !== '%') throw new RegressionSyntaxError(`a ${metricText} regression is a percentage of the baseline, e.g. 10%, got "${value}"`);
  if (!(n > 0 && n < 100)) throw new RegressionSyntaxError(`the limit must be above 0% and below 100%, got "${value}"`);
  return { text: line, metric, limit: n / 100 };
}
