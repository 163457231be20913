// A minimal HTTP/1.1 client for the hot path: one keep-alive connection over a plain net.Socket,
// one request at a time, the request's bytes serialized once per body and written with one call,
// and a small incremental response parser (status line, headers, Content-Length, chunked, or a
// body delimited by the connection closing). Reads go straight from libuv into one shared buffer
// (net's `onread`), so a response costs no stream event, no string per header and no copy unless
// its body is kept (a failure sample or the response check).
//
// Why not undici here: at saturation on one core undici's per-request work (a Request object,
// header validation, llhttp through WebAssembly, header strings, stream bookkeeping) held loadgate
// at 0.83-0.94 of autocannon, which writes a pre-serialized buffer and parses with a minimal parser;
// bench/README.md has the figures. undici stays for what this client does not do (https), and can
// be chosen for http too (EngineOptions.httpClient or LOADGATE_HTTP_CLIENT=undici).

import { connect, type Socket } from 'node:net';
import type { ErrorKind } from '../metrics/result.ts';
import { NO_OUTCOME, SAMPLE_BYTES, type SlotListener, type SlotLike, classifyError, responseOutcome } from './http.ts';
import type { PreparedEndpoint } from './requests.ts';

/** Response heads larger than this are refused as bad responses (llhttp's default is 80 KiB). */
const MAX_HEAD_BYTES = 80 * 1024;

// One read buffer for every connection: the onread callback consumes it synchronously, before the
// next read into it, and anything kept is copied out.
let sharedReadBuffer: Buffer | null = null;
const readBuffer = () => (sharedReadBuffer ??= Buffer.allocUnsafe(64 * 1024));

const CR = 13;
const LF = 10;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const TIMEOUT_EQ = Buffer.from('timeout=', 'latin1');

/** Idle connections older than this are not reused (as undici's keepAliveTimeout in the undici Slot). */
const DEFAULT_IDLE_MS = 30_000;
/** A server that says `Keep-Alive: timeout=N` may close at N s: reuse only up to N s minus this (undici does the same). */
const IDLE_MARGIN_MS = 1_000;

/** A parse failure: the response does not follow HTTP/1.1. */
class BadResponse extends Error {}

// Parser states (typed as plain numbers, so TypeScript does not narrow across calls that change them).
type State = number;
const IDLE: State = 0; // no request in flight
const HEAD: State = 1; // reading the status line and headers
const LENGTH: State = 2; // a Content-Length body
const CHUNK_SIZE: State = 3; // chunk-size [; ext] CRLF
const CHUNK_EXT: State = 4; // skipping a chunk extension up to LF
const CHUNK_SIZE_LF: State = 5; // CR seen after the size, LF expected
const CHUNK_DATA: State = 6;
const CHUNK_DATA_CR: State = 7; // CRLF after chunk data
const CHUNK_DATA_LF: State = 8;
const TRAILERS: State = 9; // trailer lines after the last chunk, up to an empty line
const UNTIL_CLOSE: State = 10; // no length: the body ends when the server closes the connection

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

export class H1Slot implements SlotLike {
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
  private socket: Socket | null = null;
  /** When the connection's last response ended, and how long it may then stay idle and be reused. */
  private idleSince = 0;
  private idleLimitMs = DEFAULT_IDLE_MS;

