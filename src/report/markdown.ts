// The Markdown the PR comment and the job summary show: the verdict first, the SLO table, the key numbers, a
// latency chart (Mermaid xychart-beta, with the same numbers in a collapsible table), the top failures, and
// where the full report is. Pure: RunResult + Verdict in, text out.
//
// Untrusted text (anything from the service, the config or the run: failure messages and bodies, endpoint and
// stage names, SLO lines, reasons, problems) goes through `text()` (escaped prose: no HTML, links, emphasis,
// table breaks, mentions or issue references) or `code()` (an inline code span, in which GitHub renders nothing
// and links no mention). The Mermaid block holds only our own words and numbers.
//
// Size: a PR comment is capped at 65,536 characters and a job summary at 1 MiB, and a run can be hours long
// with hundreds of failure kinds. The output is always at most `maxChars` (default 60,000) characters: the
// render is tried at decreasing levels of detail (fewer failure rows, shorter samples, no details table, fewer
// SLO rows, no chart) until it fits, and as a last resort whole blocks are dropped from the end. Blocks (a
// table, a code block, a list) are never cut.

import { maxMs, percentileMs } from '../metrics/histogram.ts';
import { type RunResult, type TimelinePoint, meanMs, statsFor } from '../metrics/result.ts';
import type { SloOutcome, Verdict } from '../verdict/types.ts';
import { estimatedNote, shardLines } from './shards.ts';
import { describeBodiesOf, describeLoad, generatorWarnings, invalidSummary, verdictParts, watchSummary } from './console.ts';
import { fmtClock, fmtDuration, fmtMs, fmtNum, fmtPct, round } from '../format.ts';
import { escapeMarkdown, markdownCode, truncate } from './escape.ts';
import { compareMarkdown } from './compare-markdown.ts';
import { fmtOutput, fmtRate, hasStreams, streamFigures, streamHeadline, streamNotes, streamRows, runWarnings } from './stream.ts';

/** A partial second shorter than this is left out of per-second figures (seconds). */
const MIN_RATE_SPAN = 0.5;

export interface MarkdownOptions {
  /** A link to the full report (an artifact or a hosted page); only http(s) URLs are linked. */
  reportLink?: string;
  /** When there is no link (no artifact was uploaded): the folder on the runner that holds the reports. */
  reportDir?: string;
  /** Shown after the verdict; default "loadgate". */
  title?: string;
  /** Hard cap on the output length, in UTF-16 code units (JavaScript string length). Default 60,000. */
  maxChars?: number;
}

export const DEFAULT_MAX_CHARS = 60_000;
/** At most this many x points in the chart (and rows in the details table). */
export const MAX_CHART_POINTS = 60;

interface Level {
  /** Longest problem / reason text in the notes under the verdict. */
  noteChars: number;
  failureRows: number;
  sampleChars: number;
  details: boolean;
  sloRows: number;
  chart: boolean;
}

/** From the most detailed to the leanest; the first that fits is used. */
const LEVELS: Level[] = [
  { noteChars: 500, failureRows: 10, sampleChars: 200, details: true, sloRows: 50, chart: true },
  { noteChars: 500, failureRows: 5, sampleChars: 200, details: true, sloRows: 50, chart: true },
  { noteChars: 500, failureRows: 5, sampleChars: 80, details: true, sloRows: 50, chart: true },
  { noteChars: 500, failureRows: 3, sampleChars: 40, details: true, sloRows: 50, chart: true },
  { noteChars: 500, failureRows: 3, sampleChars: 0, details: true, sloRows: 50, chart: true },
  { noteChars: 500, failureRows: 3, sampleChars: 0, details: false, sloRows: 50, chart: true },
  { noteChars: 200, failureRows: 0, sampleChars: 0, details: false, sloRows: 20, chart: true },
  { noteChars: 80, failureRows: 0, sampleChars: 0, details: false, sloRows: 5, chart: false },
];

