// Server-sent events of OpenAI-compatible streams, read incrementally from raw body bytes and
// turned into per-request LLM metrics (TTFT, ITL, TPOT, E2E, output tokens). Pure: no socket,
// no clock; the HTTP client pushes each body chunk with the time it arrived, so one parser serves
// the h1 client and undici alike.
//
// Built for the hot path (one event per token for a thousand concurrent streams):
// * bytes are split into lines in place with Buffer.indexOf, and nothing keeps a reference to a
//   pushed chunk once push() returns, because h1-slot.ts reads every socket into one shared buffer;
//   only a line cut by a read is copied, into a buffer owned by the parser and reused;
// * a line is decoded only when complete, so a UTF-8 sequence split across reads is whole by then;
// * per event, the only allocations are its data string and JSON.parse's result (the event handed
//   to the callback is one reused object, and so are the accumulator's result and ITL array).
// bench/sse.ts measures it against a bare `split('\n\n')` reader in the same run.
//
// What counts (RESEARCH-2026-11 section 3.2, issue 12): an event is content only when it carries
// non-empty generated text (delta.content, reasoning text, tool-call deltas, or a completion's
// text); a role-only or empty delta, a finish chunk, a usage chunk and a ':' comment (a ping) are
// not tokens. A body that is one JSON document instead of a stream (a server that ignored
// "stream": true) is read as one content event and flagged: see StreamAccumulator.

/** What an event is, as far as LLM metrics are concerned. */
export type SseKind =
  /** Non-empty generated text (usage may ride along, as with vLLM's continuous usage stats). */
  | 'content'
  /** Choices with no text: the role-only first delta, an empty delta, the finish chunk. */
  | 'empty'
  /** No choices, a usage object: the trailing chunk of `stream_options.include_usage`. */
  | 'usage'
  /** An error object (OpenAI's `{"error": {...}}`, TGI's `{"error": "..."}`, old vLLM's `{"object": "error"}`). */
  | 'error'
  /** `data: [DONE]`. */
  | 'done'
  /** A `:` comment line, which servers send as keep-alive pings. */
  | 'comment'
  /** Data that is not JSON. */
  | 'invalid'
  /** JSON that is none of the above. */
  | 'other';

/**
 * One event. The parser hands the same object to every callback: read it there, do not keep it.
 */
export interface SseEvent {
  kind: SseKind;
  /** Arrival time of the chunk that completed the event (the caller's clock, e.g. ms). */
  at: number;
  /** UTF-16 length of the generated text in the event (0 unless `content`). */
  textLength: number;
  /** `usage.completion_tokens` when the event has a usage object with it, else -1. */
  completionTokens: number;
  /** `usage.prompt_tokens` likewise, else -1. */
  promptTokens: number;
  /** The error's message for `error` events, else ''. */
  message: string;
  /** The event's data, joined across `data:` lines ('' for comments). */
  data: string;
  /** True for the single event made from a JSON answer that was not a stream. */
  nonStreaming: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = [0xef, 0xbb, 0xbf];

/** Byte lengths of the field names the parser looks at. */
function isField(buf: Buffer, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[s + i] !== name.charCodeAt(i)) return false;
  return true;
}

const asBuffer = (chunk: Uint8Array): Buffer =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/** Fills `e` from one parsed JSON value (a stream chunk or a whole answer). */
function classifyJson(value: unknown, e: SseEvent, eventType: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    e.kind = 'other';
    return;
  }
  const o = value as Record<string, unknown>;
  const error = o['error'];
  if ((error !== undefined && error !== null) || o['object'] === 'error' || eventType === 'error') {
    e.kind = 'error';
    const m =
      typeof error === 'string'
        ? error
        : typeof (error as { message?: unknown } | null)?.message === 'string'
          ? (error as { message: string }).message
          : typeof o['message'] === 'string'
            ? o['message']
            : JSON.stringify(error ?? o);
    e.message = m;
    return;
  }
  const usage = o['usage'];
  if (typeof usage === 'object' && usage !== null) {
    const u = usage as Record<string, unknown>;
    const out = u['completion_tokens'];
    const inp = u['prompt_tokens'];
    if (typeof out === 'number') e.completionTokens = out;
    if (typeof inp === 'number') e.promptTokens = inp;
  }
  const choices = o['choices'];
  let text = 0;
  let nChoices = 0;
  if (Array.isArray(choices)) {
    nChoices = choices.length;
    for (let i = 0; i < choices.length; i++) {
      const c = choices[i] as Record<string, unknown> | null;
      if (typeof c !== 'object' || c === null) continue;
      // delta for chat chunks, message for a whole chat answer, text for (legacy) completions.
      const d = (c['delta'] ?? c['message']) as Record<string, unknown> | null | undefined;
      if (typeof d === 'object' && d !== null) {
        text += textLength(d['content']) + textLength(d['reasoning_content']) + textLength(d['reasoning']);
        const calls = d['tool_calls'];
        if (Array.isArray(calls) && calls.length > 0) text += JSON.stringify(calls).length;
      }
      text += textLength(c['text']);
    }
  }
  e.textLength = text;
  e.kind = text > 0 ? 'content' : nChoices > 0 ? 'empty' : e.completionTokens >= 0 ? 'usage' : 'other';
}

