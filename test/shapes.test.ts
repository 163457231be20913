import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrivalSchedule, segmentsOf, spanIndexAt, stageSpans, userPhase, userSchedule, usersAt } from '../src/load/shapes.ts';
import type { RateStage, UserStage } from '../src/plan/types.ts';

const u = (durationS: number, users: number, spawnRate: number): UserStage => ({
  name: '',
  durationMs: durationS * 1000,
  users,
  spawnRate,
});
const r = (durationS: number, rate: number, ramp = false): RateStage => ({ name: '', durationMs: durationS * 1000, rate, ramp });

describe('closed model: users over time', () => {
  it('ramps up one user per 1/spawnRate seconds, the first at once', () => {
    const stages = [u(10, 5, 2)];
    assert.deepEqual(
      [0, 499, 500, 999, 1000, 1500, 2000, 9000].map((t) => usersAt(stages, t)),
      [1, 1, 2, 2, 3, 4, 5, 5],
    );
  });

  it('follows the seed 1-2-3-4-5-4-3-2-1 ramp with spawn rate 1', () => {
    const stages = [1, 2, 3, 4, 5, 4, 3, 2, 1].map((n) => u(30, n, 1));
    const at = (s: number) => usersAt(stages, s * 1000);
    assert.deepEqual([0, 29, 30, 60, 90, 120, 150, 180, 210, 240, 269].map(at), [1, 1, 2, 3, 4, 5, 4, 3, 2, 1, 1]);
    assert.equal(at(270), 0, 'no users after the last stage');
  });

  it('carries an unfinished ramp into the next stage', () => {
    // 10 users at 1/s cannot be reached in 3 s: the stage ends with 3, the next starts from there.
    const stages = [u(3, 10, 1), u(3, 0, 1)];
    assert.equal(usersAt(stages, 2999), 3);
    assert.deepEqual(
      [3000, 3999, 4000, 5000].map((t) => usersAt(stages, t)),
      [2, 2, 1, 0],
    );
  });

  it('schedule lists each change once and ends with zero users', () => {
    const ev = userSchedule([u(2, 2, 1), u(2, 1, 1)]);
    assert.deepEqual(ev, [
      { atMs: 0, users: 1 },
      { atMs: 1000, users: 2 },
      { atMs: 2000, users: 1 },
      { atMs: 4000, users: 0 },
    ]);
  });

  it('schedule agrees with usersAt at every millisecond boundary of a mixed plan', () => {
    const stages = [u(1.5, 4, 3), u(2, 1, 2), u(1, 6, 100)];
    const ev = userSchedule(stages);
    for (let t = 0; t < 4500; t += 50) {
      const last = ev.filter((e) => e.atMs <= t).at(-1)!;
      assert.equal(last.users, usersAt(stages, t), `at ${t} ms`);
    }
  });

  it('phases spread users over the pacing period instead of firing together', () => {
    for (const n of [2, 5, 13, 100]) {
      const phases = Array.from({ length: n }, (_, i) => userPhase(i)).sort((a, b) => a - b);
      assert.ok(phases.every((p) => p >= 0 && p < 1));
      const gaps = phases.map((p, i) => (i + 1 < n ? phases[i + 1]! - p : 1 - p + phases[0]!));
      // Golden-ratio spacing: no gap is more than ~2.6x the even spacing 1/n, none collapses to zero.
      assert.ok(Math.max(...gaps) < 2.7 / n, `largest gap for ${n} users: ${Math.max(...gaps)}`);
      assert.ok(Math.min(...gaps) > 0.3 / n, `smallest gap for ${n} users: ${Math.min(...gaps)}`);
    }
  });
});

