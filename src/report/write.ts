// Writes every report for one run into the output folder: all rendered from one RunResult and its Verdict.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunResult, toSerializable } from '../metrics/result.ts';
import { type RoundRecord, serializeRounds } from '../metrics/rounds.ts';
import { COMPARE_CSV, renderCompareCsv } from './compare-csv.ts';
import type { Verdict } from '../verdict/types.ts';
import { renderExceptionsCsv, renderFailuresCsv, renderStatsCsv, renderStatsHistoryCsv } from './csv.ts';
import { renderHtmlReport } from './html.ts';
import { renderJunit } from './junit.ts';
import { type MarkdownOptions, renderMarkdown } from './markdown.ts';

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
  // A run in rounds keeps every round of both sides, histograms and all (a later run compares with them),
  // and where they were measured (a later run on another machine warns of the differences).
  const extra = rounds ? { rounds: serializeRounds(rounds.rounds), roundsEnvironment: rounds.environment } : {};
  return JSON.stringify({ ...toSerializable(r), verdict, ...extra });
}

/** The rounds of a run in rounds, and the environment they ran in. */
export interface RoundsRecord {
  rounds: readonly RoundRecord[];
  environment: Record<string, unknown>;
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
  mkdirSync(dir, { recursive: true });
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
    writeFileSync(file, text);
    files.push(file);
  }
  if (verdict.comparison) {
    const file = join(dir, COMPARE_CSV);
    writeFileSync(file, renderCompareCsv(verdict.comparison));
    files.push(file);
  }
  return { dir, files, markdown };
}
