// The live side of metrics: the engine reports each completed request here. Memory is bounded:
// a fixed set of histograms (one per stage x endpoint cell, one for the current second, one cumulative),
// a capped failure table, and one small timeline point per second. Each point keeps its second's
// histogram in the compact form (histogram.ts: encodeCounts, a few hundred bytes), never the histogram
// itself (~180 KB of counts), so that a merge of shards rebuilds every second's percentiles exactly.
// Streamed answers (issue 12) add the cell's StreamStats (metrics/stream-stats.ts) and two per-second
// histograms, only in runs that stream; per-request objectives (goodput) add one count per set to each
// cell, only when the plan has them.

import type { RequestObjectiveSet } from '../plan/types.ts';
import { type Histogram, encodeCounts, maxMs, newHistogram, percentileMs, recordUs } from './histogram.ts';
import { type ErrorKind, type Failure, type Stats, type TimelinePoint, emptyStats } from './result.ts';
import { type StreamSample, emptyStreamStats, recordStream } from './stream-stats.ts';

/** Distinct failure rows kept; more are counted in `failuresNotItemized`. */
const MAX_FAILURE_ROWS = 200;
const SAMPLE_CHARS = 240;

/** What the engine tells the recorder about the plan at a given instant, for timeline points. */
export interface LoadProbe {
  stageAt(elapsedMs: number): number;
  usersAt?(elapsedMs: number): number;
  rateAt?(elapsedMs: number): number;
  inFlight(): number;
}

export interface RecorderOptions {
  /** Requests have intended send times (the open model): keep the send lag and the service time too. */
  sendLag: boolean;
  /** By endpoint: deliberately invalid requests, counted in their cells but kept out of the per-second timeline. */
  invalid?: readonly boolean[];
  /** By endpoint: its responses are streams (EndpointPlan.stream); their cells keep StreamStats. */
  stream?: readonly boolean[];
  /** Per-request objective sets (Plan.requestObjectives): each cell counts the successful requests that met each. */
  requestObjectives?: readonly RequestObjectiveSet[];
}

/** A set's objectives flattened for the hot path: metric code, limit in µs, inclusive. */
const LATENCY = 0;
const TTFT = 1;
const TPOT = 2;
const E2E = 3;
const ITL = 4;
const METRIC_CODE = { latency: LATENCY, ttft: TTFT, tpot: TPOT, e2e: E2E, itl: ITL } as const;
interface CompiledSet {
  id: string;
  metric: number[];
  limitUs: number[];
  inclusive: boolean[];
}

export class Recorder {
  readonly cells: Stats[][];
  readonly timeline: TimelinePoint[] = [];
  readonly sendLag: Histogram | undefined;
  /** Open model: latency from the actual send (the cells measure from the intended send). */
  readonly serviceTime: Histogram | undefined;
  failuresNotItemized = 0;

  private readonly failureRows = new Map<string, Failure>();
  private readonly endpointNames: readonly string[];
  private readonly probe: LoadProbe;
  private readonly second = newHistogram();
  private readonly cumulative = newHistogram();
  private cumulativeSumUs = 0;
  private secondStart = 0; // ms since start of the second being filled
  private secondRequests = 0;
  private secondFailures = 0;
  private secondMaxLagMs = 0;
  private totalRequests = 0;
  private totalFailures = 0;
  // Whole seconds closed since the last progress report.
  private readonly window = newHistogram();
  private windowSeconds = 0;
  private windowRequests = 0;
  private lastWindow: { rps: number; p95: number | null } = { rps: 0, p95: null };

  /** Endpoints whose requests stay out of the per-second timeline (deliberately invalid ones). */
  private readonly apart: readonly boolean[];
  /** Endpoints that stream; null when none does (then nothing of streams is kept or shown). */
  private readonly streaming: readonly boolean[] | null;
  // This second's streamed answers (only when some endpoint streams).
  private readonly secondTtft: Histogram | null;
  private readonly secondItl: Histogram | null;
  private secondStreams = 0;
  private secondOutputTokens = 0;
  private secondOutputChunks = 0;
  /** Per-request objective sets; null when the plan has none (the hot path then skips them). */
  private readonly objectives: CompiledSet[] | null;

  constructor(segmentCount: number, endpointNames: readonly string[], probe: LoadProbe, options: RecorderOptions) {
    const sets = options.requestObjectives ?? [];
    this.cells = Array.from({ length: segmentCount }, () =>
      endpointNames.map(() => {
        const s = emptyStats();
        if (sets.length > 0) s.good = Object.fromEntries(sets.map((set) => [set.id, 0]));
        return s;
      }),
    );
    this.objectives =
      sets.length === 0
        ? null
        : sets.map((set) => ({
            id: set.id,
            metric: set.objectives.map((o) => METRIC_CODE[o.metric]),
            limitUs: set.objectives.map((o) => o.belowMs * 1000),
            inclusive: set.objectives.map((o) => o.inclusive),
          }));
    const streaming = options.stream ?? [];
    this.streaming = streaming.some(Boolean) ? streaming : null;
    this.secondTtft = this.streaming ? newHistogram() : null;
    this.secondItl = this.streaming ? newHistogram() : null;
    this.endpointNames = endpointNames;
    this.apart = options.invalid ?? [];
    this.probe = probe;
    this.sendLag = options.sendLag ? newHistogram() : undefined;
    this.serviceTime = options.sendLag ? newHistogram() : undefined;
  }

