// The load: section, read into one of two models: user stages (closed: users loop, paced per user
// like locust's constant_throughput) or rate stages (open: arrivals at a rate, ramped or held, capped
// by max-in-flight). The stages decide the model; mixing them is an error.
//
//   load:  stages: [{duration, users, spawn-rate}]  pacing: 1/s | none           (closed model)
//          stages: [{duration, rate, ramp}]         max-in-flight: 100           (open model)

import { DEFAULTS } from './defaults.ts';
import { type Path, type Reader, describeValue } from './reader.ts';
import type { LoadPlan, RateStage, UserStage } from './types.ts';

const LOAD_KEYS = ['stages', 'pacing', 'max-in-flight'];
const USER_STAGE_KEYS = ['name', 'duration', 'users', 'spawn-rate'];
const RATE_STAGE_KEYS = ['name', 'duration', 'rate', 'ramp'];

export function readLoad(r: Reader, v: unknown): LoadPlan {
  const at: Path = ['load'];
  if (v === undefined) r.fail(at, 'missing: the load to apply, e.g. load: {stages: [{duration: 30s, users: 5, spawn-rate: 1}]}');
  const o = r.object(v, at, LOAD_KEYS);
  if (o['stages'] === undefined)
    r.fail([...at, 'stages'], 'missing: a list of stages, e.g. [{duration: 30s, users: 5}] or [{duration: 30s, rate: 10}]');
  const stages = r.list(o['stages'], [...at, 'stages'], 1);
  // The model follows from the stages: users -> closed, rate -> open. Mixing them is an error.
  const kinds = stages.map((s, i) => {
    // Only the model is decided here; each model's reader then checks its own keys.
    const st = r.object(s, [...at, 'stages', i], Object.keys((s ?? {}) as object));
    const hasUsers = st['users'] !== undefined;
    const hasRate = st['rate'] !== undefined;
    if (hasUsers === hasRate) {
      r.fail(
        [...at, 'stages', i],
        hasUsers
          ? 'a stage has either users: (closed model) or rate: (open model), not both'
          : 'expected users: (closed model) or rate: (open model)',
      );
    }
    return hasUsers ? 'closed' : 'open';
  });
  const model = kinds[0]!;
  kinds.forEach((k, i) => {
    if (k !== model)
      r.fail(
        [...at, 'stages', i],
        `this stage uses ${k === 'closed' ? 'users' : 'rate'} but the first uses ${model === 'closed' ? 'users' : 'rate'}: all stages must use the same model`,
      );
  });
  if (model === 'closed') {
    if (o['max-in-flight'] !== undefined)
      r.fail([...at, 'max-in-flight'], 'only applies to rate stages (open model); with users, in-flight requests equal users');
    const userStages = stages.map((s, i) => readUserStage(r, s, [...at, 'stages', i]));
    if (userStages.every((s) => s.users === 0))
      r.fail([...at, 'stages'], 'every stage has users: 0, so nothing would be sent: give at least one stage users above 0');
    return {
      model: 'closed',
      perUserRate: o['pacing'] === undefined ? 0 : readPacing(r, o['pacing'], [...at, 'pacing']),
      stages: userStages,
    };
  }
  if (o['pacing'] !== undefined)
    r.fail([...at, 'pacing'], 'only applies to user stages (closed model); rate stages set the pace themselves');
  const rateStages = stages.map((s, i) => readRateStage(r, s, [...at, 'stages', i]));
  // A pause (rate: 0) between stages is fine; a load that never sends anything would pass without measuring.
  if (rateStages.every((s) => s.rate === 0))
    r.fail([...at, 'stages'], 'every stage has rate: 0, so nothing would be sent: give at least one stage a rate above 0');
  return {
    model: 'open',
    maxInFlight:
      o['max-in-flight'] === undefined
        ? DEFAULTS.maxInFlight
        : r.number(o['max-in-flight'], [...at, 'max-in-flight'], { integer: true, min: 1 }),
    stages: rateStages,
  };
}

/** "1/s" (per user), "30/m", "none" (no wait), or a bare number per second. */
function readPacing(r: Reader, v: unknown, at: Path): number {
  // From a flag or an action input a bare number arrives as a string.
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) v = Number(v);
  if (v === 'none' || v === 0) return 0;
  if (typeof v === 'number') return r.number(v, at, { above: 0 });
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)\s*$/.exec(v) : null;
  if (!m) r.fail(at, `expected requests per user like 1/s or 30/m, or none, got ${describeValue(v)}`);
  const per = { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
  const rate = Number(m[1]) / per;
  if (rate <= 0) r.fail(at, 'must be above 0 (use none for no wait)');
  return rate;
}

function readUserStage(r: Reader, v: unknown, at: Path): UserStage {
  const o = r.object(v, at, USER_STAGE_KEYS);
  if (o['duration'] === undefined) r.fail([...at, 'duration'], 'missing: how long the stage lasts, e.g. 30s');
  const users = r.number(o['users'], [...at, 'users'], { integer: true, min: 0, max: 100_000 });
  return {
    name: o['name'] === undefined ? `${users} user${users === 1 ? '' : 's'}` : r.string(o['name'], [...at, 'name']),
    durationMs: r.duration(o['duration'], [...at, 'duration']),
    users,
    // locust's default spawn rate is 1 user/s; users would then ramp slowly, so default to all at once.
    spawnRate: o['spawn-rate'] === undefined ? Math.max(1, users) * 1000 : r.number(o['spawn-rate'], [...at, 'spawn-rate'], { above: 0 }),
  };
}

function readRateStage(r: Reader, v: unknown, at: Path): RateStage {
  const o = r.object(v, at, RATE_STAGE_KEYS);
  if (o['duration'] === undefined) r.fail([...at, 'duration'], 'missing: how long the stage lasts, e.g. 30s');
  const rate = r.number(o['rate'], [...at, 'rate'], { min: 0, max: 10_000_000 });
  const ramp = o['ramp'] === undefined ? false : r.boolean(o['ramp'], [...at, 'ramp']);
  return {
    name: o['name'] === undefined ? `${ramp ? 'ramp to ' : ''}${rate}/s` : r.string(o['name'], [...at, 'name']),
    durationMs: r.duration(o['duration'], [...at, 'duration']),
    rate,
    ramp,
  };
}
