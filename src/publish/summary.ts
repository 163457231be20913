// The job summary: the Markdown report (verdict, SLO table, chart), always under the runner's 1 MiB limit
// (past it the runner drops the whole summary), with room left for other steps' summaries.

import * as core from '@actions/core';
import type { RunResult } from '../metrics/result.ts';
import { escapeHtml, cleanText, truncate } from '../report/escape.ts';
import { type MarkdownOptions, renderMarkdown, text } from '../report/markdown.ts';
import type { Verdict } from '../verdict/types.ts';

export const SUMMARY_MAX_BYTES = 900 * 1024;

/** The summary text: as detailed as fits in `maxBytes` of UTF-8. */
export function summaryMarkdown(r: RunResult, verdict: Verdict, opts: Omit<MarkdownOptions, 'maxChars'>, maxBytes = SUMMARY_MAX_BYTES): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8; start there and halve until it fits (it fits at once
  // unless the text is mostly multi-byte).
  let maxChars = Math.floor(maxBytes / 3);
  for (;;) {
    const md = renderMarkdown(r, verdict, { ...opts, maxChars });
    if (Buffer.byteLength(md) <= maxBytes || maxChars < 1000) return md;
    maxChars = Math.floor(maxChars / 2);
  }
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
