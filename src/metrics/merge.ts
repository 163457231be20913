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
//   timeline                   by second since each shard's own start: requests, failures, users, target rate,
//                              in flight, CPU and memory summed; max and max send lag the largest; cumulative
//                              totals recomputed. p50, p95, p99, totalP50 and totalMean need per-second
//                              histograms, which results do not carry yet: they are the request-weighted mean
//                              of the shards' (a merged percentile lies between the shards' lowest and
//                              highest), and plan.estimated names them
//   status                     the worst (invalid, aborted, interrupted, completed); each shard's start
//                              offset, duration, status and target are kept in plan.shards
//   generatorCpu               the busiest generator's (it says whether a generator was the bottleneck)
//   resources, monitors        the first shard's that has them (each shard watched what it could see)
//   requestBodies              per endpoint: the shards' distinct bodies added up (their parts partition the
//                              plan's), the mean size weighted by them, the first shard's example
//
// Results of different plans (fingerprints), of different splits, or the same shard twice are refused.

import { mergeHistograms } from './histogram.ts';
import {
  type Failure,
  type RequestBodies,
  type RunResult,
  type RunStatus,
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

/** The timeline fields a merge of several results estimates (without per-second histograms). */
export const ESTIMATED_TIMELINE_FIELDS = ['p50', 'p95', 'p99', 'totalP50', 'totalMean'] as const;

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
  const starts = rs.map((r) => Date.parse(r.startedAt));
  const t0 = Math.min(...starts);
  const several = rs.length > 1;

  const record: PlanRecord = {
    fingerprint: first.plan!.fingerprint,
    slos: first.plan!.slos,
    shards: rs.map(
      (r, k): MergedShard => ({
        index: parts[k]!.index,
        count: parts[k]!.count,
        from: names[k]!,
        startedAt: r.startedAt,
        startOffsetMs: starts[k]! - t0,
        durationMs: r.durationMs,
        status: r.status,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        target: r.target.baseUrl,
      }),
    ),
    ...(several ? { estimated: [...ESTIMATED_TIMELINE_FIELDS] } : {}),
  };
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
    segments: first.segments,
    endpoints: first.endpoints,
    cells: first.cells.map((row, s) => row.map((_, e) => mergeStats(rs.map((r) => r.cells[s]![e]!)))),
    failures: failures.rows,
    failuresNotItemized: sum(rs.map((r) => r.failuresNotItemized)) + failures.dropped,
    timeline: mergeTimelines(rs.map((r) => r.timeline)),
    unsent: sum(rs.map((r) => r.unsent)),
    delayedByCap: sum(rs.map((r) => r.delayedByCap)),
    ...(sendLags.length > 0 ? { sendLag: several ? mergeHistograms(sendLags) : sendLags[0]! } : {}),
    ...(serviceTimes.length > 0 ? { serviceTime: several ? mergeHistograms(serviceTimes) : serviceTimes[0]! } : {}),
    generatorCpu: Math.max(...rs.map((r) => r.generatorCpu)),
    ...(resources ? { resources } : {}),
    ...(monitors ? { monitors } : {}),
    ...(bodies.length > 0 ? { requestBodies: several ? mergeBodies(bodies) : bodies[0]! } : {}),
    plan: record,
  };
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
  const odd = results.findIndex((r) => shape(r) !== shape(results[0]!));
  if (odd >= 0)
    throw new MergeError(`${from[odd]} has other stages, segments or endpoints than ${from[0]}, though its plan fingerprint is the same`);
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
 * The shards' timelines, second by second since each one's own start (a point at t covers the second
 * ending at t; the last, partial one ends before ceil(t)).
 */
export function mergeTimelines(lines: ReadonlyArray<readonly TimelinePoint[]>): TimelinePoint[] {
  const bySecond = new Map<number, Array<{ p: TimelinePoint; line: number }>>();
  lines.forEach((line, j) => {
    for (const p of line) {
      const k = Math.ceil(p.t - 1e-9);
      const here = bySecond.get(k);
      if (here) here.push({ p, line: j });
      else bySecond.set(k, [{ p, line: j }]);
    }
  });
  const out: TimelinePoint[] = [];
  let totalRequests = 0;
  let totalFailures = 0;
  // Each line's cumulative figures as of the last second it had: carried into seconds it has no point for.
  const lastOf: Array<TimelinePoint | undefined> = lines.map(() => undefined);
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
    const cumulative = lastOf.filter((p): p is TimelinePoint => p !== undefined);
    const cw = cumulative.map((p) => p.totalRequests);
    const point: TimelinePoint = {
      t: whole ? k : Math.max(...ps.map((p) => p.t)),
      ...(whole ? {} : { span: Math.max(...ps.map((p) => p.span ?? 1)) }),
      stage: ps[0]!.stage,
      ...summed(ps, 'users'),
      ...summed(ps, 'targetRate'),
      requests,
      failures,
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
      max: largest(ps.map((p) => p.max)),
      inFlight: sum(ps.map((p) => p.inFlight)),
      ...(ps.some((p) => p.maxSendLag !== undefined) ? { maxSendLag: largest(ps.map((p) => p.maxSendLag ?? null))! } : {}),
      totalRequests,
      totalFailures,
      totalP50: blend(
        cumulative.map((p) => p.totalP50),
        cw,
      ),
      totalMean: blend(
        cumulative.map((p) => p.totalMean),
        cw,
      ),
      ...summed(ps, 'cpuPercent'),
      ...summed(ps, 'memoryBytes'),
      ...(ps.some((p) => p.monitors) ? { monitors: ps.find((p) => p.monitors)!.monitors! } : {}),
    };
    out.push(point);
  }
  return out;
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
