// A slot is one connection and the request on it, as the engine sees it: the contract both HTTP
// clients keep (undici's Dispatcher plays the same part in undici). UndiciSlot (undici-slot.ts) serves
// https:// and whoever asks for undici; H1Slot (h1-slot.ts) serves plain http:// with half the CPU
// per request (bench/README.md). What they share sits here too, so that both end a request the same
// way: the listener that hears how it ended, the sample of a failing body, the response check, and
// the sorting of errors into the kinds reports count.

import type { ErrorKind } from '../metrics/result.ts';
import type { PreparedEndpoint } from './requests.ts';
import type { StreamMetrics } from './sse.ts';

/** The first bytes of a failing response body kept for the failures table. */
export const SAMPLE_BYTES = 512;

/** Reasons the engine aborts a request itself. */
export class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
}
export class RunStopped extends Error {
  override readonly name = 'RunStopped';
}

/** One connection and the request on it. */
export interface Slot {
  readonly busy: boolean;
  /** The request in flight: */
  readonly endpoint: number;
  readonly segment: number;
  /** ms, the actual send */
  readonly sentAt: number;
  /** ms, when it was due (open model); equals sentAt in the closed model */
  readonly intendedAt: number;
  send(ep: PreparedEndpoint, segment: number, intendedAt: number): void;
  abort(reason: Error): void;
  close(): Promise<void>;
}

/**
 * How a request ended, reported once per request. The arguments are positional because this runs
 * once per response at tens of thousands a second: no object per call.
 */
export interface SlotListener {
  /**
   * `mismatch`: why a successful response failed the response check, when it did. `stream`: for an
   * endpoint that streams and a status that counts as success, the stream's metrics (complete or not:
   * see `failure`), read during the call only (the slot reuses the object). A stream cut by the
   * connection after its head is reported here too, as a response whose stream failed.
   */
  response(
    slot: Slot,
    status: number,
    ok: boolean,
    bytes: number,
    endMs: number,
    sample: string | undefined,
    mismatch?: string,
    stream?: StreamMetrics,
  ): void;
  error(slot: Slot, kind: EndKind, message: string, endMs: number): void;
}

/**
 * How a request ended without a response: a kind reports count against the service, `stopped` (the
 * run stopped it), or `exhausted`: the generator itself ran out of file descriptors or local ports
 * (EMFILE, ENFILE, EADDRNOTAVAIL on connect), never the service's doing. Issue 16 saw such errors
 * counted as request errors and blamed on the service.
 */
export type EndKind = ErrorKind | 'stopped' | 'exhausted';

/** Error codes that mean the generator's machine, not the service, ran out of something. */
const EXHAUSTED = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS']);

/** The usual case, a successful response nobody checks: nothing to build (and no array per response). */
export const NO_OUTCOME: readonly [undefined, undefined] = [undefined, undefined];

/**
 * What a finished response leaves for the listener, the same for both clients: the first bytes of a
 * failing body (a sample for the report), and why a successful body failed the response check.
 */
export function responseOutcome(
  sample: Buffer[] | null,
  body: Buffer[] | null,
  check: ((body: string) => string | null) | undefined,
): [sample: string | undefined, mismatch: string | undefined] {
  return [
    sample ? Buffer.concat(sample).subarray(0, SAMPLE_BYTES).toString('utf8') : undefined,
    body !== null && check ? (check(Buffer.concat(body).toString('utf8')) ?? undefined) : undefined,
  ];
}

/**
 * Why a streamed answer counts as a failure, with the message for the failures table, or null when it
 * is a complete answer. The kinds are the service's doing: an error object it sent, a stream it ended
 * (or whose connection broke) before `data: [DONE]`, a stream with no generated text, data that is
 * not JSON.
 */
export function streamFailure(m: StreamMetrics): [ErrorKind, string] | null {
  switch (m.failure) {
    case null:
      return null;
    case 'error-event':
      return ['stream-error', m.errorMessage.split('\n')[0]!.slice(0, 200) || 'an error object in the stream'];
    case 'cut':
      return ['stream-cut', 'the stream ended before data: [DONE]'];
    case 'no-content':
      return ['stream-empty', m.nonStreaming ? 'a JSON answer without generated text' : 'data: [DONE] without generated text'];
    case 'invalid':
      return ['bad-response', m.nonStreaming ? 'the answer is neither an event stream nor JSON' : 'stream data that is not JSON'];
  }
}

/**
 * Sorts why a request ended without a response into the kinds reports count, with a short message: our
 * own aborts (the run stopped, the request timed out), then transport errors.
 */
export function classifyError(err: unknown): [EndKind, string] {
  if (err instanceof RunStopped) return ['stopped', 'stopped'];
  if (err instanceof RequestTimeout) return ['timeout', err.message];
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  const message = (e?.message || e?.cause?.message || String(err)).split('\n')[0]!.slice(0, 200);
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  if (EXHAUSTED.has(code)) return ['exhausted', text];
  if (code === 'ECONNREFUSED') return ['refused', text];
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return ['reset', text];
  if (code === 'ETIMEDOUT' || code.endsWith('_TIMEOUT')) return ['timeout', text];
  // undici's HTTPParserError carries an HPE_ code only when llhttp gave one.
  if (e?.name === 'HTTPParserError' || code.startsWith('HPE_') || code.startsWith('UND_ERR_RES_') || code === 'UND_ERR_INFO') {
    return ['bad-response', text];
  }
  return ['other', text];
}
