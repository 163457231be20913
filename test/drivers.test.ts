// The two load drivers (src/load/closed.ts, src/load/open.ts) against a fake host: a clock moved by
// hand, timers run in order, slots that only remember what was sent on them. No sockets, no real
// time, so the schedule is checked to the millisecond (test/engine.test.ts runs them for real).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedDriver } from '../src/load/closed.ts';
import type { Driver, DriverHost } from '../src/load/driver.ts';
import { OpenDriver, WINDOW_MS } from '../src/load/open.ts';
import type { Slot } from '../src/load/slot.ts';

interface FakeSlot extends Slot {
  id: number;
  busy: boolean;
}

interface Send {
  at: number;
  slot: number;
  intendedAt: number;
}

/** A host whose time moves only through `runUntil`, and whose timers fire in due order. */
function fakeHost(driver: Driver) {
  let t = 0;
  let seq = 0;
  const timers = new Map<NodeJS.Timeout, { at: number; seq: number; fn: () => void }>();
  const slots: FakeSlot[] = [];
  const sends: Send[] = [];
  const lags: number[] = [];
  let stopping = false;
  const host: DriverHost = {
    now: () => t,
    later(ms, fn) {
      const id = {} as NodeJS.Timeout;
      timers.set(id, { at: t + Math.max(0, ms), seq: seq++, fn });
      return id;
    },
    cancel(id) {
      if (id) timers.delete(id);
    },
    slots,
    newSlot() {
      const s: FakeSlot = {
        id: slots.length,
        busy: false,
        endpoint: 0,
        segment: 0,
        sentAt: 0,
        intendedAt: 0,
        send() {},
        abort() {},
        close: async () => {},
      };
      slots.push(s);
      return s;
    },
    send(slot, intendedAt) {
      (slot as FakeSlot).busy = true;
      sends.push({ at: t, slot: (slot as FakeSlot).id, intendedAt });
    },
    lag: (ms) => void lags.push(ms),
    get stopping() {
      return stopping;
    },
  };
  return {
    host,
    slots,
    sends,
    lags,
    /** Fires every timer due by `to`, in order, moving the clock to each; then the clock reads `to`. */
    runUntil(to: number) {
      for (;;) {
        const next = [...timers.entries()].filter(([, x]) => x.at <= to).sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq)[0];
        if (!next) break;
        timers.delete(next[0]);
        t = next[1].at;
        next[1].fn();
      }
      t = to;
    },
    /** Moves the clock without firing timers: they are late, as a busy event loop makes them. */
    skipTo(to: number) {
      t = to;
    },
    /** The request on slot `id` ends now. */
    free(id: number) {
      const s = slots[id]!;
      s.busy = false;
      driver.onSlotFree(s, t);
    },
    stop(completed: boolean) {
      timers.clear();
      driver.stop(completed);
      stopping = true;
    },
  };
}

describe('open driver', () => {
  it('sends each request at its due time, opening connections up to the cap, reusing freed ones', () => {
    const driver = new OpenDriver({ model: 'open', maxInFlight: 2, stages: [{ name: 's', durationMs: 1000, rate: 10, ramp: false }] });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(150);
    h.free(0);
    h.runUntil(250);
    // Each wake-up is aimed a window (WINDOW_MS) early and sends what falls due within it; a request the
    // generator sends on its own is timed from its actual send, its distance from the schedule kept apart.
    const early = (due: number) => due - WINDOW_MS;
    assert.deepEqual(h.sends, [
      { at: 0, slot: 0, intendedAt: 0 },
      { at: early(100), slot: 1, intendedAt: early(100) },
      { at: early(200), slot: 0, intendedAt: early(200) },
    ]);
    assert.deepEqual(h.lags, [0, 100 - early(100), 200 - early(200)]);
    assert.equal(driver.delayedByCap, 0);
    assert.deepEqual(driver.progress(500), { targetRate: 10 });
  });

  it('with every connection busy, due requests wait, leave as slots free (delayed, their lag kept), and the rest is unsent', () => {
    const driver = new OpenDriver({ model: 'open', maxInFlight: 2, stages: [{ name: 's', durationMs: 1000, rate: 10, ramp: false }] });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(350); // 0 and 100 sent; 200 and 300 fell due with both connections busy
    assert.equal(h.sends.length, 2);
    h.free(1); // at 350: the request due at 200 goes, held back by the service: timed from its due time
    assert.deepEqual(h.sends.at(-1), { at: 350, slot: 1, intendedAt: 200 });
    assert.equal(driver.delayedByCap, 1);
    assert.deepEqual(h.lags, [0, 100 - (100 - WINDOW_MS)], "a wait the service caused is not the generator's schedule error");
    h.free(1); // still behind: the one due at 300
    assert.deepEqual(h.sends.at(-1), { at: 350, slot: 1, intendedAt: 300 });
    h.free(0); // caught up: slot 0 waits idle, the pump's timer takes over
    h.runUntil(420);
    assert.deepEqual(
      h.sends.at(-1),
      { at: 400 - WINDOW_MS, slot: 0, intendedAt: 400 - WINDOW_MS },
      'the next due request goes on time, on the idle slot',
    );
    assert.equal(driver.delayedByCap, 2);
    h.stop(false); // interrupted at 420: the requests of 500..900 were not due yet, so none is "unsent"
    assert.equal(driver.unsent, 0);
  });

  it('interrupted with due requests still waiting for a connection: those, and only those, are unsent', () => {
    const driver = new OpenDriver({ model: 'open', maxInFlight: 1, stages: [{ name: 's', durationMs: 1000, rate: 10, ramp: false }] });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(350); // 0 sent and still in flight; 100, 200 and 300 fell due with the one connection busy
    h.stop(false);
    assert.equal(driver.unsent, 3);
  });

  it('a completed run sends what fell due before the end whose timer had not fired', () => {
    const driver = new OpenDriver({ model: 'open', maxInFlight: 10, stages: [{ name: 's', durationMs: 1000, rate: 10, ramp: false }] });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(850); // due at 0..800 sent; 900's timer is pending
    assert.equal(h.sends.length, 9);
    h.skipTo(999.5); // the clock passed 900, its timer not run yet
    h.stop(true);
    // Late because the generator was (a connection was free all along): timed from its actual send,
    // the lateness kept apart as schedule error.
    assert.deepEqual(h.sends.at(-1), { at: 999.5, slot: 9, intendedAt: 999.5 });
    assert.equal(h.lags.at(-1), 99.5);
    assert.equal(driver.unsent, 0);
  });

  it("tells the timeline the planned rate, holding the last instant's after the end", () => {
    const driver = new OpenDriver({ model: 'open', maxInFlight: 1, stages: [{ name: 'up', durationMs: 1000, rate: 100, ramp: true }] });
    assert.equal(driver.planned.rateAt!(500), 50);
    assert.equal(driver.planned.rateAt!(5000), 99.9);
    assert.equal(driver.progress(5000).targetRate, 0, 'progress says the plan as it is');
    assert.equal(driver.measuresSendLag, true);
  });
});