const textLength = (v: unknown): number => (typeof v === 'string' ? v.length : 0);

/**
 * Incremental SSE parser (the WHATWG event-stream rules: lines end in CRLF, LF or CR; `data:`
 * lines join with LF; one optional space after the colon; a leading BOM is dropped; an event
 * without a blank line after it at the end of the body is not an event). A body whose first
 * non-blank byte is `{` or `[` is not a stream: it is kept whole and read as one JSON answer at
 * end().
 */
export class SseParser {
  private readonly onEvent: (event: SseEvent) => void;
  private readonly event: SseEvent = {
    kind: 'other',
    at: 0,
    textLength: 0,
    completionTokens: -1,
    promptTokens: -1,
    message: '',
    data: '',
    nonStreaming: false,
  };
  /** 'start' until the first byte that is not a BOM byte or blank. */
  private mode: 'start' | 'sse' | 'json' = 'start';
  private bomSeen = 0;
  /** A CR ended the previous chunk: an LF starting this one belongs to it. */
  private skipLf = false;
  /** The start of a line cut by a read (or, in json mode, the whole body so far). */
  private partial = Buffer.allocUnsafe(1024);
  private partialLength = 0;
  /** The event's data so far; null when it has no data line yet. */
  private data: string | null = null;
  private eventType = '';
  private lastAt = 0;

  constructor(onEvent: (event: SseEvent) => void) {
    this.onEvent = onEvent;
  }

  /** Ready for another body; the buffers are kept. */
  reset(): void {
    this.mode = 'start';
    this.bomSeen = 0;
    this.skipLf = false;
    this.partialLength = 0;
    this.data = null;
    this.eventType = '';
    this.lastAt = 0;
  }

  /** True when the body so far is a JSON document rather than an event stream. */
  get isJson(): boolean {
    return this.mode === 'json';
  }

  /** Feeds body bytes `chunk[start, end)` that arrived at `at`; events complete in them are emitted before it returns. */
  push(chunk: Uint8Array, at: number, start = 0, end = chunk.length): void {
    const buf = asBuffer(chunk);
    this.lastAt = at;
    let i = start;
    if (this.mode === 'start') {
      // The BOM may only open the stream; blank lines before the first field change nothing.
      while (i < end) {
        const b = buf[i]!;
        if (this.bomSeen < 3 && b === BOM[this.bomSeen]) this.bomSeen++;
        else if (b === LF || b === CR) this.bomSeen = 3;
        else break;
        i++;
      }
      if (i === end) return;
      this.mode = buf[i] === 0x7b || buf[i] === 0x5b ? 'json' : 'sse';
    }
    if (this.mode === 'json') {
      this.append(buf, i, end);
      return;
    }
    if (this.skipLf && i < end) {
      if (buf[i] === LF) i++;
      this.skipLf = false;
    }
    // Next LF and next CR after i, each searched once per chunk pass, never per line: a chunk
    // without CRs would otherwise be rescanned to its end for every line.
    let lf = -1;
    let cr = -1;
    while (i < end) {
      if (lf < i) {
        lf = buf.indexOf(LF, i);
        if (lf < 0 || lf >= end) lf = end;
      }
      if (cr < i) {
        cr = buf.indexOf(CR, i);
        if (cr < 0 || cr >= end) cr = end;
      }
      const eol = lf < cr ? lf : cr;
      if (eol === end) {
        this.append(buf, i, end);
        return;
      }
      if (this.partialLength > 0) {
        this.append(buf, i, eol);
        this.line(this.partial, 0, this.partialLength, at);
        this.partialLength = 0;
      } else {
        this.line(buf, i, eol, at);
      }
      i = eol + 1;
      if (eol === cr) {
        if (i < end) {
          if (buf[i] === LF) i++;
        } else this.skipLf = true;
      }
    }
  }