  // The request in flight and its response.
  private ok: (status: number) => boolean = () => true;
  private check: ((body: string) => string | null) | undefined;
  private isHead = false;
  private state: State = IDLE;
  private headPending: Buffer | null = null;
  private status = 0;
  private statusOk = true;
  private keepAlive = true;
  private remaining = 0; // LENGTH / CHUNK_DATA: body bytes still to come; CHUNK_SIZE: the size so far
  private sizeDigits = 0;
  private trailerLineLength = 0;
  private bytes = 0;
  private body: Buffer[] | null = null;
  private sample: Buffer[] | null = null;
  private sampleBytes = 0;

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
    this.isHead = ep.method === 'HEAD';
    this.state = HEAD;
    this.headPending = null;
    this.status = 0;
    this.statusOk = true;
    this.keepAlive = true;
    this.bytes = 0;
    this.body = null;
    this.sample = null;
    this.sampleBytes = 0;
    this.sentAt = this.now();
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
    if (err) return this.end(...classifyError(err));
    if (this.state === UNTIL_CLOSE) return this.complete();
    this.end('reset', this.state === HEAD && this.headPending === null ? 'other side closed' : 'other side closed before the response ended');
  }

  // ---- the response parser ----

  private onRead(socket: Socket, buf: Buffer, n: number): boolean {
    if (socket !== this.socket) return false;
    if (!this.busy) {
      // Bytes with no request in flight: the connection is out of step; start afresh.
      this.drop();
      return false;
    }
    try {
      this.parse(buf, n);
    } catch (err) {
      if (!(err instanceof BadResponse)) throw err;
      this.drop();
      this.end('bad-response', err.message);
    }
    return true;
  }

  private parse(buf: Buffer, n: number): void {
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case HEAD: {
          let head = buf;
          let from = i;
          let end = n;
          let pendingLength = 0;
          let searchFrom = i;
          if (this.headPending !== null) {
            // A head split over reads (rare): join the pieces.
            pendingLength = this.headPending.length;
            head = Buffer.concat([this.headPending, buf.subarray(i, n)]);
            from = 0;
            end = head.length;
            searchFrom = Math.max(0, pendingLength - 3);
          }
          // The read buffer is longer than this read: a match must end within it.
          const at = head.indexOf(CRLFCRLF, searchFrom);
          if (at < 0 || at + 4 > end) {
            if (end - from > MAX_HEAD_BYTES) throw new BadResponse('response headers too large');
            this.headPending = Buffer.from(head.subarray(from, end)); // a copy: the read buffer is reused
            return;
          }
          this.headPending = null;
          this.parseHead(head, from, at + 2);
          i += at + 4 - from - pendingLength;
          if (this.state === LENGTH && this.remaining === 0) return this.messageDone(i, n);
          break;
        }
        case LENGTH: {
          const take = Math.min(this.remaining, n - i);
          this.data(buf, i, i + take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) return this.messageDone(i, n);
          break;
        }
        case CHUNK_SIZE: {
          const c = buf[i++]!;
          const d = hexDigit(c);
          if (d >= 0) {
            if (++this.sizeDigits > 12) throw new BadResponse('chunk size too large');
            this.remaining = this.remaining * 16 + d;
          } else if (this.sizeDigits === 0) {
            throw new BadResponse('invalid chunk size');
          } else if (c === CR) {
            this.state = CHUNK_SIZE_LF;
          } else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) {
            this.state = CHUNK_EXT;
          } else {
            throw new BadResponse('invalid chunk size');
          }
          break;
        }
        case CHUNK_EXT: {
          const lf = buf.indexOf(LF, i);
          if (lf < 0 || lf >= n) return;
          i = lf + 1;
          this.chunkSizeDone();
          break;
        }
        case CHUNK_SIZE_LF:
          if (buf[i++] !== LF) throw new BadResponse('invalid chunk size line');
          this.chunkSizeDone();
          break;
        case CHUNK_DATA: {
          const take = Math.min(this.remaining, n - i);
          this.data(buf, i, i + take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = CHUNK_DATA_CR;
          break;
        }
        case CHUNK_DATA_CR:
          if (buf[i++] !== CR) throw new BadResponse('chunk data longer than its size');
          this.state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (buf[i++] !== LF) throw new BadResponse('chunk data longer than its size');
          this.state = CHUNK_SIZE;
          this.remaining = 0;
          this.sizeDigits = 0;
          break;
        case TRAILERS: {
          const c = buf[i++]!;
          if (c === LF) {
            if (this.trailerLineLength === 0) return this.messageDone(i, n);
            this.trailerLineLength = 0;
          } else if (c !== CR) {
            if (++this.trailerLineLength > MAX_HEAD_BYTES) throw new BadResponse('trailers too large');
          }
          break;
        }
        case UNTIL_CLOSE:
          this.data(buf, i, n);
          return;
        default:
          // IDLE with bytes left over is handled in messageDone.
          return;
      }
    }
  }

  private chunkSizeDone(): void {
    if (this.remaining === 0) {
      this.state = TRAILERS;
      this.trailerLineLength = 0;
    } else {
      this.state = CHUNK_DATA;
    }
  }

  /** Parses the status line and the headers in head[from, end) (end is just after the last header's CRLF). */
  private parseHead(head: Buffer, from: number, end: number): void {
    // "HTTP/1.x SSS"
    if (
      end - from < 14 ||
      head[from] !== 0x48 || head[from + 1] !== 0x54 || head[from + 2] !== 0x54 || head[from + 3] !== 0x50 ||
      head[from + 4] !== 0x2f || head[from + 5] !== 0x31 || head[from + 6] !== 0x2e ||
      (head[from + 7] !== 0x31 && head[from + 7] !== 0x30) || head[from + 8] !== 0x20
    ) {
      throw new BadResponse('invalid HTTP status line');
    }
    const http10 = head[from + 7] === 0x30;
    const d0 = head[from + 9]! - 48;
    const d1 = head[from + 10]! - 48;
    const d2 = head[from + 11]! - 48;
    const after = head[from + 12];
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (after !== 0x20 && after !== CR)) {
      throw new BadResponse('invalid HTTP status code');
    }
    const status = d0 * 100 + d1 * 10 + d2;
    let lineEnd = head.indexOf(LF, from);
    if (head[lineEnd - 1] !== CR) throw new BadResponse('invalid HTTP status line');

    let contentLength = -1;
    let chunked = false;
    let otherEncoding = false;
    let close = http10;
    // Header lines: name ":" OWS value OWS CRLF.
    for (let p = lineEnd + 1; p < end; p = lineEnd + 1) {
      lineEnd = head.indexOf(LF, p);
      if (lineEnd < 0 || lineEnd >= end || head[lineEnd - 1] !== CR) throw new BadResponse('invalid header line');
      const colon = head.indexOf(0x3a, p);
      if (colon <= p || colon > lineEnd) throw new BadResponse('invalid header line');
      if (head[colon - 1] === 0x20 || head[colon - 1] === 0x09) throw new BadResponse('invalid header name');
      let vs = colon + 1;
      let ve = lineEnd - 1;
      while (vs < ve && (head[vs] === 0x20 || head[vs] === 0x09)) vs++;
      while (ve > vs && (head[ve - 1] === 0x20 || head[ve - 1] === 0x09)) ve--;
      const nameLength = colon - p;
      const c = head[p]! | 0x20;
      if (nameLength === 14 && c === 0x63 && nameIs(head, p, 'content-length')) {
        const v = parseDecimal(head, vs, ve);
        if (v < 0 || (contentLength >= 0 && v !== contentLength)) throw new BadResponse('invalid content-length');
        contentLength = v;
      } else if (nameLength === 17 && c === 0x74 && nameIs(head, p, 'transfer-encoding')) {
        // chunked must be the last coding; anything else means the body runs until the close.
        const value = head.toString('latin1', vs, ve).toLowerCase();
        if (/(?:^|,)\s*chunked$/.test(value)) chunked = true;
        else otherEncoding = true;
      } else if (nameLength === 10 && c === 0x6b && nameIs(head, p, 'keep-alive')) {
        // "timeout=5" (Node's http server sends it; its default keep-alive timeout is 5 s).
        const at = head.indexOf(TIMEOUT_EQ, vs);
        if (at >= 0 && at < ve) {
          let secs = 0;
          let k = at + TIMEOUT_EQ.length;
          for (; k < ve && head[k]! >= 48 && head[k]! <= 57; k++) secs = secs * 10 + head[k]! - 48;
          if (k > at + TIMEOUT_EQ.length) this.idleLimitMs = Math.max(0, Math.min(secs * 1000, DEFAULT_IDLE_MS) - IDLE_MARGIN_MS);
        }
      } else if (nameLength === 10 && c === 0x63 && nameIs(head, p, 'connection')) {
        // The usual "keep-alive" without a string or a regex.
        if (ve - vs === 10 && nameIs(head, vs, 'keep-alive')) {
          if (http10) close = false;
          continue;
        }
        const value = head.toString('latin1', vs, ve).toLowerCase();
        if (/(?:^|,)\s*close\s*(?:,|$)/.test(value)) close = true;
        else if (http10 && /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(value)) close = false;
      }
    }

    if (status < 200) {
      // 1xx (100 Continue, 103 Early Hints): interim, the real response follows. 101 would switch protocols.
      if (status === 101) throw new BadResponse('unexpected 101 Switching Protocols');
      return; // state stays HEAD
    }
    if (chunked && contentLength >= 0) throw new BadResponse('both content-length and chunked transfer-encoding');
    this.status = status;
    this.keepAlive = !close;
    this.statusOk = this.ok(status);
    if (!this.statusOk) this.sample = [];
    else if (this.check) this.body = [];
    if (this.isHead || status === 204 || status === 304) {
      this.state = LENGTH; // no body: parse ends the message at once
      this.remaining = 0;
      return;
    }
    if (chunked) {
      this.state = CHUNK_SIZE;
      this.remaining = 0;
      this.sizeDigits = 0;
    } else if (otherEncoding || contentLength < 0) {
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    } else {
      this.state = LENGTH;
      this.remaining = contentLength;
    }
  }

  private data(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.bytes += to - from;
    if (this.body !== null) this.body.push(Buffer.from(buf.subarray(from, to)));
    if (this.sample !== null && this.sampleBytes < SAMPLE_BYTES) {
      this.sample.push(Buffer.from(buf.subarray(from, Math.min(to, from + SAMPLE_BYTES - this.sampleBytes))));
      this.sampleBytes += to - from;
    }
  }

  /** The response ended at buf[i]; the read held n bytes. */
  private messageDone(i: number, n: number): void {
    this.state = IDLE;
    if (i < n) {
      // More bytes than the response framed (one request at a time: nothing else may follow).
      throw new BadResponse('data after the end of the response');
    }
    if (!this.keepAlive) this.drop();
    this.complete();
  }

  private complete(): void {
    const end = this.now();
    this.idleSince = end;
    this.busy = false;
    this.state = IDLE;
    const [sample, mismatch] = this.sample === null && this.body === null ? NO_OUTCOME : responseOutcome(this.sample, this.body, this.check);
    this.body = null;
    this.sample = null;
    this.listener.response(this, this.status, this.statusOk, this.bytes, end, sample, mismatch);
  }

  private fail(kind: ErrorKind, message: string): void {
    this.drop();
    this.end(kind, message);
  }

  private end(kind: ErrorKind | 'stopped', message: string): void {
    const end = this.now();
    this.busy = false;
    this.state = IDLE;
    this.body = null;
    this.sample = null;
    this.headPending = null;
    this.listener.error(this, kind, message, end);
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Case-insensitive compare of buf[p, p + name.length) with a lower-case name. */
function nameIs(buf: Buffer, p: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    const c = buf[p + k]!;
    const e = name.charCodeAt(k);
    if (c !== e && (c | 0x20) !== e) return false;
  }
  return true;
}

/** A non-negative decimal in buf[from, to), or -1. */
function parseDecimal(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let v = 0;
  for (let k = from; k < to; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
