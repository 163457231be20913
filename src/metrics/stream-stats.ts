// What a cell (stage x endpoint) keeps of streamed answers (issue 12): HDR histograms of time to first
// token (TTFT), inter-token latency (ITL: every gap between content events), time per output token
// (TPOT) and end to end (E2E), in µs as latency is, with exact sums for means; the output per answer in
// tokens (when the server sent usage) or in content events ("chunks", when it did not), never mixed in
// one number; and the answers that did not stream as they should (one JSON answer, or buffered).

import { type Histogram, newHistogram } from './histogram.ts';

export interface StreamStats {
  /** Successful streamed answers measured (complete, no error object). */
  streams: number;
  /** µs: send -> first content event. */
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
  /** Answers that came as one JSON document where a stream was asked for. */
  nonStreaming: number;
  /** Streamed answers of 4+ output units whose text arrived in the last 10% of their E2E (buffered by the server). */
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
