// Load shapes as pure functions of elapsed time: how many users should be running (closed model),
// and when the n-th request is due (open model). The drivers (closed.ts, open.ts) only ask these
// questions, and the engine asks which span of the run an instant falls in.

import type { RateStage, UserStage } from '../plan/types.ts';

/** A span of the run belonging to one stage, with its index. */
export interface StageSpan {
  index: number;
  startMs: number;
  endMs: number;
}

export function stageSpans(stages: ReadonlyArray<{ durationMs: number }>): StageSpan[] {
  const spans: StageSpan[] = [];
  let t = 0;
  stages.forEach((s, index) => {
    spans.push({ index, startMs: t, endMs: t + s.durationMs });
    t += s.durationMs;
  });
  return spans;
}

export function totalDurationMs(stages: ReadonlyArray<{ durationMs: number }>): number {
  return stages.reduce((sum, s) => sum + s.durationMs, 0);
}

/**
 * The run cut into segments: each lies within one stage, and the warm-up instant (if any, and inside
 * the run) is a boundary too. Statistics are kept per segment, so a scope such as "stage 2" or
 * "after the warm-up" is an exact union of segments.
 */
export interface Segment extends StageSpan {
  stage: number;
  warmup: boolean;
}

export function segmentsOf(stages: ReadonlyArray<{ durationMs: number }>, warmupMs: number): Segment[] {
  const out: Segment[] = [];
  for (const sp of stageSpans(stages)) {
    if (warmupMs > sp.startMs && warmupMs < sp.endMs) {
      out.push({ index: out.length, stage: sp.index, startMs: sp.startMs, endMs: warmupMs, warmup: true });
      out.push({ index: out.length, stage: sp.index, startMs: warmupMs, endMs: sp.endMs, warmup: false });
    } else {
      out.push({ index: out.length, stage: sp.index, startMs: sp.startMs, endMs: sp.endMs, warmup: sp.endMs <= warmupMs });
    }
  }
  return out;
}

/**
 * The index of the span holding `elapsedMs` (the last one once the run is over), by linear scan:
 * spans are few. Stage spans give the stage running; segments, the segment a request counts in.
 */
export function spanIndexAt(spans: readonly StageSpan[], elapsedMs: number): number {
  for (const s of spans) if (elapsedMs < s.endMs) return s.index;
  return spans.length - 1;
}

/**
 * The closed model: the planned number of users at `elapsedMs`; 0 once the last stage has ended.
 *
 * Within a stage that starts at s with c0 users and targets T at spawn rate r, users change one at a
 * time, the first at once and the k-th at s + k/r (as locust's spawner does), until T is reached:
 *   users(t) = c0 + sign(T - c0) * min(|T - c0|, floor((t - s) * r) + 1)      for s <= t < s + d
 * The count reached at the end of a stage (T, or less if the spawn rate was too slow) carries into the next.
 */
export function usersAt(stages: readonly UserStage[], elapsedMs: number): number {
  const starts = usersAtStageStarts(stages);
  let s = 0;
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i]!;
    if (elapsedMs < s + st.durationMs) return usersWithinStage(starts[i]!, st, elapsedMs - s);
    s += st.durationMs;
  }
  return 0;
}

/** Users at the start of each stage, given that the run starts with none. */
function usersAtStageStarts(stages: readonly UserStage[]): number[] {
  const starts: number[] = [];
  let c = 0;
  for (const st of stages) {
    starts.push(c);
    // Changes happen at k/r for k = 0, 1, ... strictly before the stage ends: ceil(d * r) of them at most.
    const gap = st.users - c;
    c += Math.sign(gap) * Math.min(Math.abs(gap), Math.ceil((st.durationMs / 1000) * st.spawnRate - 1e-9));
  }
  return starts;
}

/** Users `tau` ms into a stage that began with `c0` users. */
function usersWithinStage(c0: number, st: UserStage, tauMs: number): number {
  const gap = st.users - c0;
  if (gap === 0 || tauMs < 0) return c0;
  // The small epsilon keeps k/r spawn instants exact despite floating point (e.g. 3 * (1/3) s).
  const changes = Math.min(Math.abs(gap), Math.floor((tauMs / 1000) * st.spawnRate + 1e-9) + 1);
  return c0 + Math.sign(gap) * changes;
}

/**
 * The instants at which the user count changes, with the count from then on: the closed model's whole
 * closed-model schedule, computed once. Consecutive equal counts are merged. Ends with 0 users at the end.
 */
export function userSchedule(stages: readonly UserStage[]): Array<{ atMs: number; users: number }> {
  const events: Array<{ atMs: number; users: number }> = [];
  const push = (atMs: number, users: number) => {
    const last = events[events.length - 1];
    if (last && last.users === users) return;
    if (last && last.atMs === atMs) last.users = users;
    else events.push({ atMs, users });
  };
  let s = 0;
  let c = 0;
  for (const st of stages) {
    const gap = Math.abs(st.users - c);
    const step = Math.sign(st.users - c);
    push(s, c);
    for (let k = 0; k < gap; k++) {
      const at = s + (k * 1000) / st.spawnRate;
      if (at >= s + st.durationMs) break;
      c += step;
      push(at, c);
    }
    s += st.durationMs;
  }
  push(s, 0);
  return events;
}

