// The comparison in Markdown (report.md, the PR comment, the job summary), shown before everything else:
// what was compared with what, then per metric both sides' medians over rounds, the shift with its
// interval, and the answer; the calibration's noise floors; warnings (a comparison across machines);
// where each side was measured (both images' digests; a stored baseline's machine beside this one's).

import type { CompareVerdict } from '../verdict/compare.ts';
import { escapeMarkdown, markdownCode } from './escape.ts';
import { VERDICT_MARK, againstText, formatDelta, formatValue, limitText } from './compare-values.ts';
import { sideRows } from './environment-text.ts';

export function compareMarkdown(c: CompareVerdict, opts: { maxRows?: number } = {}): string {
  const lines: string[] = [];
  lines.push(
    `**Comparison: ${c.outcome}** ${VERDICT_MARK[c.outcome]} against ${againstText(c)}: ` +
      `${c.used.candidate} round(s) per side used, ${Math.floor(c.confidence * 1000) / 10}% intervals` +
      `${c.looks > 1 ? ` (${c.looks} planned looks, each at ${Math.floor(c.confidence * 1000) / 10}%)` : ''}.`,
  );
  for (const w of c.warnings) lines.push(`> ⚠️ ${escapeMarkdown(w)}`);
  lines.push('');
  lines.push('| Metric | Baseline | Candidate | Change (95% CI) | Min effect | Answer |');
  lines.push('|---|--:|--:|---|--:|---|');
  const rows = c.metrics.slice(0, opts.maxRows ?? 50);
  for (const m of rows) {
    const name = m.objective ? markdownCode(m.objective.text) : m.gates ? `**${m.key}**` : m.key;
    lines.push(
      `| ${name} | ${formatValue(m, m.baseline)} | ${formatValue(m, m.candidate)} | ${formatDelta(m)} | ${limitText(m)} | ${VERDICT_MARK[m.verdict]} ${m.verdict} |`,
    );
  }
  if (c.calibration) {
    lines.push('');
    lines.push('| Metric | Noise floor (A/A) | Suggested min effect |');
    lines.push('|---|--:|--:|');
    for (const k of c.calibration) {
      const pct = (v: number | null) =>
        v === null ? 'n/a' : k.key === 'error-rate' ? `${(v * 100).toFixed(2)}pp` : `${(v * 100).toFixed(1)}%`;
      lines.push(`| ${k.key} | ±${pct(k.noiseFloor)} | ${pct(k.suggested)} |`);
    }
  }
  const sides = sideRows(c, { shortDigest: true });
  if (sides.length > 0) {
    lines.push('');
    lines.push(
      `Where each side was measured${c.baselineStartedAt ? ` (the stored baseline on ${escapeMarkdown(c.baselineStartedAt)})` : ''}:`,
    );
    lines.push('');
    lines.push('| | Baseline | Candidate |');
    lines.push('|---|---|---|');
    // An image and its digest as code: copied as written (to pull or inspect it), not read as Markdown.
    const cell = (label: string, v: string | undefined) =>
      v === undefined ? '_not recorded_' : label === 'Service image' ? markdownCode(v) : escapeMarkdown(v);
    for (const r of sides) lines.push(`| ${r.label} | ${cell(r.label, r.baseline)} | ${cell(r.label, r.candidate)} |`);
  }
  lines.push('');
  lines.push(
    `Bold rows decide the answer${c.metrics.some((m) => m.objective) ? ' (the regression lines)' : ' (p50, p99 and the error rate, by default)'}; regressed = the interval excludes no change and the estimate is beyond the minimum effect.`,
  );
  return lines.join('\n');
}
