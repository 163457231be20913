// SLO lines, as people write them, to typed Slo values; and the slos: section that lists them.
//
//   <metric> <op> <value>[unit] [in stage <n|name>] [for endpoint <name>] [including warm-up] [, abort [after <duration>]]
//
//   p99 < 100ms                 p95 <= 250ms in stage 5        p99.9 < 1s for endpoint predict
//   mean < 50ms                 max < 1s                       min >= 1ms
//   error-rate < 0.1%           errors == 0                    errors < 10, abort
//   rps >= 5  (mean over the scope)   peak-rps >= 5 (highest whole second)   min-rps >= 4 (lowest whole second)
//
// Latency needs a unit (us, ms, s, m, h); error-rate takes a percentage (0.1%) or a fraction (0.001);
// throughput is in requests/s (an optional "/s", "rps" or "req/s" suffix). Stages are 1-based or named.
// With a warm-up set for the run, SLOs leave it out unless the line says "including warm-up".

import { ConfigError, type Path, type Reader, describeValue, parseDuration } from './reader.ts';
import { type RegressionObjective, RegressionSyntaxError, isRegressionLine, parseRegressionLine } from './regression.ts';
import type { Comparison, Slo, SloMetric } from './types.ts';

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
const METRIC_HELP = 'p50, p90, p99, p99.9 (any percentile), median, mean, max, min, error-rate, errors, rps, peak-rps, min-rps';
const LATENCY_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseSloLine(text: string): ParsedSlo {
  const line = text.trim();
  if (line === '') throw new SloSyntaxError('empty SLO');
  // Options after a comma: "abort", "abort after 30s".
  const [head = '', ...opts] = line.split(',').map((s) => s.trim());
  const m = /^([A-Za-z][\w.()-]*)\s*(<=|>=|==|!=|=|<|>)\s*(\S+)\s*(.*)$/.exec(head);
  if (!m) {
    const op = /^\S+\s+(\S+)/.exec(head)?.[1];
    if (op && !OPS.includes(op as Comparison)) throw new SloSyntaxError(`unknown operator "${op}" (expected one of ${OPS.join(' ')})`);
    throw new SloSyntaxError(`expected "<metric> <operator> <value>", e.g. "p99 < 100ms", got "${line}"`);
  }
  const [, metricText = '', opText = '', valueText = '', rest = ''] = m;
  const metric = parseMetric(metricText);
  const op = (opText === '=' ? '==' : opText) as Comparison;
  const threshold = parseThreshold(metric, valueText);
  const scope = parseScope(rest.trim());
  if (scope.endpointRef !== undefined && metric.kind === 'throughput' && metric.stat !== 'mean') {
    throw new SloSyntaxError(
      `${metricText} cannot be scoped to an endpoint: per-second rates are kept for all endpoints together (use rps)`,
    );
  }
  let abortOnFail = false;
  let abortAfterMs = 0;
  for (const o of opts) {
    const a = /^abort(?:-on-fail)?(?:\s+after\s+(\S+))?$/.exec(o);
    if (!a) throw new SloSyntaxError(`unknown option "${o}" (expected "abort" or "abort after 30s")`);
    abortOnFail = true;
    if (a[1] !== undefined) {
      const ms = parseDuration(a[1]);
      if (ms === null || ms < 0) throw new SloSyntaxError(`"abort after" takes a duration like 30s, got "${a[1]}"`);
      abortAfterMs = ms;
    }
  }
  return { text: line, metric, op, threshold, ...scope, abortOnFail, abortAfterMs };
}

function parseMetric(t: string): SloMetric {
  const s = t.toLowerCase();
  const p = /^p\(?(\d+(?:\.\d+)?)\)?$/.exec(s);
  if (p) {
    const percentile = Number(p[1]);
    if (!(percentile > 0 && percentile <= 100)) throw new SloSyntaxError(`percentile must be above 0 and at most 100, got ${t}`);
    return { kind: 'latency', stat: 'percentile', percentile };
  }
  switch (s) {
    case 'median':
      return { kind: 'latency', stat: 'percentile', percentile: 50 };
    case 'mean':
    case 'avg':
    case 'average':
      return { kind: 'latency', stat: 'mean' };
    case 'max':
      return { kind: 'latency', stat: 'max' };
    case 'min':
      return { kind: 'latency', stat: 'min' };
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
  }
  throw new SloSyntaxError(`unknown metric "${t}" (expected ${METRIC_HELP})`);
}

