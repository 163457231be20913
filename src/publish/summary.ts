// The job summary: the Markdown report (verdict, SLO table, chart), always under the runner's 1 MiB limit
// (past it the runner drops the whole summary), with room left for other steps' summaries.

import * as core from '@actions/core';
import { type RunResult, statsFor } from '../metrics/result.ts';
import { escapeHtml, cleanText, truncate } from '../report/escape.ts';
import { type MarkdownOptions, renderMarkdown, text } from '../report/markdown.ts';
import type { Verdict } from '../verdict/types.ts';

const SUMMARY_MAX_BYTES = 900 * 1024;

/**
 * The summary text, at most `maxBytes` of UTF-8: a UTF-16 code unit is at most 3 bytes of UTF-8, and the
 * report keeps to its character cap, so a third of the bytes in characters always fits.
 */
export function summaryMarkdown(
  r: RunResult,
  verdict: Verdict,
  opts: Omit<MarkdownOptions, 'maxChars'>,
  maxBytes = SUMMARY_MAX_BYTES,
): string {
  return renderMarkdown(r, verdict, { ...opts, maxChars: Math.floor(maxBytes / 3) });
}

/** When there is no run to report (the service could not start): why, as the service or engine said it. */
export function startFailureMarkdown(title: string, message: string): string {
  // Untrusted text (the service's last output): HTML-escaped inside <pre>, where Markdown is not parsed.
  return `### ❌ ERROR: the run could not start · ${text(title, 100)}\n\n<pre>${escapeHtml(cleanText(truncate(message, 4000)))}</pre>\n`;
}

/** Appends to the step summary file (GITHUB_STEP_SUMMARY); throws when the runner gave none. */
export async function writeSummary(markdown: string): Promise<void> {
  await core.summary.addRaw(markdown, true).write();
}

/** A shard job's summary: one line of its part, pointing to the merge job, which has the report and the verdict. */
export function shardSummaryLine(r: RunResult, shard: { index: number; count: number }, artifact: string | undefined): string {
  const s = statsFor(r);
  // Artifact names hold no backquote or line break (the upload refuses them): safe in a code span.
  const upload = artifact ? `uploaded as the artifact \`${artifact.replaceAll('`', "'")}\`` : 'not uploaded (see the log)';
  return (
    `loadgate shard ${shard.index + 1}/${shard.count}: ${r.status}, ${s.requests} requests, ${s.failures} failures, ${upload}; ` +
    "the merge job (merge: true) publishes the whole load's report and verdict.\n"
  );
}