export function renderMarkdown(r: RunResult, verdict: Verdict, opts: MarkdownOptions = {}): string {
  const max = opts.maxChars ?? DEFAULT_MAX_CHARS;
  let blocks: string[] = [];
  for (const level of LEVELS) {
    blocks = renderBlocks(r, verdict, opts, level);
    const out = join(blocks);
    if (out.length <= max) return out;
  }
  // Last resort: the leanest blocks, in order, leaving out those that do not fit; the verdict line is always
  // there (cut if it must be: then it is the whole output).
  const kept: string[] = [];
  let len = 1; // the final newline
  for (const b of blocks) {
    const add = (kept.length ? 2 : 0) + b.length;
    if (len + add <= max) {
      kept.push(b);
      len += add;
    } else if (kept.length === 0) {
      return `${truncate(b.split('\n')[0]!, Math.max(0, max - 1))}\n`.slice(0, max);
    }
  }
  return join(kept);
}

function join(blocks: string[]): string {
  return `${blocks.join('\n\n')}\n`;
}

function renderBlocks(r: RunResult, v: Verdict, opts: MarkdownOptions, level: Level): string[] {
  const blocks: string[] = [verdictLine(r, v, opts)];
  // A comparison with a baseline comes first: it is what a reviewer of a pull request asks.
  if (v.comparison) blocks.push(compareMarkdown(v.comparison, { maxRows: level.sloRows }));
  const notes = verdictNotes(r, v, level.noteChars);
  if (notes) blocks.push(notes);
  if (v.outcomes.length) blocks.push(sloTable(v.outcomes, level.sloRows));
  blocks.push(keyNumbers(r));
  const streams = streamBlock(r);
  if (streams) blocks.push(streams);
  // A last, partial second under half a second (requests finishing as the run drained) is left out of
  // the chart and the table, as in the HTML report: 1 answer in 50 ms would draw a 20 req/s point. Its
  // requests still count in every total; a longer partial second stays, as a rate over its span.
  const timeline = r.timeline.filter((p) => (p.span ?? 1) >= MIN_RATE_SPAN);
  const size = bucketSeconds(timeline.length);
  const buckets = downsample(timeline, size);
  if (level.chart && buckets.length >= 2) blocks.push(chart(buckets, size));
  if (level.details && buckets.length >= 1) blocks.push(detailsTable(buckets, size));
  const failures = failuresBlock(r, level);
  if (failures) blocks.push(failures);
  blocks.push(whereBlock(opts));
  return blocks;
}

// ---- verdict ----

function verdictLine(r: RunResult, v: Verdict, opts: MarkdownOptions): string {
  const parts = verdictParts(r, v);
  const title = text(opts.title ?? 'loadgate', 100);
  // A stream run leads with what its users feel: the first token and the pace of the rest.
  const stream = streamHeadline(r);
  return `### ${v.pass ? '✅ PASS' : '❌ FAIL'}: ${parts.join(', ')}${stream ? ` · ${stream}` : ''} · ${title}`;
}

function verdictNotes(r: RunResult, v: Verdict, max: number): string {
  const items: string[] = [];
  if (v.abortedBy !== undefined) {
    items.push(`Stopped early: the SLO ${code(v.abortedBy, Math.min(max, 200), false)} failed during the run (abort-on-fail).`);
  }
  const shown = v.problems.slice(0, 5);
  for (const p of shown) items.push(`Problem: ${text(p, max)}`);
  if (v.problems.length > shown.length) items.push(`... ${v.problems.length - shown.length} more problems`);
  // Our own words: the answers did not stream, so the stream numbers cannot be read as they look.
  for (const w of runWarnings(r)) items.push(`⚠️ Warning: ${w}`);
  if (r.status !== 'completed') {
    items.push(`Run ${r.status}${r.reason ? `: ${text(r.reason, Math.min(max, 300))}` : ''}.`);
  }
  return items.map((i) => `- ${i}`).join('\n');
}