describe('open model: arrival schedule', () => {
  it('a stepped rate sends rate x duration requests, evenly spaced', () => {
    const s = arrivalSchedule([r(2, 10), r(1, 50)]);
    assert.equal(s.total, 70);
    assert.equal(s.timeOf(0), 0);
    assert.ok(Math.abs(s.timeOf(1) - 100) < 1e-6);
    assert.ok(Math.abs(s.timeOf(19) - 1900) < 1e-6);
    assert.equal(s.timeOf(20), 2000, 'the 21st request opens the second stage');
    assert.ok(Math.abs(s.timeOf(21) - 2020) < 1e-6);
    assert.equal(s.timeOf(70), Infinity);
    assert.equal(s.dueBy(999.9), 10);
    assert.equal(s.dueBy(1000), 11);
    assert.equal(s.dueBy(3000), 70);
  });

  it('a linear ramp matches the integral of the rate', () => {
    // 0 -> 100 req/s over 10 s: H(t) = 5 t^2, 500 requests in all; request n at sqrt(n/5) s.
    const s = arrivalSchedule([r(10, 100, true)]);
    assert.equal(s.total, 500);
    for (const n of [1, 5, 20, 125, 320, 499]) {
      assert.ok(Math.abs(s.timeOf(n) - Math.sqrt(n / 5) * 1000) < 1e-6, `request ${n}`);
    }
    assert.ok(Math.abs(s.rateAt(5000) - 50) < 1e-9);
    // Ramp down from 100 to 20 over 4 s after 1 s at 100: 100 + (100+20)/2*4 = 340 requests.
    const down = arrivalSchedule([r(1, 100), r(4, 20, true)]);
    assert.equal(down.total, 340);
    const times = Array.from({ length: down.total }, (_, n) => down.timeOf(n));
    assert.ok(
      times.every((t, i) => i === 0 || t > times[i - 1]!),
      'send times strictly increase',
    );
    assert.ok(times.at(-1)! < 5000);
  });

  it('dueBy and timeOf agree everywhere, including around a rate-0 stage', () => {
    const s = arrivalSchedule([r(1, 0), r(2, 7, true), r(1.5, 3), r(0.5, 0)]);
    assert.equal(s.timeOf(0), 1000, 'nothing is sent while the rate is 0');
    for (let t = 0; t <= 5000; t += 7) {
      const due = s.dueBy(t);
      assert.ok(due === 0 || s.timeOf(due - 1) <= t, `request ${due - 1} is due by ${t}`);
      assert.ok(due === s.total || s.timeOf(due) > t, `request ${due} is not yet due at ${t}`);
    }
    assert.equal(s.total, 12, '7 + 4.5 requests due: the half request is sent too');
  });

  it('a fractional total rounds up: the last partial request is still sent', () => {
    assert.equal(arrivalSchedule([r(1, 2.5)]).total, 3);
  });
});

describe('stages', () => {
  it('stage spans and the stage at a time', () => {
    const spans = stageSpans([u(1, 1, 1), u(2, 1, 1), u(0.5, 1, 1)]);
    assert.deepEqual(
      spans.map((s) => [s.startMs, s.endMs]),
      [
        [0, 1000],
        [1000, 3000],
        [3000, 3500],
      ],
    );
    assert.deepEqual(
      [0, 999, 1000, 2999, 3000, 9999].map((t) => spanIndexAt(spans, t)),
      [0, 0, 1, 1, 2, 2],
    );
  });

  it('segments split stages at the warm-up instant', () => {
    const stages = [u(1, 1, 1), u(2, 1, 1), u(1, 1, 1)];
    const seg = segmentsOf(stages, 1500);
    assert.deepEqual(
      seg.map((x) => [x.stage, x.startMs, x.endMs, x.warmup]),
      [
        [0, 0, 1000, true],
        [1, 1000, 1500, true],
        [1, 1500, 3000, false],
        [2, 3000, 4000, false],
      ],
    );
    assert.deepEqual(
      seg.map((x) => x.index),
      [0, 1, 2, 3],
    );
    assert.deepEqual(
      [999, 1000, 1499, 1500, 3999, 9999].map((t) => spanIndexAt(seg, t)),
      [0, 1, 1, 2, 3, 3],
      'the segment a request counts in',
    );
    assert.deepEqual(
      segmentsOf(stages, 0).map((x) => x.warmup),
      [false, false, false],
      'no warm-up',
    );
    assert.deepEqual(
      segmentsOf(stages, 1000).map((x) => [x.stage, x.warmup]),
      [
        [0, true],
        [1, false],
        [2, false],
      ],
      'on a boundary',
    );
    assert.ok(
      segmentsOf(stages, 9000).every((x) => x.warmup),
      'a warm-up longer than the run covers it all',
    );
  });
});
