// The PR comment / job summary Markdown: verdict first, SLO rows, a Mermaid chart with at most 60 points, a size
// cap however long the run, and hostile text that comes out inert. When cmark-gfm (GitHub's Markdown library;
// Debian package `cmark-gfm`) is installed, the output is also rendered and the HTML checked.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { skipUnless } from './helpers/tools.ts';
import { describe, it } from 'node:test';
import type { Failure, RunResult, TimelinePoint } from '../src/metrics/result.ts';
import { markdownCode } from '../src/report/escape.ts';
import { DEFAULT_MAX_CHARS, renderMarkdown } from '../src/report/markdown.ts';
import type { Verdict } from '../src/verdict/types.ts';
import { constructedResult } from './fixtures/result.ts';
import { failingVerdict, passingVerdict } from './fixtures/verdict.ts';

const HOSTILE = [
  '<script>alert(1)</script>',
  '[click](javascript:alert(1))',
  '](javascript:alert(1))',
  '<!-- the rest is hidden',
  '| a | b | c |',
  '```\ncode fence\n```',
  '`tick` ``two``',
  '@octocat and @github/security',
  'see #123, GH-45 and owner/repo#6',
  '**bold** _em_ ~~strike~~',
  '<img src=x onerror=alert(1)>',
  'line one\r\n# heading\n- item',
  'it\'s "quoted" & <tagged>',
  'https://evil.example/phish www.evil.example',
  '\u202Egnp.exe\u0000\u0007',
];

function hostile(i: number, len: number): string {
  let s = '';
  for (let k = i; s.length < len; k++) s += `${HOSTILE[k % HOSTILE.length]} `;
  return s.slice(0, len);
}

/** A 3-hour run: 10,800 timeline points with one latency spike, 200 failure kinds with 500-character hostile samples. */
function longRun(): RunResult {
  const r = constructedResult();
  r.durationMs = 10_800_000;
  r.status = 'aborted';
  r.reason = hostile(3, 400);
  r.abortedBy = hostile(4, 120);
  r.endpoints = r.endpoints.map((e, i) => ({ ...e, name: hostile(i, 60) }));
  const timeline: TimelinePoint[] = [];
  for (let i = 0; i < 10_800; i++) {
    const base = 20 + (i % 7);
    const spike = i === 5_000 ? 9_999 : null;
    timeline.push({
      t: i + 1,
      stage: 0,
      users: 5,
      requests: 5,
      failures: i % 100 === 0 ? 1 : 0,
      p50: i === 7_000 ? null : base,
      p95: i === 7_000 ? null : base * 2,
      p99: i === 7_000 ? null : (spike ?? base * 3),
      max: i === 7_000 ? null : (spike ?? base * 4),
      inFlight: 1,
      totalRequests: 5 * (i + 1),
      totalFailures: Math.floor(i / 100) + 1,
      totalP50: 22,
      totalMean: 23,
    });
  }
  r.timeline = timeline;
  const failures: Failure[] = [];
  for (let i = 0; i < 200; i++) {
    failures.push({
      endpoint: r.endpoints[i % 2]!.name,
      kind: 'status',
      error: `HTTP 5${String(i).padStart(2, '0')} ${hostile(i, 80)}`,
      sample: hostile(i + 1, 500),
      count: 1000 - i,
      firstSeenMs: i,
      lastSeenMs: i * 10,
    });
  }
  r.failures = failures;
  r.failuresNotItemized = 12_345;
  return r;
}

function hostileVerdict(): Verdict {
  const v = failingVerdict();
  v.outcomes = v.outcomes.map((o, i) => ({
    ...o,
    slo: { ...o.slo, text: `${o.slo.text} ${hostile(i, 60)}` },
    labels: { ...o.labels, scope: hostile(i + 2, 50), observed: `${o.labels.observed} | x` },
  }));
  v.problems = [hostile(5, 300), hostile(6, 300)];
  v.abortedBy = hostile(4, 120);
  return v;
}

// ---- Markdown structure helpers ----