function sloTable(outcomes: readonly SloOutcome[], maxRows: number): string {
  // Breaches first when not every row fits; otherwise the order as written.
  let rows = [...outcomes];
  let note = '';
  if (rows.length > maxRows) {
    rows = [...rows.filter((o) => !o.pass), ...rows.filter((o) => o.pass)].slice(0, maxRows);
    const hidden = outcomes.length - rows.length;
    const hiddenBreached = outcomes.filter((o) => !o.pass).length - rows.filter((o) => !o.pass).length;
    note = `\n\n... ${hidden} more SLO${hidden === 1 ? '' : 's'} (${hiddenBreached === 0 ? 'all met' : `${hiddenBreached} breached`}) in the full report`;
  }
  const lines = ['| | SLO | observed | objective | scope |', '|:-:|---|--:|---|---|'];
  for (const o of rows) {
    lines.push(
      `| ${o.pass ? '✅' : '❌'} | ${code(o.slo.text, 200)} | ${text(o.labels.observed, 60)} | ` +
        `${text(o.labels.objective, 100)} | ${text(o.labels.scope, 120)} |`,
    );
  }
  return lines.join('\n') + note;
}

// ---- key numbers ----

function keyNumbers(r: RunResult): string {
  const warm = r.warmupMs > 0;
  const s = statsFor(r, { excludeWarmup: warm });
  const seconds = Math.max(0, r.durationMs - (warm ? r.warmupMs : 0)) / 1000;
  const h = s.latency;
  const failures = s.failures === 0 ? '0' : `${s.failures} (${fmtPct(s.failures / Math.max(1, s.requests))})`;
  const lines = [
    '| requests | failures | req/s | p50 | p95 | p99 | max | mean | duration |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    `| ${s.requests} | ${failures} | ${fmtNum(seconds > 0 ? s.requests / seconds : 0)} | ` +
      `${fmtMs(percentileMs(h, 50))} | ${fmtMs(percentileMs(h, 95))} | ${fmtMs(percentileMs(h, 99))} | ` +
      `${fmtMs(maxMs(h))} | ${fmtMs(meanMs(s))} | ${fmtDuration(r.durationMs)} |`,
  ];
  const notes = [describeLoad(r) + (warm ? `; the numbers leave out the ${fmtDuration(r.warmupMs)} warm-up.` : '.')];
  const errs = Object.entries(s.errors).filter(([, n]) => n > 0);
  if (errs.length) notes.push(`Failures by kind: ${errs.map(([k, n]) => `${k} ${n}`).join(', ')}.`);
  if (r.load.model === 'open' && (r.delayedByCap > 0 || r.unsent > 0)) {
    notes.push(`${r.delayedByCap} requests waited for a free connection, ${r.unsent} due requests were never sent.`);
  }
  for (const w of generatorWarnings(r)) notes.push(`⚠️ ${w}`);
  // Monitor names, commands and their errors come from configs and command output: escaped.
  for (const w of watchSummary(r)) notes.push(w.warning ? `⚠️ ${text(w.text, 300)}` : text(w.text, 300));
  // Endpoint names come from configs: escaped like any untrusted text.
  for (const line of invalidSummary(r)) notes.push(text(line, 300));
  // A merge: where each shard ran (folder names and runner names are untrusted text).
  for (const line of shardLines(r)) notes.push(`Shard: ${text(line, 400)}`);
  const estimated = estimatedNote(r);
  if (estimated) notes.push(text(estimated, 400));
  // What was sent, and one body as an example (a body is untrusted text: a code span).
  for (const b of (r.requestBodies ?? []).filter((x) => x.kind !== 'none')) {
    const example = b.example === undefined ? '' : `; e.g. ${code(b.example, 200)}`;
    notes.push(`Request bodies of ${code(b.endpoint, 100)}: ${text(describeBodiesOf(b), 400)}${example}.`);
  }
  return `${lines.join('\n')}\n\n${notes.join('\n')}`;
}

// ---- streamed answers ----

