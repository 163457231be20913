// A Slot on undici: it wraps an undici Client (one keep-alive connection, no pipelining) and is its
// own dispatch handler, so a request allocates no promise, stream or closure: at tens of thousands
// of requests per second on one core, that is the difference between measuring the service and
// measuring the generator.
//
// The engine uses it for https:// targets (and when asked to); plain http:// goes through H1Slot
// (h1-slot.ts), which does the same job with half the CPU per request (bench/README.md).
//
// A streamed answer (an endpoint with `stream`, issue 12) goes to the slot's SseParser and
// StreamAccumulator (sse.ts), reused from request to request, each chunk timed as undici hands it over.

import { Client, type Dispatcher } from 'undici';
import type { PreparedEndpoint } from './requests.ts';
import { NO_OUTCOME, SAMPLE_BYTES, type Slot, type SlotListener, classifyError, responseOutcome } from './slot.ts';
import { SseParser, StreamAccumulator } from './sse.ts';

// The structural type of undici's DispatchController, as far as we use it.
interface Controller {
  abort(reason: Error): void;
}

export class UndiciSlot implements Slot {
  readonly client: Client;
  busy = false;
  // The request in flight:
  endpoint = 0;
  segment = 0;
  sentAt = 0; // ms, actual send
  intendedAt = 0; // ms, when it was due (open model); equals sentAt in the closed model
  private ok: (status: number) => boolean = () => true;
  private check: ((body: string) => string | null) | undefined;
  // The whole body of a successful response, kept only when it is to be checked.
  private body: Buffer[] | null = null;
  private status = 0;
  private statusOk = true;
  private bytes = 0;
  private sample: Buffer[] | null = null;
  private sampleBytes = 0;
  private controller: Controller | null = null;
  private abortReason: Error | null = null;
  // A streamed answer: asked for; its head said success (the body goes to the SSE parser).
  private streaming = false;
  private feeding = false;
  private sse: SseParser | null = null;
  private stream: StreamAccumulator | null = null;
  private readonly listener: SlotListener;
  private readonly now: () => number;

  constructor(origin: string, timeoutMs: number, listener: SlotListener, now: () => number) {
    // Our own sweeper enforces the whole-request timeout; undici's per-phase timers are a backstop.
    this.client = new Client(origin, {
      pipelining: 1,
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs + 1000,
      bodyTimeout: timeoutMs + 1000,
      keepAliveTimeout: 30_000,
    });
    this.listener = listener;
    this.now = now;
  }

  send(ep: PreparedEndpoint, segment: number, intendedAt: number): void {
    this.busy = true;
    this.endpoint = ep.index;
    this.segment = segment;
    this.intendedAt = intendedAt;
    this.ok = ep.ok;
    this.check = ep.check;
    this.body = null;
    this.status = 0;
    this.statusOk = true;
    this.bytes = 0;
    this.sample = null;
    this.sampleBytes = 0;
    this.controller = null;
    this.abortReason = null;
    this.streaming = ep.stream === true;
    this.feeding = false;
    this.sentAt = this.now();
    if (this.streaming) {
      if (this.stream === null) {
        this.stream = new StreamAccumulator();
        this.sse = new SseParser(this.stream.onEvent);
      }
      this.sse!.reset();
      // From where the request's latency runs, so that E2E is its latency.
      this.stream.reset(intendedAt);
    }
    try {
      this.client.dispatch({ path: ep.path, method: ep.method as Dispatcher.HttpMethod, headers: ep.headers, body: ep.nextBody() }, this);
    } catch (err) {
      this.finishError(err);
    }
  }

  /** Aborts the request in flight (timeout sweeper, or the run being stopped). */
  abort(reason: Error): void {
    if (!this.busy) return;
    this.abortReason = reason;
    if (this.controller) this.controller.abort(reason);
    // Before onRequestStart there is no controller yet; the connect timeout ends the request instead.
  }

  close(): Promise<void> {
    return this.client.destroy().catch(() => {});
  }

  // undici's DispatchHandler: the callbacks of the request in flight.

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(_c: Controller, statusCode: number): void {
    this.status = statusCode;
    this.statusOk = this.ok(statusCode);
    if (!this.statusOk) this.sample = [];
    else if (this.streaming) {
      // The stream's events are what is checked; its first bytes are kept in case it fails.
      this.feeding = true;
      this.sample = [];
    } else if (this.check) this.body = [];
  }

  onResponseData(_c: Controller, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.feeding) this.sse!.push(chunk, this.now());
    if (this.body !== null) this.body.push(chunk);
    if (this.sample !== null && this.sampleBytes < SAMPLE_BYTES) {
      this.sample.push(chunk);
      this.sampleBytes += chunk.length;
    }
  }

  onResponseEnd(): void {
    const end = this.now();
    this.busy = false;
    if (this.feeding) {
      this.completeStream(end);
      return;
    }
    const [sample, mismatch] =
      this.sample === null && this.body === null ? NO_OUTCOME : responseOutcome(this.sample, this.body, this.check);
    this.body = null;
    this.sample = null;
    this.listener.response(this, this.status, this.statusOk, this.bytes, end, sample, mismatch);
  }

  onResponseError(_c: Controller, err: Error): void {
    if (this.feeding && this.abortReason === null) {
      // A stream whose head said success, cut by the connection: the service's failure (stream-cut),
      // with what was measured. Reported a turn later, as the engine does for errors: inside undici's
      // error callback the client cannot take the next request yet.
      const end = this.now();
      this.busy = false;
      setImmediate(() => this.completeStream(end));
      return;
    }
    this.finishError(err);
  }

  private completeStream(end: number): void {
    this.feeding = false;
    this.sse!.end(end);
    const m = this.stream!.finish(end);
    const sample = m.failure !== null ? responseOutcome(this.sample, null, undefined)[0] : undefined;
    this.sample = null;
    this.listener.response(this, this.status, true, this.bytes, end, sample, undefined, m);
  }

  private finishError(err: unknown): void {
    const end = this.now();
    this.busy = false;
    this.feeding = false;
    const [kind, message] = classifyError(this.abortReason ?? err);
    this.listener.error(this, kind, message, end);
  }
}