describe('closed driver', () => {
  it('paced users start out of phase, and each starts its next iteration one period after the last began', () => {
    const driver = new ClosedDriver({
      model: 'closed',
      perUserRate: 2,
      stages: [{ name: 's', durationMs: 2000, users: 2, spawnRate: 100 }],
    });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(400);
    // User 0 at phase 0, user 1 (spawned at 10 ms) at 0.618 of the 500 ms period.
    assert.deepEqual(h.sends, [
      { at: 0, slot: 0, intendedAt: 0 },
      { at: 10 + 309.01699437494744, slot: 1, intendedAt: 10 + 309.01699437494744 },
    ]);
    h.free(0); // user 0's response at 400: its next start is due at 500
    h.runUntil(499);
    assert.equal(h.sends.length, 2);
    h.runUntil(500);
    assert.deepEqual(h.sends.at(-1), { at: 500, slot: 0, intendedAt: 500 });
    h.runUntil(1200);
    h.free(0); // a response later than a period: the next iteration goes at once
    assert.deepEqual(h.sends.at(-1), { at: 1200, slot: 0, intendedAt: 1200 });
    assert.deepEqual(driver.progress(), { users: 2 });
    assert.equal(driver.measuresSendLag, false);
  });

  it('with no wait, a user sends again as soon as its request ends', () => {
    const driver = new ClosedDriver({ model: 'closed', perUserRate: 0, stages: [{ name: 's', durationMs: 1000, users: 1, spawnRate: 1 }] });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(3);
    h.free(0);
    h.free(0);
    assert.deepEqual(
      h.sends.map((s) => s.at),
      [0, 3, 3],
    );
  });

  it('retired users stop sending; new users reuse their idle connections', () => {
    const driver = new ClosedDriver({
      model: 'closed',
      perUserRate: 0,
      stages: [
        { name: 'two', durationMs: 1000, users: 2, spawnRate: 100 },
        { name: 'one', durationMs: 1000, users: 1, spawnRate: 100 },
        { name: 'two again', durationMs: 1000, users: 2, spawnRate: 100 },
      ],
    });
    const h = fakeHost(driver);
    driver.start(h.host);
    h.runUntil(1500); // user 1 retired at 1000 with its request in flight
    assert.deepEqual(driver.progress(), { users: 1 });
    const before = h.sends.length;
    h.free(1);
    assert.equal(h.sends.length, before, "a retired user's response sends nothing");
    h.runUntil(2000); // a second user again: the idle connection is reused
    assert.equal(h.slots.length, 2);
    assert.deepEqual(h.sends.at(-1), { at: 2000, slot: 1, intendedAt: 2000 });
    h.runUntil(3000);
    assert.deepEqual(driver.progress(), { users: 0 }, 'no users once the plan has ended');
    assert.equal(driver.planned.usersAt!(5000), 2, "the timeline holds the last instant's count");
  });
});