/** TTFT, ITL, TPOT, E2E and output per stage and in total, with how output was counted and the warnings. */
function streamBlock(r: RunResult): string {
  if (!hasStreams(r)) return '';
  const lines = [
    '| streamed answers | streams | TTFT p50 | TTFT p99 | ITL p50 | ITL p99 | TPOT mean | E2E p99 | output/s | output |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of streamRows(r)) {
    const f = streamFigures(row.scope.stream, row.seconds);
    const label = row.kind === 'total' ? '**Total**' : text(row.label, 80);
    lines.push(
      `| ${label} | ${f.streams} | ${fmtMs(f.ttftP50)} | ${fmtMs(f.ttftP99)} | ${fmtMs(f.itlP50)} | ${fmtMs(f.itlP99)} | ` +
        `${fmtMs(f.tpotMean)} | ${fmtMs(f.e2eP99)} | ${fmtRate(f)} | ${fmtOutput(f)} |`,
    );
  }
  const notes = streamNotes(r);
  return notes.length ? `${lines.join('\n')}\n\n${notes.join('\n')}` : lines.join('\n');
}

// ---- latency over time ----

interface Bucket {
  /** End of the bucket, seconds since the start. */
  t: number;
  span: number;
  requests: number;
  failures: number;
  /** The highest per-second value in the bucket (so a spike stays visible), null when nothing completed. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/**
 * Seconds per chart point: at most MAX_CHART_POINTS points. Runs over 20 minutes are charted in minutes, with
 * buckets of whole minutes, so the x values stay exact (Mermaid spaces a linear axis by adding a float step).
 */
export function bucketSeconds(points: number): number {
  return points <= 1200 ? Math.max(1, Math.ceil(points / MAX_CHART_POINTS)) : Math.ceil(points / (MAX_CHART_POINTS * 60)) * 60;
}

/** Groups consecutive seconds into buckets of `size` seconds (the last may be shorter). */
export function downsample(timeline: readonly TimelinePoint[], size: number): Bucket[] {
  const out: Bucket[] = [];
  for (let i = 0; i < timeline.length; i += size) {
    const group = timeline.slice(i, i + size);
    out.push({
      t: group[group.length - 1]!.t,
      span: group.reduce((a, p) => a + (p.span ?? 1), 0),
      requests: group.reduce((a, p) => a + p.requests, 0),
      failures: group.reduce((a, p) => a + p.failures, 0),
      p50: maxOf(group.map((p) => p.p50)),
      p95: maxOf(group.map((p) => p.p95)),
      p99: maxOf(group.map((p) => p.p99)),
    });
  }
  return out;
}

function maxOf(xs: ReadonlyArray<number | null>): number | null {
  let m: number | null = null;
  for (const x of xs) if (x !== null && (m === null || x > m)) m = x;
  return m;
}

function chart(buckets: readonly Bucket[], size: number): string {
  // Bucket i is drawn at x = (i + 1) * size (its nominal end): integer steps, exactly as many x values as points.
  const minutes = size % 60 === 0 && size >= 60;
  const unit = minutes ? size / 60 : size;
  const top = Math.max(0, ...buckets.map((b) => b.p99 ?? 0));
  const series = (k: 'p50' | 'p95' | 'p99') => `[${buckets.map((b) => chartNum(b[k] ?? 0)).join(', ')}]`;
  const title = `Latency (ms), ${size === 1 ? 'per second' : `highest per ${fmtSpan(size)}`}: p99 top, p95, p50 bottom`;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "time (${minutes ? 'min' : 's'})" ${unit} --> ${unit * buckets.length}`,
    `  y-axis "ms" 0 --> ${niceCeil(top * 1.05)}`,
    `  line ${series('p99')}`,
    `  line ${series('p95')}`,
    `  line ${series('p50')}`,
    '```',
  ];
  const empty = buckets.some((b) => b.p50 === null);
  return lines.join('\n') + (empty ? '\n\nNo request completed in some intervals: the chart draws them at 0 (– in the table).' : '');
}

