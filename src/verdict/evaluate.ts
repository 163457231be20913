// Evaluation: a pure function from a RunResult and SLOs to a Verdict. Each outcome carries the observed
// value and a sentence a person understands ("p99 latency 180 ms is above 100 ms over the whole run").

import { maxMs, minMs, percentileMs } from '../metrics/histogram.ts';
import { type RunResult, type Scope, meanMs, statsFor } from '../metrics/result.ts';
import { fmtMs, fmtNum, fmtPct } from '../format.ts';
import type { SloOutcome, Verdict } from './types.ts';
import type { Comparison, Slo, SloMetric, StreamMetric } from '../plan/types.ts';
import { runWarnings } from './warnings.ts';
import { outputCaveat, outputCount, scopeSeconds, streamFor, streamStatMs } from './stream.ts';

export function evaluate(r: RunResult, slos: readonly Slo[]): Verdict {
  const outcomes = slos.map((s) => evaluateSlo(r, s));
  const problems: string[] = [];
  if (r.status === 'aborted' && !r.abortedBy) problems.push(`the run was aborted: ${r.reason ?? 'no reason given'}`);
  // on-exit: continue: the run went on to the end, but the service it measured died on the way.
  const died = r.service?.exit;
  if (died && r.status !== 'aborted') {
    const when = `${Math.round(died.atMs / 100) / 10} s into the load`;
    problems.push(
      r.service?.onExit === 'continue'
        ? `${died.summary}, ${when} (on-exit: continue, so the load went on and counted the errors)`
        : `${died.summary}, ${when}, as the load was ending`,
    );
  }
  if (r.status === 'not-started') problems.push('the load never started, so nothing was measured (the run says why)');
  // Without SLOs the gate still means something: a run in which no request succeeded fails.
  const all = statsFor(r);
  if (slos.length === 0 && r.status !== 'not-started' && all.requests - all.failures === 0) {
    problems.push(
      all.requests === 0
        ? 'no request was completed (with no SLOs set, a run passes only when at least one request succeeds)'
        : `no request succeeded: all ${all.requests} failed (with no SLOs set, a run passes only when at least one request succeeds)`,
    );
  }
  // The generator was the limit: the numbers are the generator's, not the service's (exit 3, not a breach).
  if (r.status === 'invalid') {
    const why = r.generator?.limits.length ? r.generator.limits.join('; ') : (r.reason ?? 'the generator was the limit');
    problems.push(why.startsWith('the run did not measure the service') ? why : `the run did not measure the service: ${why}`);
  }
  if (r.status === 'interrupted')
    problems.push(`the run was interrupted (${r.reason ?? 'stopped'}): the numbers cover only part of the plan`);
  // Not failures, but what a reader must know to trust the numbers (every report shows them too).
  const warnings = runWarnings(r);
  return {
    pass: problems.length === 0 && outcomes.every((o) => o.pass) && !r.abortedBy,
    outcomes,
    ...(r.abortedBy ? { abortedBy: r.abortedBy } : {}),
    problems,
    ...(warnings.length ? { warnings } : {}),
  };
}

export function compare(observed: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '<':
      return observed < threshold;
    case '<=':
      return observed <= threshold;
    case '>':
      return observed > threshold;
    case '>=':
      return observed >= threshold;
    case '==':
      return observed === threshold;
    case '!=':
      return observed !== threshold;
  }
}

export function evaluateSlo(r: RunResult, slo: Slo): SloOutcome {
  const scope: Scope = {
    ...(slo.stage !== undefined ? { stage: slo.stage } : {}),
    ...(slo.endpoint !== undefined ? { endpoint: slo.endpoint } : {}),
    excludeWarmup: slo.excludeWarmup,
  };
  const scopeText = describeScope(r, slo);
  const m = slo.metric;
  const objective = `${slo.op} ${formatValue(slo, slo.threshold)}`;
  let observed: number | null;
  let metricLabel: string;
  let detail = '';
  let nothing = 'no requests were measured';
  /** Set when the observed value is not in the threshold's unit (output counted in chunks). */
  let observedUnit: string | undefined;
  let caveat = '';
  if (m.kind === 'stream' || m.kind === 'output-tps' || m.kind === 'goodput' || m.kind === 'attainment') {
    const j = judgeStream(r, slo, scope);
    observed = j.observed;
    metricLabel = j.label;
    detail = j.detail;
    nothing = j.nothing;
    observedUnit = j.unit;
    caveat = j.caveat;
  } else if (m.kind === 'latency') {
    const s = statsFor(r, scope);
    metricLabel = m.stat === 'percentile' ? `p${m.percentile} latency` : `${m.stat} latency`;
    observed =
      m.stat === 'percentile'
        ? percentileMs(s.latency, m.percentile)
        : m.stat === 'mean'
          ? meanMs(s)
          : m.stat === 'max'
            ? maxMs(s.latency)
            : minMs(s.latency);
    nothing = 'no response was measured';
  } else if (m.kind === 'error-rate' || m.kind === 'errors') {
    const s = statsFor(r, scope);
    metricLabel = m.kind === 'errors' ? 'errors' : 'error rate';
    observed = m.kind === 'errors' ? s.failures : s.requests > 0 ? s.failures / s.requests : null;
    if (m.kind === 'error-rate' && s.requests > 0) detail = ` (${s.failures} of ${s.requests} requests)`;
  } else {
    metricLabel = m.stat === 'mean' ? 'throughput' : m.stat === 'peak' ? 'peak throughput' : 'lowest throughput';
    observed = m.stat === 'mean' ? meanRps(r, slo) : secondRps(r, slo, m.stat);
    if (m.stat !== 'mean') nothing = 'no whole second was measured';
  }
  const pass = observed !== null && compare(observed, slo.op, slo.threshold);
  const observedText = observed === null ? '-' : formatValue(slo, observed, observedUnit);
  let sentence: string;
  if (observed === null) sentence = `${metricLabel} could not be measured ${scopeText}: ${nothing}`;
  else if (m.kind === 'errors') sentence = errorsSentence(observed, slo, scopeText);
  else {
    const shown = observedForSentence(slo, observed, observedUnit);
    sentence = `${metricLabel} ${shown}${detail} is ${relation(observed, slo.threshold)} ${formatValue(slo, slo.threshold)} ${scopeText}`;
    if (caveat) sentence += ` (${caveat})`;
  }
  return {
    slo,
    observed,
    pass,
    sentence,
    labels: { metric: metricLabel, objective, observed: observedText, scope: scopeText.replace(/^(over|in|for) (the )?/, '') },
  };
}

