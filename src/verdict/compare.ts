// The comparison's verdict: per metric, per-round values of both sides -> a Hodges-Lehmann shift with its
// interval (src/verdict/shift.ts) -> same | improved | regressed | inconclusive against a minimum effect;
// then one answer for the run, from the metrics that gate it (the regression lines, or by default p50,
// p99 and the error rate).
//
// Rounds in the same job are paired (pair i: the candidate's and the baseline's i-th rounds, run back to
// back or at once), and a pair with a round left out is left out whole. Against a stored result the rounds
// are unpaired (Mann-Whitney): they ran on another machine at another time, which no pairing cancels.
//
// Looking again after adding rounds is a second test of the same question: each look at n rounds would
// have its own 5% chance of a false regression. So rounds are added only up to fixed checkpoints
// (rounds, rounds + step, ..., max-rounds, known before the run starts), and each of the K looks is
// judged at confidence 1 - 0.05/K (Bonferroni: the chance of any false alarm over all looks stays at most
// 5%, whatever the looks' dependence). With max-rounds = rounds (the default) there is one look at 95%.

import type { Environment } from '../metrics/environment.ts';
import type { RoundRecord } from '../metrics/rounds.ts';
import type { ComparePlan } from '../plan/types.ts';
import type { CompareMetric, RegressionObjective } from '../plan/regression.ts';
import {
  type Scale,
  type Shift,
  type ShiftVerdict,
  type Worse,
  fromScale,
  judgeShift,
  onScale,
  pairedShift,
  unpairedShift,
} from './shift.ts';
import { metricKey, metricLabel, roundValue } from './round-values.ts';

export const ALPHA = 0.05;

export interface MetricComparison {
  key: string;
  label: string;
  metric: CompareMetric;
  scale: Scale;
  worse: Worse;
  /** Medians of the used rounds' values, in the metric's unit (ms, fraction, req/s, CPU ms per request). */
  candidate: number | null;
  baseline: number | null;
  /** The shift back in the metric's terms (+0.12 = 12% more; for the error rate, points as a fraction); null without data. */
  estimate: number | null;
  low: number | null;
  high: number | null;
  confidence: number;
  minEffect: number;
  verdict: ShiftVerdict;
  /** Whether it decides the run's answer (a regression line, or a default gate). */
  gates: boolean;
  /** The regression line that asked for it, if one did. */
  objective?: RegressionObjective;
}

export interface RoundSummary {
  side: RoundRecord['side'];
  pair: number;
  seq: number;
  warmup: boolean;
  excluded?: string;
  values: Record<string, number | null>;
  generatorCpu: number;
}

export interface Calibration {
  key: string;
  label: string;
  /** The largest shift the A/A interval could not rule out, in the metric's terms. */
  noiseFloor: number | null;
  /** A minimum effect above the noise floor (1.5 times it, rounded up to a whole percent or tenth of a point). */
  suggested: number | null;
}

export interface CompareVerdict {
  outcome: ShiftVerdict;
  /** same-job: two services in this run; history: a stored result; calibration: A/A, never fails. */
  against: 'baseline' | 'history' | 'calibration';
  mode: ComparePlan['mode'];
  paired: boolean;
  /** Measured pairs used (paired), or rounds per side used (unpaired). */
  used: { candidate: number; baseline: number };
  looks: number;
  confidence: number;
  metrics: MetricComparison[];
  rounds: RoundSummary[];
  headline: string;
  warnings: string[];
  /**
   * Where each side was measured (src/metrics/environment.ts), each with its service's image digest. A
   * stored baseline written by an older loadgate may have recorded only part of it.
   */
  environments?: SideEnvironments;
  /** When the stored baseline was measured (against a stored result). */
  baselineStartedAt?: string;
  calibration?: Calibration[];
  /** Whether the comparison fails the run: regressed, or inconclusive with fail-on-inconclusive. */
  fails: boolean;
  failOnInconclusive: boolean;
}