  /**
   * The body has ended at `at`. A JSON body is read now (its event is timed at its last byte);
   * a stream's unfinished event is dropped, as the SSE rules say.
   */
  end(at: number): void {
    if (this.mode === 'json') {
      const e = this.fresh(this.partialLength > 0 ? this.lastAt : at);
      e.nonStreaming = true;
      const text = this.partial.toString('utf8', 0, this.partialLength);
      e.data = text;
      try {
        classifyJson(JSON.parse(text), e, '');
      } catch {
        e.kind = 'invalid';
      }
      this.partialLength = 0;
      this.onEvent(e);
    }
    this.mode = 'start';
  }

  private append(buf: Buffer, s: number, e: number): void {
    const n = e - s;
    if (n === 0) return;
    if (this.partialLength + n > this.partial.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.partial.length * 2, this.partialLength + n));
      this.partial.copy(bigger, 0, 0, this.partialLength);
      this.partial = bigger;
    }
    buf.copy(this.partial, this.partialLength, s, e);
    this.partialLength += n;
  }

  private fresh(at: number): SseEvent {
    const e = this.event;
    e.kind = 'other';
    e.at = at;
    e.textLength = 0;
    e.completionTokens = -1;
    e.promptTokens = -1;
    e.message = '';
    e.data = '';
    e.nonStreaming = false;
    return e;
  }

  private line(buf: Buffer, s: number, e: number, at: number): void {
    if (s === e) return this.dispatch(at);
    if (buf[s] === COLON) {
      this.fresh(at).kind = 'comment';
      this.onEvent(this.event);
      return;
    }
    let colon = buf.indexOf(COLON, s);
    if (colon < 0 || colon >= e) colon = e;
    let v = colon + 1;
    if (v < e && buf[v] === SPACE) v++;
    if (v > e) v = e;
    if (isField(buf, s, colon, 'data')) {
      const value = buf.toString('utf8', v, e);
      this.data = this.data === null ? value : `${this.data}\n${value}`;
    } else if (isField(buf, s, colon, 'event')) {
      this.eventType = buf.toString('utf8', v, e);
    }
    // id and retry do not matter here; unknown fields are ignored, as the rules say.
  }

  private dispatch(at: number): void {
    const data = this.data;
    const eventType = this.eventType;
    this.data = null;
    this.eventType = '';
    if (data === null) return;
    const e = this.fresh(at);
    e.data = data;
    if (data === '[DONE]') e.kind = 'done';
    else if (data === '') e.kind = 'other';
    else {
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        e.kind = 'invalid';
        this.onEvent(e);
        return;
      }
      classifyJson(value, e, eventType);
    }
    this.onEvent(e);
  }
}

/** Why a stream did not give a complete answer. */
export type StreamFailure =
  /** An error object arrived (mid-stream, or as the whole body). */
  | 'error-event'
  /** The body ended (or the connection broke) before `data: [DONE]`. */
  | 'cut'
  /** `[DONE]` came, but no event carried generated text. */
  | 'no-content'
  /** No content, and the body had data that was not JSON (or was neither a stream nor JSON). */
  | 'invalid';

/** The metrics of one stream, relative to the request's send time. */
export interface StreamMetrics {
  /** null when the stream is a complete answer. */
  readonly failure: StreamFailure | null;
  /** The error object's message for 'error-event'. */
  readonly errorMessage: string;
  /** The body was one JSON answer, not a stream: TTFT = E2E, and there are no ITLs and no TPOT. */
  readonly nonStreaming: boolean;
  /** Send to the first content event; NaN without content. */
  readonly ttft: number;
  /** Send to the end of the stream: `[DONE]` (or the body's end when it never came). */
  readonly e2e: number;
  /** Send to the last content event; NaN without content. */
  readonly lastContent: number;
  /** Gaps between consecutive content events (content events - 1 of them). Reused: copy to keep. */
  readonly itl: readonly number[];
  /** (E2E - TTFT) / (output - 1); NaN below 2 output units or for a non-streamed answer. */
  readonly tpot: number;
  /** usage.completion_tokens when the server sent it, else the content events. */
  readonly output: number;
  /** What `output` counts: never mix the two in one number. */
  readonly outputUnit: 'tokens' | 'chunks';
  readonly contentEvents: number;
  /** usage.prompt_tokens, or -1. */
  readonly promptTokens: number;
  /** Comment lines (pings) seen, and events whose data was not JSON. */
  readonly comments: number;
  readonly invalidEvents: number;
}

