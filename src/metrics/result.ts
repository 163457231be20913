// RunResult: everything later stages (SLOs, reports, merging, baselines) need from one run.
// In memory it holds live histograms; `serializeRunResult` / `parseRunResult` round-trip it through JSON
// without loss. Statistics are kept per (stage, endpoint) cell and merged on demand.

import {
  type Histogram,
  type SerializedHistogram,
  deserializeHistogram,
  mergeHistograms,
  newHistogram,
  serializeHistogram,
} from './histogram.ts';
import type { ClosedLoad, EndpointPlan, MonitorPlan, OpenLoad } from '../plan/types.ts';
import type { PlanRecord } from '../plan/fingerprint.ts';
import type { ResourceSource } from '../service/watch.ts';
import type { ServiceRecord } from '../service/exit-watch.ts';
import type { GeneratorInfo } from './generator.ts';
import type { Environment } from './environment.ts';
import {
  type SerializedStreamStats,
  type StreamStats,
  deserializeStreamStats,
  mergeStreamStats,
  serializeStreamStats,
} from './stream-stats.ts';

export type { ServiceRecord } from '../service/exit-watch.ts';

export const RESULT_FORMAT_VERSION = 1;

/**
 * How a request failed. The stream kinds are a streamed answer that went wrong after its head: an error
 * object in the stream, a stream cut before `data: [DONE]`, or a stream with no generated text.
 */
