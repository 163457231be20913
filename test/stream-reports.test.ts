// Streamed answers in every report (issue 12): the console table, the Markdown headline and table (PR
// comment, job summary), the HTML section and its TTFT/ITL charts with SLO lines (drawn in headless
// Chromium), stream_stats.csv, JUnit and the JSON; the warning when most answers did not stream; and a
// run without streams, whose reports carry none of it.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { type RunResult, parseRunResult, serializeRunResult } from '../src/metrics/result.ts';
import { parseSloLine, resolveSlo } from '../src/plan/slo.ts';
import { commentBody } from '../src/publish/comment.ts';
import { summaryMarkdown } from '../src/publish/summary.ts';
import { formatChecklist, formatSummary } from '../src/report/console.ts';
import { renderHtmlReport } from '../src/report/html.ts';
import { chartData } from '../src/report/html-chart-data.ts';
import { renderJunit } from '../src/report/junit.ts';
import { renderMarkdown } from '../src/report/markdown.ts';
import { STREAM_CSV, STREAM_HEADER, renderStreamCsv } from '../src/report/stream-csv.ts';
import { renderJsonReport, writeReports } from '../src/report/write.ts';
import { evaluate } from '../src/verdict/evaluate.ts';
import type { Verdict } from '../src/verdict/types.ts';
import { constructedResult } from './fixtures/result.ts';
import { streamResult } from './fixtures/stream-result.ts';
import { passingVerdict } from './fixtures/verdict.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';
import { skipUnless } from './helpers/tools.ts';

after(removeTempDirs);

const PLAN = { stageNames: ['low', 'high'], endpointNames: ['chat', 'plain'], warmupMs: 0, streaming: [true, false] };
const LINES = [
  'p99 ttft < 300ms',
  'p99 ttft < 500ms in stage 2',
  'p95 itl < 60ms',
  'mean tpot < 30ms',
  'output-tps >= 10',
  'attainment >= 99% for ttft < 300ms, tpot < 50ms',
];

function judged(r: RunResult): Verdict {
  return evaluate(
    r,
    LINES.map((l) => resolveSlo(parseSloLine(l), PLAN)),
  );
}

const WARNING = /most answers did not stream: 22 of 42 came whole \(22 buffered to the end of the stream\)/;

describe('console', () => {
  it('a stream table by stage, endpoint and total: TTFT, ITL, TPOT, E2E, output in tokens', () => {
    const text = formatSummary(streamResult());
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Streamed answers'));
    assert.ok(at > 0, text);
    assert.match(lines[at]!, /streams +TTFT p50 +TTFT p99 +ITL p50 +ITL p99 +TPOT mean +E2E p99 +output\/s +output$/);
    assert.match(lines[at + 1]!, /^1\. low +10 +100 ms +100 ms +20\.0 ms +20\.0 ms +20\.0 ms +300 ms +11\.0 tok\/s +110 tokens$/);
    assert.match(lines[at + 2]!, /^2\. high +10 +400 ms +400 ms +50\.0 ms +50\.0 ms +50\.0 ms +900 ms +11\.0 tok\/s +110 tokens$/);
    assert.match(
      lines.find((l) => l.startsWith('Total ') && l.includes('tok/s'))!,
      /20 +100 ms +400 ms .* 35\.0 ms +900 ms +11\.0 tok\/s +220 tokens$/,
    );
    assert.ok(!text.includes('Warning: most answers'), 'these answers streamed');
  });

  it('chunks when no server sent usage, said under the table; the buffering warning', () => {
    const chunks = formatSummary(streamResult({ usage: false }));
    assert.match(chunks, /11\.0 chunks\/s +220 chunks/);
    assert.match(chunks, /^Output counted in chunks \(content events\): the server sent no token usage/m);
    assert.ok(!/tok\/s|tokens$/m.test(chunks.split('Errors by kind')[0]!.split('Streamed answers')[1]!), 'never tokens beside chunks');
    assert.match(formatSummary(streamResult({ buffered: 22 })), new RegExp(`^Warning: ${WARNING.source}`, 'm'));
  });

  it('the checklist shows stream SLOs with what was observed', () => {
    const text = formatChecklist(streamResult(), judged(streamResult()));
    assert.match(text, /\[FAIL\] p99 ttft < 300ms +observed 400 ms: p99 TTFT 400 ms is above 300 ms over the whole run/);
    assert.match(text, /\[pass\] p99 ttft < 500ms in stage 2 +observed 400 ms/);
    assert.match(text, /\[FAIL\] attainment >= 99% for ttft < 300ms, tpot < 50ms +observed 62\.5%/);
  });
});

