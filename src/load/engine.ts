// The engine: drives the planned load against a base URL and measures every response.
//
// Closed model: users come and go as `userSchedule` says; each loops over requests on its own
// connection, paced to `perUserRate` iterations/s (locust's constant_throughput) or with no wait,
// with a phase offset so that users do not fire in lockstep. Latency is measured from the send.
//
// Open model: the n-th request is due at `arrivalSchedule(...).timeOf(n)` whatever the service
// does; latency is measured from that intended time, so a stall shows in the percentiles (no
// coordinated omission). When every connection (up to maxInFlight) is busy, due requests wait in
// an implicit backlog (just the index of the next one: memory stays O(1)) and are counted as
// delayed; those still waiting when the run ends are counted as unsent.

import type { EndpointPlan, LoadPlan } from '../plan/types.ts';
import type { Progress } from '../metrics/progress.ts';
import { Recorder } from '../metrics/recorder.ts';
import { RESULT_FORMAT_VERSION, type ErrorKind, type RunResult, type RunStatus, type StageInfo } from '../metrics/result.ts';
import { H1Slot, RequestBytes } from './h1-slot.ts';
import { prepareRequests } from './requests.ts';
import { arrivalSchedule, segmentsOf, spanIndexAt, stageSpans, totalDurationMs, userPhase, userSchedule, usersAt } from './shapes.ts';
import { RequestTimeout, RunStopped, type Slot, type SlotListener } from './slot.ts';
import { UndiciSlot } from './undici-slot.ts';
import { VERSION } from '../version.ts';

/** Abort the engine's signal with one of these to say how the run ended and why. */
export class LoadStop extends Error {
  override readonly name = 'LoadStop';
  readonly status: Exclude<RunStatus, 'completed'>;
  constructor(status: Exclude<RunStatus, 'completed'>, message: string) {
    super(message);
    this.status = status;
  }
}

export interface EngineOptions {
  baseUrl: string;
  endpoints: readonly EndpointPlan[];
  load: LoadPlan;
  timeoutMs: number;
  seed: number;
  /** The first this many ms are warm-up: counted apart, so statistics can leave them out. */
  warmupMs?: number;
  /** Aborting it stops the load at once: in-flight requests are cancelled; the status is the LoadStop's, else 'interrupted'. */
  signal?: AbortSignal;
  progressIntervalMs?: number;
  onProgress?: (p: Progress) => void;
  /**
   * Called once per second with the result so far; returning a reason stops the run as 'aborted'
   * (an abort-on-fail SLO that fails). `by` names what stopped it.
   */
  abortCheck?: (soFar: RunResult, elapsedMs: number) => { by: string; reason: string } | null;
  /**
   * 'auto' (the default): http:// goes through loadgate's minimal HTTP/1.1 client (h1-slot.ts), https://
   * through undici. 'undici': undici for both. The environment variable LOADGATE_HTTP_CLIENT=undici
   * does the same when this is not set.
   */
  httpClient?: 'auto' | 'undici';
}

/** Housekeeping period: timeout sweeps, closing seconds, progress. 10 wake-ups a second cost nothing. */
const TICK_MS = 100;

