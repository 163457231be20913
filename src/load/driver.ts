// A driver is one load model: it decides when each request is sent, and on which slot. The engine
// (engine.ts) keeps what every model shares: the pool of slots and what happens when a request ends,
// the housekeeping tick (timeouts, seconds, progress, abort checks), the result and the stop. Two
// drivers exist: the closed model (closed.ts, users that each loop on a connection of their own) and
// the open model (open.ts, arrivals on a schedule whatever the service does). vegeta cuts its
// attacker from its Pacer the same way.
//
// What a driver owns: its schedule (the maths lives in shapes.ts), its timers (through the host, so
// that the stop clears them), which slot each request goes on (taken from the host's pool), and its
// own counts (requests left unsent, requests that waited for a free connection). What it does not:
// measuring. The engine records every response and error the same way whatever sent it. A new
// model, say a streaming LLM client's sessions or the rounds of a comparison, is a new Driver and
// one line where the engine picks it; the other drivers do not change.

import type { LoadProbe } from '../metrics/recorder.ts';
import type { Progress } from '../metrics/progress.ts';
import type { Slot } from './slot.ts';

/** What the engine lends a driver from `start` on. Times are ms since the load started. */
export interface DriverHost {
  now(): number;
  /** A timer; the engine clears every pending one when the load stops. */
  later(ms: number, fn: () => void): NodeJS.Timeout;
  cancel(timer: NodeJS.Timeout | null): void;
  /** Every slot opened so far, busy or idle. */
  readonly slots: readonly Slot[];
  /** A new slot (its connection opens with its first request), added to `slots`. */
  newSlot(): Slot;
  /**
   * Sends the next request (the endpoint picked by weight) on an idle slot. `timedFrom`: where its
   * latency starts (its actual send, or when the service began to hold it back); `dueAt`: its place
   * in the plan, which decides its stage and warm-up (default `timedFrom`).
   */
  send(slot: Slot, timedFrom: number, dueAt?: number): void;
  /** A request the generator sent on its own left this many ms off its due time (early or late). */
  lag(ms: number): void;
  /** The load is stopping: send nothing more. */
  readonly stopping: boolean;
}

export interface Driver {
  /** The plan at an instant, for the timeline: the users it calls for, or its target rate. */
  readonly planned: Pick<LoadProbe, 'usersAt' | 'rateAt'>;
  /**
   * Requests have intended send times of their own that they can miss (an open schedule): the
   * recorder then keeps the send lag and the service time (latency from the actual send).
   */
  readonly measuresSendLag: boolean;
  /** Requests due but never sent (final once stopped), and requests that waited for a free connection. */
  readonly unsent: number;
  readonly delayedByCap: number;
  /** Starts sending, through the host. */
  start(host: DriverHost): void;
  /** The request on `slot` ended at `endMs` (a response or an error): send again on it, or leave it idle. Not called once stopping. */
  onSlotFree(slot: Slot, endMs: number): void;
  /** The load stops; `completed` when its planned time ran out. The last sends happen here, none after. */
  stop(completed: boolean): void;
  /** The model's own figures for a progress line. */
  progress(elapsedMs: number): Pick<Progress, 'users' | 'targetRate'>;
}
