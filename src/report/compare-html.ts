// The comparison in the HTML report, first on the page: the side-by-side table with changes and intervals,
// where each side was measured (both images' digests, and for a stored baseline its machine), and a
// per-round chart of both sides' p99 (an inline SVG: no script, so it needs nothing from the CSP).

import type { CompareVerdict } from '../verdict/compare.ts';
import { cleanText, escapeHtml } from './escape.ts';
import { VERDICT_MARK, againstText, formatDelta, formatValue, limitText } from './compare-values.ts';
import { sideRows } from './environment-text.ts';

function h(s: string): string {
  return escapeHtml(cleanText(s));
}

export function compareSection(c: CompareVerdict): string {
  const rows = c.metrics.map(
    (m) =>
      `<tr${m.gates ? ' class="gate"' : ''}><td>${h(m.objective?.text ?? m.key)}</td><td>${h(formatValue(m, m.baseline))}</td>` +
      `<td>${h(formatValue(m, m.candidate))}</td><td>${h(formatDelta(m))}</td><td>${h(limitText(m))}</td>` +
      `<td>${VERDICT_MARK[m.verdict]} ${h(m.verdict)}</td></tr>`,
  );
  return [
    '<section id="comparison">',
    `<h2>Comparison: ${h(c.outcome)}</h2>`,
    `<p>${h(c.headline)}. Against ${h(againstText(c))}; ${c.used.candidate} round(s) per side used.</p>`,
    ...c.warnings.map((w) => `<p class="warning">⚠ ${h(w)}</p>`),
    '<table><thead><tr><th>Metric</th><th>Baseline</th><th>Candidate</th><th>Change (CI)</th><th>Min effect</th><th>Answer</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table>`,
    sidesTable(c),
    roundsChart(c, 'p99'),
    '</section>',
  ].join('\n');
}

/** Where each side was measured, side by side: every row either side recorded. */
function sidesTable(c: CompareVerdict): string {
  const rows = sideRows(c);
  if (rows.length === 0) return '';
  const cell = (v: string | undefined) => `<td>${v === undefined ? '<i>not recorded</i>' : h(v)}</td>`;
  return (
    `<table class="where sides"><caption>Where each side was measured${c.baselineStartedAt ? ` (the stored baseline on ${h(c.baselineStartedAt)})` : ''}</caption>` +
    '<thead><tr><th></th><th>Baseline</th><th>Candidate</th></tr></thead>' +
    `<tbody>${rows.map((r) => `<tr><th>${h(r.label)}</th>${cell(r.baseline)}${cell(r.candidate)}</tr>`).join('')}</tbody></table>`
  );
}

/** Each side's value of `key` per round, in the order the rounds ran; warm-up and left-out rounds hollow. */
export function roundsChart(c: CompareVerdict, key: string): string {
  const pts = c.rounds
    .map((r) => ({ r, v: r.values[key] ?? null }))
    .filter((p): p is { r: (typeof c.rounds)[number]; v: number } => p.v !== null);
  if (pts.length < 2) return '';
  const W = 640;
  const H = 220;
  const pad = 40;
  const maxSeq = Math.max(...pts.map((p) => p.r.seq), 1);
  const lo = Math.min(...pts.map((p) => p.v));
  const hi = Math.max(...pts.map((p) => p.v));
  const span = hi - lo || hi || 1;
  const x = (s: number) => pad + ((W - 2 * pad) * s) / maxSeq;
  const y = (v: number) => H - pad - ((H - 2 * pad) * (v - lo)) / span;
  const color = { candidate: '#d9480f', baseline: '#1971c2' } as const;
  const dots = pts.map(({ r, v }) => {
    const fill = r.warmup || r.excluded ? 'none' : color[r.side];
    const title = `${r.side}, pair ${r.pair + 1}${r.warmup ? ' (warm-up)' : ''}${r.excluded ? ` (left out: ${r.excluded})` : ''}: ${v.toFixed(2)} ms`;
    return `<circle cx="${x(r.seq).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${fill}" stroke="${color[r.side]}"><title>${h(title)}</title></circle>`;
  });
  const lines = (['baseline', 'candidate'] as const).map((side) => {
    const s = pts.filter((p) => p.r.side === side && !p.r.warmup);
    return s.length < 2
      ? ''
      : `<polyline fill="none" stroke="${color[side]}" stroke-opacity="0.5" points="${s.map((p) => `${x(p.r.seq).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}"/>`;
  });
  const m = c.metrics.find((k) => k.key === key);
  const fmt = (v: number) => (m ? formatValue(m, v) : v.toFixed(2));
  return [
    `<figure><figcaption>${h(key)} per round, in the order they ran: <span style="color:${color.baseline}">● baseline</span> <span style="color:${color.candidate}">● candidate</span> (hollow: warm-up or left out)</figcaption>`,
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(key)} per round">`,
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#999"/>`,
    `<text x="4" y="${pad}" font-size="11">${h(fmt(hi))}</text><text x="4" y="${H - pad}" font-size="11">${h(fmt(lo))}</text>`,
    `<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle">round (in time)</text>`,
    ...lines,
    ...dots,
    '</svg></figure>',
  ].join('\n');
}