/**
 * The SLO, among those marked abort, that fails on the data so far, if any (k6's abortOnFail).
 * Called about once a second during the run, with `elapsedMs` since the start.
 */
export function abortingSlo(r: RunResult, slos: readonly Slo[], elapsedMs: number): SloOutcome | null {
  for (const slo of slos) {
    if (!slo.abortOnFail || elapsedMs < (slo.abortAfterMs ?? 0)) continue;
    const o = evaluateSlo(r, slo);
    // Nothing measured yet is not a failure during the run: wait for data.
    if (o.observed !== null && !o.pass) return o;
  }
  return null;
}

function errorsSentence(n: number, slo: Slo, scopeText: string): string {
  const failed = n === 0 ? 'no request failed' : `${n} request${n === 1 ? '' : 's'} failed`;
  const t = slo.threshold;
  const expected: Record<Comparison, string> =
    t === 0
      ? { '<': 'fewer than none', '<=': 'none', '==': 'none', '!=': 'some', '>': 'some', '>=': 'any number' }
      : {
          '<': `fewer than ${t}`,
          '<=': `at most ${t}`,
          '==': `exactly ${t}`,
          '!=': `anything but ${t}`,
          '>': `more than ${t}`,
          '>=': `at least ${t}`,
        };
  return `${failed} ${scopeText}, expected ${expected[slo.op]}`;
}

function relation(observed: number, threshold: number): string {
  return observed > threshold ? 'above' : observed < threshold ? 'below' : 'equal to';
}

/** The observed value as printed in a sentence: with more digits when rounding would hide how it compares. */
function observedForSentence(slo: Slo, observed: number, unit?: string): string {
  const plain = formatValue(slo, observed, unit);
  if (observed === slo.threshold || plain !== formatValue(slo, slo.threshold)) return plain;
  switch (slo.metric.kind) {
    case 'latency':
    case 'stream':
      return `${observed.toFixed(3)} ms`;
    case 'error-rate':
    case 'attainment':
      return `${(observed * 100).toPrecision(6)}%`;
    case 'output-tps':
      return `${observed.toFixed(3)} ${unit ?? 'tok/s'}`;
    default:
      return `${observed.toFixed(3)} req/s`;
  }
}

/** A value in the SLO's unit (`unit` overrides it for output counted in chunks). */
function formatValue(slo: Slo, v: number, unit?: string): string {
  switch (slo.metric.kind) {
    case 'latency':
    case 'stream':
      return fmtMs(v);
    case 'error-rate':
    case 'attainment':
      return fmtPct(v);
    case 'errors':
      return String(v);
    case 'throughput':
    case 'goodput':
      return `${fmtNum(v)} req/s`;
    case 'output-tps':
      return `${fmtNum(v)} ${unit ?? 'tok/s'}`;
  }
}

const STREAM_LABEL: Record<StreamMetric, string> = { ttft: 'TTFT', itl: 'ITL', tpot: 'TPOT', e2e: 'E2E' };
const NO_STREAMS = 'no streamed answers were measured';

interface StreamJudgement {
  observed: number | null;
  label: string;
  detail: string;
  nothing: string;
  unit?: string;
  caveat: string;
}

/**
 * A stream SLO over its scope. Without a successful streamed answer there is nothing to judge: null (the SLO
 * fails), never a pass; a goodput or attainment set of latency objectives alone needs no stream.
 */
