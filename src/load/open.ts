// The open model as a driver: the n-th request is due at `arrivalSchedule(...).timeOf(n)`
// (shapes.ts) whatever the service does; latency is measured from that intended time, so a stall
// shows in the percentiles (no coordinated omission). When every connection (up to maxInFlight) is
// busy, due requests wait in an implicit backlog (just the index of the next one: memory stays
// O(1)) and are counted as delayed; those still waiting when the run ends are counted as unsent.
//
// One timer at a time, to the next due instant: Node's timers have 1 ms resolution, so at 2000
// req/s a wake-up sends the two or so requests that fell due (bench/README.md measured finer
// pacing: it costs more wake-ups than it saves).

import type { OpenLoad } from '../plan/types.ts';
import type { Driver, DriverHost } from './driver.ts';
import { type ArrivalSchedule, arrivalSchedule, totalDurationMs } from './shapes.ts';
import type { Slot } from './slot.ts';

export class OpenDriver implements Driver {
  readonly planned: Driver['planned'];
  readonly measuresSendLag = true;
  unsent = 0;
  delayedByCap = 0;

  private readonly arrivals: ArrivalSchedule;
  private readonly maxInFlight: number;
  private readonly totalMs: number;
  private host!: DriverHost;
  private readonly idle: Slot[] = [];
  private next = 0; // index of the next request to send
  private pumpTimer: NodeJS.Timeout | null = null;
  private blocked = false; // a due request found every connection busy: the backlog drains as slots free

  constructor(load: OpenLoad) {
    const arrivals = arrivalSchedule(load.stages);
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
    if (!this.blocked) {
      this.idle.push(slot);
      return;
    }
    const t = this.host.now();
    const due = this.arrivals.timeOf(this.next);
    if (due <= t) {
      // A backlogged request: it fell due while no connection was free.
      this.delayedByCap++;
      this.host.lag(t - due);
      this.host.send(slot, due);
      this.next++;
    } else {
      this.idle.push(slot);
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
        const due = arrivals.timeOf(this.next);
        host.lag(host.now() - due);
        host.send(slot, due);
        this.next++;
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

  /** Sends every request due by now, then sleeps until the next one is due (one function for the timer, no closure per wake-up). */
  private readonly pump = (): void => {
    const { arrivals, host } = this;
    this.pumpTimer = null;
    if (host.stopping) return;
    const t = host.now();
    for (;;) {
      const due = arrivals.timeOf(this.next);
      if (due > t) break;
      const slot = this.slotForSend();
      if (!slot) {
        this.blocked = true;
        return;
      }
      host.lag(t - due);
      host.send(slot, due);
      this.next++;
    }
    if (this.next < arrivals.total) this.pumpTimer = host.later(arrivals.timeOf(this.next) - t, this.pump);
  };

  private slotForSend(): Slot | null {
    return this.idle.pop() ?? (this.host.slots.length < this.maxInFlight ? this.host.newSlot() : null);
  }
}
