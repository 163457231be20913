// A plan's fingerprint, and what a result records of the plan it ran: enough for a merge to refuse
// shards of different plans and to judge the merged result against the SLOs they all ran with.
//
// The fingerprint is sha256 over the canonical JSON (keys sorted) of the plan's fields that decide the
// load and its judgement: endpoints (requests, headers, bodies or the schemas and counts they are
// generated from, weights, statuses, the invalid share), load (model, stages, pacing, max-in-flight),
// SLOs, warm-up, timeout and seed. Left out, because they differ between shards of one plan or change
// nothing about the load:
//   shard                      which part a machine runs (a shard records the whole plan's fingerprint)
//   outputDir                  each shard writes its own folder
//   service, readiness,        how each machine reaches or starts the service and watches it: a URL
//   monitors                   through a runner's own tunnel, a free port, a path on that machine
//                              (each result still records its target, and the merge names any difference)
//   progressIntervalMs         console output only
//   configPath, baseDir        where the checkout lies; paths inside it are taken relative to baseDir
//   slo source, body origin,   where a line was written, what a list was read from, where the
//   generated bodies' where    bodies were configured: messages only
// First 16 hex digits (64 bits): a label to compare, not a secret.

import { createHash } from 'node:crypto';
import type { Plan, Slo } from './types.ts';

export function planFingerprint(plan: Plan): string {
  if (plan.shard) return plan.shard.fingerprint;
  const identity = {
    endpoints: plan.endpoints.map((ep) =>
      ep.body.kind === 'list'
        ? { ...ep, body: { ...ep.body, origin: '' } }
        : ep.body.kind === 'generate'
          ? { ...ep, body: { ...ep.body, where: '' } }
          : ep,
    ),
    load: plan.load,
    slos: plan.slos.map(({ source: _source, ...slo }) => slo),
    warmupMs: plan.warmupMs,
    timeoutMs: plan.timeoutMs,
    seed: plan.seed,
  };
  return createHash('sha256').update(canonicalJson(identity, plan.baseDir)).digest('hex').slice(0, 16);
}

/** JSON with every object's keys sorted, and strings under `baseDir` made relative to it. */
export function canonicalJson(value: unknown, baseDir: string): string {
  const prefix = baseDir.endsWith('/') ? baseDir : `${baseDir}/`;
  const norm = (v: unknown): unknown => {
    if (typeof v === 'string') return v.startsWith(prefix) ? `./${v.slice(prefix.length)}` : v;
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .filter((k) => o[k] !== undefined)
          .sort()
          .map((k) => [k, norm(o[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(value));
}

/** What every result records of its plan (RunResult.plan). */
export interface PlanRecord {
  /** The whole plan's fingerprint (a shard's too). */
  fingerprint: string;
  /** The SLOs the run is judged on: a merge judges the merged result on them (every shard has the same). */
  slos: Slo[];
  /** This result is one shard's: `index` (0-based) of `count`. */
  shard?: { index: number; count: number };
  /** This result is a merge (src/metrics/merge.ts): the shards it was made of, in shard order. */
  shards?: MergedShard[];
  /**
   * A merge: timeline fields that are estimates, not exact: totalMean always (the shards' running means
   * are rounded to 1 µs), and p50, p95, p99 and totalP50 when a shard's result has no per-second
   * histograms (written before they existed); every other field is exact.
   */
  estimated?: string[];
  /** The shared start the plan asked for (start-at), ISO 8601: the load began then, not as soon as the service was ready. */
  startAt?: string;
  /** allow-incomplete: a merge judges what was measured though a shard is missing, late or failed. */
  allowIncomplete?: boolean;
}

/** One shard of a merged result, as it ran. */
export interface MergedShard {
  /** Shard `index` (0-based) of `count`. */
  index: number;
  count: number;
  /** Where it was read from, for messages. */
  from: string;
  startedAt: string;
  /** ms after the first shard's load started. */
  startOffsetMs: number;
  durationMs: number;
  status: 'completed' | 'interrupted' | 'aborted' | 'not-started' | 'invalid';
  reason?: string;
  target: string;
  /** The load's planned length, ms (the end of its last stage): a shard whose duration is shorter stopped early. */
  plannedMs?: number;
  /** The start-at this shard was given, if any. */
  startAt?: string;
  /** Whole seconds its timeline was shifted by on the merged one (its start after the earliest shard's, rounded). */
  shiftS?: number;
}

export function planRecord(plan: Plan): PlanRecord {
  return {
    fingerprint: planFingerprint(plan),
    slos: plan.slos,
    ...(plan.shard ? { shard: { index: plan.shard.index, count: plan.shard.count } } : {}),
    ...(plan.startAt !== undefined ? { startAt: new Date(plan.startAt).toISOString() } : {}),
    ...(plan.allowIncomplete ? { allowIncomplete: true } : {}),
  };
}
