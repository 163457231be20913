// Shards' results merged into the result one run with the combined load would have produced. HDR
// histograms add exactly (same buckets, counts summed, exact min and max kept), so every statistic
// drawn from the cells is exact: counts are sums, percentiles come from the merged histograms.
//
//   cells[segment][endpoint]   mergeStats of the shards' cells (requests, failures, errors, bytes, latency sum, histogram)
//   failures                   rows with the same endpoint, kind and message add up (first seen: the earliest,
//                              last seen: the latest); past 200 rows (the recorder's cap) the rest are counted
//                              as not itemized, the earliest seen kept
//   unsent, delayedByCap, ...  sums; sendLag and serviceTime histograms merged
//   stages                     users, spawn rate and rate summed (the shards' shares add up to the plan's)
//   timeline                   by second since the earliest shard's start (each shard's seconds shifted by
//                              its own start after that one, rounded to whole seconds: 0 for shards that
//                              started together): requests, failures, users, target rate, in flight, CPU
//                              and memory summed; max and max send lag the largest; cumulative totals
//                              recomputed. p50, p95, p99 from the sum of the shards' per-second histograms
//                              (TimelinePoint.histogram), and totalP50 from the running sum of those: exact.
//                              totalMean is the shards' running means weighted by their latency counts
//                              (within 1 µs: each is rounded to it). A result without per-second histograms
//                              (written before they existed) still merges: its seconds' percentiles are then
//                              the request-weighted mean of the shards' (between their lowest and highest),
//                              and plan.estimated names the fields that are estimates. Streamed answers:
//                              streams, output tokens and chunks summed; TTFT and ITL percentiles from the
//                              sum of the shards' per-second histograms (ttftHistogram, itlHistogram), exact,
//                              or for results without them weighted by streams and named in plan.estimated
//   status                     the worst (invalid, aborted, interrupted, completed); each shard's start
//                              offset, duration, status and target are kept in plan.shards
//   generatorCpu               the busiest generator's (it says whether a generator was the bottleneck);
//                              each shard's generator and environment records are kept in shardMachines
//   resources, monitors        the first shard's that has them (each shard watched what it could see)
//   requestBodies              per endpoint: the shards' distinct bodies added up (their parts partition the
//                              plan's), the mean size weighted by them, the first shard's example
//
// Results of different plans (fingerprints), of different splits, or the same shard twice are refused.

import { type Histogram, addEncodedCounts, encodeCounts, mergeHistograms, newHistogram, percentileMs, setMaxUs } from './histogram.ts';
import {
  type Failure,
  type RequestBodies,
  type RunResult,
  type RunStatus,
  type ShardMachine,
  type StageInfo,
  type TimelinePoint,
  mergeStats,
} from './result.ts';
import type { MergedShard, PlanRecord } from '../plan/fingerprint.ts';
import { shardLabel } from '../plan/shard.ts';

export class MergeError extends Error {
  override readonly name = 'MergeError';
}

/** As the recorder keeps them (src/metrics/recorder.ts). */
const MAX_FAILURE_ROWS = 200;

/** The timeline fields a merge of several results estimates when a result has no per-second histograms. */
export const ESTIMATED_TIMELINE_FIELDS = ['p50', 'p95', 'p99', 'totalP50', 'totalMean'] as const;
/** The timeline fields a merge of several results estimates when every result has them: the running mean, within 1 µs. */
export const ROUNDED_TIMELINE_FIELDS = ['totalMean'] as const;
/** The same for runs with streamed answers, when a result has no per-second TTFT and ITL histograms. */
export const ESTIMATED_STREAM_TIMELINE_FIELDS = ['ttftP50', 'ttftP99', 'itlP50', 'itlP99'] as const;

// A shard whose generator was the limit did not measure its part of the service: the whole did not either.
const WORSE: Record<RunStatus, number> = { completed: 0, interrupted: 1, aborted: 2, invalid: 3, 'not-started': 4 };