  /**
   * A response arrived (any status). `ok` says whether it counts as success; a failed one counts as
   * `failKind` ('status' for its status code, 'bad-response' when its body failed the response check, a
   * stream kind when a streamed answer went wrong). `stream`: a successful streamed answer's metrics.
   */
  response(
    endpoint: number,
    segment: number,
    nowMs: number,
    latencyUs: number,
    bytes: number,
    ok: boolean,
    failKind: ErrorKind = 'status',
    stream?: StreamSample,
  ): void {
    if (nowMs >= this.secondStart + 1000) this.advance(nowMs);
    const cell = this.cells[segment]![endpoint]!;
    cell.requests++;
    cell.bytes += bytes;
    recordUs(cell.latency, latencyUs);
    cell.latencySumUs += latencyUs;
    if (!ok) {
      cell.failures++;
      cell.errors[failKind]++;
    }
    let largestItl = 0;
    if (this.streaming?.[endpoint]) {
      cell.stream ??= emptyStreamStats();
      if (ok && stream !== undefined) {
        largestItl = recordStream(cell.stream, stream);
        if (!this.apart[endpoint]) this.streamSecond(stream);
      }
    }
    if (ok && this.objectives !== null) this.judge(cell, latencyUs, stream, largestItl);
    if (this.apart[endpoint]) return;
    recordUs(this.second, latencyUs);
    this.cumulativeSumUs += latencyUs;
    this.secondRequests++;
    if (!ok) this.secondFailures++;
  }

  /** A request that failed without a usable response; `latencyUs` only for timeouts. */
  transportError(endpoint: number, segment: number, nowMs: number, kind: ErrorKind, latencyUs: number | null): void {
    if (nowMs >= this.secondStart + 1000) this.advance(nowMs);
    const cell = this.cells[segment]![endpoint]!;
    // A stream endpoint's cell says "no stream completed" rather than nothing, even when all failed.
    if (this.streaming?.[endpoint]) cell.stream ??= emptyStreamStats();
    cell.requests++;
    cell.failures++;
    cell.errors[kind]++;
    if (latencyUs !== null) {
      recordUs(cell.latency, latencyUs);
      cell.latencySumUs += latencyUs;
    }
    if (this.apart[endpoint]) return;
    this.secondRequests++;
    this.secondFailures++;
    if (latencyUs !== null) {
      recordUs(this.second, latencyUs);
      this.cumulativeSumUs += latencyUs;
    }
  }

  /** This second's TTFT and ITL histograms and output, from one answer. */
  private streamSecond(a: StreamSample): void {
    recordUs(this.secondTtft!, a.ttft * 1000);
    const gaps = a.itl;
    for (let i = 0; i < gaps.length; i++) recordUs(this.secondItl!, gaps[i]! * 1000);
    this.secondStreams++;
    if (a.outputUnit === 'tokens') this.secondOutputTokens += a.output;
    else this.secondOutputChunks += a.output;
  }

  /**
   * Counts a successful request in `good` for each objective set it met. A metric it does not have (no
   * stream: no TTFT, TPOT, ITL or E2E but its latency; a stream of one unit or one JSON answer: no TPOT;
   * no gaps: no ITL) counts as met. ITL is the request's largest gap.
   */
  private judge(cell: Stats, latencyUs: number, stream: StreamSample | undefined, largestItlMs: number): void {
    const good = cell.good!;
    for (const set of this.objectives!) {
      let met = true;
      for (let k = 0; k < set.metric.length && met; k++) {
        let v: number;
        switch (set.metric[k]) {
          case LATENCY:
            v = latencyUs;
            break;
          case TTFT:
            v = stream ? stream.ttft * 1000 : NaN;
            break;
          case TPOT:
            v = stream ? stream.tpot * 1000 : NaN;
            break;
          case E2E:
            v = stream ? stream.e2e * 1000 : NaN;
            break;
          default:
            v = stream && stream.itl.length > 0 ? largestItlMs * 1000 : NaN;
        }
        if (Number.isNaN(v)) continue;
        met = set.inclusive[k] ? v <= set.limitUs[k]! : v < set.limitUs[k]!;
      }
      if (met) good[set.id] = (good[set.id] ?? 0) + 1;
    }
  }