describe('Markdown, the PR comment and the job summary', () => {
  const r = streamResult({ buffered: 22 });
  const v = judged(r);
  const md = renderMarkdown(r, v);

  it('leads with the verdict and the stream headline', () => {
    assert.equal(md.split('\n')[0], '### ❌ FAIL: 3 of 6 SLOs breached · TTFT p99 880 ms, ITL p99 50.0 ms, 23.1 output tok/s · loadgate');
    const comment = commentBody('<!-- loadgate:x -->', md, 'https://github.com/o/r/actions/runs/1');
    assert.match(comment.split('\n')[1]!, /TTFT p99 880 ms, ITL p99 50\.0 ms, 23\.1 output tok\/s/);
    assert.match(summaryMarkdown(r, v, {}).split('\n')[0]!, /TTFT p99 880 ms/);
  });

  it('warns right under the verdict, and has the stream table', () => {
    assert.match(md.split('\n')[2]!, new RegExp(`^- ⚠️ Warning: ${WARNING.source}`));
    assert.match(
      md,
      /^\| streamed answers \| streams \| TTFT p50 \| TTFT p99 \| ITL p50 \| ITL p99 \| TPOT mean \| E2E p99 \| output\/s \| output \|$/m,
    );
    assert.match(
      md,
      /^\| 1\\\. low \| 10 \| 100 ms \| 100 ms \| 20\.0 ms \| 20\.0 ms \| 20\.0 ms \| 300 ms \| 11\.0 tok\/s \| 110 tokens \|$/m,
    );
    assert.match(md, /^\| \*\*Total\*\* \| 42 \|/m);
    assert.match(md, /^\| ❌ \| `attainment >= 99% for ttft < 300ms, tpot < 50ms` \| 37\\\.0% \|/m);
  });

  it('says when output was counted in chunks', () => {
    const chunks = renderMarkdown(streamResult({ usage: false }), judged(streamResult({ usage: false })));
    assert.match(chunks.split('\n')[0]!, /11\.0 output chunks\/s/);
    assert.match(chunks, /^Output counted in chunks \(content events\)/m);
  });
});

