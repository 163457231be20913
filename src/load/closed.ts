// The closed model as a driver: users come and go as `userSchedule` says (shapes.ts); each loops
// over requests on its own connection, paced to `perUserRate` iterations/s (locust's
// constant_throughput) or with no wait, with a phase offset so that users do not fire in lockstep
// (`userPhase`). A user waits for its response before the next request, so the service sets the
// pace, and latency is measured from the send.

import type { ClosedLoad, UserStage } from '../plan/types.ts';
import type { Driver, DriverHost } from './driver.ts';
import { totalDurationMs, userPhase, userSchedule, usersAt } from './shapes.ts';
import type { Slot } from './slot.ts';

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
    for (const ev of userSchedule(this.stages)) host.later(ev.atMs, () => !host.stopping && this.setUsers(ev.users));
  }

  onSlotFree(slot: Slot, endMs: number): void {
    const u = this.bySlot.get(slot);
    if (!u || !u.active) return;
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
    const host = this.host;
    while (this.users.length < target) {
      // Reuse an idle connection of a retired user when there is one (as a user pool would).
      const slot = host.slots.find((s) => !s.busy && !this.bySlot.has(s)) ?? host.newSlot();
      const u: User = { slot, active: true, lastStart: 0, timer: null };
      this.users.push(u);
      this.bySlot.set(slot, u);
      const phase = this.period > 0 ? userPhase(this.spawned) * this.period : 0;
      this.spawned++;
      u.timer = host.later(phase, () => this.iterate(u));
    }
    while (this.users.length > target) {
      const u = this.users.pop()!;
      u.active = false;
      host.cancel(u.timer);
      this.bySlot.delete(u.slot);
    }
  }
}
