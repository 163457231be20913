// An incremental HTTP/1.1 response parser, for H1Slot (h1-slot.ts). Fed the bytes of one response as
// they arrive, in reads cut anywhere, it reports the head, the body bytes, the end of the response,
// or that the bytes do not follow HTTP/1.1. It reads the status line and headers, looking only at
// content-length, transfer-encoding, connection and keep-alive, byte by byte (no string per header,
// none at all for the usual `Connection: keep-alive`); then a Content-Length body, a chunked body
// (extensions and trailers skipped), or a body delimited by the connection closing. 1xx interim
// responses are skipped; 204, 304 and the answer to HEAD have no body. Body bytes are handed over as
// a range of the read buffer, so nothing is copied unless the slot keeps it.
//
// It is a class of its own, as undici keeps its Parser apart from the connection (client-h1.js), so
// that every framing rule is tested with byte fixtures and no sockets (test/h1-parser.test.ts). It is
// on the hot path: at saturation H1Slot with it costs about 7 µs per request, the parser ≈ 1.5% of
// the CPU (bench/README.md).

/** Response heads larger than this are refused as bad responses (llhttp's default is 80 KiB). */
const MAX_HEAD_BYTES = 80 * 1024;

const CR = 13;
const LF = 10;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const TIMEOUT_EQ = Buffer.from('timeout=', 'latin1');

/** A parse failure: the response does not follow HTTP/1.1. */
class BadResponse extends Error {}

// Parser states (typed as plain numbers, so TypeScript does not narrow across calls that change them).
type State = number;
const IDLE: State = 0; // no response expected
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

/** What the parser tells its owner while it reads a response. Called synchronously from `feed`. */
export interface ResponseEvents {
  /** The final head arrived (1xx heads are skipped): `status` and `keepAlive` are set from here on. */
  onHead(status: number): void;
  /** Body bytes buf[from, to), never empty, chunk framing removed; valid only during the call (the buffer is reused). */
  onBody(buf: Buffer, from: number, to: number): void;
  /** A head (an interim one too) said `Keep-Alive: timeout=N`: the server may close the idle connection after N s. */
  onKeepAliveTimeout(seconds: number): void;
}

/** What `feed` found: more bytes are needed, the response ended with the last byte fed, or it is bad (see `error`). */
export type FeedResult = 'more' | 'done' | 'bad';

export class ResponseParser {
  /** The final status, once `onHead` was called. */
  status = 0;
  /** Whether the connection may carry another request after this response (HTTP/1.0, `Connection: close`, a close-delimited body). */
  keepAlive = true;
  /** Why the last `feed` said 'bad'. */
  error = '';

  private readonly events: ResponseEvents;
  private isHead = false;
  private state: State = IDLE;
  private headPending: Buffer | null = null;
  private remaining = 0; // LENGTH / CHUNK_DATA: body bytes still to come; CHUNK_SIZE: the size so far
  private sizeDigits = 0;
  private trailerLineLength = 0;

  constructor(events: ResponseEvents) {
    this.events = events;
  }

  /** Expects a new response: to a HEAD request (no body, whatever the head says), or not. */
  start(headRequest: boolean): void {
    this.isHead = headRequest;
    this.state = HEAD;
    this.headPending = null;
    this.status = 0;
    this.keepAlive = true;
  }

  /** Gives up the response in progress (the request ended otherwise), and the head piece it kept. */
  reset(): void {
    this.state = IDLE;
    this.headPending = null;
  }

  /** The body runs until the connection closes: a close now completes the response. */
  get endsAtClose(): boolean {
    return this.state === UNTIL_CLOSE;
  }

  /** Some of the response has arrived (beyond any 1xx heads): a close now cuts it short. */
  get midResponse(): boolean {
    return !(this.state === HEAD && this.headPending === null);
  }

  /**
   * Reads buf[0, n) (a read into a longer, reused buffer: bytes past n are stale). 'done' means the
   * response ended exactly at n; bytes beyond its end are a bad response, since one request at a time
   * leaves nothing else to follow. After 'done' or 'bad', `start` the next response before feeding again.
   */
  feed(buf: Buffer, n: number = buf.length): FeedResult {
    try {
      return this.parse(buf, n);
    } catch (err) {
      if (!(err instanceof BadResponse)) throw err;
      this.reset();
      this.error = err.message;
      return 'bad';
    }
  }

  private parse(buf: Buffer, n: number): FeedResult {
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
            return 'more';
          }
          this.headPending = null;
          this.parseHead(head, from, at + 2);
          i += at + 4 - from - pendingLength;
          if (this.state === LENGTH && this.remaining === 0) return this.messageDone(i, n);
          break;
        }
        case LENGTH: {
          const take = Math.min(this.remaining, n - i);
          if (take > 0) this.events.onBody(buf, i, i + take);
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
          if (lf < 0 || lf >= n) return 'more';
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
          this.events.onBody(buf, i, i + take);
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
          this.events.onBody(buf, i, n);
          return 'more';
        default:
          // IDLE: no response expected (the owner does not feed then).
          return 'more';
      }
    }
    return 'more';
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
      head[from] !== 0x48 ||
      head[from + 1] !== 0x54 ||
      head[from + 2] !== 0x54 ||
      head[from + 3] !== 0x50 ||
      head[from + 4] !== 0x2f ||
      head[from + 5] !== 0x31 ||
      head[from + 6] !== 0x2e ||
      (head[from + 7] !== 0x31 && head[from + 7] !== 0x30) ||
      head[from + 8] !== 0x20
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
          if (k > at + TIMEOUT_EQ.length) this.events.onKeepAliveTimeout(secs);
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
    if (this.isHead || status === 204 || status === 304) {
      this.state = LENGTH; // no body: parse ends the message at once
      this.remaining = 0;
    } else if (chunked) {
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
    this.events.onHead(status);
  }

  /** The response ended at buf[i]; the read held n bytes. */
  private messageDone(i: number, n: number): FeedResult {
    this.state = IDLE;
    // More bytes than the response framed (one request at a time: nothing else may follow).
    if (i < n) throw new BadResponse('data after the end of the response');
    return 'done';
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
