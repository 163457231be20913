// SLO lines, as people write them, to typed Slo values; and the slos: section that lists them.
//
//   <metric> <op> <value>[unit] [for <objectives>] [in stage <n|name>] [for endpoint <name>] [including warm-up]
//                                                                           [, abort [after <duration>]]
//
//   p99 < 100ms                 p95 <= 250ms in stage 5        p99.9 < 1s for endpoint predict
//   mean < 50ms                 max < 1s                       min >= 1ms
//   error-rate < 0.1%           errors == 0                    errors < 10, abort
//   rps >= 5  (mean over the scope)   peak-rps >= 5 (highest whole second)   min-rps >= 4 (lowest whole second)
//
// Latency needs a unit (us, ms, s, m, h); error-rate takes a percentage (0.1%) or a fraction (0.001);
// throughput is in requests/s (an optional "/s", "rps" or "req/s" suffix). Stages are 1-based or named.
// With a warm-up set for the run, SLOs leave it out unless the line says "including warm-up".
//
// Streamed answers (an endpoint that streams, issue 12), judged over every answer in the scope:
//
//   p99 ttft < 300ms            time to first token: any statistic (p95, median, mean, max, min) before
//   p95 itl < 50ms              inter-token latency: every gap between content events of every answer
//   mean tpot < 30ms            time per output token: (E2E - TTFT) / (output - 1), per answer
//   max e2e < 10s               end to end: send to the end of the stream
//   output-tps >= 100           output tokens per second over the scope (content events, "chunks", when
//                               no server sent usage: the verdict says so); "/s", "tok/s" allowed
//   goodput >= 5/s for ttft < 300ms, tpot < 50ms      requests/s that met every per-request objective
//   attainment >= 99% for ttft < 300ms, tpot < 50ms   the share of the scope's requests that met them
//
// The statistic comes first ("p99 ttft", as one says it); "ttft p99", as report tables head their columns,
// reads the same. Per-request objectives follow "for", separated by commas (or "and"): each is
// latency, ttft, itl (the request's largest gap), tpot or e2e, with < or <= and a duration. A comma
// followed by another objective continues the list; ", abort" after it starts the options as on any line:
//   attainment >= 99% for ttft < 300ms, tpot < 50ms in stage 2, abort after 30s
// A stream SLO (ttft, itl, tpot, e2e, output-tps, or an objective other than latency) needs an endpoint
// that streams: without one the config is refused.

import { ConfigError, type Path, type Reader, describeValue, parseDuration } from './reader.ts';
import { type RegressionObjective, RegressionSyntaxError, isRegressionLine, parseRegressionLine } from './regression.ts';
import type { Comparison, RequestMetric, RequestObjective, RequestObjectiveSet, Slo, SloMetric, StreamMetric } from './types.ts';

export class SloSyntaxError extends Error {
  override readonly name = 'SloSyntaxError';
}

/** An SLO before its stage and endpoint names are matched to the plan. */
export interface ParsedSlo extends Omit<Slo, 'stage' | 'endpoint' | 'excludeWarmup'> {
  stageRef?: string;
  endpointRef?: string;
  includeWarmup: boolean;
}

const OPS: readonly Comparison[] = ['<=', '>=', '==', '!=', '<', '>'];
const METRIC_HELP =
  'p50, p90, p99, p99.9 (any percentile), median, mean, max, min, error-rate, errors, rps, peak-rps, min-rps; ' +
  'for streamed answers a statistic of ttft, itl, tpot or e2e (p99 ttft, mean tpot), output-tps, goodput, attainment';
const LATENCY_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const STREAM_METRICS: Record<string, StreamMetric> = { ttft: 'ttft', itl: 'itl', tpot: 'tpot', e2e: 'e2e', e2el: 'e2e' };
/** Per-request objectives, in the order their canonical text lists them. */
const REQUEST_METRICS: readonly RequestMetric[] = ['latency', 'ttft', 'itl', 'tpot', 'e2e'];
const OBJECTIVE_EXAMPLE = '"attainment >= 99% for ttft < 300ms, tpot < 50ms"';