/** The text outside inline code spans (CommonMark rules: a run of n backticks closes at the next run of exactly n). */
function outsideCode(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    if (line[i] === '\\' && i + 1 < line.length) {
      out += line.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (line[i] === '`') {
      let n = 0;
      while (line[i + n] === '`') n++;
      let j = i + n;
      let close = -1;
      while (j < line.length) {
        if (line[j] === '`') {
          let m = 0;
          while (line[j + m] === '`') m++;
          if (m === n) {
            close = j;
            break;
          }
          j += m;
        } else j++;
      }
      if (close >= 0) {
        out += ' ';
        i = close + n;
        continue;
      }
      out += line.slice(i, i + n);
      i += n;
      continue;
    }
    out += line[i++];
  }
  return out;
}

/** GFM table cells: split on pipes not preceded by a backslash (as cmark-gfm does, even inside code spans). */
function cellCount(row: string): number {
  let pipes = 0;
  for (let i = 0; i < row.length; i++) if (row[i] === '|' && row[i - 1] !== '\\') pipes++;
  return pipes - 1;
}

interface Table {
  header: string;
  rows: string[];
}

/** Checks code fences are balanced and every table row has the header's cell count; returns the tables. */
function structure(md: string): { tables: Table[]; fences: string[][] } {
  const lines = md.split('\n');
  const tables: Table[] = [];
  const fences: string[][] = [];
  let fence: string[] | null = null;
  let table: Table | null = null;
  for (const line of lines) {
    if (fence) {
      if (line === '```') {
        fences.push(fence);
        fence = null;
      } else fence.push(line);
      continue;
    }
    if (line.startsWith('```')) {
      assert.equal(line, '```mermaid', 'the only code block is the chart');
      fence = [];
      continue;
    }
    if (line.startsWith('|')) {
      if (!table) {
        table = { header: line, rows: [] };
        tables.push(table);
      } else table.rows.push(line);
      assert.equal(cellCount(line), cellCount(table.header), `cell count of ${JSON.stringify(line.slice(0, 200))}`);
      assert.ok(line.endsWith('|'));
    } else {
      table = null;
    }
  }
  assert.equal(fence, null, 'unterminated code block');
  for (const t of tables) assert.match(t.rows[0] ?? '', /^\|(:?-+:?\|)+$/, 'delimiter row');
  return { tables, fences };
}

/** Validates a Mermaid xychart-beta block against the grammar we use; returns its series. */
function checkMermaid(block: string[]): { xFrom: number; xTo: number; lines: number[][] } {
  assert.equal(block[0], 'xychart-beta');
  const title = block[1]!.match(/^ {2}title "([^"]*)"$/);
  assert.ok(title, `title: ${block[1]}`);
  const x = block[2]!.match(/^ {2}x-axis "[^"]*" (\d+(?:\.\d+)?) --> (\d+(?:\.\d+)?)$/);
  assert.ok(x, `x-axis: ${block[2]}`);
  const y = block[3]!.match(/^ {2}y-axis "[^"]*" (\d+(?:\.\d+)?) --> (\d+(?:\.\d+)?)$/);
  assert.ok(y, `y-axis: ${block[3]}`);
  const series: number[][] = [];
  for (const l of block.slice(4)) {
    const m = l.match(/^ {2}line \[((?:\d+(?:\.\d+)?)(?:, \d+(?:\.\d+)?)*)\]$/);
    assert.ok(m, `line: ${l.slice(0, 100)}`);
    series.push(m[1]!.split(', ').map(Number));
  }
  assert.equal(series.length, 3, 'p50, p95, p99');
  const n = series[0]!.length;
  assert.ok(series.every((s) => s.length === n));
  assert.ok(n >= 2 && n <= 60, `${n} points`);
  // Only our own characters: no text from the run can reach the diagram.
  assert.ok(
    block.every((l) => /^[\w\s"().,:>\-[\]]*$/.test(l)),
    'only chart syntax and our words',
  );
  // Mermaid spaces a linear x axis by adding (max - min) / (n - 1) from min while <= max: exactly n values.
  const xFrom = Number(x[1]);
  const xTo = Number(x[2]);
  let count = 0;
  for (let v = xFrom; v <= xTo; v += (xTo - xFrom) / (n - 1)) count++;
  assert.equal(count, n, 'x values for every point');
  const yMax = Number(y[2]);
  assert.ok(
    series.every((s) => s.every((v) => v <= yMax)),
    'every value within the y range',
  );
  return { xFrom, xTo, lines: series };
}

function cmark(md: string): string | null {
  try {
    return execFileSync('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough', '-e', 'tagfilter'], {
      input: md,
      encoding: 'utf8',
    });
  } catch {
    return null;
  }
}
const hasCmark = cmark('x') !== null;