function judgeStream(r: RunResult, slo: Slo, scope: Scope): StreamJudgement {
  const m = slo.metric;
  const { stream, good, requests } = streamFor(r, scope);
  const streams = stream?.streams ?? 0;
  if (m.kind === 'stream') {
    const label = `${m.stat === 'percentile' ? `p${m.percentile}` : m.stat} ${STREAM_LABEL[m.of]}`;
    if (!stream || streams === 0) return { observed: null, label, detail: '', nothing: NO_STREAMS, caveat: '' };
    const observed = streamStatMs(stream, m.of, m);
    // TPOT needs answers of 2+ output units, ITL answers of 2+ content events; an answer that came as one
    // JSON document has neither.
    const nothing =
      stream.nonStreaming === streams
        ? `all ${streams} answers came as one JSON document, not as a stream, so there was no gap to time`
        : m.of === 'tpot'
          ? `none of the ${streams} streamed answers had 2 or more output tokens`
          : `none of the ${streams} streamed answers had 2 or more content events, so there was no gap between them`;
    return { observed, label, detail: '', nothing, caveat: '' };
  }
  if (m.kind === 'output-tps') {
    const seconds = scopeSeconds(r, scope);
    const count = stream && streams > 0 ? outputCount(stream) : null;
    if (!count) return { observed: null, label: 'output tokens/s', detail: '', nothing: NO_STREAMS, caveat: '' };
    if (seconds <= 0) return { observed: null, label: 'output tokens/s', detail: '', nothing: 'the scope covers no time', caveat: '' };
    const unit = count.unit === 'tokens' ? 'tok/s' : 'chunks/s';
    return {
      observed: count.total / seconds,
      label: count.unit === 'tokens' ? 'output tokens/s' : 'output chunks/s',
      detail: ` (${count.total} ${count.unit} in ${fmtNum(seconds)} s)`,
      nothing: NO_STREAMS,
      unit,
      caveat: outputCaveat(count),
    };
  }
  // Goodput and attainment: the requests that met every objective of the set. Every request of the scope
  // counts, failures included: a request that failed did not meet its objectives (as guidellm counts them).
  const set = (m as Extract<SloMetric, { kind: 'goodput' }>).objectives;
  const label = m.kind === 'goodput' ? 'goodput' : 'attainment';
  const needsStream = set.objectives.some((o) => o.metric !== 'latency');
  if (needsStream && streams === 0) return { observed: null, label, detail: '', nothing: NO_STREAMS, caveat: '' };
  if (requests === 0) return { observed: null, label, detail: '', nothing: 'no requests were measured', caveat: '' };
  const met = good[set.id] ?? 0;
  const detail = ` (${met} of ${requests} requests met ${set.id}`;
  if (m.kind === 'attainment')
    return { observed: met / requests, label, detail: `${detail}; a failed request did not)`, nothing: '', caveat: '' };
  const seconds = scopeSeconds(r, scope);
  if (seconds <= 0) return { observed: null, label, detail: '', nothing: 'the scope covers no time', caveat: '' };
  return { observed: met / seconds, label, detail: `${detail}, over ${fmtNum(seconds)} s)`, nothing: '', caveat: '' };
}

function describeScope(r: RunResult, slo: Slo): string {
  const parts: string[] = [];
  if (slo.endpoint !== undefined) parts.push(`for endpoint ${r.endpoints[slo.endpoint]?.name ?? slo.endpoint}`);
  if (slo.stage !== undefined) {
    const st = r.stages[slo.stage];
    const name = st?.name ?? '';
    parts.push(`in stage ${slo.stage + 1}${name && name !== String(slo.stage + 1) ? ` (${name})` : ''}`);
  }
  if (parts.length === 0) parts.push('over the whole run');
  if (slo.excludeWarmup && r.warmupMs > 0) parts.push(`after the ${fmtMs(r.warmupMs)} warm-up`);
  return parts.join(' ');
}

/** Requests per second over the scope's span (the stage, or the run), warm-up left out when asked. */
function meanRps(r: RunResult, slo: Slo): number | null {
  const s = statsFor(r, {
    ...(slo.stage !== undefined ? { stage: slo.stage } : {}),
    ...(slo.endpoint !== undefined ? { endpoint: slo.endpoint } : {}),
    excludeWarmup: slo.excludeWarmup,
  });
  // A run that ended early only covers part of its planned segments.
  const seconds = scopeSeconds(r, { ...(slo.stage !== undefined ? { stage: slo.stage } : {}), excludeWarmup: slo.excludeWarmup });
  return seconds > 0 ? s.requests / seconds : null;
}

/** The highest or lowest request count in a whole second within the scope (partial seconds are left out). */
function secondRps(r: RunResult, slo: Slo, stat: 'peak' | 'min'): number | null {
  const warmupS = slo.excludeWarmup ? r.warmupMs / 1000 : 0;
  let best: number | null = null;
  for (const p of r.timeline) {
    if (p.span !== undefined) continue;
    if (slo.stage !== undefined && p.stage !== slo.stage) continue;
    if (p.t - 1 < warmupS - 1e-9) continue;
    // Seconds after the planned end are the drain of in-flight requests, not load.
    if (r.stages.length && p.t * 1000 > r.stages[r.stages.length - 1]!.endMs + 1e-6) continue;
    if (best === null || (stat === 'peak' ? p.requests > best : p.requests < best)) best = p.requests;
  }
  return best;
}
