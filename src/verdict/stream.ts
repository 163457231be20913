// Streamed answers over a scope (issue 12): the cells' StreamStats and per-request objective counts
// (Stats.good) as statsFor merges them, the output rate in tokens or chunks (never both in
// one number), and the warning when most answers did not stream. Pure: a RunResult in, numbers out; the
// verdict judges stream SLOs with them and every report shows them.

import { percentileMs } from '../metrics/histogram.ts';
import { type RunResult, type Scope, statsFor } from '../metrics/result.ts';
import type { StreamStats } from '../metrics/stream-stats.ts';
import type { StreamMetric } from '../plan/types.ts';

export interface StreamScope {
  /** The scope's streamed answers merged; null when no cell in it kept any (no endpoint streamed). */
  stream: StreamStats | null;
  /** Per objective set id: requests in the scope that met every objective of the set. */
  good: Record<string, number>;
  /** All requests in the scope, failures included. */
  requests: number;
  failures: number;
}

/** The scope's streamed answers and objective counts, merged as statsFor merges latency (mergeStats). */
export function streamFor(r: RunResult, scope: Scope = {}): StreamScope {
  const s = statsFor(r, scope);
  return { stream: s.stream ?? null, good: s.good ?? {}, requests: s.requests, failures: s.failures };
}

/** A statistic of TTFT, ITL, TPOT or E2E in ms; null when no value was recorded. */
export function streamStatMs(
  s: StreamStats,
  of: StreamMetric,
  stat: { stat: 'percentile'; percentile: number } | { stat: 'mean' | 'max' | 'min' },
): number | null {
  const h = s[of];
  if (h.totalCount === 0) return null;
  switch (stat.stat) {
    case 'percentile':
      return percentileMs(h, stat.percentile);
    case 'mean':
      return s[`${of}SumUs`] / h.totalCount / 1000;
    case 'max':
      return h.maxValue / 1000;
    case 'min':
      return h.minNonZeroValue / 1000;
  }
}

/**
 * What the output is counted in over a scope: tokens when every answer came with the server's usage, chunks
 * (content events) when none did. When some did and some did not, the tokens of those that did, and how many
 * answers were left out: a chunk can hold several tokens, so the two are never added.
 */
export interface OutputCount {
  unit: 'tokens' | 'chunks';
  total: number;
  /** Answers counted, and answers left out (those without usage, when others had it). */
  answers: number;
  leftOut: number;
}

export function outputCount(s: StreamStats): OutputCount | null {
  const withUsage = s.outputTokens.totalCount;
  const without = s.outputChunks.totalCount;
  if (withUsage > 0) return { unit: 'tokens', total: s.outputTokensSum, answers: withUsage, leftOut: without };
  if (without > 0) return { unit: 'chunks', total: s.outputChunksSum, answers: without, leftOut: 0 };
  return null;
}

/** The words for an output count's unit, and what it leaves out. */
export function outputCaveat(c: OutputCount): string {
  if (c.unit === 'chunks') return 'counted in chunks (content events): the server sent no token usage, and a chunk can hold several tokens';
  if (c.leftOut > 0) return `tokens of the ${c.answers} answers that reported usage; ${c.leftOut} without usage are left out`;
  return '';
}

/** Seconds a scope covers: its stage (or the run), warm-up left out when asked, cut where a run ended early. */
export function scopeSeconds(r: RunResult, scope: Pick<Scope, 'stage' | 'excludeWarmup'>): number {
  let spanMs = 0;
  for (const seg of r.segments) {
    if (scope.stage !== undefined && seg.stage !== scope.stage) continue;
    if (scope.excludeWarmup && seg.warmup) continue;
    spanMs += Math.max(0, Math.min(seg.endMs, r.durationMs) - seg.startMs);
  }
  return spanMs / 1000;
}

/**
 * The warnings about streamed answers, the same in every report: when at least half the answers did not
 * stream (one JSON document, or the whole text at the end of the stream), TTFT is about the whole answer's
 * time and ITL and TPOT describe nothing the user saw.
 */
export function streamWarnings(r: RunResult): string[] {
  const s = streamFor(r).stream;
  if (!s) return [];
  const whole = s.buffered + s.nonStreaming;
  // Answers that came as one JSON document may or may not count as streams: half of whichever is larger.
  if (whole === 0 || whole * 2 < Math.max(s.streams, whole)) return [];
  const parts: string[] = [];
  if (s.nonStreaming > 0) parts.push(`${s.nonStreaming} as one JSON answer`);
  if (s.buffered > 0) parts.push(`${s.buffered} buffered to the end of the stream`);
  return [
    `most answers did not stream: ${whole} of ${Math.max(s.streams, whole)} came whole (${parts.join(', ')}). ` +
      'The server (or a proxy before it) buffers its answer, so TTFT is close to E2E and ITL and TPOT mean nothing.',
  ];
}