export function parseSloLine(text: string): ParsedSlo {
  const line = text.trim();
  if (line === '') throw new SloSyntaxError('empty SLO');
  // A metric of one word ("p99") or two ("p99 ttft"); the value stops at a comma, where options begin.
  const word = String.raw`[A-Za-z][\w.()-]*`;
  const m = new RegExp(String.raw`^(${word})(?:\s+(${word}))?\s*(<=|>=|==|!=|=|<|>)\s*([^\s,]+)\s*(.*)$`).exec(line);
  if (!m) {
    const tokens = line.split(/[\s,]+/);
    const op = /^[A-Za-z]/.test(tokens[1] ?? '') ? tokens[2] : tokens[1];
    if (op && !/^[A-Za-z\d]/.test(op) && !OPS.includes(op as Comparison))
      throw new SloSyntaxError(`unknown operator "${op}" (expected one of ${OPS.join(' ')})`);
    throw new SloSyntaxError(`expected "<metric> <operator> <value>", e.g. "p99 < 100ms", got "${line}"`);
  }
  const [, first = '', second, opText = '', valueText = '', rest = ''] = m;
  const metricText = second === undefined ? first : `${first} ${second}`;
  const metric = parseMetric(first, second);
  const op = (opText === '=' ? '==' : opText) as Comparison;
  const threshold = parseThreshold(metric, valueText);
  const clauses = parseClauses(rest.trim(), metric.kind === 'goodput' || metric.kind === 'attainment');
  const { objectives, abortOnFail, abortAfterMs, ...scope } = clauses;
  if (scope.endpointRef !== undefined && metric.kind === 'throughput' && metric.stat !== 'mean') {
    throw new SloSyntaxError(
      `${metricText} cannot be scoped to an endpoint: per-second rates are kept for all endpoints together (use rps)`,
    );
  }
  let full: SloMetric;
  if (metric.kind === 'goodput' || metric.kind === 'attainment') {
    if (!objectives) {
      throw new SloSyntaxError(`${metric.kind} needs the per-request objectives each request is judged by, e.g. ${OBJECTIVE_EXAMPLE}`);
    }
    full = { kind: metric.kind, objectives: objectiveSet(objectives) } as SloMetric;
  } else full = metric as SloMetric;
  return { text: line, metric: full, op, threshold, ...scope, abortOnFail, abortAfterMs };
}

/** The metric without its objectives (goodput and attainment get theirs from the clauses after the value). */
type HeadMetric = Exclude<SloMetric, { kind: 'goodput' } | { kind: 'attainment' }> | { kind: 'goodput' | 'attainment' };

function parseMetric(first: string, second: string | undefined): HeadMetric {
  if (second !== undefined) {
    // "p99 ttft" or "ttft p99": a statistic and a stream metric, in either order.
    const [a, b] = [first.toLowerCase(), second.toLowerCase()];
    const of = STREAM_METRICS[b] ?? STREAM_METRICS[a];
    const statText = STREAM_METRICS[b] ? first : second;
    if (of === undefined || (STREAM_METRICS[a] !== undefined && STREAM_METRICS[b] !== undefined)) {
      throw new SloSyntaxError(`unknown metric "${first} ${second}" (expected ${METRIC_HELP})`);
    }
    const stat = statisticOf(statText);
    if (!stat)
      throw new SloSyntaxError(`unknown statistic "${statText}" of ${of} (expected p99 or any percentile, median, mean, max or min)`);
    return { kind: 'stream', of, ...stat };
  }
  const s = first.toLowerCase();
  const stat = statisticOf(first);
  if (stat) return { kind: 'latency', ...stat };
  const of = STREAM_METRICS[s];
  if (of !== undefined) {
    throw new SloSyntaxError(
      `${of} needs a statistic over the answers, e.g. "p99 ${of} < 300ms" or "mean ${of} < 50ms" ` +
        `(a limit on each request is a per-request objective: ${OBJECTIVE_EXAMPLE})`,
    );
  }
  switch (s) {
    case 'error-rate':
    case 'error_rate':
    case 'failure-rate':
      return { kind: 'error-rate' };
    case 'errors':
    case 'failures':
      return { kind: 'errors' };
    case 'rps':
    case 'throughput':
      return { kind: 'throughput', stat: 'mean' };
    case 'peak-rps':
    case 'max-rps':
      return { kind: 'throughput', stat: 'peak' };
    case 'min-rps':
      return { kind: 'throughput', stat: 'min' };
    case 'output-tps':
    case 'output_tps':
      return { kind: 'output-tps' };
    case 'goodput':
      return { kind: 'goodput' };
    case 'attainment':
    case 'slo-attainment':
      return { kind: 'attainment' };
  }
  throw new SloSyntaxError(`unknown metric "${first}" (expected ${METRIC_HELP})`);
}