/** Merges shards' results; `from` names each (its folder), for messages and the record. */
export function mergeResults(results: readonly RunResult[], from: readonly string[] = results.map((_, k) => `result ${k + 1}`)): RunResult {
  if (results.length === 0) throw new MergeError('nothing to merge');
  const shards = checkMergeable(results, from);
  const order = shards.map((_, k) => k).sort((a, b) => shards[a]!.index - shards[b]!.index);
  const rs = order.map((k) => results[k]!);
  const parts = order.map((k) => shards[k]!);
  const names = order.map((k) => from[k]!);
  const first = rs[0]!;
  // A shard that never reached the load measured nothing: it is named (plan.shards), not added.
  const measured = rs.filter((r) => r.status !== 'not-started');
  const base = measured[0] ?? first;
  const starts = rs.map((r) => Date.parse(r.startedAt));
  const t0 = Math.min(...(measured.length > 0 ? measured : rs).map((r) => Date.parse(r.startedAt)));
  const several = rs.length > 1;
  // Seconds since the earliest shard's start: a shard that started d s later fills second k + round(d).
  const shifts = starts.map((s, k) => (rs[k]!.status === 'not-started' ? 0 : Math.round((s - t0) / 1000)));
  const exact = rs.every((r) => hasSecondHistograms(r.timeline));

  const record: PlanRecord = {
    fingerprint: first.plan!.fingerprint,
    slos: first.plan!.slos,
    shards: rs.map(
      (r, k): MergedShard => ({
        index: parts[k]!.index,
        count: parts[k]!.count,
        from: names[k]!,
        startedAt: r.startedAt,
        startOffsetMs: r.status === 'not-started' ? 0 : starts[k]! - t0,
        durationMs: r.durationMs,
        status: r.status,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        target: r.target.baseUrl,
        plannedMs: r.stages[r.stages.length - 1]?.endMs ?? 0,
        ...(r.plan?.startAt !== undefined ? { startAt: r.plan.startAt } : {}),
        ...(shifts[k]! !== 0 ? { shiftS: shifts[k]! } : {}),
      }),
    ),
    ...(several
      ? {
          estimated: [
            ...(exact ? ROUNDED_TIMELINE_FIELDS : ESTIMATED_TIMELINE_FIELDS),
            ...(rs.some((r) => r.timeline.some((p) => p.streams !== undefined)) && !rs.every((r) => hasStreamHistograms(r.timeline))
              ? ESTIMATED_STREAM_TIMELINE_FIELDS
              : []),
          ],
        }
      : {}),
    ...(sameStartAt(rs) !== undefined ? { startAt: sameStartAt(rs)! } : {}),
    ...(rs.every((r) => r.plan?.allowIncomplete) ? { allowIncomplete: true } : {}),
  };
  const machines = rs.map(
    (r, k): ShardMachine => ({
      index: parts[k]!.index,
      count: parts[k]!.count,
      generatorCpu: r.generatorCpu,
      ...(r.generator ? { generator: r.generator } : {}),
      ...(r.environment ? { environment: r.environment } : {}),
    }),
  );
  const worst = rs.reduce((w, r) => (WORSE[r.status] > WORSE[w.status] ? r : w), first);
  const reasons = rs.flatMap((r, k) =>
    r.reason === undefined ? [] : [several ? `shard ${shardLabel(record.shards![k]!)}: ${r.reason}` : r.reason],
  );
  const abortedBy = rs.find((r) => r.abortedBy !== undefined)?.abortedBy;
  const service = rs.find((r) => r.service?.exit)?.service ?? first.service;
  const sendLags = rs.flatMap((r) => (r.sendLag ? [r.sendLag] : []));
  const serviceTimes = rs.flatMap((r) => (r.serviceTime ? [r.serviceTime] : []));
  const resources = rs.find((r) => r.resources)?.resources;
  const monitors = rs.find((r) => r.monitors)?.monitors;
  const failures = mergeFailures(rs);
  const bodies = rs.flatMap((r) => (r.requestBodies ? [r.requestBodies] : []));

  return {
    formatVersion: first.formatVersion,
    tool: first.tool,
    startedAt: new Date(t0).toISOString(),
    durationMs: Math.max(...rs.map((r) => r.durationMs)),
    status: worst.status,
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    ...(abortedBy !== undefined ? { abortedBy } : {}),
    ...(service ? { service } : {}),
    target: first.target,
    load:
      first.load.model === 'open'
        ? { ...first.load, maxInFlight: sum(rs.map((r) => (r.load as { maxInFlight: number }).maxInFlight)) }
        : first.load,
    timeoutMs: first.timeoutMs,
    seed: first.seed,
    stages: first.stages.map((st, s) =>
      mergeStage(
        st,
        rs.map((r) => r.stages[s]!),
      ),
    ),
    warmupMs: first.warmupMs,
    segments: base.segments,
    endpoints: base.endpoints,
    cells: base.cells.map((row, s) => row.map((_, e) => mergeStats(measured.map((r) => r.cells[s]![e]!)))),
    failures: failures.rows,
    failuresNotItemized: sum(rs.map((r) => r.failuresNotItemized)) + failures.dropped,
    timeline: several
      ? mergeTimelines(
          rs.map((r) => r.timeline),
          shifts,
        )
      : first.timeline,
    unsent: sum(rs.map((r) => r.unsent)),
    delayedByCap: sum(rs.map((r) => r.delayedByCap)),
    ...(sendLags.length > 0 ? { sendLag: several ? mergeHistograms(sendLags) : sendLags[0]! } : {}),
    ...(serviceTimes.length > 0 ? { serviceTime: several ? mergeHistograms(serviceTimes) : serviceTimes[0]! } : {}),
    generatorCpu: Math.max(...rs.map((r) => r.generatorCpu)),
    ...(resources ? { resources } : {}),
    ...(monitors ? { monitors } : {}),
    ...(bodies.length > 0 ? { requestBodies: several ? mergeBodies(bodies) : bodies[0]! } : {}),
    plan: record,
    ...(several ? { shardMachines: machines } : shardMachinesOf(first)),
    ...(several && measured.some((r) => r.endedAt !== undefined) ? { endedAt: latestEnd(measured) } : {}),
    ...(several ? {} : sameAsOne(first)),
  };
}

