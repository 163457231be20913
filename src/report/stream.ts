// Streamed answers in the reports (issue 12): the rows every format shows (by stage, by streaming endpoint,
// the total) and their numbers, TTFT, ITL, TPOT, E2E and output per second, in tokens when the servers
// sent usage and in chunks when they did not (never one number of both). A run without streamed answers
// has no rows, and its reports are what they were before streaming existed.

import { percentileMs } from '../metrics/histogram.ts';
import type { RunResult } from '../metrics/result.ts';
import type { StreamStats } from '../metrics/stream-stats.ts';
import { fmtMs, fmtNum } from '../format.ts';
import { type OutputCount, type StreamScope, outputCaveat, outputCount, streamFor, streamStatMs } from '../verdict/stream.ts';

export { streamWarnings } from '../verdict/stream.ts';
export { runWarnings } from '../verdict/warnings.ts';

/** True when some cell kept streamed answers (an endpoint streams), even if all of them failed. */
export function hasStreams(r: RunResult): boolean {
  return r.cells.some((row) => row.some((c) => c.stream !== undefined));
}

export interface StreamRow {
  /** Untrusted (a stage or endpoint name): escaped by each renderer. */
  label: string;
  kind: 'stage' | 'endpoint' | 'total';
  stage?: number;
  endpoint?: number;
  scope: StreamScope;
  /** Seconds the row covers, for per-second output. */
  seconds: number;
}

/** A row per stage, per streaming endpoint (when the run has several endpoints), and the total. */
export function streamRows(r: RunResult): StreamRow[] {
  const rows: StreamRow[] = [];
  const seconds = r.durationMs / 1000;
  r.stages.forEach((st, i) => {
    const ran = Math.max(0, Math.min(st.endMs, r.durationMs) - st.startMs) / 1000;
    rows.push({ label: `${i + 1}. ${st.name}`, kind: 'stage', stage: i, scope: streamFor(r, { stage: i }), seconds: ran });
  });
  if (r.endpoints.length > 1) {
    r.endpoints.forEach((ep, i) => {
      const scope = streamFor(r, { endpoint: i });
      if (scope.stream) rows.push({ label: ep.name, kind: 'endpoint', endpoint: i, scope, seconds });
    });
  }
  rows.push({ label: 'Total', kind: 'total', scope: streamFor(r), seconds });
  return rows;
}

/** One row's numbers: ms (null when not measured), the output rate and its unit. */
export interface StreamFigures {
  streams: number;
  ttftP50: number | null;
  ttftP99: number | null;
  itlP50: number | null;
  itlP99: number | null;
  tpotMean: number | null;
  tpotP99: number | null;
  e2eP99: number | null;
  output: OutputCount | null;
  /** Output units per second over the row's time; null without output. */
  outputPerSecond: number | null;
  /** Mean output per answer counted, and mean input tokens per answer that reported them. */
  outputPerAnswer: number | null;
  inputPerAnswer: number | null;
}

export function streamFigures(s: StreamStats | null, seconds: number): StreamFigures {
  const p = (of: 'ttft' | 'itl' | 'tpot' | 'e2e', q: number) => (s ? percentileMs(s[of], q) : null);
  const output = s ? outputCount(s) : null;
  return {
    streams: s?.streams ?? 0,
    ttftP50: p('ttft', 50),
    ttftP99: p('ttft', 99),
    itlP50: p('itl', 50),
    itlP99: p('itl', 99),
    tpotMean: s ? streamStatMs(s, 'tpot', { stat: 'mean' }) : null,
    tpotP99: p('tpot', 99),
    e2eP99: p('e2e', 99),
    output,
    outputPerSecond: output && seconds > 0 ? output.total / seconds : null,
    outputPerAnswer: output && output.answers > 0 ? output.total / output.answers : null,
    inputPerAnswer: s && s.inputTokensAnswers > 0 ? s.inputTokensSum / s.inputTokensAnswers : null,
  };
}

/** "11.0 tok/s", "4.2 chunks/s", or "-". */
export function fmtRate(f: StreamFigures): string {
  if (f.outputPerSecond === null || !f.output) return '-';
  return `${fmtNum(f.outputPerSecond)} ${f.output.unit === 'tokens' ? 'tok/s' : 'chunks/s'}`;
}

/** "220 tokens", "46 chunks", or "-". */
export function fmtOutput(f: StreamFigures): string {
  return f.output ? `${f.output.total} ${f.output.unit}` : '-';
}

/** The headline of a stream run, in a few words: "TTFT p99 400 ms, ITL p99 50.0 ms, 11.0 output tok/s". */
export function streamHeadline(r: RunResult): string | null {
  if (!hasStreams(r)) return null;
  const warm = r.warmupMs > 0;
  const s = streamFor(r, { excludeWarmup: warm }).stream;
  const f = streamFigures(s, Math.max(0, r.durationMs - (warm ? r.warmupMs : 0)) / 1000);
  if (f.streams === 0) return 'no streamed answer';
  const rate =
    f.outputPerSecond === null || !f.output
      ? ''
      : `, ${fmtNum(f.outputPerSecond)} output ${f.output.unit === 'tokens' ? 'tok' : 'chunks'}/s`;
  return `TTFT p99 ${fmtMs(f.ttftP99)}, ITL p99 ${fmtMs(f.itlP99)}${rate}`;
}

/** Notes under a stream table: how output was counted, when it was not plain tokens. */
export function streamNotes(r: RunResult): string[] {
  const s = streamFor(r).stream;
  const c = s ? outputCount(s) : null;
  const out: string[] = [];
  if (c && (c.unit === 'chunks' || c.leftOut > 0)) out.push(`Output ${outputCaveat(c)}.`);
  return out;
}
