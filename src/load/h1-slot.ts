// A minimal HTTP/1.1 client for the hot path, as a Slot: one keep-alive connection over a plain
// net.Socket, one request at a time, the request's bytes serialized once per body and written with
// one call, and responses read by a small incremental parser (ResponseParser, h1-parser.ts). Reads
// go straight from libuv into one shared buffer (net's `onread`), so a response costs no stream
// event, no string per header and no copy unless its body is kept (a failure sample or the response
// check).
//
// Why not undici here: at saturation on one core undici's per-request work (a Request object,
// header validation, llhttp through WebAssembly, header strings, stream bookkeeping) held loadgate
// at 0.83-0.94 of autocannon, which writes a pre-serialized buffer and parses with a minimal parser;
// bench/README.md has the figures. undici stays for what this client does not do (https), and can
// be chosen for http too (EngineOptions.httpClient or LOADGATE_HTTP_CLIENT=undici).
//
// A streamed answer (an endpoint with `stream`, issue 12) goes to the slot's SseParser and
// StreamAccumulator (sse.ts), made at its first stream and reused: each read is timed once, on the
// clock sentAt is on, and its body bytes are parsed in place in the shared read buffer. A request
// that does not stream pays one boolean test per read for it.

import { connect, type Socket } from 'node:net';
import type { ErrorKind } from '../metrics/result.ts';
import { ResponseParser, type ResponseEvents } from './h1-parser.ts';
import type { PreparedEndpoint } from './requests.ts';
import { type EndKind, NO_OUTCOME, SAMPLE_BYTES, type Slot, type SlotListener, classifyError, responseOutcome } from './slot.ts';
import { SseParser, StreamAccumulator } from './sse.ts';

// One read buffer for every connection: the onread callback consumes it synchronously, before the
// next read into it, and anything kept is copied out.
let sharedReadBuffer: Buffer | null = null;
const readBuffer = () => (sharedReadBuffer ??= Buffer.allocUnsafe(64 * 1024));

/** Idle connections older than this are not reused (as undici's keepAliveTimeout in UndiciSlot). */
const DEFAULT_IDLE_MS = 30_000;
/** A server that says `Keep-Alive: timeout=N` may close at N s: reuse only up to N s minus this (undici does the same). */
const IDLE_MARGIN_MS = 1_000;

/** The bytes of each request, built once per (endpoint, body) and shared by every connection of a run. */
export class RequestBytes {
  private readonly host: string;
  private readonly byBody = new WeakMap<object, Buffer>();
  private readonly heads = new WeakMap<PreparedEndpoint, string>();

  constructor(host: string) {
    this.host = host;
  }

  get(ep: PreparedEndpoint, body: Buffer | null): Buffer {
    const key = body ?? ep;
    let bytes = this.byBody.get(key);
    if (bytes === undefined) {
      bytes = serializeRequest(this.head(ep), ep.method, body);
      this.byBody.set(key, bytes);
    }
    return bytes;
  }

  private head(ep: PreparedEndpoint): string {
    let head = this.heads.get(ep);
    if (head === undefined) {
      // A configured Host wins over the URL's (a virtual host behind an ingress: KServe, Knative), as in undici.
      let host = this.host;
      let rest = '';
      for (let i = 0; i + 1 < ep.headers.length; i += 2) {
        const k = ep.headers[i]!;
        const v = ep.headers[i + 1]!;
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)) throw new Error(`invalid header name ${JSON.stringify(k)}`);
        if (/[\r\n\0]/.test(v)) throw new Error(`invalid value for header ${k}`);
        const lk = k.toLowerCase();
        if (lk === 'host') host = v;
        // Framing is ours: the body we send decides its length.
        if (lk === 'content-length' || lk === 'transfer-encoding' || lk === 'host' || lk === 'connection') continue;
        rest += `${k}: ${v}\r\n`;
      }
      head = `${ep.method} ${ep.path} HTTP/1.1\r\nhost: ${host}\r\n${rest}`;
      if (/[\s]/.test(ep.path) || /[\s]/.test(ep.method)) throw new Error(`invalid request line ${ep.method} ${ep.path}`);
      this.heads.set(ep, head);
    }
    return head;
  }
}

function serializeRequest(head: string, method: string, body: Buffer | null): Buffer {
  // As undici does: no Content-Length on a GET/HEAD without a body; 0 on other methods without one.
  const withLength = body !== null || !(method === 'GET' || method === 'HEAD');
  const h = Buffer.from(`${head}${withLength ? `content-length: ${body ? body.length : 0}\r\n` : ''}\r\n`, 'latin1');
  return body ? Buffer.concat([h, body]) : h;
}

export class H1Slot implements Slot, ResponseEvents {
  busy = false;
  endpoint = 0;
  segment = 0;
  sentAt = 0;
  intendedAt = 0;

  private readonly host: string;
  private readonly port: number;
  private readonly requests: RequestBytes;
  private readonly listener: SlotListener;
  private readonly now: () => number;
  private readonly parser = new ResponseParser(this);
  private socket: Socket | null = null;
  /** When the connection's last response ended, and how long it may then stay idle and be reused. */
  private idleSince = 0;
  private idleLimitMs = DEFAULT_IDLE_MS;

  // The request in flight and its response.
  private ok: (status: number) => boolean = () => true;
  private check: ((body: string) => string | null) | undefined;
  private statusOk = true;
  private bytes = 0;
  private body: Buffer[] | null = null;
  private sample: Buffer[] | null = null;
  private sampleBytes = 0;
  // A streamed answer: the request asks for one, its head said success (its body goes to the SSE
  // parser), when the read being parsed arrived; the parser and accumulator live as long as the slot.
  private streaming = false;
  private feeding = false;
  private readAt = 0;
  private sse: SseParser | null = null;
  private stream: StreamAccumulator | null = null;