/** One result merged is itself: its own generator, environment and end are kept as they were. */
function sameAsOne(r: RunResult): Partial<RunResult> {
  return {
    ...(r.generator ? { generator: r.generator } : {}),
    ...(r.environment ? { environment: r.environment } : {}),
    ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
  };
}

function shardMachinesOf(r: RunResult): Partial<RunResult> {
  return r.shardMachines ? { shardMachines: r.shardMachines } : {};
}

/** When the last shard's load ended (wall clock). */
function latestEnd(rs: readonly RunResult[]): string {
  return new Date(Math.max(...rs.map((r) => Date.parse(r.endedAt ?? r.startedAt) || 0))).toISOString();
}

/** The start-at every shard was given, when they were all given the same one. */
function sameStartAt(rs: readonly RunResult[]): string | undefined {
  const all = new Set(rs.map((r) => r.plan?.startAt));
  return all.size === 1 ? [...all][0] : undefined;
}

/** Every second that measured a latency carries its histogram (results written before they existed do not). */
function hasSecondHistograms(timeline: readonly TimelinePoint[]): boolean {
  return timeline.every((p) => p.max === null || p.histogram !== undefined);
}

/** Each result's shard (a whole run is shard 1 of 1), once the results are known to be parts of one plan. */
function checkMergeable(results: readonly RunResult[], from: readonly string[]): Array<{ index: number; count: number }> {
  const unmarked = results.flatMap((r, k) => (r.plan?.fingerprint ? [] : [from[k]!]));
  if (unmarked.length > 0)
    throw new MergeError(`${unmarked.join(', ')}: no plan fingerprint in the result (written by an older loadgate): run it again`);
  const byPlan = new Map<string, string[]>();
  for (const [k, r] of results.entries()) byPlan.set(r.plan!.fingerprint, [...(byPlan.get(r.plan!.fingerprint) ?? []), from[k]!]);
  if (byPlan.size > 1) {
    const groups = [...byPlan].map(([fp, names]) => `${names.join(', ')} (plan ${fp})`);
    throw new MergeError(`these are shards of different plans, not parts of one: ${groups.join(' and ')}`);
  }
  const shards = results.map((r) => r.plan!.shard ?? { index: 0, count: 1 });
  const counts = new Set(shards.map((s) => s.count));
  if (counts.size > 1)
    throw new MergeError(`the shards split the plan differently: ${shards.map((s, k) => `${from[k]} is ${shardLabel(s)}`).join(', ')}`);
  const seen = new Map<number, string>();
  shards.forEach((s, k) => {
    const other = seen.get(s.index);
    if (other !== undefined)
      throw new MergeError(`shard ${shardLabel(s)} is given twice: ${other} and ${from[k]} (merging it twice would count its load twice)`);
    seen.set(s.index, from[k]!);
  });
  const shape = (r: RunResult) =>
    JSON.stringify([r.segments, r.endpoints, r.load.model, r.stages.map((s) => [s.name, s.startMs, s.endMs])]);
  // A shard that never reached the load has no segments to compare.
  const ran = results.flatMap((r, k) => (r.status === 'not-started' ? [] : [k]));
  const odd = ran.find((k) => shape(results[k]!) !== shape(results[ran[0]!]!));
  if (odd !== undefined)
    throw new MergeError(
      `${from[odd]} has other stages, segments or endpoints than ${from[ran[0]!]}, though its plan fingerprint is the same`,
    );
  return shards;
}