/** A statistic over a distribution: a percentile, the median, mean, max or min; null when the word is none of them. */
function statisticOf(t: string): { stat: 'percentile'; percentile: number } | { stat: 'mean' | 'max' | 'min' } | null {
  const s = t.toLowerCase();
  const p = /^p\(?(\d+(?:\.\d+)?)\)?$/.exec(s);
  if (p) {
    const percentile = Number(p[1]);
    if (!(percentile > 0 && percentile <= 100)) throw new SloSyntaxError(`percentile must be above 0 and at most 100, got ${t}`);
    return { stat: 'percentile', percentile };
  }
  switch (s) {
    case 'median':
      return { stat: 'percentile', percentile: 50 };
    case 'mean':
    case 'avg':
    case 'average':
      return { stat: 'mean' };
    case 'max':
      return { stat: 'max' };
    case 'min':
      return { stat: 'min' };
  }
  return null;
}

function parseThreshold(metric: HeadMetric, v: string): number {
  const m = /^(-?\d+(?:\.\d+)?)([a-zµ%/]*)$/i.exec(v);
  if (!m) throw new SloSyntaxError(`expected a number with its unit, e.g. 100ms, got "${v}"`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (n < 0) throw new SloSyntaxError(`a threshold cannot be negative, got "${v}"`);
  switch (metric.kind) {
    case 'latency':
    case 'stream':
      return durationMs(n, unit, v);
    case 'error-rate':
    case 'attainment': {
      const what = metric.kind === 'error-rate' ? 'an error rate' : 'an attainment';
      if (unit === '%') {
        if (n > 100) throw new SloSyntaxError(`${what} is at most 100%, got "${v}"`);
        return n / 100;
      }
      if (unit !== '') throw new SloSyntaxError(`${metric.kind} takes a percentage like 99% or a fraction like 0.99, got "${v}"`);
      if (n > 1) throw new SloSyntaxError(`as a fraction ${what} is at most 1; did you mean ${n}%?`);
      return n;
    }
    case 'errors':
      if (unit !== '') throw new SloSyntaxError(`errors is a count: no unit, got "${v}"`);
      if (!Number.isInteger(n)) throw new SloSyntaxError(`errors is a count: a whole number, got "${v}"`);
      return n;
    case 'throughput':
    case 'goodput':
      if (!['', '/s', 'rps', 'req/s'].includes(unit))
        throw new SloSyntaxError(`${metric.kind} is in requests per second (e.g. 5 or 5/s), got "${v}"`);
      return n;
    case 'output-tps':
      if (!['', '/s', 'tok/s', 'tokens/s', 'tps'].includes(unit))
        throw new SloSyntaxError(`output-tps is in output tokens per second (e.g. 100 or 100/s), got "${v}"`);
      return n;
  }
}

function durationMs(n: number, unit: string, v: string): number {
  if (unit === '') throw new SloSyntaxError(`latency needs a unit: "${v}ms" or "${v}s"?`);
  const f = LATENCY_UNITS[unit];
  if (f === undefined) throw new SloSyntaxError(`unknown latency unit "${unit}" (expected us, ms, s, m or h)`);
  // 1.1 * 1000 is 1100.0000000000002 in floating point: a threshold is exact to the nanosecond.
  return Math.round(n * f * 1e6) / 1e6;
}

interface Clauses {
  stageRef?: string;
  endpointRef?: string;
  includeWarmup: boolean;
  objectives?: RequestObjective[];
  abortOnFail: boolean;
  abortAfterMs: number;
}

const OBJECTIVE_START = /^[A-Za-z][\w-]*\s*(?:<=|>=|==|!=|=|<|>)/;

/** What follows the value: scopes, per-request objectives (goodput, attainment), then options after commas. */
function parseClauses(rest: string, takesObjectives: boolean): Clauses {
  const out: Clauses = { includeWarmup: false, abortOnFail: false, abortAfterMs: 0 };
  const name = String.raw`("[^"]+"|'[^']+'|[^\s,]+)`;
  let s = rest;
  let afterObjective = false;
  let inOptions = false;
  function set(k: 'stageRef' | 'endpointRef', v: string) {
    if (out[k] !== undefined) throw new SloSyntaxError(`the ${k === 'stageRef' ? 'stage' : 'endpoint'} is given twice`);
    out[k] = v.replace(/^(["'])(.*)\1$/, '$2');
  }
  function objective(text: string): string {
    const o = /^([A-Za-z][\w-]*)\s*(<=|>=|==|!=|=|<|>)\s*([^\s,]*)/.exec(text)!;
    out.objectives!.push(parseObjective(o[1]!, o[2]!, o[3]!));
    afterObjective = true;
    return text.slice(o[0].length).trim();
  }
  while (s !== '') {
    const comma = /^,\s*/.exec(s);
    if (comma) {
      const next = s.slice(comma[0].length);
      // After an objective a comma may bring the next one; anything else after a comma is an option.
      if (afterObjective && !inOptions && OBJECTIVE_START.test(next)) {
        s = objective(next);
        continue;
      }
      const opt = /^([^,]*?)\s*(?=,|$)/.exec(next)![1]!;
      const a = /^abort(?:-on-fail)?(?:\s+after\s+(\S+))?$/.exec(opt);
      if (!a) throw new SloSyntaxError(`unknown option "${opt}" (expected "abort" or "abort after 30s")`);
      out.abortOnFail = true;
      if (a[1] !== undefined) {
        const ms = parseDuration(a[1]);
        if (ms === null || ms < 0) throw new SloSyntaxError(`"abort after" takes a duration like 30s, got "${a[1]}"`);
        out.abortAfterMs = ms;
      }
      inOptions = true;
      s = next.slice(opt.length).trim();
      continue;
    }
    const scopes: Array<[RegExp, (hit: RegExpExecArray) => void]> = [
      [new RegExp(`^in\\s+stage\\s+${name}`, 'i'), (hit) => set('stageRef', hit[1]!)],
      [new RegExp(`^(?:for|on)\\s+endpoint\\s+${name}`, 'i'), (hit) => set('endpointRef', hit[1]!)],
      [/^including\s+(?:the\s+)?warm-?up/i, () => (out.includeWarmup = true)],
    ];
    const scope = scopes.map(([re, apply]) => [re.exec(s), apply] as const).find(([hit]) => hit !== null);
    if (scope) {
      scope[1](scope[0]!);
      afterObjective = false;
      s = s.slice(scope[0]![0].length).trim();
      continue;
    }
    const lead = /^(for|and)\s+/i.exec(s);
    const isFor = lead !== null && lead[1]!.toLowerCase() === 'for';
    if (lead && OBJECTIVE_START.test(s.slice(lead[0].length)) && (isFor || afterObjective)) {
      if (isFor) {
        if (!takesObjectives) {
          throw new SloSyntaxError(
            `per-request objectives ("${s.replace(/\s*,\s*abort.*$/i, '')}") belong to goodput and attainment lines, e.g. ${OBJECTIVE_EXAMPLE}`,
          );
        }
        if (out.objectives) throw new SloSyntaxError('the per-request objectives are given twice: list them after one "for", with commas');
        out.objectives = [];
      }
      s = objective(s.slice(lead[0].length));
      continue;
    }
    const expected = takesObjectives
      ? '"for ttft < 300ms, tpot < 50ms", "in stage N", "for endpoint NAME", "including warm-up", or ", abort"'
      : '"in stage N", "for endpoint NAME", "including warm-up", or ", abort"';
    throw new SloSyntaxError(`unexpected "${s}" (expected ${expected})`);
  }
  return out;
}

function parseObjective(metricText: string, op: string, value: string): RequestObjective {
  const m = metricText.toLowerCase();
  const metric: RequestMetric | undefined = m === 'latency' ? 'latency' : STREAM_METRICS[m];
  if (metric === undefined) {
    throw new SloSyntaxError(`unknown per-request objective "${metricText}" (expected latency, ttft, itl, tpot or e2e)`);
  }
  if (op !== '<' && op !== '<=') {
    throw new SloSyntaxError(`a per-request objective is a limit a request stays under: "${metricText} < ${value}" or "<=", not "${op}"`);
  }
  const v = /^(\d+(?:\.\d+)?)([a-zµ]*)$/i.exec(value);
  if (!v) throw new SloSyntaxError(`expected a duration like 300ms after "${metricText} ${op}", got "${value}"`);
  return { metric, belowMs: durationMs(Number(v[1]), (v[2] ?? '').toLowerCase(), value), inclusive: op === '<=' };
}

/** The objectives in canonical order and text, so the same objectives written differently make one set. */
function objectiveSet(list: readonly RequestObjective[]): RequestObjectiveSet {
  const seen = new Set<RequestMetric>();
  for (const o of list) {
    if (seen.has(o.metric)) throw new SloSyntaxError(`${o.metric} is given twice among the per-request objectives`);
    seen.add(o.metric);
  }
  const objectives = [...list].sort((a, b) => REQUEST_METRICS.indexOf(a.metric) - REQUEST_METRICS.indexOf(b.metric));
  return { id: objectives.map(objectiveText).join(', '), objectives };
}

/** "ttft < 300ms", "e2e <= 10s": whole seconds from a second up in s, else ms. */
export function objectiveText(o: RequestObjective): string {
  const v = o.belowMs >= 1000 && o.belowMs % 1000 === 0 ? `${o.belowMs / 1000}s` : `${o.belowMs}ms`;
  return `${o.metric} ${o.inclusive ? '<=' : '<'} ${v}`;
}

/** Whether the SLO judges streamed answers (and so needs an endpoint that streams), and what of them, for messages. */
export function streamNeed(m: SloMetric): string | null {
  if (m.kind === 'stream') return m.of;
  if (m.kind === 'output-tps') return 'output-tps';
  if (m.kind === 'goodput' || m.kind === 'attainment') {
    const o = m.objectives.objectives.find((x) => x.metric !== 'latency');
    return o ? `the objective ${objectiveText(o)}` : null;
  }
  return null;
}

/** The per-request objective sets of the goodput and attainment SLOs, one per distinct id (Plan.requestObjectives). */
export function requestObjectiveSets(slos: readonly Slo[]): RequestObjectiveSet[] {
  const sets = new Map<string, RequestObjectiveSet>();
  for (const s of slos) {
    if ((s.metric.kind === 'goodput' || s.metric.kind === 'attainment') && !sets.has(s.metric.objectives.id)) {
      sets.set(s.metric.objectives.id, s.metric.objectives);
    }
  }
  return [...sets.values()];
}

/** What an SLO is resolved against: the plan's stage and endpoint names, its warm-up, and which endpoints stream. */
export interface SloPlanInfo {
  stageNames: readonly string[];
  endpointNames: readonly string[];
  warmupMs: number;
  /** Per endpoint, whether its answer is a stream; when given, a stream SLO without a streaming endpoint is refused. */
  streaming?: readonly boolean[];
}

/** Matches stage and endpoint references against the plan. Stage numbers are 1-based; names match exactly. */
export function resolveSlo(p: ParsedSlo, plan: SloPlanInfo): Slo {
  const { stageRef, endpointRef, includeWarmup, ...rest } = p;
  const slo: Slo = { ...rest, excludeWarmup: plan.warmupMs > 0 && !includeWarmup };
  if (stageRef !== undefined) {
    const byName = plan.stageNames.indexOf(stageRef);
    const n = /^\d+$/.test(stageRef) ? Number(stageRef) : NaN;
    if (byName >= 0) slo.stage = byName;
    else if (n >= 1 && n <= plan.stageNames.length) slo.stage = n - 1;
    else {
      throw new SloSyntaxError(
        `unknown stage "${stageRef}" (the run has ${plan.stageNames.length} stage${plan.stageNames.length === 1 ? '' : 's'}: ` +
          `1..${plan.stageNames.length}, or by name: ${plan.stageNames.map((x) => `"${x}"`).join(', ')})`,
      );
    }
  }
  if (endpointRef !== undefined) {
    const i = plan.endpointNames.indexOf(endpointRef);
    if (i < 0)
      throw new SloSyntaxError(`unknown endpoint "${endpointRef}" (endpoints: ${plan.endpointNames.map((x) => `"${x}"`).join(', ')})`);
    slo.endpoint = i;
  }
  const need = streamNeed(slo.metric);
  if (need !== null && plan.streaming) {
    // Judged on nothing, the SLO could only fail: say so before the run rather than after it.
    const streams = plan.endpointNames.filter((_, i) => plan.streaming![i]);
    if (slo.endpoint !== undefined && !plan.streaming[slo.endpoint]) {
      throw new SloSyntaxError(
        `${need} is measured on streamed answers, and endpoint "${endpointRef}" does not stream ` +
          `(${streams.length ? `endpoints that stream: ${streams.map((x) => `"${x}"`).join(', ')}` : 'no endpoint streams'})`,
      );
    }
    if (streams.length === 0) {
      throw new SloSyntaxError(
        `${need} is measured on streamed answers, and no endpoint streams (an OpenAI-compatible endpoint such as preset: openai does)`,
      );
    }
  }
  return slo;
}

/**
 * SLOs: a list of lines, or one block of text with a line each (as an action input gives them);
 * blank lines and # comments are skipped. A bad line is named with its file line and what is wrong.
 */
export function readSlos(
  r: Reader,
  v: unknown,
  /** The config file, and the line of a key path in it, so a bad line is named by its file line. */
  cfg: { file?: string; lineOf?: (path: Path) => number | undefined },
  plan: SloPlanInfo,
  /** Regression lines ("p99 regression < 10%", src/plan/regression.ts) land here, apart from the absolute ones. */
  regressions: RegressionObjective[] = [],
): Slo[] {
  if (v === undefined || v === null) return [];
  const items: Array<{ text: string; path: Path; line: number | undefined }> = [];
  if (typeof v === 'string') {
    // A block scalar's content starts on the line after its key.
    const base = cfg.lineOf?.(['slos']);
    v.split('\n').forEach((text, k) => items.push({ text, path: ['slos'], line: base === undefined ? undefined : base + 1 + k }));
  } else {
    r.list(v, ['slos']).forEach((item, i) => {
      if (typeof item !== 'string') r.fail(['slos', i], `expected an SLO line like "p99 < 100ms", got ${describeValue(item)}`);
      items.push({ text: item, path: ['slos', i], line: cfg.lineOf?.(['slos', i]) });
    });
  }
  const slos: Slo[] = [];
  for (const { text, path, line } of items) {
    const t = text.replace(/(^|\s)#.*$/, '').trim();
    if (t === '') continue;
    try {
      if (isRegressionLine(t)) {
        const o = parseRegressionLine(t);
        regressions.push(cfg.file && line !== undefined ? { ...o, source: { file: cfg.file, line } } : o);
        continue;
      }
      const slo = resolveSlo(parseSloLine(t), plan);
      if (cfg.file && line !== undefined) slo.source = { file: cfg.file, line };
      slos.push(slo);
    } catch (e) {
      if (!(e instanceof SloSyntaxError) && !(e instanceof RegressionSyntaxError)) throw e;
      const where = typeof v === 'string' && line !== undefined && cfg.file ? `${cfg.file}:${line} slos` : r.locate(path);
      throw new ConfigError(`${where}: "${t}": ${e.message}`);
    }
  }
  return slos;
}