  constructor(origin: URL, requests: RequestBytes, listener: SlotListener, now: () => number) {
    // origin.host (with the port) goes into the Host header through RequestBytes.
    this.host = origin.hostname.replace(/^\[|\]$/g, '');
    this.port = origin.port ? Number(origin.port) : 80;
    this.requests = requests;
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
    this.parser.start(ep.method === 'HEAD');
    this.statusOk = true;
    this.bytes = 0;
    this.body = null;
    this.sample = null;
    this.sampleBytes = 0;
    this.streaming = ep.stream === true;
    this.feeding = false;
    this.sentAt = this.now();
    if (this.streaming) this.startStream();
    let bytes: Buffer;
    try {
      bytes = this.requests.get(ep, ep.nextBody());
    } catch (err) {
      return this.fail('other', (err as Error).message);
    }
    // Do not race a server that is about to close an idle connection: open a fresh one instead.
    if (this.socket !== null && this.sentAt - this.idleSince > this.idleLimitMs) this.drop();
    (this.socket ?? this.open()).write(bytes);
  }

  /** Aborts the request in flight (timeout sweeper, or the run being stopped). */
  abort(reason: Error): void {
    if (!this.busy) return;
    this.drop();
    this.end(...classifyError(reason));
  }

  close(): Promise<void> {
    this.drop();
    return Promise.resolve();
  }

  private open(): Socket {
    const socket: Socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array): boolean => this.onRead(socket, buf as Buffer, n) },
    });
    this.socket = socket;
    this.idleLimitMs = DEFAULT_IDLE_MS;
    socket.on('error', (err: Error) => this.onSocketEnd(socket, err));
    socket.on('end', () => this.onSocketEnd(socket, null));
    socket.on('close', () => this.onSocketEnd(socket, null));
    return socket;
  }

  /** Forgets the connection (the next request opens a new one). */
  private drop(): void {
    const s = this.socket;
    if (s) {
      this.socket = null;
      s.destroy();
    }
  }

  private onSocketEnd(socket: Socket, err: Error | null): void {
    if (socket !== this.socket) return;
    this.socket = null;
    socket.destroy();
    if (!this.busy) return;
    // A stream whose head said success, cut by the connection: the service's failure (stream-cut), with what was measured.
    if (this.feeding) {
      this.complete();
      return;
    }
    if (err) return this.end(...classifyError(err));
    if (this.parser.endsAtClose) return this.complete();
    this.end('reset', this.parser.midResponse ? 'other side closed before the response ended' : 'other side closed');
  }

  private onRead(socket: Socket, buf: Buffer, n: number): boolean {
    if (socket !== this.socket) return false;
    if (!this.busy) {
      // Bytes with no request in flight: the connection is out of step; start afresh.
      this.drop();
      return false;
    }
    if (this.streaming) this.readAt = this.now();
    const result = this.parser.feed(buf, n);
    if (result === 'done') {
      if (!this.parser.keepAlive) this.drop();
      this.complete();
    } else if (result === 'bad') {
      this.drop();
      this.end('bad-response', this.parser.error);
    }
    return true;
  }

  // What the parser reports while it reads the response (ResponseEvents).

  onHead(status: number): void {
    this.statusOk = this.ok(status);
    if (!this.statusOk) this.sample = [];
    else if (this.streaming) {
      // The stream's events are what is checked; its first bytes are kept in case it fails.
      this.feeding = true;
      this.sample = [];
    } else if (this.check) this.body = [];
  }

  onBody(buf: Buffer, from: number, to: number): void {
    this.bytes += to - from;
    if (this.feeding) this.sse!.push(buf, this.readAt, from, to);
    if (this.body !== null) this.body.push(Buffer.from(buf.subarray(from, to)));
    if (this.sample !== null && this.sampleBytes < SAMPLE_BYTES) {
      this.sample.push(Buffer.from(buf.subarray(from, Math.min(to, from + SAMPLE_BYTES - this.sampleBytes))));
      this.sampleBytes += to - from;
    }
  }

  onKeepAliveTimeout(seconds: number): void {
    this.idleLimitMs = Math.max(0, Math.min(seconds * 1000, DEFAULT_IDLE_MS) - IDLE_MARGIN_MS);
  }

  private complete(): void {
    const end = this.now();
    this.idleSince = end;
    this.busy = false;
    this.parser.reset();
    if (this.feeding) {
      this.completeStream(end);
      return;
    }
    const [sample, mismatch] =
      this.sample === null && this.body === null ? NO_OUTCOME : responseOutcome(this.sample, this.body, this.check);
    this.body = null;
    this.sample = null;
    this.listener.response(this, this.parser.status, this.statusOk, this.bytes, end, sample, mismatch);
  }

  private startStream(): void {
    if (this.stream === null) {
      this.stream = new StreamAccumulator();
      this.sse = new SseParser(this.stream.onEvent);
    }
    this.sse!.reset();
    // From where the request's latency runs, so that E2E is its latency.
    this.stream.reset(this.intendedAt);
  }

  private completeStream(end: number): void {
    this.feeding = false;
    this.sse!.end(end);
    const m = this.stream!.finish(end);
    const sample = m.failure !== null ? responseOutcome(this.sample, null, undefined)[0] : undefined;
    this.sample = null;
    this.listener.response(this, this.parser.status, true, this.bytes, end, sample, undefined, m);
  }

  private fail(kind: ErrorKind, message: string): void {
    this.drop();
    this.end(kind, message);
  }

  private end(kind: EndKind, message: string): void {
    const end = this.now();
    this.busy = false;
    this.feeding = false;
    this.parser.reset();
    this.body = null;
    this.sample = null;
    this.listener.error(this, kind, message, end);
  }
}