function mergeStage(st: StageInfo, all: readonly StageInfo[]): StageInfo {
  const total = (k: 'users' | 'spawnRate' | 'rate') => (st[k] === undefined ? {} : { [k]: round9(sum(all.map((s) => s[k] ?? 0))) });
  return { ...st, ...total('users'), ...total('spawnRate'), ...total('rate') };
}

function mergeBodies(lists: ReadonlyArray<readonly RequestBodies[]>): RequestBodies[] {
  return lists[0]!.map((first, e) => {
    const all = lists.map((l) => l[e] ?? { ...first, count: 0, meanBytes: 0 });
    const count = sum(all.map((b) => b.count));
    return { ...first, count, meanBytes: count > 0 ? sum(all.map((b) => b.meanBytes * b.count)) / count : 0 };
  });
}

function mergeFailures(rs: readonly RunResult[]): { rows: Failure[]; dropped: number } {
  const rows = new Map<string, Failure>();
  for (const r of rs) {
    for (const f of r.failures) {
      const key = `${f.endpoint}\u0000${f.kind}\u0000${f.error}`;
      const row = rows.get(key);
      if (!row) rows.set(key, { ...f });
      else {
        row.count += f.count;
        row.firstSeenMs = Math.min(row.firstSeenMs, f.firstSeenMs);
        row.lastSeenMs = Math.max(row.lastSeenMs, f.lastSeenMs);
        if (row.sample === undefined && f.sample !== undefined) row.sample = f.sample;
      }
    }
  }
  let all = [...rows.values()];
  let dropped = 0;
  if (all.length > MAX_FAILURE_ROWS) {
    all.sort((a, b) => a.firstSeenMs - b.firstSeenMs);
    dropped = sum(all.slice(MAX_FAILURE_ROWS).map((f) => f.count));
    all = all.slice(0, MAX_FAILURE_ROWS);
  }
  return { rows: all.sort((a, b) => b.count - a.count), dropped };
}

/**
 * The shards' timelines, second by second since the earliest shard's start: line j's points move by
 * `shifts[j]` whole seconds (a point at t covers the second ending at t; the last, partial one ends
 * before ceil(t)). When every second that measured a latency has its histogram, the percentiles are
 * those of the summed histograms: exactly what one recorder fed every request would have said.
 */
