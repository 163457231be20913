// How far apart two sides are, with an interval, from a handful of per-round values: the statistics behind
// "did this change make the service slower?".
//
// The unit is a round, not a request: requests within a run are correlated (a slow second slows many of
// them), so a test over thousands of requests overstates its confidence. A comparison gives k rounds per
// side, interleaved in pairs; each pair ran back to back on the same machine, so its difference cancels what
// the machine did to both (a noisy neighbour, a slower minute).
//
// Paired rounds (the same job):  d_i = f(candidate_i, baseline_i), i = 1..n
//   estimate  Hodges-Lehmann: the median of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i <= j
//   interval  the Walsh averages of ranks t+1 and M-t, M = n(n+1)/2, where t is the largest value with
//             P(T+ <= t) <= alpha/2 under the Wilcoxon signed-rank null (exact distribution up to n = 300)
// Unpaired rounds (against a stored result): the median of all m*n differences y_j - x_i, with the
// interval from the Mann-Whitney U distribution (exact up to m*n = 10,000, normal beyond).
//
// Why these and not a bootstrap: the answer is a function of the data alone (no resampling seed: the same
// rounds give the same verdict), the coverage is exact at n = 10 where a percentile bootstrap undercovers,
// and one wild round (a stalled neighbour) moves a rank statistic by one rank, not by its size. Both are
// the estimators Kayenta and benchstat use for the same question.
//
// Latency and throughput are compared as log ratios (a 10% slowdown is the same step at 5 ms and at
// 500 ms, and ratios of medians are what people quote); error rates as differences in percentage points
// (a ratio of two zero error rates means nothing).

export interface Shift {
  /** Number of pairs (paired) or rounds per side (n for the candidate, m for the baseline). */
  n: number;
  m?: number;
  /** Point estimate of the shift, on the comparison's scale (a log ratio or a difference). */
  estimate: number;
  /** The interval at `confidence`; null when there are too few rounds for one (fewer than 6 pairs at 95%). */
  low: number | null;
  high: number | null;
  /** The confidence actually achieved by the interval's ranks (at least the one asked for). */
  confidence: number;
}

/** The sorted Walsh averages (d_i + d_j) / 2 for i <= j. */
export function walshAverages(d: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < d.length; i++) for (let j = i; j < d.length; j++) out.push((d[i]! + d[j]!) / 2);
  return out.sort((a, b) => a - b);
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** Largest t with P(T <= t) <= tail, T a count statistic with the given null distribution (cumulated); -1 if none. */
function lowerCritical(counts: readonly number[], total: number, tail: number): { t: number; p: number } {
  let cum = 0;
  let t = -1;
  let p = 0;
  for (let k = 0; k < counts.length; k++) {
    cum += counts[k]!;
    if (cum / total > tail) break;
    t = k;
    p = cum / total;
  }
  return { t, p };
}

const EXACT_SIGNED_RANK_MAX_N = 300;

/**
 * The rank t for the signed-rank interval: the CI is [W_(t+1), W_(M-t)] (1-based ranks in the sorted
 * Walsh averages). Exact: the number of subsets of {1..n} with each sum, over 2^n (kept as a ratio in
 * floating point, which is exact enough: the counts are divided, not subtracted).
 */
export function signedRankCritical(n: number, alpha: number): { t: number; confidence: number } {
  const M = (n * (n + 1)) / 2;
  if (n > EXACT_SIGNED_RANK_MAX_N) {
    const z = normalQuantile(1 - alpha / 2);
    const t = Math.floor(M / 2 - z * Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24) - 0.5);
    return { t: Math.max(-1, t), confidence: 1 - alpha };
  }
  // counts[s] / 2^k: the probability that the ranks 1..k chosen with signs sum to s (scaled each step to stay finite).
  let dist = new Float64Array(M + 1);
  dist[0] = 1;
  for (let k = 1; k <= n; k++) {
    const next = new Float64Array(M + 1);
    const top = (k * (k + 1)) / 2;
    for (let s = 0; s <= top; s++) next[s] = (dist[s]! + (s >= k ? dist[s - k]! : 0)) / 2;
    dist = next;
  }
  const { t, p } = lowerCritical(Array.from(dist), 1, alpha / 2);
  return { t, confidence: 1 - 2 * p };
}

/** Hodges-Lehmann shift of paired differences, with the Wilcoxon signed-rank interval. */
export function pairedShift(d: readonly number[], confidence = 0.95): Shift {
  const n = d.length;
  if (n === 0) throw new RangeError('pairedShift: no pairs');
  const w = walshAverages(d);
  const { t, confidence: achieved } = signedRankCritical(n, 1 - confidence);
  const M = w.length;
  const estimate = median(w);
  if (t < 0) return { n, estimate, low: null, high: null, confidence: 0 };
  return { n, estimate, low: w[t]!, high: w[M - 1 - t]!, confidence: achieved };
}

const EXACT_RANK_SUM_MAX = 10_000;

/**
 * The rank t for the Mann-Whitney interval of an m-by-n comparison: the CI is [D_(t+1), D_(mn-t)] in the
 * sorted differences. Exact: the number of ways U = u, by the usual recursion on (m, n), for m*n up to 10,000 (about
 * (mn)^2/4 steps: 25 M at the limit, a few ms); the normal approximation beyond.
 */