function detailsTable(buckets: readonly Bucket[], per: number): string {
  const lines = [
    `<details><summary>Latency over time (${per === 1 ? 'per second' : `highest per-second value in each ${fmtSpan(per)}`})</summary>`,
    '',
    '| until | req/s | failures | p50 | p95 | p99 |',
    '|--:|--:|--:|--:|--:|--:|',
  ];
  for (const b of buckets) {
    lines.push(
      `| ${fmtClock(b.t)} | ${fmtNum(b.span > 0 ? b.requests / b.span : 0)} | ${b.failures} | ` +
        `${ms(b.p50)} | ${ms(b.p95)} | ${ms(b.p99)} |`,
    );
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

// ---- failures ----

function failuresBlock(r: RunResult, level: Level): string {
  const kinds = r.failures.length;
  if (kinds === 0 && r.failuresNotItemized === 0) return '';
  const lines = ['**Failures**'];
  const shown = r.failures.slice(0, level.failureRows);
  if (shown.length) {
    lines.push('');
    const withSamples = level.sampleChars > 0 && shown.some((f) => f.sample);
    lines.push(withSamples ? '| count | endpoint | error | body (first bytes) |' : '| count | endpoint | error |');
    lines.push(withSamples ? '|--:|---|---|---|' : '|--:|---|---|');
    for (const f of shown) {
      const row = `| ${f.count} | ${text(f.endpoint, 80)} | ${code(f.error, 200)} |`;
      lines.push(withSamples ? `${row} ${f.sample ? code(f.sample, level.sampleChars) : ''} |` : row);
    }
  }
  const more: string[] = [];
  if (kinds > shown.length) {
    const rest = r.failures.slice(shown.length).reduce((a, f) => a + f.count, 0);
    more.push(`... ${kinds - shown.length} more kind${kinds - shown.length === 1 ? '' : 's'} of failure (${rest} requests)`);
  }
  if (r.failuresNotItemized > 0) more.push(`${r.failuresNotItemized} more failures not itemized`);
  if (more.length) lines.push('', `${more.join('; ')}: see the full report.`);
  return lines.join('\n');
}

// ---- where the full report is ----

function whereBlock(opts: MarkdownOptions): string {
  const link = safeUrl(opts.reportLink);
  if (link) return `[Full report](${link}): charts, every stage and endpoint, all failures, CSV and JSON.`;
  if (opts.reportDir) {
    return (
      `Full report: not uploaded as an artifact; the HTML report, CSV and JSON are in ${code(opts.reportDir, 200)} on the runner ` +
      '(a later step can upload them, on GitHub Enterprise Server with actions/upload-artifact@v3).'
    );
  }
  return 'Full report: the output folder of the run (HTML report, CSV and JSON).';
}

/** An http(s) URL made safe inside `(...)` of a Markdown link, or null. */
function safeUrl(s: string | undefined): string | null {
  if (!s) return null;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  return u.href.replace(/[()<>\s"'`|\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

// ---- untrusted text ----

/** Untrusted text as escaped Markdown prose (also inside table cells), at most `max` characters before escaping. */
export function text(s: string, max: number): string {
  return escapeMarkdown(truncate(s, max));
}

/**
 * Untrusted text as an inline code span, at most `max` characters. markdownCode escapes pipes for table cells
 * (GFM splits rows before it parses code spans); in prose that backslash would show, so it is taken out again
 * (markdownCode's only change inside the span is `|` -> `\|`).
 */
export function code(s: string, max: number, inTable = true): string {
  if (s.trim() === '') return '(empty)';
  const span = markdownCode(truncate(s, max));
  return inTable ? span : span.replace(/\\\|/g, '|');
}

// ---- numbers ----

function ms(x: number | null): string {
  return x === null ? '–' : fmtMs(x);
}

/** A chart value: ms to 3 significant figures, at most 2 decimals. */
function chartNum(ms: number): string {
  if (ms >= 100) return String(Math.round(ms));
  if (ms >= 10) return String(round(ms, 1));
  return String(round(ms, 2));
}

/** A round number at least x (and at least 1): 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten. */
function niceCeil(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (round(m * p, 6) >= x) return round(m * p, 6);
  return 10 * p;
}

function fmtSpan(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
