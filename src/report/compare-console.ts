// The comparison on the console: the answer, then one line per metric with both sides and the change.

import type { CompareVerdict } from '../verdict/compare.ts';
import { againstText, formatDelta, formatValue, limitText } from './compare-values.ts';
import { sideRows } from './environment-text.ts';

export function formatComparison(c: CompareVerdict): string {
  const lines = [`Comparison: ${c.outcome} (${c.headline})`, `  against ${againstText(c)}; ${c.used.candidate} round(s) per side used`];
  for (const w of c.warnings) lines.push(`  warning: ${w}`);
  const image = sideRows(c, { shortDigest: true }).find((r) => r.label === 'Service image');
  if (image) lines.push(`  images: baseline ${image.baseline ?? 'not recorded'}; candidate ${image.candidate ?? 'not recorded'}`);
  const width = Math.max(...c.metrics.map((m) => m.key.length));
  for (const m of c.metrics) {
    lines.push(
      `  ${m.gates ? '*' : ' '} ${m.key.padEnd(width)}  ${formatValue(m, m.baseline).padStart(12)} -> ${formatValue(m, m.candidate).padStart(12)}  ` +
        `${formatDelta(m)}  [min ${limitText(m)}] ${m.verdict}`,
    );
  }
  if (c.calibration) {
    lines.push('  A/A noise floor (the largest shift the interval cannot rule out) and a suggested min-effect:');
    for (const k of c.calibration) {
      const pct = (v: number | null) =>
        v === null ? 'n/a' : k.key === 'error-rate' ? `${(v * 100).toFixed(2)}pp` : `${(v * 100).toFixed(1)}%`;
      lines.push(`    ${k.key.padEnd(width)}  ±${pct(k.noiseFloor)}  suggested ${pct(k.suggested)}`);
    }
  }
  return lines.join('\n');
}
