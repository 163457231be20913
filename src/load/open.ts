// The open model as a driver: the n-th request is due at `arrivalSchedule(...).timeOf(n)`
// (shapes.ts) whatever the service does. Due requests that find every connection busy (up to
// maxInFlight) wait in an implicit backlog (just the index of the next one: memory stays O(1)), are
// counted as delayed, and those still waiting when the run ends are counted as unsent.
//
// Who is charged for lateness (README, "How latency is measured"): a request that was due while
// every connection was busy was held back by the service; it is timed from when the service held it
// back (its due time, or the instant the last connection became busy if that came later), so a stall
// shows in full (no coordinated omission). A request the generator was free to send is timed from
// its actual send; how far that send was from its due time is the generator's own schedule error,
// kept apart (sendLag), never added to the service's latency. Measured before this rule: at
// 200 req/s on a 20 ms server the generator's timer lag (p50 0.6 ms) read as +4.4% on p50.
//
// One timer at a time, aimed WINDOW_MS before the next due instant; a wake-up sends every request due
// before now + WINDOW_MS. Node's timers have 1 ms resolution and fire 0-1.5 ms late, so aiming early
// centres the schedule error around zero (a request leaves at most WINDOW_MS early, and late only by
// the timer's lateness beyond WINDOW_MS) and batches the two or three requests a 2000 req/s plan
// has per millisecond into one wake-up (bench/README.md, "Trust"). The early sends spread evenly over
// the window, so the schedule error's p99 is the window itself on a quiet host: 0.9 ms keeps it under
// issue 14's 1 ms with room for the timer's own tail (1 ms gave p99 0.99 ms; 0.9 gave 0.895 ms at
// the same CPU per request, 3 interleaved rounds at 2000 req/s).

import type { OpenLoad } from '../plan/types.ts';
import type { Driver, DriverHost } from './driver.ts';
import { type ArrivalSchedule, arrivalSchedule, totalDurationMs } from './shapes.ts';
import type { Slot } from './slot.ts';

/** A wake-up sends what falls due before now + this; the timer is aimed this much early. */
export const WINDOW_MS = 0.9;

export class OpenDriver implements Driver {
  readonly planned: Driver['planned'];
  readonly measuresSendLag = true;
  unsent = 0;
  /** Requests held back by the service: due while every connection was busy. */
  delayedByCap = 0;

  private readonly arrivals: ArrivalSchedule;
  private readonly maxInFlight: number;
  private readonly totalMs: number;
  private host!: DriverHost;
  private readonly idle: Slot[] = [];
  private next = 0; // index of the next request to send
  private pumpTimer: NodeJS.Timeout | null = null;
  private blocked = false; // a due request found every connection busy: the backlog drains as slots free
  // When every connection became busy (NaN: some connection is free), and the last such span that ended.
  private fullSince = Number.NaN;
  private lastFullFrom = Number.NaN;
  private lastFullTo = Number.NaN;

  constructor(load: OpenLoad) {
    const arrivals = arrivalSchedule(load.stages, load.arrivalOffset ?? 0);
    const totalMs = totalDurationMs(load.stages);
    this.arrivals = arrivals;
    this.maxInFlight = load.maxInFlight;
    this.totalMs = totalMs;
    // The timeline's last, partial second reads the plan's last instant.
    this.planned = { rateAt: (ms) => arrivals.rateAt(Math.min(ms, totalMs - 1)) };
  }

  start(host: DriverHost): void {
    this.host = host;
    host.later(0, this.pump);
  }

  onSlotFree(slot: Slot): void {
    if (!this.blocked) return this.release(slot);
    const t = this.host.now();
    const due = this.arrivals.timeOf(this.next);
    if (due <= t) {
      // A backlogged request: it fell due while no connection was free. The slot goes straight to it,
      // so every connection stays busy.
      this.dispatch(slot, due, t);
    } else {
      this.release(slot);
    }
    if (this.arrivals.timeOf(this.next) > t) {
      this.blocked = false; // caught up: the pump's timer takes over again
      this.pump();
    }
  }

  stop(completed: boolean): void {
    const { arrivals, host } = this;
    host.cancel(this.pumpTimer);
    if (completed) {
      // Send what fell due before the end but whose timer had not fired yet (sub-millisecond races).
      while (arrivals.timeOf(this.next) < this.totalMs) {
        const slot = this.slotForSend();
        if (!slot) break;
        this.dispatch(slot, arrivals.timeOf(this.next), host.now());
      }
    }
    // Unsent: requests that were due and never left. A run stopped early does not count those not yet due.
    if (completed) this.unsent = Math.max(0, arrivals.total - this.next);
    else {
      const t = host.now();
      let due = this.next;
      while (due < arrivals.total && arrivals.timeOf(due) <= t) due++;
      this.unsent = due - this.next;
    }
  }

  progress(elapsedMs: number): { targetRate: number } {
    return { targetRate: this.arrivals.rateAt(elapsedMs) };
  }

  /** Sends every request due before now + WINDOW_MS, then sleeps until WINDOW_MS before the next one (one function for the timer, no closure per wake-up). */
  private readonly pump = (): void => {
    const { arrivals, host } = this;
    this.pumpTimer = null;
    if (host.stopping) return;
    const t = host.now();
    for (;;) {
      const due = arrivals.timeOf(this.next);
      if (due > t + WINDOW_MS) break;
      const slot = this.slotForSend();
      if (!slot) {
        if (due > t) break; // not due yet: its timer may find a free connection
        this.blocked = true;
        return;
      }
      this.dispatch(slot, due, t);
    }
    if (this.next < arrivals.total) {
      const due = arrivals.timeOf(this.next);
      // Aimed early by the window, or (a due request found no free connection yet) at its due time.
      this.pumpTimer = host.later(due - WINDOW_MS > t ? due - WINDOW_MS - t : due - t, this.pump);
    }
  };

  /** Sends request `next`, due at `due`, at `t` on `slot`: charged from when the service held it back, else from now. */
  private dispatch(slot: Slot, due: number, t: number): void {
    const from = this.heldBackFrom(due, t);
    if (Number.isNaN(from)) {
      this.host.lag(Math.abs(t - due));
      this.host.send(slot, t, due);
    } else {
      this.delayedByCap++;
      this.host.send(slot, from, due);
    }
    this.next++;
    // Taking the last free connection: from here on due requests are held back by the service. An ideal
    // generator would have taken it at the request's due time.
    if (this.idle.length === 0 && this.host.slots.length >= this.maxInFlight && Number.isNaN(this.fullSince))
      this.fullSince = Math.min(due, t);
  }

  /**
   * When the service began to hold back a request due at `due` and sent at `t`: every connection was
   * busy at some instant between the two (now, or in the last span of busy connections). NaN: it was
   * not held back, and the generator alone decided when it left.
   */
  private heldBackFrom(due: number, t: number): number {
    if (t <= due) return Number.NaN;
    if (!Number.isNaN(this.fullSince) && this.fullSince < t) return Math.max(due, this.fullSince);
    if (!Number.isNaN(this.lastFullFrom) && this.lastFullFrom < t && this.lastFullTo > due) return Math.max(due, this.lastFullFrom);
    return Number.NaN;
  }

  private release(slot: Slot): void {
    this.idle.push(slot);
    if (!Number.isNaN(this.fullSince)) {
      this.lastFullFrom = this.fullSince;
      this.lastFullTo = this.host.now();
      this.fullSince = Number.NaN;
    }
  }

  private slotForSend(): Slot | null {
    return this.idle.pop() ?? (this.host.slots.length < this.maxInFlight ? this.host.newSlot() : null);
  }
}
