// The engine: drives the planned load against a base URL and measures every response. What is
// common to every load model lives here: the pool of slots (one connection and its request each,
// slot.ts), what happens when a request ends (the recorder hears of it, then the driver decides what
// next), each request's timeout (one timer at the earliest deadline in flight), the housekeeping tick
// (closing seconds, abort checks, progress), the generator's own figures (CPU, event-loop delay,
// schedule error, file descriptors it could not get: metrics/generator.ts) and where it ran
// (metrics/environment.ts), the result, and the stop. When to send, and on which slot, is the
// driver's: ClosedDriver (closed.ts, users) or OpenDriver (open.ts, arrivals), behind the Driver
// interface (driver.ts).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EndpointPlan, LoadPlan, RequestObjectiveSet } from '../plan/types.ts';
import { type Environment, machineBefore, machineAfter } from '../metrics/environment.ts';
import { type GeneratorInfo, generatorLimits } from '../metrics/generator.ts';
import { percentileMs } from '../metrics/histogram.ts';
import type { Progress } from '../metrics/progress.ts';
import { Recorder } from '../metrics/recorder.ts';
import { RESULT_FORMAT_VERSION, type ErrorKind, type RunResult, type RunStatus, type StageInfo, statsFor } from '../metrics/result.ts';
import { ClosedDriver } from './closed.ts';
import type { Driver, DriverHost } from './driver.ts';
import { H1Slot, RequestBytes } from './h1-slot.ts';
import { OpenDriver } from './open.ts';
import { prepareRequests } from './requests.ts';
import { segmentsOf, spanIndexAt, stageSpans, totalDurationMs } from './shapes.ts';
import { RequestTimeout, RunStopped, type Slot, type SlotListener, streamFailure } from './slot.ts';
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
  /** Per-request objective sets (Plan.requestObjectives): each cell counts the successful requests that met each (Stats.good). */
  requestObjectives?: readonly RequestObjectiveSet[];
}

/** Housekeeping period: closing seconds, abort checks, progress. 10 wake-ups a second cost nothing. */
const TICK_MS = 100;
/** Event-loop delay samples, ms. */
const LOOP_RESOLUTION_MS = 50;