/** The metrics compared: the usual ones, plus any a regression line names. Throughput only in a closed model. */
export function comparedMetrics(plan: ComparePlan, closed: boolean, watched: boolean): CompareMetric[] {
  const list: CompareMetric[] = [
    { kind: 'latency', stat: 'percentile', percentile: 50 },
    { kind: 'latency', stat: 'percentile', percentile: 95 },
    { kind: 'latency', stat: 'percentile', percentile: 99 },
    { kind: 'latency', stat: 'mean' },
    { kind: 'error-rate' },
    ...(closed ? [{ kind: 'throughput' } as const] : []),
    ...(watched ? [{ kind: 'cpu' } as const] : []),
  ];
  for (const o of plan.objectives) if (!list.some((m) => metricKey(m) === metricKey(o.metric))) list.push(o.metric);
  return list;
}

const DEFAULT_GATES = ['p50', 'p99', 'error-rate'];

function ruleOf(m: CompareMetric): { scale: Scale; worse: Worse } {
  if (m.kind === 'error-rate') return { scale: 'difference', worse: 'higher' };
  if (m.kind === 'throughput') return { scale: 'ratio', worse: 'lower' };
  return { scale: 'ratio', worse: 'higher' };
}

/** The checkpoints at which the rounds are judged: rounds, then every step up to max-rounds. */
export function checkpoints(plan: Pick<ComparePlan, 'rounds' | 'maxRounds'>): number[] {
  const step = Math.max(2, Math.ceil(plan.rounds / 2));
  const out = [plan.rounds];
  while (out[out.length - 1]! < plan.maxRounds) out.push(Math.min(plan.maxRounds, out[out.length - 1]! + step));
  return out;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export interface JudgeOptions {
  against: CompareVerdict['against'];
  /** Number of planned looks (checkpoints): each is judged at 1 - 0.05 / looks. */
  looks: number;
  closed: boolean;
  warnings?: string[];
  environments?: SideEnvironments;
  baselineStartedAt?: string;
}

export interface SideEnvironments {
  candidate?: Environment;
  baseline?: Partial<Environment>;
}

export function judgeComparison(rounds: readonly RoundRecord[], plan: ComparePlan, opts: JudgeOptions): CompareVerdict {
  const paired = opts.against !== 'history';
  const confidence = 1 - ALPHA / opts.looks;
  const usable = rounds.filter((r) => !r.warmup && !r.excluded);
  const cand = usable.filter((r) => r.side === 'candidate');
  const base = usable.filter((r) => r.side === 'baseline');
  // Paired: only pairs with both rounds usable.
  const pairs = paired
    ? cand.flatMap((c) => {
        const b = base.find((x) => x.pair === c.pair);
        return b ? [{ c, b }] : [];
      })
    : [];
  const watched = usable.length > 0 && usable.every((r) => r.result.resources?.meanCpuPercent !== undefined);
  const metrics = comparedMetrics(plan, opts.closed, watched).map((m): MetricComparison => {
    const key = metricKey(m);
    const rule = ruleOf(m);
    const objective = plan.objectives.find((o) => metricKey(o.metric) === key);
    const gates = plan.objectives.length > 0 ? objective !== undefined : DEFAULT_GATES.includes(key);
    const minEffect = objective?.limit ?? (m.kind === 'error-rate' ? plan.minEffectErrorRate : plan.minEffect);
    const values = (rs: readonly RoundRecord[]) => rs.map((r) => roundValue(r.result, m)).filter((v): v is number => v !== null);
    let shift: Shift | null = null;
    if (paired) {
      const d = pairs.flatMap(({ c, b }) => {
        const cv = roundValue(c.result, m);
        const bv = roundValue(b.result, m);
        const x = cv === null || bv === null ? null : onScale(rule.scale, cv, bv);
        return x === null ? [] : [x];
      });
      if (d.length > 0) shift = pairedShift(d, confidence);
    } else {
      const onLog = (v: number) => (rule.scale === 'ratio' ? (v > 0 ? Math.log(v) : null) : v);
      const x = values(base)
        .map(onLog)
        .filter((v): v is number => v !== null);
      const y = values(cand)
        .map(onLog)
        .filter((v): v is number => v !== null);
      if (x.length > 0 && y.length > 0) shift = unpairedShift(x, y, confidence);
    }
    const back = (v: number | null) => (v === null ? null : fromScale(rule.scale, v));
    return {
      key,
      label: metricLabel(m),
      metric: m,
      ...rule,
      candidate: median(values(paired ? pairs.map((p) => p.c) : cand)),
      baseline: median(values(paired ? pairs.map((p) => p.b) : base)),
      estimate: shift ? back(shift.estimate) : null,
      low: shift ? back(shift.low) : null,
      high: shift ? back(shift.high) : null,
      confidence: shift?.confidence ?? 0,
      minEffect,
      verdict: shift ? judgeShift(shift, { ...rule, minEffect }) : 'inconclusive',
      gates,
      ...(objective ? { objective } : {}),
    };
  });
  const gating = metrics.filter((m) => m.gates);
  const outcome = overall(gating.map((m) => m.verdict));
  const calibration = opts.against === 'calibration' ? metrics.map(calibrate) : undefined;
  const fails = opts.against !== 'calibration' && (outcome === 'regressed' || (outcome === 'inconclusive' && plan.failOnInconclusive));
  const summaries: RoundSummary[] = rounds.map((r) => ({
    side: r.side,
    pair: r.pair,
    seq: r.seq,
    warmup: r.warmup,
    ...(r.excluded ? { excluded: r.excluded } : {}),
    values: Object.fromEntries(metrics.map((m) => [m.key, roundValue(r.result, m.metric)])),
    generatorCpu: r.result.generatorCpu,
  }));
  const verdict: CompareVerdict = {
    outcome,
    against: opts.against,
    mode: plan.mode,
    paired,
    used: paired ? { candidate: pairs.length, baseline: pairs.length } : { candidate: cand.length, baseline: base.length },
    looks: opts.looks,
    confidence,
    metrics,
    rounds: summaries,
    headline: '',
    warnings: [...(opts.warnings ?? [])],
    ...(opts.environments ? { environments: opts.environments } : {}),
    ...(opts.baselineStartedAt ? { baselineStartedAt: opts.baselineStartedAt } : {}),
    ...(calibration ? { calibration } : {}),
    fails,
    failOnInconclusive: plan.failOnInconclusive,
  };
  verdict.headline = headline(verdict);
  return verdict;
}

/** One answer from the gating metrics: any regressed; else all same; else same or improved with one improved; else inconclusive. */
export function overall(vs: readonly ShiftVerdict[]): ShiftVerdict {
  if (vs.length === 0) return 'inconclusive';
  if (vs.includes('regressed')) return 'regressed';
  if (vs.every((v) => v === 'same')) return 'same';
  if (vs.every((v) => v === 'same' || v === 'improved')) return 'improved';
  return 'inconclusive';
}

/** "+12%" for ratios, "+0.5pp" for the error rate. */
export function formatShift(m: Pick<MetricComparison, 'scale'>, v: number | null): string {
  if (v === null) return 'n/a';
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  const a = Math.abs(v) * 100;
  const digits = a < 10 ? 1 : 0;
  return `${sign}${a.toFixed(digits)}${m.scale === 'difference' ? 'pp' : '%'}`;
}

/** "p99 +12% (95% CI +8% to +16%)". */
export function describeShift(m: MetricComparison): string {
  const ci =
    m.low === null || m.high === null
      ? 'too few rounds for an interval'
      : `${Math.floor(m.confidence * 1000) / 10}% CI ${formatShift(m, m.low)} to ${formatShift(m, m.high)}`;
  return `${m.key} ${formatShift(m, m.estimate)} (${ci})`;
}

/** The PR comment's first line: the gating metric that decided, e.g. "p99 +12% (95% CI +8% to +16%) vs base: regressed". */
function headline(v: CompareVerdict): string {
  const gating = v.metrics.filter((m) => m.gates);
  const decisive =
    gating.find((m) => m.verdict === v.outcome && v.outcome !== 'same') ?? gating.find((m) => m.verdict === 'inconclusive') ?? gating[0];
  const vs = v.against === 'history' ? 'vs stored baseline (across runs)' : v.against === 'calibration' ? 'A/A calibration' : 'vs base';
  if (!decisive) return `${vs}: ${v.outcome}`;
  return `${describeShift(decisive)} ${vs}: ${v.outcome}`;
}

function calibrate(m: MetricComparison): Calibration {
  const floor = m.low === null || m.high === null ? null : Math.max(Math.abs(m.low), Math.abs(m.high));
  const unit = m.scale === 'difference' ? 0.001 : 0.01;
  return {
    key: m.key,
    label: m.label,
    noiseFloor: floor,
    suggested: floor === null ? null : Math.max(unit, Math.ceil((floor * 1.5) / unit) * unit),
  };
}
