// Writes every report for one run into the output folder: all rendered from one RunResult and its Verdict.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunResult, toSerializable } from '../metrics/result.ts';
import { type RoundRecord, serializeRounds } from '../metrics/rounds.ts';
import { COMPARE_CSV, renderCompareCsv } from './compare-csv.ts';
import type { Verdict } from '../verdict/types.ts';
import { renderExceptionsCsv, renderFailuresCsv, renderStatsCsv, renderStatsHistoryCsv } from './csv.ts';
import { renderHtmlReport } from './html.ts';
import { renderJunit } from './junit.ts';
import { type MarkdownOptions, renderMarkdown } from './markdown.ts';
import { hasStreams } from './stream.ts';
import { STREAM_CSV, renderStreamCsv } from './stream-csv.ts';

/** File names in the output folder. The CSVs follow locust's `--csv=loadgate` naming. */
export const REPORT_FILES = {
  html: 'report.html',
  json: 'result.json',
  markdown: 'report.md',
  junit: 'junit.xml',
  stats: 'loadgate_stats.csv',
  history: 'loadgate_stats_history.csv',
  failures: 'loadgate_failures.csv',
  exceptions: 'loadgate_exceptions.csv',
} as const;

/** The JSON report: the whole RunResult (histograms included) plus the verdict, under one format version. */
export function renderJsonReport(r: RunResult, verdict: Verdict, rounds?: RoundsRecord): string {
  // A run in rounds keeps every round of both sides, histograms and all (a later run compares with them);
  // where they were measured is the result's own `environment`, as for a single run.
  const extra = rounds ? { rounds: serializeRounds(rounds.rounds) } : {};
  return JSON.stringify({ ...toSerializable(r), verdict, ...extra });
}

/** The rounds of a run in rounds. */
export interface RoundsRecord {
  rounds: readonly RoundRecord[];
}

/** The report folder could not be made or written: one message naming it and why, never a stack trace. */
export class ReportError extends Error {
  override readonly name = 'ReportError';
  /** True when the run had happened and its reports could not be written; false before anything started. */
  readonly afterRun: boolean;
  constructor(message: string, afterRun: boolean) {
    super(message);
    this.afterRun = afterRun;
  }
}

function reportError(what: string, path: string, e: unknown, afterRun = true): ReportError {
  const err = e as NodeJS.ErrnoException;
  return new ReportError(
    `cannot ${what} ${path}: ${err.code ? `${err.code} (${err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')})` : err.message}`,
    afterRun,
  );
}

/** Makes the output folder, and checks a file can be written in it, before anything starts. */
export function prepareReportDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw reportError('create the report folder', dir, e, false);
  }
  const probe = join(dir, `.loadgate-write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw reportError('write in the report folder', dir, e, false);
  }
}

export interface WrittenReports {
  dir: string;
  files: string[];
  markdown: string;
}

export function writeReports(
  dir: string,
  r: RunResult,
  verdict: Verdict,
  opts: { markdown?: MarkdownOptions; rounds?: RoundsRecord } = {},
): WrittenReports {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw reportError('create the report folder', dir, e);
  }
  const markdown = renderMarkdown(r, verdict, opts.markdown ?? {});
  const contents: Record<keyof typeof REPORT_FILES, string> = {
    html: renderHtmlReport(r, verdict),
    json: renderJsonReport(r, verdict, opts.rounds),
    markdown,
    junit: renderJunit(r, verdict),
    stats: renderStatsCsv(r),
    history: renderStatsHistoryCsv(r),
    failures: renderFailuresCsv(r),
    exceptions: renderExceptionsCsv(r),
  };
  const files: string[] = [];
  for (const [k, text] of Object.entries(contents)) {
    const file = join(dir, REPORT_FILES[k as keyof typeof REPORT_FILES]);
    try {
      writeFileSync(file, text);
    } catch (e) {
      throw reportError('write', file, e);
    }
    files.push(file);
  }
  // Streamed answers (an endpoint that streams): their metrics per stage and endpoint. Other runs write no such file.
  if (hasStreams(r)) {
    const file = join(dir, STREAM_CSV);
    try {
      writeFileSync(file, renderStreamCsv(r));
    } catch (e) {
      throw reportError('write', file, e);
    }
    files.push(file);
  }
  if (verdict.comparison) {
    const file = join(dir, COMPARE_CSV);
    writeFileSync(file, renderCompareCsv(verdict.comparison));
    files.push(file);
  }
  return { dir, files, markdown };
}
