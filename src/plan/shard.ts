// One plan split into n shards, the way k6's execution segments split one test: each shard is a plan
// of its own, run on its own machine (a CI matrix job), and the shards' results merge exactly into the
// result of the whole (src/metrics/merge.ts). One rule places everything: shard i (0-based) of n takes
// the items k with k mod n = i, whether k counts users, arrivals or bodies.
//
// Closed model. The plan's users are numbered 0, 1, 2, ... in the order they spawn (the engine stops
// the newest first, so a user's number is its place in the stack). At a moment when the plan has c users,
// shard i has those numbered k < c with k mod n = i, that is
//   share(c, i, n) = ceil((c - i) / n)        and  sum over i of share(c, i, n) = c  exactly.
// Each stage's target is the share of the count the plan actually reaches by the stage's end (its
// target, or less when the spawn rate is too slow to get there), and the spawn rate is r/n, so every
// shard ramps evenly and reaches its share within the stage: the shards' users sum to the plan's at
// every stage's end and through every hold. Within a ramp each shard makes its first change at the
// stage's start, where the plan's k-th change is at k/r: the union runs ahead of the plan by fewer
// than n users there, and only there (exactly interleaved ramps need the engine, see the end).
//
// Open model. The plan's arrival count by time t is H(t) (shapes.ts: arrivalSchedule), its k-th
// arrival due at t_k = inf{t : H(t) > k}. Shard i's count is the plan's rates divided by n, started
// at -i/n:
//   H_i(t) = (H(t) - i) / n,   so  t_i,m = inf{t : H_i(t) > m} = inf{t : H(t) > i + m n} = t_(i + m n)
// its m-th arrival is the plan's arrival i + m n, and the union of the shards' send times is the plan's
// schedule. The stages' rates divided by n (the r/n pieces) give H(t)/n; the start at -i/n is
// `shard.index / shard.count`, which the engine applies as the schedule's arrival offset (without it
// each shard sends its first arrival at 0 and its count is ceil(H/n): within one arrival of its share).
//
// Bodies. A list of bodies (replayed from a file) is partitioned: shard i keeps bodies k mod n = i.
// Generated bodies are made when the run starts, from the plan's seed (the same corpus on every shard,
// `shard.planSeed`), then partitioned the same way (src/run/bodies.ts); the invalid share likewise.
// The engine's own seed (the request mix) is derived per shard; shard 0 keeps the plan's.
// max-in-flight is split as users are (at least 1 each). Warm-up, timeout and SLOs stay the plan's.

import { ConfigError } from './reader.ts';
import type { EndpointConfig, LoadPlan, Plan } from './types.ts';
import { planFingerprint } from './fingerprint.ts';

/**
 * Which shard a plan is (Plan.shard): shard `index` (0-based; written index + 1/count, as the shard:
 * setting says it) of `count`; `planSeed`, the whole plan's seed, from which every shard generates the
 * same bodies before keeping its part; `fingerprint`, the whole plan's (fingerprint.ts), so that shards
 * of different plans refuse to merge.
 */
export type ShardOf = NonNullable<Plan['shard']>;

/** "2/4" -> shard index 1 of 4; undefined unless it is i/n with 1 <= i <= n. */
export function parseShard(text: string): { index: number; count: number } | undefined {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  const i = Number(m[1]);
  const n = Number(m[2]);
  return n >= 1 && n <= 1024 && i >= 1 && i <= n ? { index: i - 1, count: n } : undefined;
}

/** "2/4" for shard index 1 of 4. */
export function shardLabel(s: { index: number; count: number }): string {
  return `${s.index + 1}/${s.count}`;
}

/** How many of the first `c` items (numbered from 0) shard `i` of `n` holds: those with k mod n = i. */
export function shareOf(c: number, i: number, n: number): number {
  return Math.max(0, Math.ceil((c - i) / n));
}

/** Shard i's part of a list: the items k with k mod n = i. */
export function partOf<T>(items: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  if (!shard || shard.count === 1) return [...items];
  return items.filter((_, k) => k % shard.count === shard.index);
}

/** The seed of shard i's engine (the request mix): the plan's for shard 0, spread by the golden ratio for the others. */
export function shardSeed(seed: number, i: number): number {
  return i === 0 ? seed : (seed + i * 0x9e3779b9) % 2 ** 32;
}

/** Shard `i` (0-based) of `n` of a whole plan. Throws a ConfigError when a body list is too short to split. */
export function shardPlan(plan: Plan, i: number, n: number): Plan {
  if (plan.shard) throw new Error('shardPlan: the plan is a shard already');
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`shardPlan: no shard ${i} of ${n}`);
  const shard: ShardOf = { index: i, count: n, planSeed: plan.seed, fingerprint: planFingerprint(plan) };
  return {
    ...plan,
    load: shardLoad(plan.load, i, n),
    endpoints: plan.endpoints.map((ep) => shardEndpoint(ep, i, n)),
    seed: shardSeed(plan.seed, i),
    shard,
  };
}

function shardLoad(load: LoadPlan, i: number, n: number): LoadPlan {
  if (n === 1) return load;
  if (load.model === 'open') {
    return {
      ...load,
      maxInFlight: Math.max(1, shareOf(load.maxInFlight, i, n)),
      stages: load.stages.map((st) => ({ ...st, rate: st.rate / n })),
      arrivalOffset: i / n,
    };
  }
  const reached = usersReached(load.stages);
  return {
    ...load,
    stages: load.stages.map((st, s) => ({ ...st, users: shareOf(reached[s]!, i, n), spawnRate: st.spawnRate / n })),
  };
}

/**
 * The users the plan has at the end of each stage: its target, or less when the spawn rate cannot get
 * there in time (ceil(d * r) changes at most, as `userSchedule` in src/load/shapes.ts counts them).
 */
export function usersReached(stages: ReadonlyArray<{ durationMs: number; users: number; spawnRate: number }>): number[] {
  let c = 0;
  return stages.map((st) => {
    const gap = st.users - c;
    c += Math.sign(gap) * Math.min(Math.abs(gap), Math.ceil((st.durationMs / 1000) * st.spawnRate - 1e-9));
    return c;
  });
}

function shardEndpoint(ep: EndpointConfig, i: number, n: number): EndpointConfig {
  if (n === 1) return ep;
  const b = ep.body;
  if (b.kind === 'list') {
    if (b.bodies.length < n) throw tooFew(ep, `${b.bodies.length} bodies (${b.origin})`, n);
    return { ...ep, body: { ...b, bodies: partOf(b.bodies, { index: i, count: n }) } };
  }
  if (b.kind === 'generate' && b.count < n) throw tooFew(ep, `${b.count} generated bodies (${b.where})`, n);
  return ep;
}

function tooFew(ep: EndpointConfig, what: string, n: number): ConfigError {
  return new ConfigError(
    `request "${ep.name}": ${what} cannot be split over ${n} shards without two shards sending the same body: give at least ${n}`,
  );
}