export const ERROR_KINDS = [
  'status',
  'timeout',
  'refused',
  'reset',
  'bad-response',
  'stream-error',
  'stream-cut',
  'stream-empty',
  'other',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface Stats {
  /** Completed requests: successes and failures. */
  requests: number;
  failures: number;
  errors: Record<ErrorKind, number>;
  /** Response body bytes received. */
  bytes: number;
  /**
   * Latency in µs of requests that got a response (any status) or timed out. Connection errors
   * (refused, reset, bad response) have no meaningful latency and are only counted.
   */
  latency: Histogram;
  /** Exact sum of the recorded latencies in µs, for an exact mean. */
  latencySumUs: number;
  /** Streamed answers (an endpoint with `stream`): TTFT, ITL, TPOT, E2E and output (issue 12). */
  stream?: StreamStats;
  /** Per-request objective set id (Plan.requestObjectives) -> successful requests that met every objective in it. */
  good?: Record<string, number>;
}

export interface Failure {
  endpoint: string;
  kind: ErrorKind;
  /** What went wrong, short: "HTTP 503", "timeout after 5000 ms", "connect ECONNREFUSED". */
  error: string;
  /** First bytes of a failing response body, when there was one. */
  sample?: string;
  count: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** One second of the run, by completion time. Latencies in ms, null when nothing completed. */
export interface TimelinePoint {
  /** Seconds since the start: this point covers [t - span, t). */
  t: number;
  /** Seconds covered, when less than one: only the run's last, partial second. */
  span?: number;
  stage: number;
  /** Planned users (closed model) or planned request rate (open model) at the end of the second. */
  users?: number;
  targetRate?: number;
  requests: number;
  failures: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /**
   * This second's latency histogram (the counts behind p50 to max), in the compact form of histogram.ts
   * (encodeCounts); absent when nothing completed with a latency, and in results written before it existed.
   */
  histogram?: string;
  /** Requests in flight at the end of the second. */
  inFlight: number;
  /** Open model: how late requests left, at most, in this second (ms after their intended time). */
  maxSendLag?: number;
  /**
   * Streamed answers (runs with a stream endpoint): TTFT and ITL percentiles of the answers completed in
   * this second (ms, null when none completed), the answers themselves, and their output in tokens (answers
   * with usage) and in chunks (answers without), apart.
   */
  ttftP50?: number | null;
  ttftP99?: number | null;
  itlP50?: number | null;
  itlP99?: number | null;
  /**
   * This second's TTFT and ITL histograms in the compact form (histogram.ts: encodeCounts) and their exact
   * largest values (ms), so that a merge of shards gives the same percentiles as one run; absent for a
   * second without streamed answers (or gaps).
   */
  ttftHistogram?: string;
  ttftMax?: number;
  itlHistogram?: string;
  itlMax?: number;
  streams?: number;
  outputTokens?: number;
  outputChunks?: number;
  /** Cumulative totals up to the end of this second (locust's stats_history "Total" columns). */
  totalRequests: number;
  totalFailures: number;
  totalP50: number | null;
  totalMean: number | null;
  /** Resource samples of the service, when it is watched (added by the service layer). */
  cpuPercent?: number;
  memoryBytes?: number;
  /** The last value each monitor command printed by the end of this second. */
  monitors?: Record<string, number>;
}

/** How the service's CPU and memory were watched, and what they peaked at. */
export interface ResourceInfo {
  source: ResourceSource;
  /** For a container: read from its cgroup, or asked of the engine (`docker stats`) where the cgroup is not on this host. */
  via?: 'cgroup' | 'engine stats';
  samples: number;
  /** Percent of one core (200 = two cores). */
  peakCpuPercent?: number;
  meanCpuPercent?: number;
  peakMemoryBytes?: number;
  /** Why sampling failed, when it did. */
  problem?: string;
}

/** A monitor command (a number sampled every N seconds, e.g. ready replicas) and what it printed. */
export interface MonitorInfo extends Pick<MonitorPlan, 'name' | 'command' | 'everyMs'> {
  samples: number;
  failures: number;
  lastError?: string;
  first?: number;
  last?: number;
  min?: number;
  max?: number;
}

export interface StageInfo {
  index: number;
  name: string;
  /** Planned span in ms since the start. */
  startMs: number;
  endMs: number;
  users?: number;
  spawnRate?: number;
  rate?: number;
  ramp?: boolean;
}

/** A span of one stage; the warm-up instant splits a stage in two. Statistics are kept per segment. */
export interface SegmentInfo {
  index: number;
  stage: number;
  startMs: number;
  endMs: number;
  /** Inside the warm-up window: left out of statistics that exclude the warm-up. */
  warmup: boolean;
}

/**
 * An endpoint as the engine received it. Role 'invalid': deliberately invalid requests, left out of
 * totals and SLOs unless named.
 */
export type EndpointInfo = Pick<EndpointPlan, 'name' | 'method' | 'path' | 'role'>;

/**
 * `not-started`: the service never reached the load (nothing measured; `reason` says why). `invalid`: the
 * load ran, but the generator was the limit (generator.limits say why): it did not measure the service.
 */
export type RunStatus = 'completed' | 'interrupted' | 'aborted' | 'not-started' | 'invalid';

/** What an endpoint sent: where its request bodies came from (added by the run, from the resolved endpoints). */
export interface RequestBodies {
  endpoint: string;
  kind: 'none' | 'fixed' | 'file' | 'generated';
  /** "generated from GET http://.../metadata: input_schema", a replay file's path, "the body in the config". */
  source: string;
  /** The preset that located the schema, e.g. "rest-model-service, model insurance_charges_model". */
  preset?: string;
  /** Distinct bodies, sent in turn. */
  count: number;
  /** The seed they were generated with (generated bodies). */
  seed?: number;
  meanBytes: number;
  /** The first body, cut at 1000 characters. */
  example?: string;
}

export interface RunResult {
  formatVersion: number;
  tool: { name: string; version: string };
  startedAt: string;
  /** Measured duration of the load phase, ms. */
  durationMs: number;
  status: RunStatus;
  /** Why the run did not complete, when it did not. */
  reason?: string;
  /** The SLO (as written) whose failure stopped the run early, when one did. */
  abortedBy?: string;
  /** The service under test and, if it died during the load, when and how (added by the run, not the engine). */
  service?: ServiceRecord;
  target: { baseUrl: string };
  /** The load model and its setting; the stages are in `stages`. */
  load: Omit<ClosedLoad, 'stages'> | Omit<OpenLoad, 'stages'>;
  timeoutMs: number;
  seed: number;
  stages: StageInfo[];
  /** The first this many ms are warm-up (0: none). */
  warmupMs: number;
  segments: SegmentInfo[];
  endpoints: EndpointInfo[];
  /** cells[segment][endpoint]: requests counted by the segment they were sent (or due) in. */
  cells: Stats[][];
  failures: Failure[];
  /** Failures not itemized because the list reached its cap (they are still counted in stats). */
  failuresNotItemized: number;
  timeline: TimelinePoint[];
  /** Open model: requests that were due but could not be sent before the run ended. */
  unsent: number;
  /** Open model: requests sent late because every connection was busy (maxInFlight reached). */
  delayedByCap: number;
  /** Open model: how late requests left their intended time, µs. */
  sendLag?: Histogram;
  /**
   * Open model: latency from the actual send, µs, for responses (any status). `cells` measure from the
   * intended send (so a stall shows); this one leaves out the generator's own timer lag.
   */
  serviceTime?: Histogram;
  /** The generator's own CPU use over the load phase, as a share of one core (1 = 100%). */
  generatorCpu: number;
  /** The generator's own figures, and why it was the limit when it was (status `invalid`). */
  generator?: GeneratorInfo;
  /** Where the run ran: machine, OS, CI runner, versions, the service's image, CPU steal. */
  environment?: Environment;
  /** The service's CPU and memory, when it was watched (a command or a container loadgate started). */
  resources?: ResourceInfo;
  /** Monitor commands, when configured. */
  monitors?: MonitorInfo[];
  /** Per endpoint, in `endpoints` order: what it sent (added by the run). */
  requestBodies?: RequestBodies[];
  /** The plan's fingerprint and SLOs, and the shard this is (or the shards a merge was made of): src/plan/fingerprint.ts. */
  plan?: PlanRecord;
  /** Wall-clock end of the load (startedAt plus the measured duration), added by the run. */
  endedAt?: string;
  /** A merge: where each shard ran, in shard order (src/metrics/merge.ts). */
  shardMachines?: ShardMachine[];
}

/** One shard of a merge: its generator's figures and the machine it ran on, so the reports show where each part ran. */
export interface ShardMachine {
  index: number;
  count: number;
  generatorCpu: number;
  generator?: GeneratorInfo;
  environment?: Environment;
}

/** Every error kind at 0 (no histogram built, unlike emptyStats). */
function zeroErrors(): Record<ErrorKind, number> {
  return Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>;
}

export function emptyStats(): Stats {
  return {
    requests: 0,
    failures: 0,
    errors: zeroErrors(),
    bytes: 0,
    latency: newHistogram(),
    latencySumUs: 0,
  };
}

export function mergeStats(list: readonly Stats[]): Stats {
  const out = emptyStats();
  out.latency = mergeHistograms(list.map((s) => s.latency));
  for (const s of list) {
    out.requests += s.requests;
    out.failures += s.failures;
    out.bytes += s.bytes;
    out.latencySumUs += s.latencySumUs;
    for (const k of ERROR_KINDS) out.errors[k] += s.errors[k];
  }
  const streams = list.flatMap((s) => (s.stream ? [s.stream] : []));
  if (streams.length > 0) out.stream = mergeStreamStats(streams);
  if (list.some((s) => s.good)) {
    const good: Record<string, number> = {};
    for (const s of list) for (const [id, n] of Object.entries(s.good ?? {})) good[id] = (good[id] ?? 0) + n;
    out.good = good;
  }
  return out;
}

export interface Scope {
  stage?: number;
  endpoint?: number;
  /** Leave out requests sent during the warm-up. */
  excludeWarmup?: boolean;
  /** Count deliberately invalid requests too (they are left out unless the scope names their endpoint). */
  includeInvalid?: boolean;
}

/** Stats for a scope: the whole run, one stage, one endpoint, or one stage of one endpoint; with or without the warm-up. */
export function statsFor(r: RunResult, scope: Scope = {}): Stats {
  const picked: Stats[] = [];
  r.cells.forEach((row, si) => {
    const seg = r.segments[si]!;
    if (scope.stage !== undefined && scope.stage !== seg.stage) return;
    if (scope.excludeWarmup && seg.warmup) return;
    row.forEach((cell, ei) => {
      if (scope.endpoint !== undefined && scope.endpoint !== ei) return;
      if (scope.endpoint === undefined && !scope.includeInvalid && r.endpoints[ei]?.role === 'invalid') return;
      picked.push(cell);
    });
  });
  return mergeStats(picked);
}

/** Mean latency in ms, or null when nothing was recorded. */
export function meanMs(s: Stats): number | null {
  return s.latency.totalCount === 0 ? null : s.latencySumUs / s.latency.totalCount / 1000;
}

// ---- JSON ----

type SerializedStats = Omit<Stats, 'latency' | 'stream'> & { latency: SerializedHistogram; stream?: SerializedStreamStats };
type SerializedRunResult = Omit<RunResult, 'cells' | 'sendLag' | 'serviceTime'> & {
  cells: SerializedStats[][];
  sendLag?: SerializedHistogram;
  serviceTime?: SerializedHistogram;
};

export function toSerializable(r: RunResult): SerializedRunResult {
  const { sendLag, serviceTime, cells, ...rest } = r;
  return {
    ...rest,
    cells: cells.map((row) =>
      row.map(({ stream, ...s }) => ({
        ...s,
        latency: serializeHistogram(s.latency),
        ...(stream ? { stream: serializeStreamStats(stream) } : {}),
      })),
    ),
    ...(sendLag ? { sendLag: serializeHistogram(sendLag) } : {}),
    ...(serviceTime ? { serviceTime: serializeHistogram(serviceTime) } : {}),
  };
}

export function serializeRunResult(r: RunResult): string {
  return JSON.stringify(toSerializable(r));
}

export function parseRunResult(json: string): RunResult {
  const raw = JSON.parse(json) as SerializedRunResult & { formatVersion?: unknown };
  if (raw.formatVersion !== RESULT_FORMAT_VERSION) {
    throw new Error(`unsupported result format version ${String(raw.formatVersion)} (expected ${RESULT_FORMAT_VERSION})`);
  }
  const { sendLag, serviceTime, cells, ...rest } = raw;
  return {
    ...rest,
    // A result written before the stream error kinds existed lacks them: they count 0.
    cells: cells.map((row) =>
      row.map(({ stream, ...s }) => ({
        ...s,
        errors: { ...zeroErrors(), ...s.errors },
        latency: deserializeHistogram(s.latency),
        ...(stream ? { stream: deserializeStreamStats(stream) } : {}),
      })),
    ),
    ...(sendLag ? { sendLag: deserializeHistogram(sendLag) } : {}),
    ...(serviceTime ? { serviceTime: deserializeHistogram(serviceTime) } : {}),
  };
}