export async function runLoad(opts: EngineOptions): Promise<RunResult> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const startedAt = new Date().toISOString();
  const cpu0 = process.cpuUsage();
  const machine0 = machineBefore();
  // The generator's own event loop: a blocked loop delays every response it reads (50 ms samples: 20 wake-ups a second, 0.1% of a core).
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  let exhausted = 0;
  let environment: Environment | undefined;
  const stages = opts.load.stages;
  const spans = stageSpans(stages);
  const warmupMs = opts.warmupMs ?? 0;
  const segments = segmentsOf(stages, warmupMs);
  const totalMs = totalDurationMs(stages);
  const source = prepareRequests(opts.endpoints, opts.seed);
  const origin = new URL(opts.baseUrl).origin;
  const basePath = new URL(opts.baseUrl).pathname.replace(/\/$/, '');
  if (basePath) for (const ep of source.endpoints) ep.path = basePath + ep.path;

  const driver: Driver = opts.load.model === 'closed' ? new ClosedDriver(opts.load) : new OpenDriver(opts.load);
  const slots: Slot[] = [];
  let inFlight = 0;
  const recorder = new Recorder(
    segments.length,
    opts.endpoints.map((e) => e.name),
    { stageAt: (ms) => spanIndexAt(spans, ms), ...driver.planned, inFlight: () => inFlight },
    {
      sendLag: driver.measuresSendLag,
      invalid: opts.endpoints.map((e) => e.role === 'invalid'),
      stream: opts.endpoints.map((e) => e.stream === true),
      ...(opts.requestObjectives ? { requestObjectives: opts.requestObjectives } : {}),
    },
  );
  const measureServiceTime = driver.measuresSendLag;

  let stopping = false; // no new requests
  let status: RunStatus = 'completed';
  let reason: string | undefined;
  let abortedBy: string | undefined;
  let resolveDrained: () => void = () => {};
  const drained = new Promise<void>((r) => (resolveDrained = r));
  const checkDrained = () => {
    if (stopping && inFlight === 0) resolveDrained();
  };

  // What happens when a request ends is the same in every model; only "what next" is the driver's.
  const slotFree = (slot: Slot, endMs: number) => {
    if (stopping) return checkDrained();
    driver.onSlotFree(slot, endMs);
  };
  const listener: SlotListener = {
    response(slot, statusCode, ok, bytes, endMs, sample, mismatch, stream) {
      inFlight--;
      const latencyUs = (endMs - slot.intendedAt) * 1000;
      if (measureServiceTime) recorder.service((endMs - slot.sentAt) * 1000);
      if (mismatch !== undefined) {
        recorder.response(slot.endpoint, slot.segment, endMs, latencyUs, bytes, false, 'bad-response');
        recorder.failure(slot.endpoint, 'bad-response', mismatch, endMs);
      } else if (stream !== undefined) {
        // A streamed answer (its status was a success): complete, or failed in a way of its own.
        const failed = streamFailure(stream);
        if (failed === null) recorder.response(slot.endpoint, slot.segment, endMs, latencyUs, bytes, true, 'status', stream);
        else {
          recorder.response(slot.endpoint, slot.segment, endMs, latencyUs, bytes, false, failed[0]);
          recorder.failure(slot.endpoint, failed[0], failed[1], endMs, sample);
        }
      } else {
        recorder.response(slot.endpoint, slot.segment, endMs, latencyUs, bytes, ok);
        if (!ok) recorder.failure(slot.endpoint, 'status', `HTTP ${statusCode}`, endMs, sample);
      }
      slotFree(slot, endMs);
    },
    error(slot, kind, message, endMs) {
      inFlight--;
      if (kind === 'exhausted') {
        // Not the service's doing: counted apart, and the run cannot measure the service any more.
        exhausted++;
        stop(
          'invalid',
          `the generator ran out of file descriptors or local ports (${message}) with ${slots.length} connections: raise the open-file limit (ulimit -n) or plan fewer users or max-in-flight; the service was not at fault`,
        );
      } else if (kind !== 'stopped') {
        const latencyUs = kind === 'timeout' ? (endMs - slot.intendedAt) * 1000 : null;
        recorder.transportError(slot.endpoint, slot.segment, endMs, kind, latencyUs);
        recorder.failure(slot.endpoint, kind as ErrorKind, message, endMs);
      }
      // Inside undici's error callback the client is still settling its queue: dispatching on it
      // again right here trips its internal assertions. A turn of the event loop later it is ready
      // (and a tight loop of refused connections yields to timers and I/O).
      setImmediate(slotFree, slot, endMs);
    },
  };
  // http: our minimal HTTP/1.1 client (h1-slot.ts), unless undici is asked for; https: undici.
  const originUrl = new URL(origin);
  const client = opts.httpClient ?? (process.env.LOADGATE_HTTP_CLIENT === 'undici' ? 'undici' : 'auto');
  const requestBytes = originUrl.protocol === 'http:' && client !== 'undici' ? new RequestBytes(originUrl.host) : null;

  const timers = new Set<NodeJS.Timeout>();
  const host: DriverHost = {
    now,
    later(ms, fn) {
      const t = setTimeout(
        () => {
          timers.delete(t);
          fn();
        },
        Math.max(0, ms),
      );
      timers.add(t);
      return t;
    },
    cancel(t) {
      if (t) {
        clearTimeout(t);
        timers.delete(t);
      }
    },
    slots,
    newSlot() {
      const s = requestBytes ? new H1Slot(originUrl, requestBytes, listener, now) : new UndiciSlot(origin, opts.timeoutMs, listener, now);
      slots.push(s);
      return s;
    },
    send(slot, timedFrom, dueAt = timedFrom) {
      const ep = source.endpoints[source.pick()]!;
      inFlight++;
      slot.send(ep, spanIndexAt(segments, dueAt), timedFrom);
      // Deadlines come in send order (one timeout for all): the earliest pending one is armed.
      if (timeoutTimer === null && slot.busy) armTimeouts(slot.sentAt + opts.timeoutMs);
    },
    lag: (ms) => recorder.lag(ms),
    get stopping() {
      return stopping;
    },
  };
  // Timeouts per request: one timer, at the earliest deadline of a request in flight, so no request
  // outlives its timeout by more than the timer's lateness (a 100 ms sweep let `timeout: 25ms` read 61 ms).
  // A sweep walks every slot, so sweeps are kept at least this far apart: with a stalled service the
  // next deadline is one send-gap away, and 100,000 users would otherwise be scanned every millisecond.
  // A timeout then ends at most this much late (2.5 ms for `timeout: 25ms`, 10 ms from 100 ms up).
  let timeoutTimer: NodeJS.Timeout | null = null;
  const sweepGapMs = Math.min(10, opts.timeoutMs / 10);
  const timeoutError = new RequestTimeout(`timeout after ${opts.timeoutMs} ms`);
  const sweepTimeouts = () => {
    timeoutTimer = null;
    const t = now();
    let next = Infinity;
    for (const s of slots) {
      if (!s.busy) continue;
      const deadline = s.sentAt + opts.timeoutMs;
      if (deadline <= t) s.abort(timeoutError);
      else if (deadline < next) next = deadline;
    }
    if (next < Infinity) armTimeouts(Math.max(next, t + sweepGapMs));
  };
  const armTimeouts = (at: number) => {
    timeoutTimer = setTimeout(sweepTimeouts, Math.max(1, at - now()));
  };

  driver.start(host);

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
    unsent: driver.unsent,
    delayedByCap: driver.delayedByCap,
    ...(recorder.sendLag ? { sendLag: recorder.sendLag } : {}),
    ...(recorder.serviceTime ? { serviceTime: recorder.serviceTime } : {}),
    generatorCpu: endMs > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / endMs) * 1000) / 1000 : 0,
    ...(generator ? { generator } : {}),
    ...(environment ? { environment } : {}),
  });
  let generator: GeneratorInfo | undefined;

  // Housekeeping: seconds, abort checks, progress.
  let lastProgress = 0;
  const progressEvery = opts.progressIntervalMs ?? 5000;
  let judgedSeconds = 0;
  const tick = setInterval(() => {
    const t = now();
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
        ...driver.progress(t),
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
    driver.stop(why === 'completed');
    stopping = true;
    if (why !== 'completed') {
      status = why;
      reason = message;
      // One error for all (an Error per slot cost 1 s at 100,000 users: its stack trace), busy slots only.
      const stopped = new RunStopped('stopped');
      for (const s of slots) if (s.busy) s.abort(stopped);
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
  clearTimeout(timeoutTimer ?? undefined);
  clearInterval(tick);
  loopDelay.disable();
  opts.signal?.removeEventListener('abort', onAbort);
  recorder.finish(loadEnd);
  await Promise.all(slots.map((s) => s.close()));

  const cpu = process.cpuUsage(cpu0);
  const g: Omit<GeneratorInfo, 'limits'> = {
    cpu: loadEnd > 0 ? round3((cpu.user + cpu.system) / 1000 / loadEnd) : 0,
    // The histogram holds whole sample intervals: the delay is what exceeds the resolution.
    eventLoopDelayP99Ms: loopDelay.count > 0 ? round3(Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS)) : 0,
    eventLoopDelayMaxMs: loopDelay.count > 0 ? round3(Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS)) : 0,
    ...(recorder.sendLag && recorder.sendLag.totalCount > 0 ? { scheduleErrorP99Ms: percentileMs(recorder.sendLag, 99)! } : {}),
    exhausted,
  };
  const all = statsFor({ cells: recorder.cells, segments, endpoints: opts.endpoints } as unknown as RunResult);
  const unanswered = all.errors.refused + all.errors.reset + all.errors.other;
  generator = { ...g, limits: generatorLimits(g, { mostlyUnanswered: unanswered * 2 > all.requests, durationMs: loadEnd }) };
  // A run that went to its end but measured the generator is invalid; a stop says why already.
  if (status === 'completed' && generator.limits.length > 0) {
    status = 'invalid';
    reason = `the run did not measure the service: ${generator.limits.join('; ')}`;
  }
  environment = machineAfter(machine0, generator.cpu);
  return snapshot(loadEnd, cpu);
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

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