  /** Itemizes a failure for the failures table (grouped by endpoint, kind and message). */
  failure(endpoint: number, kind: ErrorKind, error: string, nowMs: number, sample?: string): void {
    const key = `${endpoint}\u0000${kind}\u0000${error}`;
    const row = this.failureRows.get(key);
    if (row) {
      row.count++;
      row.lastSeenMs = nowMs;
      return;
    }
    if (this.failureRows.size >= MAX_FAILURE_ROWS) {
      this.failuresNotItemized++;
      return;
    }
    this.failureRows.set(key, {
      endpoint: this.endpointNames[endpoint]!,
      kind,
      error,
      ...(sample !== undefined && sample !== '' ? { sample: sample.slice(0, SAMPLE_CHARS) } : {}),
      count: 1,
      firstSeenMs: nowMs,
      lastSeenMs: nowMs,
    });
  }

  /** Open model: a response's latency from its actual send, µs. */
  service(us: number): void {
    if (this.serviceTime) recordUs(this.serviceTime, us);
  }

  lag(lagMs: number): void {
    if (!this.sendLag) return;
    recordUs(this.sendLag, lagMs * 1000);
    if (lagMs > this.secondMaxLagMs) this.secondMaxLagMs = lagMs;
  }

  get failures(): Failure[] {
    return [...this.failureRows.values()].sort((a, b) => b.count - a.count);
  }

  /** Closes every whole second before `nowMs` (called by a 1 s ticker, and lazily on each record). */
  advance(nowMs: number): void {
    while (nowMs >= this.secondStart + 1000) this.closeSecond(this.secondStart + 1000, 1);
  }

  /** Closes the last, partial second at the end of the run. */
  finish(nowMs: number): void {
    this.advance(nowMs);
    const span = (nowMs - this.secondStart) / 1000;
    if (this.secondRequests > 0 || span >= 0.5) this.closeSecond(nowMs, span);
  }

  /** Requests/s and p95 over the seconds closed since the last call, for a progress line. */
  takeWindow(): { rps: number; p95: number | null; totalRequests: number; totalFailures: number } {
    // No second closed since the last call (progress more often than once a second): say the last figures again.
    if (this.windowSeconds === 0) return { ...this.lastWindow, totalRequests: this.totalRequests, totalFailures: this.totalFailures };
    const out = {
      rps: this.windowRequests / this.windowSeconds,
      p95: percentileMs(this.window, 95),
      totalRequests: this.totalRequests,
      totalFailures: this.totalFailures,
    };
    this.lastWindow = { rps: out.rps, p95: out.p95 };
    this.window.reset();
    this.windowSeconds = 0;
    this.windowRequests = 0;
    return out;
  }

  private closeSecond(endMs: number, spanS: number): void {
    const h = this.second;
    this.cumulative.add(h);
    this.window.add(h);
    this.windowSeconds += spanS;
    this.windowRequests += this.secondRequests;
    this.totalRequests += this.secondRequests;
    this.totalFailures += this.secondFailures;
    const at = endMs - 1; // the plan as it stood at the end of this second
    const point: TimelinePoint = {
      t: Math.round(endMs) / 1000,
      stage: this.probe.stageAt(at),
      ...(this.probe.usersAt ? { users: this.probe.usersAt(at) } : {}),
      ...(this.probe.rateAt ? { targetRate: round3(this.probe.rateAt(at)) } : {}),
      requests: this.secondRequests,
      failures: this.secondFailures,
      p50: percentileMs(h, 50),
      p95: percentileMs(h, 95),
      p99: percentileMs(h, 99),
      max: maxMs(h),
      ...(h.totalCount > 0 ? { histogram: encodeCounts(h) } : {}),
      inFlight: this.probe.inFlight(),
      ...(this.sendLag ? { maxSendLag: round3(this.secondMaxLagMs) } : {}),
      ...(this.secondTtft && this.secondItl
        ? {
            ttftP50: percentileMs(this.secondTtft, 50),
            ttftP99: percentileMs(this.secondTtft, 99),
            itlP50: percentileMs(this.secondItl, 50),
            itlP99: percentileMs(this.secondItl, 99),
            ...(this.secondTtft.totalCount > 0 ? { ttftHistogram: encodeCounts(this.secondTtft), ttftMax: maxMs(this.secondTtft)! } : {}),
            ...(this.secondItl.totalCount > 0 ? { itlHistogram: encodeCounts(this.secondItl), itlMax: maxMs(this.secondItl)! } : {}),
            streams: this.secondStreams,
            outputTokens: this.secondOutputTokens,
            outputChunks: this.secondOutputChunks,
          }
        : {}),
      totalRequests: this.totalRequests,
      totalFailures: this.totalFailures,
      totalP50: percentileMs(this.cumulative, 50),
      totalMean: this.cumulative.totalCount === 0 ? null : round3(this.cumulativeSumUs / this.cumulative.totalCount / 1000),
    };
    if (spanS < 1) {
      point.t = round3(endMs / 1000);
      point.span = round3(spanS);
    }
    this.timeline.push(point);
    h.reset();
    this.secondStart = endMs;
    this.secondRequests = 0;
    this.secondFailures = 0;
    this.secondMaxLagMs = 0;
    if (this.secondTtft && this.secondItl) {
      this.secondTtft.reset();
      this.secondItl.reset();
      this.secondStreams = 0;
      this.secondOutputTokens = 0;
      this.secondOutputChunks = 0;
    }
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