describe('verdict and SLO table', () => {
  it('puts the verdict first: FAIL with the number of SLOs breached', () => {
    const md = renderMarkdown(constructedResult(), failingVerdict());
    const first = md.split('\n')[0]!;
    assert.match(first, /^### ❌ FAIL: 2 of 4 SLOs breached · loadgate$/);
    structure(md);
  });

  it('PASS, no SLOs, problems, abort and run status', () => {
    const r = constructedResult();
    assert.match(renderMarkdown(r, passingVerdict()).split('\n')[0]!, /^### ✅ PASS: all 2 SLOs met/);
    assert.match(renderMarkdown(r, { pass: true, outcomes: [], problems: [] }).split('\n')[0]!, /^### ✅ PASS: no SLOs set/);

    r.status = 'interrupted';
    r.reason = 'SIGINT';
    const v: Verdict = { ...failingVerdict(), problems: ['the run was interrupted (SIGINT): the numbers cover only part of the plan'] };
    const md = renderMarkdown(r, v, { title: 'insurance model' });
    assert.match(md.split('\n')[0]!, /^### ❌ FAIL: 2 of 4 SLOs breached, 1 problem with the run, run interrupted · insurance model$/);
    assert.ok(md.includes('- Problem: the run was interrupted \\(SIGINT\\)'));
    assert.ok(md.includes('- Run interrupted: SIGINT.'));

    r.status = 'aborted';
    const aborted = renderMarkdown(r, { ...failingVerdict(), abortedBy: 'p99 < 100ms' });
    assert.match(aborted.split('\n')[0]!, /stopped early/);
    assert.ok(aborted.includes('- Stopped early: the SLO `p99 < 100ms` failed during the run (abort-on-fail).'));
  });

  it('has a row per SLO: status, the SLO as written (as code), observed, objective, scope', () => {
    const v = failingVerdict();
    const md = renderMarkdown(constructedResult(), v);
    const { tables } = structure(md);
    const slo = tables.find((t) => t.header.includes('SLO'))!;
    assert.equal(slo.rows.length - 1, v.outcomes.length);
    v.outcomes.forEach((o, i) => {
      const row = slo.rows[i + 1]!;
      assert.ok(row.startsWith(`| ${o.pass ? '✅' : '❌'} | ${markdownCode(o.slo.text)} |`), row);
    });
    assert.ok(slo.rows[1]!.includes('| 1\\.00 s | &lt; 100 ms | whole run |'));
  });

  it('shows the key numbers, the load model and the failures', () => {
    const md = renderMarkdown(constructedResult(), failingVerdict());
    assert.ok(md.includes('| 4 | 3 (75.0%) | 1.5 | 7.00 ms | 1.00 s | 1.00 s | 1.00 s | 337 ms | 2.6 s |'), md);
    assert.ok(md.includes('Closed model: 2 stages, up to 4 users, 1.0 req/s per user.'));
    assert.ok(md.includes('| 1 | b | `HTTP 503` | `<html>busy</html>` |'));
  });

  it('says where the full report is: a safe link, else the folder on the runner (never an artifact that is not there)', () => {
    const r = constructedResult();
    const v = failingVerdict();
    assert.ok(
      renderMarkdown(r, v, { reportLink: 'https://example.com/runs/1 (a)', reportDir: 'x' }).includes(
        '[Full report](https://example.com/runs/1%20%28a%29)',
      ),
    );
    const js = renderMarkdown(r, v, { reportLink: 'javascript:alert(1)', reportDir: 'out/loadgate' });
    assert.ok(!js.includes('javascript:alert'));
    assert.ok(js.includes('Full report: not uploaded as an artifact; the HTML report, CSV and JSON are in `out/loadgate` on the runner'));
    assert.ok(!js.includes('workflow artifact'));
    assert.ok(renderMarkdown(r, v).includes('Full report: the output folder'));
  });
});

describe('latency chart', () => {
  it('is a valid xychart-beta block with p99 >= p95 >= p50, and the same numbers in a details table', () => {
    const md = renderMarkdown(constructedResult(), failingVerdict());
    const { fences, tables } = structure(md);
    assert.equal(fences.length, 1);
    const chart = checkMermaid(fences[0]!);
    assert.deepEqual(chart.lines, [
      [7, 0, 1000],
      [7, 0, 1000],
      [5, 0, 1000],
    ]);
    assert.ok(md.includes('<details><summary>'));
    const details = tables.find((t) => t.header.startsWith('| until'))!;
    assert.equal(details.rows.length - 1, 3);
    assert.equal(details.rows[2], '| 0:02 | 0.0 | 0 | – | – | – |');
  });

  it('leaves a last partial second under half a second out of the chart and the table (its requests stay in the totals)', () => {
    const r = constructedResult();
    const last = r.timeline.at(-1)!;
    r.timeline.push({ ...last, t: last.t + 0.05, span: 0.05, requests: 1, failures: 0 });
    const { tables } = structure(renderMarkdown(r, passingVerdict()));
    const details = tables.find((t) => t.header.startsWith('| until'))!;
    assert.equal(details.rows.length - 1, 3, 'the 50 ms tail (it would read 20 req/s) is not a row');
  });

  it('downsamples 3 hours to at most 60 points, keeping the spike (max of each bucket)', () => {
    const md = renderMarkdown(longRun(), hostileVerdict());
    const { fences, tables } = structure(md);
    const chart = checkMermaid(fences[0]!);
    assert.equal(chart.lines[0]!.length, 60);
    assert.equal(Math.max(...chart.lines[0]!), 9999, 'the one-second spike survives downsampling');
    assert.deepEqual([chart.xFrom, chart.xTo], [3, 180], 'minutes, 3-minute buckets');
    for (let i = 0; i < 60; i++) assert.ok(chart.lines[0]![i]! >= chart.lines[1]![i]! && chart.lines[1]![i]! >= chart.lines[2]![i]!);
    const details = tables.find((t) => t.header.startsWith('| until'));
    assert.ok(details, 'the details table fits at the default cap');
    assert.equal(details.rows.length - 1, 60);
  });
});

describe('size cap', () => {
  it('a 3-hour run with 200 hostile failures stays under 60,000 characters, tables and fences intact', () => {
    const md = renderMarkdown(longRun(), hostileVerdict());
    assert.ok(md.length < DEFAULT_MAX_CHARS, `${md.length} chars`);
    structure(md);
    assert.match(md, /^### ❌ FAIL: 2 of 4 SLOs breached, 2 problems with the run, stopped early · loadgate\n/);
    assert.ok(md.includes('... 190 more kinds of failure'), 'a "more" line for the rows left out');
    assert.ok(md.includes('12345 more failures not itemized'));
  });

  it('degrades step by step under smaller caps, never over the cap, never cutting a block', () => {
    const r = longRun();
    const v = hostileVerdict();
    let prev = Infinity;
    for (const max of [60_000, 20_000, 12_000, 8_000, 6_000, 4_000, 2_500, 1_500, 800, 300, 120]) {
      const md = renderMarkdown(r, v, { maxChars: max });
      assert.ok(md.length <= max, `${md.length} > ${max}`);
      assert.ok(md.length <= prev);
      prev = md.length;
      const { tables } = structure(md);
      assert.ok(md.startsWith('### ❌ FAIL'), `verdict first at ${max}`);
      const failures = tables.find((t) => t.header.startsWith('| count'));
      const details = tables.find((t) => t.header.startsWith('| until'));
      // Order of degradation: failure rows and samples go before the details table.
      if (!details && failures) {
        assert.ok(failures.rows.length - 1 <= 3 && !failures.header.includes('body'), `at ${max}`);
      }
      if (failures && failures.rows.length - 1 < 200) assert.ok(md.includes('more kinds of failure'), `at ${max}`);
    }
  });
});

describe('hostile text', () => {
  const md = renderMarkdown(longRun(), hostileVerdict(), { title: '<b>@octocat</b> #1' });
  const prose = md
    .split('\n')
    .filter((l) => !l.startsWith('  ') && l !== '```mermaid' && l !== '```' && l !== 'xychart-beta')
    .map(outsideCode)
    .join('\n');

  it('leaves no raw HTML, comment, link or image outside code spans', () => {
    const tags = prose.match(/<[^>]*>?/g) ?? [];
    assert.deepEqual([...new Set(tags)].sort(), ['</details>', '<details>', '<summary>', '</summary>'].sort());
    assert.ok(!/(^|[^\\])\[/.test(prose), 'no unescaped [');
    assert.ok(!/(^|[^\\])\]\(/.test(prose), 'no ](');
    assert.ok(!prose.includes('javascript:'), 'the colon is escaped');
  });

  it('neutralizes @mentions and issue references (GitHub would notify or cross-link)', () => {
    assert.ok(!/@[A-Za-z0-9]/.test(prose), 'no @name');
    const text = prose.replace(/&#\d+;/g, '').replace(/\\/g, '');
    assert.ok(!/#\d/.test(text), 'no #123');
    assert.ok(!/GH-\d/i.test(text), 'no GH-45');
    assert.ok(prose.includes('@\u200Boctocat'));
  });

  it('keeps a pipe in content from adding cells (checked in structure) and folds line breaks', () => {
    const { tables } = structure(md);
    const slo = tables.find((t) => t.header.includes('SLO'))!;
    assert.equal(slo.rows.length - 1, 4);
    const failures = tables.find((t) => t.header.startsWith('| count'))!;
    assert.equal(failures.rows.length - 1, 10);
  });

  it('shows an apostrophe as an apostrophe (works around the escapeMarkdown entity bug)', () => {
    const v = failingVerdict();
    v.problems = ["the service's model didn't load"];
    const out = renderMarkdown(constructedResult(), v);
    assert.ok(out.includes('the service&#39;s model didn&#39;t load'));
    assert.ok(!out.includes('&\\#39;'));
  });

  it("renders with GitHub's Markdown library to inert HTML", { skip: skipUnless(hasCmark, 'cmark-gfm') }, () => {
    const html = cmark(md)!;
    // --unsafe: raw HTML passes as GitHub lets <details> pass, so any that slipped through would show here.
    assert.ok(!/<script|<img|<!--|<a\s|<b>|href=/i.test(html), 'no active HTML');
    assert.equal((html.match(/<details>/g) ?? []).length, 1);
    assert.ok(!html.includes('<h1') && !html.includes('<h2'), 'no headings from content');
    // Tables: as many rows as in the source, each with its header's cells.
    const tables = html.split('<table>').slice(1);
    assert.equal(tables.length, 4, 'SLOs, key numbers, details, failures');
    for (const t of tables) {
      const rows = t.split('</table>')[0]!.split('<tr>').slice(1);
      const widths = rows.map((r) => (r.match(/<t[dh][ >]/g) ?? []).length);
      assert.ok(
        widths.every((w) => w === widths[0]),
        `widths ${widths}`,
      );
    }
    const failureRows = tables[3]!.split('</table>')[0]!.split('<tr>').length - 1;
    assert.equal(failureRows, 11);
    assert.equal((html.match(/<pre><code class="language-mermaid">/g) ?? []).length, 1);
  });
});