export function rankSumCritical(m: number, n: number, alpha: number): { t: number; confidence: number } {
  const N = m * n;
  if (N > EXACT_RANK_SUM_MAX) {
    const z = normalQuantile(1 - alpha / 2);
    const t = Math.floor(N / 2 - z * Math.sqrt((m * n * (m + n + 1)) / 12) - 0.5);
    return { t: Math.max(-1, t), confidence: 1 - alpha };
  }
  // f[j][u] for the current i: the probability that U = u with i x's and j y's (each step averages the two
  // ways the largest element can fall, keeping the values probabilities instead of huge counts).
  let prev: Float64Array[] = [];
  for (let j = 0; j <= n; j++) {
    const row = new Float64Array(N + 1);
    row[0] = 1;
    prev.push(row);
  }
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [];
    const row0 = new Float64Array(N + 1);
    row0[0] = 1;
    cur.push(row0);
    for (let j = 1; j <= n; j++) {
      const row = new Float64Array(N + 1);
      const px = i / (i + j);
      const top = i * j;
      // The largest of the i + j values is an x (prob i/(i+j)): it beats all j y's, adding j to U; or a y.
      for (let u = 0; u <= top; u++) row[u] = px * (u >= j ? prev[j]![u - j]! : 0) + (1 - px) * cur[j - 1]![u]!;
      cur.push(row);
    }
    prev = cur;
  }
  const { t, p } = lowerCritical(Array.from(prev[n]!), 1, alpha / 2);
  return { t, confidence: 1 - 2 * p };
}

/** Hodges-Lehmann shift of y against x (median of y_j - x_i), with the Mann-Whitney interval. */
export function unpairedShift(x: readonly number[], y: readonly number[], confidence = 0.95): Shift {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) throw new RangeError('unpairedShift: a side has no rounds');
  const diffs: number[] = [];
  for (const yj of y) for (const xi of x) diffs.push(yj - xi);
  diffs.sort((a, b) => a - b);
  const { t, confidence: achieved } = rankSumCritical(m, n, 1 - confidence);
  const estimate = median(diffs);
  if (t < 0) return { n, m, estimate, low: null, high: null, confidence: 0 };
  return { n, m, estimate, low: diffs[t]!, high: diffs[diffs.length - 1 - t]!, confidence: achieved };
}

/** How a metric's values are compared: as a log ratio (latency, throughput) or a difference (error rate). */
export type Scale = 'ratio' | 'difference';

/** Which way is worse: a higher latency, a lower throughput. */
export type Worse = 'higher' | 'lower';

export type ShiftVerdict = 'same' | 'improved' | 'regressed' | 'inconclusive';

export interface ShiftRule {
  scale: Scale;
  worse: Worse;
  /**
   * The smallest change that matters: a fraction for ratios (0.05 = 5%), the metric's own unit for
   * differences (0.005 = 0.5 percentage points of error rate).
   */
  minEffect: number;
}

/** One side-by-side value on the comparison's scale: ln(c / b) for ratios (null when either is not positive), c - b for differences. */
export function onScale(scale: Scale, candidate: number, baseline: number): number | null {
  if (scale === 'difference') return candidate - baseline;
  return candidate > 0 && baseline > 0 ? Math.log(candidate / baseline) : null;
}

/** A value on the scale back in the metric's terms: the ratio minus 1 (+0.12 = 12% more), or the difference. */
export function fromScale(scale: Scale, x: number): number {
  return scale === 'ratio' ? Math.exp(x) - 1 : x;
}

/**
 * Three answers, not two (and a fourth for the good news):
 * - regressed: the interval excludes no change on the worse side AND the estimate is beyond the minimum effect;
 * - improved: the same on the better side;
 * - same: the whole interval lies within the minimum effect either way (an equivalence, not just "not shown");
 * - inconclusive: anything else, e.g. too few rounds, or an interval that straddles the minimum effect.
 * An interval that cannot be formed (too few rounds) is inconclusive, whatever the estimate.
 */
export function judgeShift(s: Shift, rule: ShiftRule): ShiftVerdict {
  if (s.low === null || s.high === null) return 'inconclusive';
  // A 5% regression of latency is c/b >= 1.05; of throughput, c/b <= 0.95: the bound is the log of either.
  const bound =
    rule.scale === 'difference' ? rule.minEffect : rule.worse === 'higher' ? Math.log(1 + rule.minEffect) : -Math.log(1 - rule.minEffect);
  // On the scale, "worse" is up for latency and down for throughput: flip the latter so worse is always up.
  const sign = rule.worse === 'higher' ? 1 : -1;
  const est = sign * s.estimate;
  const lo = sign === 1 ? s.low : -s.high;
  const hi = sign === 1 ? s.high : -s.low;
  if (lo > 0 && est >= bound) return 'regressed';
  if (hi < 0 && est <= -bound) return 'improved';
  if (lo > -bound && hi < bound) return 'same';
  return 'inconclusive';
}
