// The closed model as a driver: users come and go as `userSchedule` says (shapes.ts); each loops
// over requests on its own connection, paced to `perUserRate` iterations/s (locust's
// constant_throughput) or with no wait, with a phase offset so that users do not fire in lockstep
// (`userPhase`). A user waits for its response before the next request, so the service sets the
// pace, and latency is measured from the send.
//
// Large plans: users start in batches of SPAWN_BATCH per turn of the event loop, and retired users'
// idle connections wait in a list for the next new user. Before, each new user searched every slot
// for an idle one: 100,000 users at once cost ~5e9 steps, and the event loop stopped for tens of
// seconds (no progress line, signals unheard: issue 16).

import type { ClosedLoad, UserStage } from '../plan/types.ts';
import type { Driver, DriverHost } from './driver.ts';
import { totalDurationMs, userPhase, userSchedule, usersAt } from './shapes.ts';
import type { Slot } from './slot.ts';

/** Users started per turn of the event loop: ~1,000 users cost a few ms, so timers and signals stay heard. */
const SPAWN_BATCH = 1000;

interface User {
  slot: Slot;
  active: boolean;
  lastStart: number;
  timer: NodeJS.Timeout | null;
}

export class ClosedDriver implements Driver {
  readonly planned: Driver['planned'];
  readonly measuresSendLag = false;
  readonly unsent = 0;
  readonly delayedByCap = 0;

  private readonly stages: readonly UserStage[];
  /** ms from one iteration's start to the next; 0: no wait. */
  private readonly period: number;
  private host!: DriverHost;
  private readonly users: User[] = []; // running users, newest last
  private readonly bySlot = new Map<Slot, User>();
  private spawned = 0;
  private target = 0;
  private growing = false;
  /** Idle connections of retired users, for the next new user. */
  private readonly spare: Slot[] = [];

  constructor(load: ClosedLoad) {
    const stages = load.stages;
    const totalMs = totalDurationMs(stages);
    this.stages = stages;
    this.period = load.perUserRate > 0 ? 1000 / load.perUserRate : 0;
    // The timeline's last, partial second reads the plan's last instant.
    this.planned = { usersAt: (ms) => usersAt(stages, Math.min(ms, totalMs - 1)) };
  }

  start(host: DriverHost): void {
    this.host = host;
    // One timer at a time along the schedule (a timer per user change was 100,000 timers up front), and
    // every change due by a wake-up applied at once.
    const events = userSchedule(this.stages);
    let i = 0;
    const step = (): void => {
      if (host.stopping) return;
      const t = host.now();
      let users = -1;
      // `!(at > t)`: a change with no time (spawn rate 0: 0/0) applies at once, as a timer of NaN ms did.
      while (i < events.length && !(events[i]!.atMs > t)) users = events[i++]!.users;
      if (users >= 0) this.setUsers(users);
      if (i < events.length) host.later(events[i]!.atMs - t, step);
    };
    step();
  }

  onSlotFree(slot: Slot, endMs: number): void {
    const u = this.bySlot.get(slot);
    if (!u || !u.active) {
      if (!u) this.spare.push(slot); // a retired user's request ended: its connection is free for a new user
      return;
    }
    if (this.period === 0) return this.iterate(u);
    const next = u.lastStart + this.period; // constant throughput: start-to-start, never before the last ended
    if (next <= endMs) this.iterate(u);
    else u.timer = this.host.later(next - endMs, () => this.iterate(u));
  }

  stop(): void {}

  progress(): { users: number } {
    return { users: this.users.length };
  }

  private iterate(u: User): void {
    u.timer = null;
    if (!u.active || this.host.stopping) return;
    u.lastStart = this.host.now();
    this.host.send(u.slot, u.lastStart);
  }

  private setUsers(target: number): void {
    this.target = target;
    this.grow();
    while (this.users.length > target) {
      const u = this.users.pop()!;
      u.active = false;
      this.host.cancel(u.timer);
      this.bySlot.delete(u.slot);
      if (!u.slot.busy) this.spare.push(u.slot);
    }
  }

  /** Starts users up to the target, SPAWN_BATCH at a time, the rest a turn of the event loop later. */
  private readonly grow = (): void => {
    const host = this.host;
    this.growing = false;
    if (host.stopping) return;
    let batch = SPAWN_BATCH;
    while (this.users.length < this.target && batch-- > 0) {
      // Reuse an idle connection of a retired user when there is one (as a user pool would).
      let slot = this.spare.pop();
      while (slot && (slot.busy || this.bySlot.has(slot))) slot = this.spare.pop();
      slot ??= host.newSlot();
      const u: User = { slot, active: true, lastStart: 0, timer: null };
      this.users.push(u);
      this.bySlot.set(slot, u);
      const phase = this.period > 0 ? userPhase(this.spawned) * this.period : 0;
      this.spawned++;
      u.timer = host.later(phase, () => this.iterate(u));
    }
    if (this.users.length < this.target && !this.growing) {
      this.growing = true;
      host.later(0, this.grow);
    }
  };
}
