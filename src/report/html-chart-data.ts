// The HTML report's chart data: the run's per-second timeline as compact columns, one per series, with the
// latency SLO thresholds over their scope and where the stages start. Pure: RunResult + Verdict in, data out;
// html.ts puts it in the page as JSON, and html-assets/chart.js draws it.

import type { RunResult, TimelinePoint } from '../metrics/result.ts';
import type { SloOutcome, Verdict } from '../verdict/types.ts';
import { round } from '../format.ts';

/** The shortest partial second whose request rate is charted, seconds. */
const MIN_RATE_SPAN = 0.5;

interface Threshold {
  label: string;
  ms: number;
  /** Seconds since the start; `to` null: until the end. */
  from: number;
  to: number | null;
  pass: boolean;
}

export interface ChartData {
  model: 'closed' | 'open';
  /** x: end of each point's interval, seconds since the start. */
  t: number[];
  /** Requests and failures per second (a partial second divided by its span; null when under half a second). */
  rps: Array<number | null>;
  fps: Array<number | null>;
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
  max: Array<number | null>;
  /** Users (closed) or target rate (open). */
  load: Array<number | null>;
  inFlight: number[];
  /** Service CPU % and memory in MiB: only when some point has them. */
  cpu?: Array<number | null>;
  mem?: Array<number | null>;
  /** Monitor commands' values per second (a series each), when configured. Names are untrusted: legend only. */
  monitors?: Array<{ name: string; values: Array<number | null> }>;
  thresholds: Threshold[];
  /** Streamed answers per second (only when the timeline has them): drawn by html-assets/chart.js. */
  stream?: StreamChartData;
  /** Where stages 2.. start, seconds. */
  stages: Array<{ n: number; t: number }>;
  warmup: number;
}

export interface StreamChartData {
  ttftP50: Array<number | null>;
  ttftP99: Array<number | null>;
  itlP50: Array<number | null>;
  itlP99: Array<number | null>;
  /** Percentile SLOs on TTFT and on ITL, over their scope. */
  ttftThresholds: Threshold[];
  itlThresholds: Threshold[];
  /** Output per second, in tokens when the points have them, else in chunks; absent when neither. */
  output?: Array<number | null>;
  outputUnit?: 'tokens' | 'chunks';
}

/** The timeline as chart columns, compact (3 significant digits for latencies). */
export function chartData(r: RunResult, v: Verdict): ChartData {
  const tl = r.timeline;
  // A partial last second is a rate over its span; under half a second (requests that finished while the
  // run drained) the rate is noise (4 answers in 30 ms draw a 130 req/s spike): left out, a gap.
  const rate = (n: number, p: TimelinePoint): number | null => {
    const span = p.span ?? 1;
    return span < MIN_RATE_SPAN ? null : round(n / span, 3);
  };
  const hasCpu = tl.some((p) => p.cpuPercent !== undefined);
  const hasMem = tl.some((p) => p.memoryBytes !== undefined);
  const data: ChartData = {
    model: r.load.model,
    t: tl.map((p) => p.t),
    rps: tl.map((p) => rate(p.requests, p)),
    fps: tl.map((p) => rate(p.failures, p)),
    p50: tl.map((p) => sig(p.p50)),
    p95: tl.map((p) => sig(p.p95)),
    p99: tl.map((p) => sig(p.p99)),
    max: tl.map((p) => sig(p.max)),
    load: tl.map((p) => (r.load.model === 'closed' ? (p.users ?? null) : (p.targetRate ?? null))),
    inFlight: tl.map((p) => p.inFlight),
    thresholds: [],
    stages: r.stages.slice(1).map((s) => ({ n: s.index + 1, t: s.startMs / 1000 })),
    warmup: r.warmupMs / 1000,
  };
  if (hasCpu) data.cpu = tl.map((p) => (p.cpuPercent === undefined ? null : round(p.cpuPercent, 1)));
  if (hasMem) data.mem = tl.map((p) => (p.memoryBytes === undefined ? null : round(p.memoryBytes / 1048576, 1)));
  const named = (r.monitors ?? []).map((m) => m.name).filter((name) => tl.some((p) => p.monitors?.[name] !== undefined));
  if (named.length) data.monitors = named.map((name) => ({ name, values: tl.map((p) => p.monitors?.[name] ?? null) }));
  for (const o of v.outcomes) {
    const m = o.slo.metric;
    if (m.kind !== 'latency' || m.stat !== 'percentile') continue;
    data.thresholds.push(threshold(r, o));
  }
  const stream = streamChartData(r, v);
  if (stream) data.stream = stream;
  return data;
}

function threshold(r: RunResult, o: SloOutcome): Threshold {
  const st = o.slo.stage !== undefined ? r.stages[o.slo.stage] : undefined;
  let from = st ? st.startMs / 1000 : 0;
  if (o.slo.excludeWarmup) from = Math.max(from, r.warmupMs / 1000);
  return { label: `SLO ${o.slo.text}`, ms: o.slo.threshold, from, to: st ? st.endMs / 1000 : null, pass: o.pass };
}

/** TTFT and ITL per second with their percentile SLOs, and output per second; null when the timeline has no stream fields. */
function streamChartData(r: RunResult, v: Verdict): StreamChartData | null {
  const tl = r.timeline;
  if (!tl.some((p) => p.ttftP50 !== undefined || p.itlP50 !== undefined)) return null;
  const lines = (of: 'ttft' | 'itl') =>
    v.outcomes
      .filter((o) => o.slo.metric.kind === 'stream' && o.slo.metric.of === of && o.slo.metric.stat === 'percentile')
      .map((o) => threshold(r, o));
  const out: StreamChartData = {
    ttftP50: tl.map((p) => sig(p.ttftP50 ?? null)),
    ttftP99: tl.map((p) => sig(p.ttftP99 ?? null)),
    itlP50: tl.map((p) => sig(p.itlP50 ?? null)),
    itlP99: tl.map((p) => sig(p.itlP99 ?? null)),
    ttftThresholds: lines('ttft'),
    itlThresholds: lines('itl'),
  };
  // Tokens when the servers sent usage, else chunks: one unit for the whole chart, never a mix.
  const unit = tl.some((p) => (p.outputTokens ?? 0) > 0) ? 'tokens' : tl.some((p) => (p.outputChunks ?? 0) > 0) ? 'chunks' : null;
  if (unit) {
    out.outputUnit = unit;
    out.output = tl.map((p) => {
      const span = p.span ?? 1;
      const n = unit === 'tokens' ? p.outputTokens : p.outputChunks;
      return span < MIN_RATE_SPAN || n === undefined ? null : round(n / span, 3);
    });
  }
  return out;
}

/** A latency for the charts: 3 significant figures, at most 3 decimals. */
function sig(x: number | null): number | null {
  if (x === null) return null;
  if (x >= 100) return Math.round(x);
  if (x >= 10) return round(x, 1);
  if (x >= 1) return round(x, 2);
  return round(x, 3);
}