export function mergeTimelines(lines: ReadonlyArray<readonly TimelinePoint[]>, shifts: readonly number[] = []): TimelinePoint[] {
  const bySecond = new Map<number, Array<{ p: TimelinePoint; line: number }>>();
  lines.forEach((line, j) => {
    const shift = shifts[j] ?? 0;
    for (const p0 of line) {
      const p = shift === 0 ? p0 : { ...p0, t: round9(p0.t + shift) };
      const k = Math.ceil(p.t - 1e-9);
      const here = bySecond.get(k);
      if (here) here.push({ p, line: j });
      else bySecond.set(k, [{ p, line: j }]);
    }
  });
  const exact = lines.every(hasSecondHistograms);
  const exactStreams = lines.every(hasStreamHistograms);
  // Scratch histograms for a second's TTFT and ITL, made only when a line streams.
  const streamScratch = lines.some((l) => l.some((p) => p.streams !== undefined)) ? { ttft: newHistogram(), itl: newHistogram() } : null;
  // The running sum of every second's histogram, as the recorder's cumulative one, and its exact max (µs).
  const cumulative = newHistogram();
  let cumulativeMaxUs = 0;
  // One histogram for the second at hand, cleared for the next: never one per second (~180 KB of counts each).
  const second = newHistogram();
  const out: TimelinePoint[] = [];
  let totalRequests = 0;
  let totalFailures = 0;
  // Each line's cumulative figures as of the last second it had: carried into seconds it has no point for.
  const lastOf: Array<TimelinePoint | undefined> = lines.map(() => undefined);
  const latencyCount = lines.map(() => 0);
  for (const k of [...bySecond.keys()].sort((a, b) => a - b)) {
    const here = bySecond.get(k)!;
    for (const { p, line } of here) lastOf[line] = p;
    const ps = here.map((h) => h.p);
    const requests = sum(ps.map((p) => p.requests));
    const failures = sum(ps.map((p) => p.failures));
    totalRequests += requests;
    totalFailures += failures;
    const whole = ps.some((p) => p.span === undefined);
    const w = ps.map((p) => p.requests);
    const max = largest(ps.map((p) => p.max));
    let percentiles: Pick<TimelinePoint, 'p50' | 'p95' | 'p99' | 'histogram'>;
    if (exact) {
      second.reset();
      for (const { p, line } of here) {
        if (p.histogram === undefined) continue;
        const n = addEncodedCounts(second, p.histogram);
        addEncodedCounts(cumulative, p.histogram);
        latencyCount[line]! += n;
      }
      if (max !== null) {
        const maxUs = Math.round(max * 1000);
        setMaxUs(second, maxUs);
        cumulativeMaxUs = Math.max(cumulativeMaxUs, maxUs);
        setMaxUs(cumulative, cumulativeMaxUs);
      }
      percentiles = {
        p50: percentileMs(second, 50),
        p95: percentileMs(second, 95),
        p99: percentileMs(second, 99),
        ...(second.totalCount > 0 ? { histogram: encodeCounts(second) } : {}),
      };
    } else {
      percentiles = {
        p50: blend(
          ps.map((p) => p.p50),
          w,
        ),
        p95: blend(
          ps.map((p) => p.p95),
          w,
        ),
        p99: blend(
          ps.map((p) => p.p99),
          w,
        ),
      };
    }
    const cumulativeLines = lastOf.flatMap((p, j) => (p === undefined ? [] : [{ p, j }]));
    const point: TimelinePoint = {
      t: whole ? k : Math.max(...ps.map((p) => p.t)),
      ...(whole ? {} : { span: Math.max(...ps.map((p) => p.span ?? 1)) }),
      stage: ps[0]!.stage,
      ...summed(ps, 'users'),
      ...summed(ps, 'targetRate'),
      requests,
      failures,
      p50: percentiles.p50,
      p95: percentiles.p95,
      p99: percentiles.p99,
      max,
      ...(percentiles.histogram !== undefined ? { histogram: percentiles.histogram } : {}),
      inFlight: sum(ps.map((p) => p.inFlight)),
      ...(ps.some((p) => p.maxSendLag !== undefined) ? { maxSendLag: largest(ps.map((p) => p.maxSendLag ?? null))! } : {}),
      totalRequests,
      totalFailures,
      totalP50: exact
        ? percentileMs(cumulative, 50)
        : blend(
            cumulativeLines.map(({ p }) => p.totalP50),
            cumulativeLines.map(({ p }) => p.totalRequests),
          ),
      // Weighted by what each mean is over (its latencies), when the histograms say; else by requests.
      totalMean: blend(
        cumulativeLines.map(({ p }) => p.totalMean),
        cumulativeLines.map(({ p, j }) => (exact ? latencyCount[j]! : p.totalRequests)),
      ),
      ...streamSecond(ps, exactStreams ? streamScratch : null),
      ...summed(ps, 'cpuPercent'),
      ...summed(ps, 'memoryBytes'),
      ...(ps.some((p) => p.monitors) ? { monitors: ps.find((p) => p.monitors)!.monitors! } : {}),
    };
    out.push(point);
  }
  return out;
}