function parseThreshold(metric: SloMetric, v: string): number {
  const m = /^(-?\d+(?:\.\d+)?)([a-zµ%/]*)$/i.exec(v);
  if (!m) throw new SloSyntaxError(`expected a number with its unit, e.g. 100ms, got "${v}"`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (n < 0) throw new SloSyntaxError(`a threshold cannot be negative, got "${v}"`);
  switch (metric.kind) {
    case 'latency': {
      if (unit === '') throw new SloSyntaxError(`latency needs a unit: "${v}ms" or "${v}s"?`);
      const f = LATENCY_UNITS[unit];
      if (f === undefined) throw new SloSyntaxError(`unknown latency unit "${unit}" (expected us, ms, s, m or h)`);
      return n * f;
    }
    case 'error-rate': {
      if (unit === '%') {
        if (n > 100) throw new SloSyntaxError(`an error rate is at most 100%, got "${v}"`);
        return n / 100;
      }
      if (unit !== '') throw new SloSyntaxError(`error-rate takes a percentage like 0.1% or a fraction like 0.001, got "${v}"`);
      if (n > 1) throw new SloSyntaxError(`as a fraction an error rate is at most 1; did you mean ${n}%?`);
      return n;
    }
    case 'errors':
      if (unit !== '') throw new SloSyntaxError(`errors is a count: no unit, got "${v}"`);
      if (!Number.isInteger(n)) throw new SloSyntaxError(`errors is a count: a whole number, got "${v}"`);
      return n;
    case 'throughput':
      if (!['', '/s', 'rps', 'req/s'].includes(unit))
        throw new SloSyntaxError(`throughput is in requests per second (e.g. 5 or 5/s), got "${v}"`);
      return n;
  }
}

function parseScope(rest: string): Pick<ParsedSlo, 'stageRef' | 'endpointRef' | 'includeWarmup'> {
  const out: Pick<ParsedSlo, 'stageRef' | 'endpointRef' | 'includeWarmup'> = { includeWarmup: false };
  let s = rest;
  const word = String.raw`("[^"]+"|'[^']+'|\S+)`;
  const patterns: Array<[RegExp, (v: string) => void]> = [
    [new RegExp(`^in\\s+stage\\s+${word}`, 'i'), (v) => set('stageRef', v)],
    [new RegExp(`^(?:for|on)\\s+endpoint\\s+${word}`, 'i'), (v) => set('endpointRef', v)],
    [/^including\s+(?:the\s+)?warm-?up/i, () => (out.includeWarmup = true)],
  ];
  function set(k: 'stageRef' | 'endpointRef', v: string) {
    if (out[k] !== undefined) throw new SloSyntaxError(`the ${k === 'stageRef' ? 'stage' : 'endpoint'} is given twice`);
    out[k] = v.replace(/^(["'])(.*)\1$/, '$2');
  }
  while (s !== '') {
    const hit = patterns.find(([re]) => re.test(s));
    if (!hit) {
      throw new SloSyntaxError(`unexpected "${s}" (expected "in stage N", "for endpoint NAME", "including warm-up", or ", abort")`);
    }
    const mm = hit[0].exec(s)!;
    hit[1](mm[1] ?? '');
    s = s.slice(mm[0].length).trim();
  }
  return out;
}

/** Matches stage and endpoint references against the plan. Stage numbers are 1-based; names match exactly. */
export function resolveSlo(p: ParsedSlo, plan: { stageNames: readonly string[]; endpointNames: readonly string[]; warmupMs: number }): Slo {
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
  plan: { stageNames: readonly string[]; endpointNames: readonly string[]; warmupMs: number },
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