export async function runLoad(opts: EngineOptions): Promise<RunResult> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const startedAt = new Date().toISOString();
  const cpu0 = process.cpuUsage();
  const stages = opts.load.stages;
  const spans = stageSpans(stages);
  const warmupMs = opts.warmupMs ?? 0;
  const segments = segmentsOf(stages, warmupMs);
  const totalMs = totalDurationMs(stages);
  const source = prepareRequests(opts.endpoints, opts.seed);
  const origin = new URL(opts.baseUrl).origin;
  const basePath = new URL(opts.baseUrl).pathname.replace(/\/$/, '');
  if (basePath) for (const ep of source.endpoints) ep.path = basePath + ep.path;

  const slots: Slot[] = [];
  let inFlight = 0;
  const arrivals = opts.load.model === 'open' ? arrivalSchedule(opts.load.stages) : null;
  const openModel = arrivals !== null;
  const closedStages = opts.load.model === 'closed' ? opts.load.stages : null;
  const recorder = new Recorder(
    segments.length,
    opts.endpoints.map((e) => e.name),
    {
      stageAt: (ms) => spanIndexAt(spans, ms),
      ...(closedStages ? { usersAt: (ms: number) => usersAt(closedStages, Math.min(ms, totalMs - 1)) } : {}),
      ...(arrivals ? { rateAt: (ms: number) => arrivals.rateAt(Math.min(ms, totalMs - 1)) } : {}),
      inFlight: () => inFlight,
    },
    { sendLag: opts.load.model === 'open', invalid: opts.endpoints.map((e) => e.role === 'invalid') },
  );

  let stopping = false; // no new requests
  let status: RunStatus = 'completed';
  let reason: string | undefined;
  let abortedBy: string | undefined;
  let resolveDrained: () => void = () => {};
  const drained = new Promise<void>((r) => (resolveDrained = r));

  // What happens when a request ends is the same in both models; only "what next" differs.
  let onSlotFree: (slot: Slot, endMs: number) => void = () => {};
  const listener: SlotListener = {
    response(slot, statusCode, ok, bytes, endMs, sample, mismatch) {
      inFlight--;
      const latencyUs = (endMs - slot.intendedAt) * 1000;
      if (openModel) recorder.service((endMs - slot.sentAt) * 1000);
      if (mismatch !== undefined) {
        recorder.response(slot.endpoint, slot.segment, endMs, latencyUs, bytes, false, 'bad-response');
        recorder.failure(slot.endpoint, 'bad-response', mismatch, endMs);
      } else {
        recorder.response(slot.endpoint, slot.segment, endMs, latencyUs, bytes, ok);
        if (!ok) recorder.failure(slot.endpoint, 'status', `HTTP ${statusCode}`, endMs, sample);
      }
      onSlotFree(slot, endMs);
    },
    error(slot, kind, message, endMs) {
      inFlight--;
      if (kind !== 'stopped') {
        const latencyUs = kind === 'timeout' ? (endMs - slot.intendedAt) * 1000 : null;
        recorder.transportError(slot.endpoint, slot.segment, endMs, kind, latencyUs);
        recorder.failure(slot.endpoint, kind as ErrorKind, message, endMs);
      }
      // Inside undici's error callback the client is still settling its queue: dispatching on it
      // again right here trips its internal assertions. A turn of the event loop later it is ready
      // (and a tight loop of refused connections yields to timers and I/O).
      setImmediate(onSlotFree, slot, endMs);
    },
  };
  // http: our minimal HTTP/1.1 client (h1-slot.ts), unless undici is asked for; https: undici.
  const originUrl = new URL(origin);
  const client = opts.httpClient ?? (process.env.LOADGATE_HTTP_CLIENT === 'undici' ? 'undici' : 'auto');
  const requestBytes = originUrl.protocol === 'http:' && client !== 'undici' ? new RequestBytes(originUrl.host) : null;
  const newSlot = (): Slot => {
    const s = requestBytes ? new H1Slot(originUrl, requestBytes, listener, now) : new UndiciSlot(origin, opts.timeoutMs, listener, now);
    slots.push(s);
    return s;
  };
  const send = (slot: Slot, intendedAt: number) => {
    const ep = source.endpoints[source.pick()]!;
    inFlight++;
    slot.send(ep, spanIndexAt(segments, intendedAt), intendedAt);
  };
  const checkDrained = () => {
    if (stopping && inFlight === 0) resolveDrained();
  };

  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, Math.max(0, ms));
    timers.add(t);
    return t;
  };
  const cancel = (t: NodeJS.Timeout | null) => {
    if (t) {
      clearTimeout(t);
      timers.delete(t);
    }
  };

  let unsent = 0;
  let delayedByCap = 0;
  let activeUsers = 0;
  // The model's last word when the load stops (the open model settles its backlog).
  let onStop: (completed: boolean) => void = () => {};

  if (closedStages && opts.load.model === 'closed') {
    // ---- closed model ----
    const period = opts.load.perUserRate > 0 ? 1000 / opts.load.perUserRate : 0;
    interface User {
      slot: Slot;
      active: boolean;
      lastStart: number;
      timer: NodeJS.Timeout | null;
    }
    const users: User[] = []; // running users, newest last
    const bySlot = new Map<Slot, User>();
    let spawned = 0;
    const iterate = (u: User) => {
      u.timer = null;
      if (!u.active || stopping) return;
      u.lastStart = now();
      send(u.slot, u.lastStart);
    };
    onSlotFree = (slot, endMs) => {
      const u = bySlot.get(slot);
      if (!u || !u.active || stopping) return checkDrained();
      if (period === 0) return iterate(u);
      const next = u.lastStart + period; // constant throughput: start-to-start, never before the last ended
      if (next <= endMs) iterate(u);
      else u.timer = later(next - endMs, () => iterate(u));
    };
    const setUsers = (target: number) => {
      while (users.length < target) {
        // Reuse an idle connection of a retired user when there is one (as a user pool would).
        const slot = slots.find((s) => !s.busy && !bySlot.has(s)) ?? newSlot();
        const u: User = { slot, active: true, lastStart: 0, timer: null };
        users.push(u);
        bySlot.set(slot, u);
        const phase = period > 0 ? userPhase(spawned) * period : 0;
        spawned++;
        u.timer = later(phase, () => iterate(u));
      }
      while (users.length > target) {
        const u = users.pop()!;
        u.active = false;
        cancel(u.timer);
        bySlot.delete(u.slot);
      }
      activeUsers = users.length;
    };
    for (const ev of userSchedule(closedStages)) later(ev.atMs, () => !stopping && setUsers(ev.users));
  } else if (arrivals && opts.load.model === 'open') {
    // ---- open model ----
    const maxInFlight = opts.load.maxInFlight;
    const idle: Slot[] = [];
    let next = 0; // index of the next request to send
    let pumpTimer: NodeJS.Timeout | null = null;
    let blocked = false; // a due request found every connection busy: the backlog drains as slots free
    const slotForSend = (): Slot | null => idle.pop() ?? (slots.length < maxInFlight ? newSlot() : null);
    const pump = () => {
      pumpTimer = null;
      if (stopping) return;
      const t = now();
      for (;;) {
        const due = arrivals.timeOf(next);
        if (due > t) break;
        const slot = slotForSend();
        if (!slot) {
          blocked = true;
          return;
        }
        recorder.lag(t - due);
        send(slot, due);
        next++;
      }
      if (next < arrivals.total) pumpTimer = later(arrivals.timeOf(next) - t, pump);
    };
    onSlotFree = (slot) => {
      if (stopping) return checkDrained();
      if (!blocked) {
        idle.push(slot);
        return;
      }
      const t = now();
      const due = arrivals.timeOf(next);
      if (due <= t) {
        // A backlogged request: it fell due while no connection was free.
        delayedByCap++;
        recorder.lag(t - due);
        send(slot, due);
        next++;
      } else {
        idle.push(slot);
      }
      if (arrivals.timeOf(next) > t) {
        blocked = false; // caught up: the pump's timer takes over again
        pump();
      }
    };
    later(0, pump);
    onStop = (completed) => {
      cancel(pumpTimer);
      if (completed) {
        // Send what fell due before the end but whose timer had not fired yet (sub-millisecond races).
        while (arrivals.timeOf(next) < totalMs) {
          const slot = slotForSend();
          if (!slot) break;
          const due = arrivals.timeOf(next);
          recorder.lag(now() - due);
          send(slot, due);
          next++;
        }
      }
      unsent = Math.max(0, arrivals.total - next);
    };
  }

  // The result as it stands: the final one at the end, and the one abort checks judge during the run.
  const snapshot = (endMs: number, cpu: NodeJS.CpuUsage): RunResult => ({
    formatVersion: RESULT_FORMAT_VERSION,
    tool: { name: 'loadgate', version: VERSION },
    startedAt,
    durationMs: Math.round(endMs),
    status,
    ...(reason ? { reason } : {}),
    ...(abortedBy ? { abortedBy } : {}),
    target: { baseUrl: opts.baseUrl },
    load:
      opts.load.model === 'closed'
        ? { model: 'closed', perUserRate: opts.load.perUserRate }
        : { model: 'open', maxInFlight: opts.load.maxInFlight },
    timeoutMs: opts.timeoutMs,
    seed: opts.seed,
    stages: stageInfos(opts.load, spans),
    warmupMs,
    segments: segments.map(({ index, stage, startMs, endMs, warmup }) => ({ index, stage, startMs, endMs, warmup })),
    endpoints: opts.endpoints.map((e) => ({ name: e.name, method: e.method, path: e.path, ...(e.role ? { role: e.role } : {}) })),
    cells: recorder.cells,
    failures: recorder.failures,
    failuresNotItemized: recorder.failuresNotItemized,
    timeline: recorder.timeline,
    unsent,
    delayedByCap,
    ...(recorder.sendLag ? { sendLag: recorder.sendLag } : {}),
    ...(recorder.serviceTime ? { serviceTime: recorder.serviceTime } : {}),
    generatorCpu: endMs > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / endMs) * 1000) / 1000 : 0,
  });

  // ---- housekeeping: timeouts, seconds, progress ----
  let lastProgress = 0;
  const progressEvery = opts.progressIntervalMs ?? 5000;
  const timeoutError = new RequestTimeout(`timeout after ${opts.timeoutMs} ms`);
  let judgedSeconds = 0;
  const tick = setInterval(() => {
    const t = now();
    for (const s of slots) if (s.busy && t - s.sentAt > opts.timeoutMs) s.abort(timeoutError);
    recorder.advance(t);
    // Seconds also close on the hot path (when a response arrives after a boundary), so compare with
    // the last second judged, not with what this tick closed.
    if (opts.abortCheck && recorder.timeline.length > judgedSeconds && !stopping) {
      judgedSeconds = recorder.timeline.length;
      const verdict = opts.abortCheck(snapshot(t, process.cpuUsage(cpu0)), t);
      if (verdict) {
        abortedBy = verdict.by;
        stop('aborted', verdict.reason);
      }
    }
    if (opts.onProgress && t - lastProgress >= progressEvery && !stopping) {
      lastProgress = t;
      const w = recorder.takeWindow();
      const stage = spanIndexAt(spans, t);
      opts.onProgress({
        elapsedMs: t,
        totalMs,
        stage,
        stageName: stages[stage]!.name,
        ...(closedStages ? { users: activeUsers } : {}),
        ...(arrivals ? { targetRate: arrivals.rateAt(t) } : {}),
        rps: w.rps,
        p95: w.p95,
        requests: w.totalRequests,
        failures: w.totalFailures,
        inFlight,
      });
    }
  }, TICK_MS);

  const stop = (why: RunStatus, message?: string) => {
    if (stopping) return;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    onStop(why === 'completed');
    stopping = true;
    if (why !== 'completed') {
      status = why;
      reason = message;
      for (const s of slots) s.abort(new RunStopped('stopped'));
    }
    checkDrained();
  };
  const endTimer = setTimeout(() => stop('completed'), totalMs);
  const onAbort = () => {
    const r: unknown = opts.signal?.reason;
    stop(r instanceof LoadStop ? r.status : 'interrupted', abortMessage(opts.signal));
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  await drained;
  const loadEnd = now();
  clearTimeout(endTimer);
  clearInterval(tick);
  opts.signal?.removeEventListener('abort', onAbort);
  recorder.finish(loadEnd);
  await Promise.all(slots.map((s) => s.close()));

  return snapshot(loadEnd, process.cpuUsage(cpu0));
}

function abortMessage(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (r instanceof Error) return r.message;
  if (typeof r === 'string') return r;
  return 'stopped';
}

function stageInfos(load: LoadPlan, spans: ReturnType<typeof stageSpans>): StageInfo[] {
  return spans.map((sp) => {
    const base = { index: sp.index, startMs: sp.startMs, endMs: sp.endMs };
    if (load.model === 'closed') {
      const st = load.stages[sp.index]!;
      return { ...base, name: st.name, users: st.users, spawnRate: st.spawnRate };
    }
    const st = load.stages[sp.index]!;
    return { ...base, name: st.name, rate: st.rate, ramp: st.ramp };
  });
}