/** Every second with streamed answers carries its TTFT histogram (results written before they existed do not). */
function hasStreamHistograms(timeline: readonly TimelinePoint[]): boolean {
  return timeline.every((p) => !p.streams || p.ttftHistogram !== undefined);
}

/**
 * A second's streamed answers: counts summed; TTFT and ITL percentiles from the sum of the shards'
 * histograms when `scratch` is given (every result has them), else weighted by the answers each completed.
 */
function streamSecond(ps: readonly TimelinePoint[], scratch: { ttft: Histogram; itl: Histogram } | null): Partial<TimelinePoint> {
  const own = ps.filter((p) => p.streams !== undefined);
  if (own.length === 0) return {};
  const w = own.map((p) => p.streams!);
  const counts = {
    streams: sum(w),
    outputTokens: sum(own.map((p) => p.outputTokens ?? 0)),
    outputChunks: sum(own.map((p) => p.outputChunks ?? 0)),
  };
  if (scratch !== null) {
    const summedOf = (h: Histogram, text: (p: TimelinePoint) => string | undefined, max: (p: TimelinePoint) => number | undefined) => {
      h.reset();
      for (const p of own) {
        const t = text(p);
        if (t !== undefined) addEncodedCounts(h, t);
      }
      const m = largest(own.map((p) => max(p) ?? null));
      if (m !== null) setMaxUs(h, Math.round(m * 1000));
      return m;
    };
    const ttftMax = summedOf(
      scratch.ttft,
      (p) => p.ttftHistogram,
      (p) => p.ttftMax,
    );
    const itlMax = summedOf(
      scratch.itl,
      (p) => p.itlHistogram,
      (p) => p.itlMax,
    );
    return {
      ttftP50: percentileMs(scratch.ttft, 50),
      ttftP99: percentileMs(scratch.ttft, 99),
      itlP50: percentileMs(scratch.itl, 50),
      itlP99: percentileMs(scratch.itl, 99),
      ...(ttftMax !== null ? { ttftHistogram: encodeCounts(scratch.ttft), ttftMax } : {}),
      ...(itlMax !== null ? { itlHistogram: encodeCounts(scratch.itl), itlMax } : {}),
      ...counts,
    };
  }
  return {
    ttftP50: blend(
      own.map((p) => p.ttftP50 ?? null),
      w,
    ),
    ttftP99: blend(
      own.map((p) => p.ttftP99 ?? null),
      w,
    ),
    itlP50: blend(
      own.map((p) => p.itlP50 ?? null),
      w,
    ),
    itlP99: blend(
      own.map((p) => p.itlP99 ?? null),
      w,
    ),
    ...counts,
  };
}

function summed(ps: readonly TimelinePoint[], k: 'users' | 'targetRate' | 'cpuPercent' | 'memoryBytes'): Partial<TimelinePoint> {
  const vs = ps.flatMap((p) => (p[k] === undefined ? [] : [p[k]]));
  return vs.length === 0 ? {} : { [k]: vs.length === 1 ? vs[0]! : round9(sum(vs)) };
}

/** The weighted mean of the values present (one value: itself, exactly); null when none is. */
function blend(values: ReadonlyArray<number | null>, weights: readonly number[]): number | null {
  const present = values.flatMap((v, k) => (v === null ? [] : [{ v, w: weights[k] ?? 0 }]));
  if (present.length === 0) return null;
  if (present.length === 1) return present[0]!.v;
  const wsum = sum(present.map((p) => p.w));
  const mean = wsum > 0 ? sum(present.map((p) => p.v * p.w)) / wsum : sum(present.map((p) => p.v)) / present.length;
  return Math.round(mean * 1000) / 1000;
}

function largest(values: ReadonlyArray<number | null>): number | null {
  const vs = values.filter((v): v is number => v !== null);
  return vs.length === 0 ? null : Math.max(...vs);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
