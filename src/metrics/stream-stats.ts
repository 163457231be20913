// What a cell (stage x endpoint) keeps of streamed answers (issue 12): HDR histograms of time to first
// token (TTFT), inter-token latency (ITL: every gap between content events), time per output token
// (TPOT) and end to end (E2E), in µs as latency is, with exact sums for means; the output per answer in
// tokens (when the server sent usage) or in content events ("chunks", when it did not), never mixed in
// one number; and the answers that did not stream as they should (one JSON answer, or buffered).
//
// Times run from where the request's latency runs from (its send, or in the open model the instant the
// service began to hold it back), so that E2E is the request's latency as every other report shows it.
// Sums add µs rounded to whole numbers: integers add exactly in any order, so shards merge to the very
// sums one run would have (metrics/merge.ts).

import {
  type Histogram,
  type SerializedHistogram,
  deserializeHistogram,
  mergeHistograms,
  newHistogram,
  recordUs,
  serializeHistogram,
} from './histogram.ts';

export interface StreamStats {
  /**
   * Successful answers to a stream endpoint measured (complete, no error object), the non-streaming
   * ones included: each has a TTFT and an E2E.
   */
  streams: number;
  /** µs: send -> first content event (for a JSON answer: its arrival, = E2E). */
  ttft: Histogram;
  ttftSumUs: number;
  /** µs: every gap between consecutive content events. */
  itl: Histogram;
  itlSumUs: number;
  /** µs: (E2E - TTFT) / (output - 1), one value per answer with at least 2 output units. */
  tpot: Histogram;
  tpotSumUs: number;
  /** µs: send -> [DONE] (or the body's end). */
  e2e: Histogram;
  e2eSumUs: number;
  /** Output per answer, as counts (not µs), for answers whose server sent usage.completion_tokens. */
  outputTokens: Histogram;
  outputTokensSum: number;
  /** Output per answer, as counts of content events, for answers without usage. */
  outputChunks: Histogram;
  outputChunksSum: number;
  /** Sum of usage.prompt_tokens over the answers that reported it, and how many did. */
  inputTokensSum: number;
  inputTokensAnswers: number;
  /** Answers that came as one JSON document where a stream was asked for (counted in `streams` too). */
  nonStreaming: number;
  /**
   * Streamed (event-stream) answers of 4+ output units whose first token came at 90% or more of their
   * E2E: the server (or a proxy) held the text back. Non-streaming answers are counted in `nonStreaming` only.
   */
  buffered: number;
}

export function emptyStreamStats(): StreamStats {
  return {
    streams: 0,
    ttft: newHistogram(),
    ttftSumUs: 0,
    itl: newHistogram(),
    itlSumUs: 0,
    tpot: newHistogram(),
    tpotSumUs: 0,
    e2e: newHistogram(),
    e2eSumUs: 0,
    outputTokens: newHistogram(),
    outputTokensSum: 0,
    outputChunks: newHistogram(),
    outputChunksSum: 0,
    inputTokensSum: 0,
    inputTokensAnswers: 0,
    nonStreaming: 0,
    buffered: 0,
  };
}

/**
 * What the recorder reads of one successful streamed answer, in ms from where its latency runs from.
 * The HTTP clients' StreamAccumulator (load/sse.ts) is one: it is passed as it is, nothing copied.
 */
export interface StreamSample {
  /** The answer was one JSON document, not an event stream. */
  readonly nonStreaming: boolean;
  readonly ttft: number;
  readonly e2e: number;
  /** Every gap between consecutive content events. */
  readonly itl: readonly number[];
  /** NaN when the answer has fewer than 2 output units, or is not a stream. */
  readonly tpot: number;
  readonly output: number;
  readonly outputUnit: 'tokens' | 'chunks';
  /** usage.prompt_tokens, or -1. */
  readonly promptTokens: number;
}

/** A streamed answer of at least this many output units... */
const BUFFERED_MIN_OUTPUT = 4;
/** ...whose first token came this late in its E2E was held back, not streamed. */
const BUFFERED_TTFT_SHARE = 0.9;

const us = (ms: number): number => Math.round(ms * 1000);

/** Adds one answer; returns its largest ITL in ms (0 without gaps), for per-request objectives. */
export function recordStream(s: StreamStats, a: StreamSample): number {
  s.streams++;
  const ttft = us(a.ttft);
  const e2e = us(a.e2e);
  recordUs(s.ttft, ttft);
  s.ttftSumUs += ttft;
  recordUs(s.e2e, e2e);
  s.e2eSumUs += e2e;
  let largest = 0;
  const gaps = a.itl;
  for (let i = 0; i < gaps.length; i++) {
    const g = gaps[i]!;
    const gu = us(g);
    recordUs(s.itl, gu);
    s.itlSumUs += gu;
    if (g > largest) largest = g;
  }
  if (!Number.isNaN(a.tpot)) {
    const t = us(a.tpot);
    recordUs(s.tpot, t);
    s.tpotSumUs += t;
  }
  if (a.outputUnit === 'tokens') {
    recordUs(s.outputTokens, a.output);
    s.outputTokensSum += a.output;
  } else {
    recordUs(s.outputChunks, a.output);
    s.outputChunksSum += a.output;
  }
  if (a.promptTokens >= 0) {
    s.inputTokensSum += a.promptTokens;
    s.inputTokensAnswers++;
  }
  if (a.nonStreaming) s.nonStreaming++;
  else if (a.output >= BUFFERED_MIN_OUTPUT && a.ttft >= BUFFERED_TTFT_SHARE * a.e2e) s.buffered++;
  return largest;
}

const HISTOGRAMS = ['ttft', 'itl', 'tpot', 'e2e', 'outputTokens', 'outputChunks'] as const;
const COUNTS = [
  'streams',
  'ttftSumUs',
  'itlSumUs',
  'tpotSumUs',
  'e2eSumUs',
  'outputTokensSum',
  'outputChunksSum',
  'inputTokensSum',
  'inputTokensAnswers',
  'nonStreaming',
  'buffered',
] as const;

/** Exact: counts and sums add, histograms merge bucket for bucket. */
export function mergeStreamStats(list: readonly StreamStats[]): StreamStats {
  const out = emptyStreamStats();
  for (const h of HISTOGRAMS) out[h] = mergeHistograms(list.map((s) => s[h]));
  for (const s of list) for (const k of COUNTS) out[k] += s[k];
  return out;
}

export type SerializedStreamStats = Omit<StreamStats, (typeof HISTOGRAMS)[number]> &
  Record<(typeof HISTOGRAMS)[number], SerializedHistogram>;

export function serializeStreamStats(s: StreamStats): SerializedStreamStats {
  const out = { ...s } as unknown as SerializedStreamStats;
  for (const h of HISTOGRAMS) out[h] = serializeHistogram(s[h]);
  return out;
}

export function deserializeStreamStats(s: SerializedStreamStats): StreamStats {
  // Counts a later version adds would be missing from an older file: they read 0.
  const out = { ...s } as unknown as StreamStats;
  for (const k of COUNTS) out[k] ??= 0;
  for (const h of HISTOGRAMS) out[h] = deserializeHistogram(s[h]);
  return out;
}