/**
 * Turns one stream's events into its metrics. Reusable: reset() before each request, feed every
 * event (pass `accumulator.onEvent` to the parser), then finish(). finish() returns the
 * accumulator itself, so reading metrics allocates nothing.
 *
 * A JSON answer where a stream was asked for is a success with TTFT = E2E (when its text arrived,
 * which is what the user saw), flagged `nonStreaming`, with no ITL and no TPOT (no gaps were
 * measured, and a TPOT of 0 would pass any TPOT objective). It is not counted as a failure
 * because the server did answer correctly; the TTFT objective and the buffering warning are what
 * should catch it, as they catch a stream buffered to the end.
 */
export class StreamAccumulator implements StreamMetrics {
  failure: StreamFailure | null = null;
  errorMessage = '';
  nonStreaming = false;
  ttft = NaN;
  e2e = NaN;
  lastContent = NaN;
  readonly itl: number[] = [];
  tpot = NaN;
  output = 0;
  outputUnit: 'tokens' | 'chunks' = 'chunks';
  contentEvents = 0;
  promptTokens = -1;
  comments = 0;
  invalidEvents = 0;
  private startedAt = 0;
  private firstAt = NaN;
  private lastAt = NaN;
  private doneAt = NaN;
  private usageTokens = -1;
  private sawError = false;

  /** A bound `onEvent`, to hand to SseParser. */
  readonly onEvent = (e: SseEvent): void => this.add(e);

  /** Starts a request sent at `startedAt` (same clock as the events). */
  reset(startedAt: number): void {
    this.startedAt = startedAt;
    this.failure = null;
    this.errorMessage = '';
    this.nonStreaming = false;
    this.ttft = this.e2e = this.lastContent = this.tpot = NaN;
    this.itl.length = 0;
    this.output = 0;
    this.outputUnit = 'chunks';
    this.contentEvents = 0;
    this.promptTokens = -1;
    this.comments = 0;
    this.invalidEvents = 0;
    this.firstAt = this.lastAt = this.doneAt = NaN;
    this.usageTokens = -1;
    this.sawError = false;
  }

  add(e: SseEvent): void {
    if (!Number.isNaN(this.doneAt)) return; // nothing after [DONE] counts
    if (e.completionTokens >= 0) this.usageTokens = e.completionTokens;
    if (e.promptTokens >= 0) this.promptTokens = e.promptTokens;
    switch (e.kind) {
      case 'content':
        if (this.contentEvents === 0) this.firstAt = e.at;
        else this.itl.push(e.at - this.lastAt);
        this.lastAt = e.at;
        this.contentEvents++;
        break;
      case 'error':
        if (!this.sawError) this.errorMessage = e.message;
        this.sawError = true;
        break;
      case 'done':
        this.doneAt = e.at;
        break;
      case 'comment':
        this.comments++;
        break;
      case 'invalid':
        this.invalidEvents++;
        break;
    }
    if (e.nonStreaming) {
      this.nonStreaming = true;
      this.doneAt = e.at; // a whole JSON answer is complete by itself
    }
  }

  /** The body ended at `endAt` (normally or not); fills in and returns the metrics. */
  finish(endAt: number): StreamMetrics {
    const done = !Number.isNaN(this.doneAt);
    const end = done ? this.doneAt : endAt;
    const s = this.startedAt;
    this.e2e = end - s;
    if (this.contentEvents > 0) {
      this.ttft = this.firstAt - s;
      this.lastContent = this.lastAt - s;
    }
    if (this.usageTokens >= 0) {
      this.output = this.usageTokens;
      this.outputUnit = 'tokens';
    } else {
      this.output = this.contentEvents;
      this.outputUnit = 'chunks';
    }
    if (this.contentEvents > 0 && this.output >= 2 && !this.nonStreaming) this.tpot = (this.e2e - this.ttft) / (this.output - 1);
    if (this.sawError) this.failure = 'error-event';
    else if (this.contentEvents > 0) this.failure = done ? null : 'cut';
    else if (this.invalidEvents > 0) this.failure = 'invalid';
    else this.failure = done ? 'no-content' : 'cut';
    return this;
  }
}
