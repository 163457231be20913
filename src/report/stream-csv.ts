// `stream_stats.csv`: the streamed answers' metrics (issue 12) per stage x endpoint, then per endpoint over
// the run (Stage empty), then `Aggregated` (every endpoint, as locust's row is: its Requests count them all).
// TTFT, ITL, TPOT and E2E in ms (`N/A` where nothing was measured, as the locust-style CSVs beside it write),
// output in tokens and in chunks in columns of their own (never added together), input tokens, and the
// answers that did not stream. Written only for a run with an endpoint that streams. Same CSV dialect as
// csv.ts: CRLF, minimal quoting, formulas in names neutralized.

import { percentileMs } from '../metrics/histogram.ts';
import type { RunResult } from '../metrics/result.ts';
import type { StreamStats } from '../metrics/stream-stats.ts';
import { round } from '../format.ts';
import { type StreamScope, streamFor, streamStatMs } from '../verdict/stream.ts';
import { csvField, neutralizeFormula } from './csv.ts';

export const STREAM_CSV = 'stream_stats.csv';

const NA = 'N/A';
const EOL = '\r\n';

export const STREAM_HEADER = [
  'Stage',
  'Endpoint',
  'Requests',
  'Failures',
  'Streams',
  'TTFT p50 (ms)',
  'TTFT p90 (ms)',
  'TTFT p99 (ms)',
  'TTFT Mean (ms)',
  'ITL p50 (ms)',
  'ITL p90 (ms)',
  'ITL p99 (ms)',
  'ITL Mean (ms)',
  'TPOT p50 (ms)',
  'TPOT p99 (ms)',
  'TPOT Mean (ms)',
  'E2E p50 (ms)',
  'E2E p99 (ms)',
  'E2E Mean (ms)',
  'Seconds',
  'Answers With Usage',
  'Output Tokens',
  'Output Tokens/s',
  'Answers Without Usage',
  'Output Chunks',
  'Output Chunks/s',
  'Input Tokens',
  'Non-Streaming Answers',
  'Buffered Answers',
];

type Cell = number | string | { text: string };

export function renderStreamCsv(r: RunResult): string {
  const rows: Cell[][] = [STREAM_HEADER];
  const streaming = r.endpoints.map((_, i) => i).filter((i) => r.cells.some((row) => row[i]?.stream !== undefined));
  const runSeconds = r.durationMs / 1000;
  r.stages.forEach((st, si) => {
    const seconds = Math.max(0, Math.min(st.endMs, r.durationMs) - st.startMs) / 1000;
    for (const ei of streaming) {
      rows.push(row({ text: st.name }, { text: r.endpoints[ei]!.name }, streamFor(r, { stage: si, endpoint: ei }), seconds));
    }
  });
  for (const ei of streaming) rows.push(row('', { text: r.endpoints[ei]!.name }, streamFor(r, { endpoint: ei }), runSeconds));
  rows.push(row('', 'Aggregated', streamFor(r), runSeconds));
  return rows.map(csvRow).join('');
}

function row(stage: Cell, endpoint: Cell, scope: StreamScope, seconds: number): Cell[] {
  const s = scope.stream;
  const p = (of: 'ttft' | 'itl' | 'tpot' | 'e2e', q: number) => ms(s ? percentileMs(s[of], q) : null);
  const mean = (of: 'ttft' | 'itl' | 'tpot' | 'e2e') => ms(s ? streamStatMs(s, of, { stat: 'mean' }) : null);
  const perSecond = (n: number) => (seconds > 0 ? round(n / seconds, 3) : NA);
  const z = (f: (x: StreamStats) => number) => (s ? f(s) : 0);
  return [
    stage,
    endpoint,
    scope.requests,
    scope.failures,
    z((x) => x.streams),
    p('ttft', 50),
    p('ttft', 90),
    p('ttft', 99),
    mean('ttft'),
    p('itl', 50),
    p('itl', 90),
    p('itl', 99),
    mean('itl'),
    p('tpot', 50),
    p('tpot', 99),
    mean('tpot'),
    p('e2e', 50),
    p('e2e', 99),
    mean('e2e'),
    round(seconds, 3),
    z((x) => x.outputTokens.totalCount),
    z((x) => x.outputTokensSum),
    perSecond(z((x) => x.outputTokensSum)),
    z((x) => x.outputChunks.totalCount),
    z((x) => x.outputChunksSum),
    perSecond(z((x) => x.outputChunksSum)),
    z((x) => x.inputTokensSum),
    z((x) => x.nonStreaming),
    z((x) => x.buffered),
  ];
}

/** ms to the µs, or N/A when nothing was measured. */
function ms(x: number | null): number | string {
  return x === null ? NA : round(x, 3);
}

function csvRow(cells: readonly Cell[]): string {
  return (
    cells
      .map((c) => (typeof c === 'number' ? String(c) : typeof c === 'string' ? csvField(c) : csvField(neutralizeFormula(c.text))))
      .join(',') + EOL
  );
}