/**
 * Phase offset of the i-th user within one pacing period, as a fraction in [0, 1).
 *
 * Users spawned together (or at whole-second instants, as with a spawn rate of 1/s) and paced at
 * 1 request/s would otherwise fire in lockstep: five users would send five requests at the same
 * instant every second, and the report would show the service's queueing instead of its latency.
 * The golden-ratio sequence frac(i * 0.618...) spreads any number of users evenly over the period,
 * and stays evenly spread as users are added one by one.
 */
export function userPhase(i: number): number {
  const phi = 0.6180339887498949;
  return (i * phi) % 1;
}

/** A stage's piece of the arrival curve. */
interface ArrivalPiece {
  startMs: number;
  durationMs: number;
  r0: number; // requests/s at the start
  r1: number; // requests/s at the end
  countAtStart: number;
  countAtEnd: number;
}

export interface ArrivalSchedule {
  /** Total requests due over the whole run. */
  readonly total: number;
  readonly durationMs: number;
  /** Requests due in [0, t], i.e. how many should have been sent by `elapsedMs`. */
  dueBy(elapsedMs: number): number;
  /** When the n-th request (from 0) is due, in ms; Infinity past the end. */
  timeOf(n: number): number;
  /** The planned rate at `elapsedMs`, requests/s. */
  rateAt(elapsedMs: number): number;
}

/**
 * The open model: when each request is due.
 *
 * A stage of duration d holds rate r1, or ramps linearly from the previous stage's rate r0 to r1.
 * The number of arrivals due by time t within the stage (tau = t - s) is
 *   H(t) = H(s) + r0 * tau + (r1 - r0) * tau^2 / (2d)
 * and the n-th request (counting from 0) is due at t_n = inf{t : H(t) > n}, found by solving that
 * quadratic for tau. So the first request goes at t = 0 (or when the first non-zero stage starts), and
 * a stage of d seconds at rate r holds r*d requests.
 */
export function arrivalSchedule(stages: readonly RateStage[], offset = 0): ArrivalSchedule {
  const pieces: ArrivalPiece[] = [];
  let start = 0;
  // A shard's count starts at -offset (index/count): its m-th arrival falls where the whole plan's
  // index + m * count does, so the shards' send times together are exactly the plan's.
  let count = -offset;
  let prevRate = 0;
  for (const st of stages) {
    const r0 = st.ramp ? prevRate : st.rate;
    const r1 = st.rate;
    const dSec = st.durationMs / 1000;
    const countAtEnd = count + ((r0 + r1) / 2) * dSec;
    pieces.push({ startMs: start, durationMs: st.durationMs, r0, r1, countAtStart: count, countAtEnd });
    start += st.durationMs;
    count = countAtEnd;
    prevRate = r1;
  }
  const durationMs = start;
  // Request n is sent within the run iff t_n < duration, i.e. n < H(end): ceil(H(end)) requests in all.
  const total = Math.ceil(count - 1e-9);

  const countWithin = (piece: ArrivalPiece, tauMs: number): number => {
    const tau = tauMs / 1000;
    const d = piece.durationMs / 1000;
    return piece.countAtStart + piece.r0 * tau + ((piece.r1 - piece.r0) * tau * tau) / (2 * d);
  };

  const cumulative = (elapsedMs: number): number => {
    if (elapsedMs <= 0) return 0;
    for (const piece of pieces) {
      if (elapsedMs < piece.startMs + piece.durationMs) return countWithin(piece, elapsedMs - piece.startMs);
    }
    return count;
  };

  const timeOf = (n: number): number => {
    if (n >= total || n < 0) return Infinity;
    // Request n is due at t_n = inf{t : H(t) > n}: the piece where the count first passes n.
    for (const piece of pieces) {
      if (!(n < piece.countAtEnd - 1e-9)) continue;
      const need = n - piece.countAtStart;
      if (need <= 0) return piece.startMs; // the count passed n at this piece's start (after a rate-0 stage)
      const d = piece.durationMs / 1000;
      const a = (piece.r1 - piece.r0) / (2 * d);
      const b = piece.r0;
      let tau: number;
      if (Math.abs(a) < 1e-12) tau = need / b;
      else {
        // a*tau^2 + b*tau - need = 0; this form of the positive root is stable when a is tiny or b is 0.
        const disc = Math.sqrt(Math.max(0, b * b + 4 * a * need));
        tau = (2 * need) / (b + disc);
      }
      return piece.startMs + Math.min(tau * 1000, piece.durationMs);
    }
    return Infinity;
  };

  return {
    total,
    timeOf,
    durationMs,
    dueBy(elapsedMs) {
      if (elapsedMs < 0) return 0;
      // Start from H(t) and settle on the exact count by the definition of timeOf (a step or two at most).
      let k = Math.min(total, Math.max(0, Math.ceil(cumulative(elapsedMs) - 1e-9)));
      while (k < total && timeOf(k) <= elapsedMs) k++;
      while (k > 0 && timeOf(k - 1) > elapsedMs) k--;
      return k;
    },
    rateAt(elapsedMs) {
      for (const piece of pieces) {
        if (elapsedMs < piece.startMs + piece.durationMs) {
          const f = (elapsedMs - piece.startMs) / piece.durationMs;
          return piece.r0 + (piece.r1 - piece.r0) * Math.max(0, f);
        }
      }
      return 0;
    },
  };
}