describe('HTML', () => {
  const r = streamResult({ buffered: 22 });
  r.stages[0]!.name = '<img src=x onerror=alert(1)>';
  const v = judged(r);
  const html = renderHtmlReport(r, v);

  it('a Streamed answers section with its numbers, and the warning in the header', () => {
    const section = html.slice(html.indexOf('<section id="streams">'), html.indexOf('</section>', html.indexOf('<section id="streams">')));
    assert.ok(section.length > 100);
    assert.ok(section.includes('<th>1. &lt;img src=x onerror=alert(1)&gt;</th>'), 'stage names escaped');
    const total = section.slice(section.indexOf('<tr class="total"><th>Total</th>'));
    const cells = [...total.matchAll(/<td class="n">([^<]*)<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(cells.slice(0, 5), ['42', '880 ms', '880 ms', '20.0 ms', '50.0 ms']);
    assert.ok(cells.includes('23.1 tok/s') && cells.includes('11.0 tokens') && cells.includes('40.0'), cells.join(' | '));
    assert.match(section, new RegExp(`<p class="bad">Warning: ${WARNING.source}`));
    const header = html.slice(html.indexOf('<header>'), html.indexOf('</header>'));
    assert.match(header, new RegExp(`<li class="bad">Warning: ${WARNING.source}`));
  });

  it('TTFT and ITL per second with their percentile SLOs as lines over their scope; output per second', () => {
    const d = chartData(r, v);
    assert.deepEqual(d.stream!.ttftP50.slice(9, 11), [100, 400]);
    assert.deepEqual(d.stream!.itlP99.slice(0, 1), [22]);
    assert.deepEqual(
      d.stream!.ttftThresholds.map((t) => [t.label, t.ms, t.from, t.to, t.pass]),
      [
        ['SLO p99 ttft < 300ms', 300, 0, null, false],
        ['SLO p99 ttft < 500ms in stage 2', 500, 10, 20, false],
      ],
    );
    assert.deepEqual(
      d.stream!.itlThresholds.map((t) => t.label),
      ['SLO p95 itl < 60ms'],
    );
    assert.equal(d.stream!.outputUnit, 'tokens');
    assert.equal(d.stream!.output![0], 11);
    assert.equal(d.thresholds.length, 0, 'stream SLOs are not drawn on the latency chart');
    for (const id of ['chart-ttft', 'chart-itl', 'chart-output']) assert.ok(html.includes(`id="${id}"`), id);
    // The one chart script draws them: no script of their own, and the policy allows the same two.
    assert.equal(html.match(/<script>/g)!.length, 2);
    assert.match(html, /script-src 'sha256-[^']+' 'sha256-[^']+';/);
  });

  it('chunks are charted as chunks', () => {
    const c = chartData(streamResult({ usage: false }), passingVerdict());
    assert.equal(c.stream!.outputUnit, 'chunks');
  });
});

describe('stream_stats.csv, JUnit and JSON', () => {
  it('the CSV: a row per stage x streaming endpoint, per endpoint, and Aggregated; tokens and chunks apart', () => {
    const csv = renderStreamCsv(streamResult());
    const rows = csv
      .split('\r\n')
      .filter(Boolean)
      .map((l) => l.split(','));
    assert.deepEqual(rows[0], STREAM_HEADER);
    assert.deepEqual(
      rows.slice(1).map((x) => [x[0], x[1]]),
      [
        ['low', 'chat'],
        ['high', 'chat'],
        ['', 'chat'],
        ['', 'Aggregated'],
      ],
    );
    const col = (name: string, row: string[]) => row[STREAM_HEADER.indexOf(name)];
    const [low, high, chat] = [rows[1]!, rows[2]!, rows[3]!];
    assert.equal(col('TTFT p50 (ms)', low), '100');
    assert.equal(col('ITL p99 (ms)', high), '50');
    assert.equal(col('TPOT Mean (ms)', chat), '35');
    assert.equal(col('Requests', high), '12');
    assert.equal(col('Failures', high), '2');
    assert.equal(col('Output Tokens', chat), '220');
    assert.equal(col('Output Tokens/s', chat), '11');
    assert.equal(col('Output Chunks', chat), '0');
    const chunks = renderStreamCsv(streamResult({ usage: false }))
      .split('\r\n')[3]!
      .split(',');
    assert.equal(col('Output Tokens', chunks), '0');
    assert.equal(col('Output Chunks', chunks), '220');
  });

  it('is written beside the other reports for a stream run only', () => {
    const dir = tempDir('loadgate-stream-reports-');
    const w = writeReports(join(dir, 'stream'), streamResult(), judged(streamResult()));
    assert.ok(w.files.some((f) => f.endsWith(STREAM_CSV)));
    assert.equal(readFileSync(join(dir, 'stream', STREAM_CSV), 'utf8'), renderStreamCsv(streamResult()));
    const plain = writeReports(join(dir, 'plain'), constructedResult(), passingVerdict());
    assert.ok(!plain.files.some((f) => f.endsWith(STREAM_CSV)));
    assert.ok(!existsSync(join(dir, 'plain', STREAM_CSV)));
  });

  it('JUnit: a test case per stream SLO, the stream numbers and the warning', () => {
    const r = streamResult({ buffered: 22 });
    const xml = renderJunit(r, judged(r));
    for (const l of LINES)
      assert.ok(xml.includes(`<testcase name="${l.replace(/</g, '&lt;').replace(/>/g, '&gt;')}" classname="loadgate.slo"`), l);
    assert.match(xml, /<failure message="p99 TTFT 880 ms is above 300 ms over the whole run" type="slo">/);
    assert.match(xml, /<property name="stream" value="TTFT p99 880 ms, ITL p99 50\.0 ms, 23\.1 output tok\/s"\/>/);
    assert.match(xml, new RegExp(`<property name="warning" value="${WARNING.source}`));
    assert.match(xml, new RegExp(`streamed answers: TTFT p99 880 ms[^<]*\nwarning: ${WARNING.source}`));
  });

  it('a result read back from its JSON judges and renders the same (shards, merges and baselines read it)', () => {
    const r = streamResult({ buffered: 22 });
    const back = parseRunResult(serializeRunResult(r));
    assert.deepEqual(
      judged(back).outcomes.map((o) => [o.observed, o.sentence]),
      judged(r).outcomes.map((o) => [o.observed, o.sentence]),
    );
    assert.equal(formatSummary(back), formatSummary(r));
    assert.equal(renderStreamCsv(back), renderStreamCsv(r));
    assert.equal(renderMarkdown(back, judged(back)), renderMarkdown(r, judged(r)));
  });

  it('JSON: the verdict carries the warning', () => {
    const r = streamResult({ buffered: 22 });
    const json = JSON.parse(renderJsonReport(r, judged(r))) as { verdict: Verdict };
    assert.match(json.verdict.warnings![0]!, WARNING);
    assert.equal(json.verdict.outcomes[5]!.observed, 20 / 54, '22 buffered answers did not meet TTFT < 300ms');
  });
});

describe('a run without streams', () => {
  const r = constructedResult();
  const v = passingVerdict();

  it('has none of it in any report', () => {
    const html = renderHtmlReport(r, v);
    // The page's own text and elements: the one chart script knows the stream charts, and draws none here.
    const page = html.replace(/<script>[\s\S]*?<\/script>/g, '');
    assert.ok(!/Streamed answers|chart-ttft|TTFT/.test(page));
    assert.equal(html.match(/<script>/g)!.length, 2, 'uPlot and the chart script only');
    assert.match(html, /script-src 'sha256-[^']+' 'sha256-[^']+';/);
    assert.equal(chartData(r, v).stream, undefined);
    const md = renderMarkdown(r, v);
    assert.ok(!/TTFT|streamed/i.test(md));
    assert.match(md.split('\n')[0]!, /^### ✅ PASS: all 2 SLOs met · loadgate$/);
    assert.ok(!/TTFT|Streamed/.test(formatSummary(r)));
    const xml = renderJunit(r, v);
    assert.ok(!/name="stream"|name="warning"|streamed answers/.test(xml));
    assert.equal(evaluate(r, []).warnings, undefined);
  });
});

// ---- in a real browser ----

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

interface PageElement {
  id: string;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: PageElement;

describe('the stream charts in headless Chromium', { skip: skipUnless(existsSync(CHROMIUM), 'chromium') }, () => {
  it('draws TTFT, ITL and output per second with the SLO lines in the legend, offline, without errors', async () => {
    const { chromium } = await import('playwright-core');
    const r = streamResult();
    const file = writeFile(tempDir(), 'stream.html', renderHtmlReport(r, judged(r)));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      await page.waitForTimeout(300);
      const charts = await page.evaluate(() =>
        ['chart-ttft', 'chart-itl', 'chart-output'].map((id) => {
          const el = document.querySelector(`#${id}`)!;
          const canvas = el.querySelector('canvas');
          const legend = [...el.querySelectorAll('.u-legend .u-series th')].map((th) => th.textContent ?? '');
          let red = 0;
          let green = 0;
          let blue = 0;
          if (canvas) {
            const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < img.length; i += 4) {
              if (img[i + 3]! < 200) continue;
              const near = (r0: number, g0: number, b0: number) =>
                Math.abs(img[i]! - r0) + Math.abs(img[i + 1]! - g0) + Math.abs(img[i + 2]! - b0) < 60;
              if (near(207, 34, 46)) red++;
              if (near(26, 127, 55)) green++;
              if (near(9, 105, 218)) blue++;
            }
          }
          return { id, width: canvas?.width ?? 0, legend: legend.join(' | '), red, green, blue };
        }),
      );
      const [ttft, itl, output] = charts;
      for (const c of charts) assert.ok(c!.width > 300, `${c!.id} has a canvas`);
      assert.ok(ttft!.green >= 20 && ttft!.red >= 20, `TTFT p50 and p99 drawn: ${JSON.stringify(ttft)}`);
      assert.ok(itl!.green >= 20 && itl!.red >= 20, `ITL p50 and p99 drawn: ${JSON.stringify(itl)}`);
      assert.ok(output!.blue >= 20, `output drawn: ${JSON.stringify(output)}`);
      assert.match(ttft!.legend, /p50 \| p99 \| SLO p99 ttft < 300ms \| SLO p99 ttft < 500ms in stage 2/);
      assert.match(itl!.legend, /SLO p95 itl < 60ms/);
      assert.match(output!.legend, /tokens\/s/);
      const all = await page.evaluate(() => document.querySelectorAll('.uplot canvas').length);
      assert.equal(all, 6, 'the three charts of every run and the three of streams');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
