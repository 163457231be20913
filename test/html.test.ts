// The HTML report: escaping of everything that came from the service, the config or the run; the numbers
// in its tables; robustness (empty run, an hour of timeline); the vendored uPlot; and the page itself in
// headless Chromium, offline (every request but the file itself blocked), with its charts drawn.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { INLINED_FILE, readHtmlAssets, renderInlinedModule, withoutOpeningComment } from '../scripts/inline-html-assets.ts';
import { readInstalledUplot, renderVendorModule, VENDOR_FILE } from '../scripts/vendor-uplot.ts';
import { runLoad } from '../src/load/engine.ts';
import { percentileMs } from '../src/metrics/histogram.ts';
import { Recorder } from '../src/metrics/recorder.ts';
import { type RunResult, type TimelinePoint, meanMs, statsFor } from '../src/metrics/result.ts';
import { fmtMs, fmtNum } from '../src/format.ts';
import { PERCENTILES } from '../src/report/csv.ts';
import { renderHtmlReport, scriptJson } from '../src/report/html.ts';
import { CHART_JS, REPORT_CSS } from '../src/report/html-assets/inlined.ts';
import { chartData } from '../src/report/html-chart-data.ts';
import { UPLOT_CSS, UPLOT_JS, UPLOT_VERSION } from '../src/report/vendor/uplot.ts';
import { evaluate } from '../src/verdict/evaluate.ts';
import { parseSloLine, resolveSlo } from '../src/plan/slo.ts';
import type { SloOutcome, Verdict } from '../src/verdict/types.ts';
import type { Slo } from '../src/plan/types.ts';
import { constructedResult } from './fixtures/result.ts';
import { failingVerdict, passingVerdict } from './fixtures/verdict.ts';
import { skipUnless } from './helpers/tools.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..');

after(() => removeTempDirs());

const HOSTILE = {
  script: '<script>alert(1)</script>',
  img: '"><img src=x onerror=alert(1)>',
  close: 'x</script><script>alert(2)</script>',
  comment: '<!-- hidden',
  link: '[click](javascript:alert(1))',
  backticks: '```js\nalert(1)\n``` `x`',
  pipes: 'a | b || c',
};
const ALL = Object.values(HOSTILE).join(' ');

/** The chart JSON block: from its start tag to the first `</script` after it (where the browser ends it). */
function jsonBlock(html: string): string {
  const start = html.indexOf('<script type="application/json" id="chart-data">');
  assert.ok(start >= 0, 'the chart data block is there');
  const from = start + '<script type="application/json" id="chart-data">'.length;
  return html.slice(from, html.toLowerCase().indexOf('</script', from));
}

/** The page without its three script elements' contents (ours and uPlot's are checked separately). */
function markupOnly(html: string): string {
  return html.replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
}

/** Text of the cells of the row whose header cell is exactly `label` (escaped). */
function row(html: string, label: string): string[] {
  const at = html.indexOf(`<th>${label}</th>`);
  assert.ok(at >= 0, `a row for ${label}`);
  const end = html.indexOf('</tr>', at);
  return [...html.slice(at, end).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));
}

function hostileResult(): { r: RunResult; v: Verdict } {
  const r = constructedResult();
  r.endpoints[0]!.name = HOSTILE.script;
  r.endpoints[1]!.name = HOSTILE.img;
  r.endpoints[1]!.path = HOSTILE.link;
  r.stages[0]!.name = HOSTILE.close;
  r.stages[1]!.name = HOSTILE.comment;
  r.status = 'aborted';
  r.reason = `${HOSTILE.img} ${HOSTILE.pipes}`;
  r.abortedBy = HOSTILE.close;
  r.target.baseUrl = `http://x/${HOSTILE.img}`;
  r.startedAt = HOSTILE.comment;
  r.failures = r.failures.map((f, i) => ({
    ...f,
    endpoint: i % 2 ? HOSTILE.img : HOSTILE.script,
    error: `${HOSTILE.close} ${HOSTILE.backticks}`,
    sample: `${ALL}\u202Edesrever`,
  }));
  const v = failingVerdict();
  v.problems = [HOSTILE.script, HOSTILE.link];
  v.abortedBy = HOSTILE.img;
  const o = v.outcomes[0]!; // p99 < 100ms: a latency percentile, so its text goes into the chart data too
  o.slo = { ...o.slo, text: `${HOSTILE.close} ${HOSTILE.comment}` };
  o.sentence = `${HOSTILE.img} ${HOSTILE.link}`;
  o.labels = { metric: HOSTILE.script, objective: HOSTILE.pipes, observed: HOSTILE.close, scope: HOSTILE.comment };
  return { r, v };
}

describe('HTML report: untrusted text', () => {
  const { r, v } = hostileResult();
  const html = renderHtmlReport(r, v, { title: HOSTILE.script });

  it('never contains the raw markup, only its escaped form', () => {
    const markup = markupOnly(html);
    for (const raw of [HOSTILE.script, HOSTILE.img, HOSTILE.close, HOSTILE.comment, '<img', 'onerror=alert(1)>', '<!--']) {
      assert.ok(!markup.includes(raw), `raw ${JSON.stringify(raw)} in the markup`);
    }
    assert.ok(!html.includes('<!--'), 'no comment opener anywhere (it could hide the rest of the page)');
    assert.ok(!/<img|<a\s|<iframe|<object|<embed|<svg/i.test(html), 'no element that loads or links anything');
    assert.ok(!/\son\w+\s*=/i.test(markup.replace(/>[^<]*</g, '><')), 'no event handler attribute in any tag');
    assert.equal((html.match(/<script/gi) ?? []).length, 3, 'exactly our three script elements');
    assert.equal((html.match(/<\/script/gi) ?? []).length, 3);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(html.includes('x&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;'));
    assert.ok(html.includes('&lt;!-- hidden'));
    assert.ok(html.includes('[click](javascript:alert(1))'), 'inert text in HTML: no Markdown is rendered');
    assert.ok(html.includes('a | b || c') && html.includes('```js'), 'pipes and backticks are plain text');
    assert.ok(!html.includes('\u202E'), 'bidi override replaced');
    assert.ok(html.includes('<title>FAIL · &lt;script&gt;alert(1)&lt;/script&gt;</title>'));
  });

  it('puts each string where it belongs, escaped', () => {
    assert.match(
      html,
      /<dt>Run<\/dt><dd><strong class="bad">aborted<\/strong>: &quot;&gt;&lt;img src=x onerror=alert\(1\)&gt; a \| b \|\| c<\/dd>/,
    );
    assert.ok(html.includes('Stopped early: the SLO <code>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</code>'));
    assert.ok(html.includes('<li>Problem: &lt;script&gt;alert(1)&lt;/script&gt;</li>'));
    assert.ok(html.includes('<th>1. x&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;</th>'), 'stage name in the stats');
    assert.ok(html.includes('<th>&lt;script&gt;alert(1)&lt;/script&gt;</th>'), 'endpoint name in the stats');
    assert.ok(
      html.includes('<code>x&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt; &lt;!-- hidden</code>'),
      'SLO text in the checklist',
    );
  });

  it('keeps the chart JSON inside its script element, with the data whole', () => {
    const block = jsonBlock(html);
    assert.ok(!/[<>&\u2028\u2029]/.test(block), 'no <, >, & or line separators in the block');
    const data = JSON.parse(block) as ReturnType<typeof chartData>;
    assert.deepEqual(data, JSON.parse(JSON.stringify(chartData(r, v))), 'the block parses to the whole chart data');
    assert.equal(data.thresholds[0]!.label, `SLO ${HOSTILE.close} ${HOSTILE.comment}`, 'the hostile label survives as data');
  });

  it('scriptJson escapes what could end a script element or a JS string', () => {
    const s = scriptJson({ a: '</script><!--<script>&\u2028\u2029' });
    assert.equal(s, '{"a":"\\u003c/script\\u003e\\u003c!--\\u003cscript\\u003e\\u0026\\u2028\\u2029"}');
    assert.deepEqual(JSON.parse(s), { a: '</script><!--<script>&\u2028\u2029' });
  });
});

describe('HTML report: contents', () => {
  const r = constructedResult();
  const v = failingVerdict();
  const html = renderHtmlReport(r, v, { title: 'nightly' });

  it('shows the verdict, the run and the plan', () => {
    assert.ok(html.includes('<span class="badge">FAIL</span> 2 of 4 SLOs breached'));
    assert.ok(renderHtmlReport(r, passingVerdict()).includes('<span class="badge">PASS</span> all 2 SLOs met'));
    assert.ok(html.includes('<h1>nightly</h1>'));
    assert.ok(html.includes('<code>http://127.0.0.1:1</code>'));
    assert.ok(html.includes('2026-11-25T00:00:00.000Z'));
    assert.ok(html.includes('Closed model: 2 stages, up to 4 users, 1.0 req/s per user'));
    assert.ok(html.includes('<dt>Timeout</dt><dd>1.00 s per request</dd>'));
    assert.ok(html.includes('<dt>Seed</dt><dd>1</dd>'));
    assert.ok(html.includes('<dt>Warm-up</dt><dd>none</dd>'));
    assert.ok(
      html.includes(
        '<td class="n">1</td><td>one</td><td class="n">0:00</td><td class="n">0:02</td><td class="n">4</td><td class="n">1.0 users/s</td>',
      ),
    );
  });

  it('lists each SLO with its mark and observed value', () => {
    for (const o of v.outcomes) {
      const text = o.slo.text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
      const re = new RegExp(
        `<tr class="${o.pass ? 'ok' : 'breach'}"><td class="mark">${o.pass ? '✔ pass' : '✘ FAIL'}</td><td><code>${escapeRe(text)}</code></td>` +
          `<td class="n">${escapeRe(o.labels.observed)}</td>`,
      );
      assert.match(html, re);
      assert.ok(html.includes(`<td>${o.sentence}</td>`));
    }
  });

  it('has the right numbers per stage, endpoint and in total', () => {
    const check = (label: string, s: ReturnType<typeof statsFor>, seconds: number) => {
      const cells = row(html, label);
      assert.equal(cells[0], String(s.requests), `${label} requests`);
      assert.ok(cells[1]!.startsWith(String(s.failures)), `${label} failures`);
      assert.equal(cells[2], fmtNum(s.requests / seconds), `${label} req/s`);
      assert.deepEqual(
        cells.slice(3, 8),
        [50, 90, 95, 99, 100].map((q) => fmtMs(percentileMs(s.latency, q))),
        `${label} percentiles`,
      );
      assert.equal(cells[8], fmtMs(meanMs(s)));
    };
    check('1. one', statsFor(r, { stage: 0 }), 2);
    check('2. two', statsFor(r, { stage: 1 }), 0.6);
    check('a', statsFor(r, { endpoint: 0 }), 2.6);
    check('b', statsFor(r, { endpoint: 1 }), 2.6);
    check('Total', statsFor(r), 2.6);
    assert.deepEqual(row(html, 'Total').slice(0, 2), ['4', '3 (75.0%)']);
    assert.equal(row(html, 'Total')[9], '200 B');
  });

  it('has the percentile table for the whole run and each endpoint', () => {
    const whole = row(html, 'Whole run');
    const s = statsFor(r);
    assert.equal(whole[0], String(s.latency.totalCount));
    assert.deepEqual(
      whole.slice(1),
      PERCENTILES.map((q) => fmtMs(percentileMs(s.latency, q))),
    );
    assert.equal(whole.length, 1 + PERCENTILES.length);
    for (const q of ['p66', 'p98', 'p99.9', 'p99.99']) assert.ok(html.includes(`<th class="n">${q}</th>`));
  });

  it('lists failures and errors by kind', () => {
    for (const f of r.failures) {
      assert.ok(html.includes(`<code>${f.error}</code></td><td class="n">${f.count}</td>`), f.error);
    }
    assert.ok(html.includes('<code class="sample">&lt;html&gt;busy&lt;/html&gt;</code>'));
    assert.ok(html.includes('<tr><td>timeout</td><td class="n">1</td>'));
    assert.ok(html.includes('<tr><td>refused</td><td class="n">1</td>'));
    assert.ok(html.includes('Generator CPU: 1.00% of one core'));
  });

  it('charts per second: req/s divides by a partial second, SLO lines over their scope', () => {
    const d = chartData(r, v);
    assert.equal(d.t.length, r.timeline.length);
    r.timeline.forEach((p, i) => assert.equal(d.rps[i], Math.round((p.requests / (p.span ?? 1)) * 1000) / 1000));
    const last = r.timeline[r.timeline.length - 1]!;
    assert.ok(last.span !== undefined && last.span < 1 && last.span >= 0.5, 'the fixture ends on a partial second');
    assert.equal(d.rps[d.rps.length - 1], Math.round((last.requests / last.span) * 1000) / 1000);
    // A tail under half a second (answers while the run drained) is too short for a rate: a gap, not a spike.
    const drained = { ...r, timeline: [...r.timeline.slice(0, -1), { ...last, t: 2.03, span: 0.03, requests: 4, failures: 1 }] };
    const dd = chartData(drained, v);
    assert.deepEqual([dd.rps.at(-1), dd.fps.at(-1), dd.p99.at(-1)], [null, null, last.p99]);
    assert.deepEqual(
      d.thresholds.map((t) => [t.label, t.ms, t.from, t.to, t.pass]),
      [
        ['SLO p99 < 100ms', 100, 0, null, false],
        ['SLO p95 <= 2s in stage 2', 2000, 2, 2.6, true],
      ],
    );
    assert.equal(d.cpu, undefined, 'no resource chart without samples');
    assert.ok(!html.includes('id="chart-resources"'));
  });

  it('marks deliberately invalid requests and keeps them out of the totals', () => {
    const o = constructedResult();
    o.endpoints[1]!.role = 'invalid';
    const page = renderHtmlReport(o, passingVerdict());
    const tag =
      ' <span class="tag" title="deliberately invalid requests: a rejection is a success; outside totals and SLOs">invalid requests, apart</span>';
    assert.ok(page.includes(`<tr><th>b${tag}</th><td class="n">${statsFor(o, { endpoint: 1 }).requests}</td>`));
    assert.equal(row(page, 'Total')[0], String(statsFor(o).requests));
    assert.equal(statsFor(o).requests, statsFor(o, { endpoint: 0 }).requests, 'the total leaves b out');
    assert.ok(page.includes('Invalid requests (marked) are sent on purpose'));
    assert.ok(!renderHtmlReport(constructedResult(), passingVerdict()).includes('invalid requests, apart'));
  });

  it('an open-model run shows the send lag, the cap and the unsent', () => {
    const o = constructedResult();
    o.load = { model: 'open', maxInFlight: 50 };
    o.stages = o.stages.map((s, i) => ({
      index: s.index,
      name: s.name,
      startMs: s.startMs,
      endMs: s.endMs,
      rate: 10 * (i + 1),
      ramp: i === 1,
    }));
    o.delayedByCap = 7;
    o.unsent = 3;
    const page = renderHtmlReport(o, passingVerdict());
    assert.ok(page.includes('Open model: 2 stages, up to 20.0 req/s, at most 50 in flight'));
    assert.ok(
      page.includes('Requests held back by the service (due while all 50 connections were busy; timed from then): <strong>7</strong>'),
    );
    assert.ok(page.includes('Due requests never sent before the end: <strong>3</strong>'));
    assert.ok(
      page.includes(
        `Schedule error (how far from its planned time a request the generator sent on its own left; not in the latencies): p50 ${fmtMs(percentileMs(o.sendLag!, 50))}, p99 ${fmtMs(percentileMs(o.sendLag!, 99))}`,
      ),
    );
    assert.ok(page.includes('<td class="n">20.0</td><td>ramp from the previous rate</td>'));
    assert.ok(page.includes('Target rate and requests in flight'));
  });

  it('says where the run ran, and when the generator was the limit', () => {
    const o = constructedResult();
    o.status = 'invalid';
    o.generator = {
      cpu: 0.97,
      eventLoopDelayP99Ms: 3,
      eventLoopDelayMaxMs: 9,
      exhausted: 0,
      limits: ['the generator used 97% of a core: it was the bottleneck'],
    };
    o.environment = {
      cpuModel: 'Test CPU <x>',
      cpuCount: 2,
      memoryBytes: 8 * 2 ** 30,
      os: 'Linux (Debian 12)',
      kernel: '6.1.0',
      arch: 'x64',
      node: 'v24.21.0',
      loadgate: '0.1.0',
      runner: { name: 'GitHub Actions 3', os: 'Linux', arch: 'X64', image: 'ubuntu24', imageVersion: '20261124.1' },
      serviceImage: { image: 'model:pr', digest: 'sha256:abc', digestKind: 'image-id' },
      cpuStealPercent: 1.5,
      generatorCpu: 0.97,
    };
    const page = renderHtmlReport(o, passingVerdict());
    assert.ok(page.includes('<h2>Where it ran</h2>'));
    assert.ok(page.includes('<td>Test CPU &lt;x&gt; × 2</td>'), 'escaped');
    assert.ok(page.includes('<td>GitHub Actions 3, Linux, X64, image ubuntu24 20261124.1</td>'));
    assert.ok(page.includes('<td>model:pr, sha256:abc (image id: a local build)</td>'));
    assert.ok(page.includes('<td>1.5% of the machine</td>'));
    assert.ok(page.includes('The run did not measure the service: the generator used 97% of a core'));
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A run in which nothing was measured: no requests, three seconds of empty timeline. */
function emptyResult(timeline: 'points' | 'none'): RunResult {
  const r = constructedResult();
  const rec = new Recorder(
    2,
    ['a', 'b'],
    { stageAt: (ms) => (ms < 2000 ? 0 : 1), usersAt: () => 4, inFlight: () => 0 },
    { sendLag: false },
  );
  if (timeline === 'points') rec.finish(2600);
  return { ...r, cells: rec.cells, failures: [], failuresNotItemized: 0, timeline: rec.timeline, generatorCpu: 0 };
}

function emptyVerdict(r: RunResult): Verdict {
  const slos = ['p99 < 100ms', 'errors == 0', 'peak-rps >= 1', 'error-rate < 1%'].map((l) =>
    resolveSlo(parseSloLine(l), { stageNames: r.stages.map((s) => s.name), endpointNames: r.endpoints.map((e) => e.name), warmupMs: 0 }),
  );
  return evaluate(r, slos);
}

describe('HTML report: edge cases', () => {
  it('renders an empty run (no requests, null latencies) and a run with no timeline', () => {
    for (const kind of ['points', 'none'] as const) {
      const r = emptyResult(kind);
      const html = renderHtmlReport(r, emptyVerdict(r));
      assert.deepEqual(row(html, 'Total').slice(0, 3), ['0', '0', '0.0']);
      assert.ok(
        row(html, 'Whole run')
          .slice(1)
          .every((c) => c === '-'),
      );
      assert.ok(html.includes('<section><h2>Failures</h2><p>None.</p></section>'));
      if (kind === 'none') assert.ok(html.includes('No timeline: the run measured nothing.'));
      else
        assert.deepEqual(
          chartData(r, emptyVerdict(r)).p99,
          r.timeline.map(() => null),
        );
    }
  });

  it('keeps an hour of timeline (with service CPU and memory) under 2 MB', () => {
    const r = hourResult();
    const html = renderHtmlReport(r, failingVerdict());
    console.log(`# one hour (3600 points): ${html.length} characters, chart data ${jsonBlock(html).length}`);
    assert.ok(html.length < 2_000_000, `${html.length} characters`);
    assert.ok(html.includes('id="chart-resources"'));
  });
});

/** An hour of realistic-looking seconds, 9 stages of 400 s, with service resource samples. */
function hourResult(): RunResult {
  const r = constructedResult();
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const timeline: TimelinePoint[] = [];
  let total = 0;
  for (let s = 1; s <= 3600; s++) {
    const requests = 400 + Math.round(rand() * 200);
    total += requests;
    const base = 20 + 15 * Math.sin(s / 300) + rand() * 5;
    timeline.push({
      t: s,
      stage: Math.floor((s - 1) / 400),
      users: 10 * (1 + Math.floor((s - 1) / 400)),
      requests,
      failures: rand() < 0.05 ? Math.round(rand() * 10) : 0,
      p50: base + rand(),
      p95: base * 1.6 + rand() * 3,
      p99: base * 2.3 + rand() * 10,
      max: base * 3 + rand() * 40,
      inFlight: Math.round(rand() * 30),
      totalRequests: total,
      totalFailures: 0,
      totalP50: base,
      totalMean: base * 1.1,
      cpuPercent: 50 + rand() * 100,
      memoryBytes: 300e6 + rand() * 50e6,
    });
  }
  r.timeline = timeline;
  r.durationMs = 3_600_000;
  r.stages = Array.from({ length: 9 }, (_, i) => ({
    index: i,
    name: `s${i + 1}`,
    startMs: i * 400_000,
    endMs: (i + 1) * 400_000,
    users: 10 * (i + 1),
    spawnRate: 1,
  }));
  return r;
}

describe('vendored uPlot', () => {
  it('equals what the installed package ships (regenerate: node scripts/vendor-uplot.ts)', () => {
    const u = readInstalledUplot();
    assert.equal(UPLOT_VERSION, u.version);
    assert.equal(UPLOT_JS, u.js);
    assert.equal(UPLOT_CSS, u.css);
    assert.equal(readFileSync(VENDOR_FILE, 'utf8'), renderVendorModule(u), 'the generated module, byte for byte');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    assert.equal(pkg.devDependencies['uplot'], u.version, 'package.json pins the vendored version exactly');
  });

  it('can be inlined: nothing in it ends a script or style element', () => {
    assert.ok(!/<\/script|<!--|<script/i.test(UPLOT_JS));
    assert.ok(!/<\/style|<!--/i.test(UPLOT_CSS));
  });
});

describe("the report's own assets (src/report/html-assets/)", () => {
  it('the inlined module equals what the asset files generate (regenerate: node scripts/inline-html-assets.ts)', () => {
    const assets = readHtmlAssets();
    assert.equal(readFileSync(INLINED_FILE, 'utf8'), renderInlinedModule(assets), 'the generated module, byte for byte');
    assert.equal(REPORT_CSS, withoutOpeningComment(assets.css));
    assert.equal(CHART_JS, withoutOpeningComment(assets.js));
  });

  it('leave their opening comment out of the page, and nothing else', () => {
    assert.equal(withoutOpeningComment('/* for readers\n   only */\n(function () {})();\n'), '\n(function () {})();\n');
    assert.equal(withoutOpeningComment('\nbody { margin: 0; } /* kept */\n'), '\nbody { margin: 0; } /* kept */\n');
    const html = renderHtmlReport(constructedResult(), passingVerdict());
    assert.ok(html.includes(`<script>${CHART_JS}</script>`) && html.includes(`<style>${REPORT_CSS}</style>`));
    assert.ok(!html.includes('scripts/inline-html-assets.ts'), 'no asset header in the page');
  });

  it('are refused when they hold what would end their element early', () => {
    const ok = readHtmlAssets();
    assert.throws(
      () => renderInlinedModule({ ...ok, js: `${ok.js}\nvar s = '</script>';\n` }),
      /chart\.js contains "<\/script" at \d+: it cannot be inlined as is/,
    );
    assert.throws(() => renderInlinedModule({ ...ok, css: `${ok.css}\n/* <!-- */\n` }), /report\.css contains "<!--"/);
  });
});

// ---- in a real browser ----

// Debian's chromium by default; CHROMIUM_PATH points elsewhere (GitHub's Ubuntu runners ship Google Chrome).
const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

// The little of the DOM the functions evaluated in the page use (the project's TS config has no DOM library).
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
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A real run: the engine for ~4 s against a local server whose delay varies, some 503s with a hostile body. */
async function realRun(): Promise<{ r: RunResult; v: Verdict }> {
  let n = 0;
  const t0 = performance.now();
  const srv: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      const s = (performance.now() - t0) / 1000;
      const delay = 4 + 10 * (0.5 + 0.5 * Math.sin(s * 2.5)) + (n % 7) * 1.5 + (n % 53 === 0 ? 40 : 0);
      setTimeout(() => {
        if (n % 31 === 0) {
          res.statusCode = 503;
          res.end(`{"detail":"${HOSTILE.script} overloaded"}`);
        } else res.end('{"charges":1234.5}');
      }, delay);
    });
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  try {
    const stages = [
      { name: 'warm', users: 2 },
      { name: 'ramp', users: 6 },
      { name: HOSTILE.img, users: 10 },
      { name: 'cool', users: 3 },
    ];
    const r = await runLoad({
      baseUrl: url,
      endpoints: [
        {
          name: 'predict',
          method: 'POST',
          path: '/predict',
          headers: {},
          body: { kind: 'fixed', body: '{"age":42}' },
          weight: 3,
          okStatus: [[200, 399]],
        },
        { name: HOSTILE.script, method: 'GET', path: '/explain', headers: {}, body: { kind: 'none' }, weight: 1, okStatus: [[200, 399]] },
      ],
      load: { model: 'closed', perUserRate: 10, stages: stages.map((s) => ({ ...s, durationMs: 1000, spawnRate: 1000 })) },
      timeoutMs: 2000,
      seed: 1,
    });
    const plan = { stageNames: r.stages.map((s) => s.name), endpointNames: r.endpoints.map((e) => e.name), warmupMs: 0 };
    const slos: Slo[] = ['p99 < 30ms', 'p95 < 25ms in stage 3', 'p50 < 15ms', 'errors == 0', 'peak-rps >= 5'].map((l) =>
      resolveSlo(parseSloLine(l), plan),
    );
    const v = evaluate(r, slos);
    const hostile: SloOutcome = { ...v.outcomes[0]!, slo: { ...v.outcomes[0]!.slo, text: HOSTILE.close }, sentence: HOSTILE.img };
    v.outcomes.push(hostile);
    // The service layer adds resource samples; this engine run has none, so make some up.
    r.timeline.forEach((p, i) => {
      p.cpuPercent = 20 + 10 * i + (i % 2) * 7;
      p.memoryBytes = 180e6 + i * 3e6;
      p.monitors = { replicas: 1 + Math.min(i, 2), [HOSTILE.close]: 10 - i };
    });
    const mon = (name: string) => ({
      name,
      command: 'echo 1',
      everyMs: 1000,
      samples: r.timeline.length,
      failures: 0,
      first: 1,
      last: 3,
      min: 1,
      max: 3,
    });
    r.monitors = [mon('replicas'), mon(HOSTILE.close)];
    return { r, v };
  } finally {
    await new Promise<void>((res) => srv.close(() => res()));
  }
}

describe('HTML report in headless Chromium', { skip: skipUnless(existsSync(CHROMIUM), 'chromium') }, () => {
  it('opens offline from a file: URL and draws every chart, without errors', async () => {
    const { chromium } = await import('playwright-core');
    const { r, v } = await realRun();
    assert.ok(r.timeline.length >= 4 && statsFor(r).requests > 50, `a real run: ${statsFor(r).requests} requests`);
    const dir = tempDir();
    const file = writeFile(dir, 'report.html', renderHtmlReport(r, v, { title: 'loadgate: example run' }));
    const empty = emptyResult('points');
    const emptyFile = writeFile(dir, 'empty.html', renderHtmlReport(empty, emptyVerdict(empty)));
    const hourFile = writeFile(dir, 'hour.html', renderHtmlReport(hourResult(), failingVerdict()));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
      const requests: string[] = [];
      const blocked: string[] = [];
      await context.route('**/*', (route) => {
        const u = route.request().url();
        if (u.startsWith('file:')) return route.continue();
        blocked.push(u);
        return route.abort('internetdisconnected');
      });
      const open = async (path: string) => {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('dialog', (d) => {
          problems.push(`dialog: ${d.message()}`);
          void d.dismiss();
        });
        page.on('request', (req) => requests.push(req.url()));
        await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
        await page.waitForTimeout(300);
        return { page, problems };
      };

      const { page, problems } = await open(file);
      const charts = await page.evaluate(() =>
        [...document.querySelectorAll('.chart')].map((el) => {
          const canvas = el.querySelector('canvas');
          const legend = [...el.querySelectorAll('.u-legend .u-series th')].map((th) => th.textContent ?? '');
          if (!canvas) return { id: el.id, width: 0, height: 0, legend, colors: {} as Record<string, number> };
          const ctx = canvas.getContext('2d')!;
          const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          // Pixels near each series colour: proof that the series' paths were drawn.
          const want: Record<string, [number, number, number]> = {
            blue: [9, 105, 218],
            red: [207, 34, 46],
            green: [26, 127, 55],
            amber: [191, 135, 0],
            orange: [188, 76, 0],
            purple: [130, 80, 223],
          };
          const colors: Record<string, number> = {};
          for (const k of Object.keys(want)) colors[k] = 0;
          for (let i = 0; i < img.length; i += 4) {
            if (img[i + 3]! < 200) continue;
            for (const [k, [r0, g0, b0]] of Object.entries(want)) {
              if (Math.abs(img[i]! - r0) + Math.abs(img[i + 1]! - g0) + Math.abs(img[i + 2]! - b0) < 60) colors[k]!++;
            }
          }
          return { id: el.id, width: canvas.width, height: canvas.height, legend, colors };
        }),
      );
      const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
      assert.deepEqual(Object.keys(byId), ['chart-throughput', 'chart-latency', 'chart-load', 'chart-resources', 'chart-monitors']);
      for (const c of charts) assert.ok(c.width > 300 && c.height > 100, `${c.id} has a canvas: ${c.width}x${c.height}`);
      const drawn = (id: string, color: string) =>
        assert.ok(byId[id]!.colors[color]! >= 20, `${id}: ${color} series drawn (${JSON.stringify(byId[id]!.colors)})`);
      drawn('chart-throughput', 'blue');
      drawn('chart-latency', 'green');
      drawn('chart-latency', 'amber');
      drawn('chart-latency', 'red');
      drawn('chart-load', 'blue');
      drawn('chart-resources', 'orange');
      drawn('chart-resources', 'purple');
      drawn('chart-monitors', 'blue');
      drawn('chart-monitors', 'orange');
      // A monitor's name reaches the page as legend text only.
      assert.ok(byId['chart-monitors']!.legend.includes(HOSTILE.close), byId['chart-monitors']!.legend.join(' | '));
      const latLegend = byId['chart-latency']!.legend.join(' | ');
      for (const l of ['p50', 'p95', 'p99', 'SLO p99 < 30ms', 'SLO p95 < 25ms in stage 3', `SLO ${HOSTILE.close}`])
        assert.ok(latLegend.includes(l), `${l} in ${latLegend}`);

      const dom = await page.evaluate(() => ({
        imgs: document.querySelectorAll('img').length,
        scripts: document.querySelectorAll('script').length,
        badge: document.querySelector('.badge')?.textContent,
        stageCell: [...document.querySelectorAll('.stats tbody th')].map((th) => th.textContent).find((t) => t?.startsWith('3. ')),
      }));
      assert.deepEqual(dom, { imgs: 0, scripts: 3, badge: v.pass ? 'PASS' : 'FAIL', stageCell: `3. ${HOSTILE.img}` });

      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-output/html-report.png'), fullPage: true });

      // Hovering the latency chart shows the values under the cursor, in every chart (synchronized cursors).
      await page.locator('#chart-latency').scrollIntoViewIfNeeded();
      const over = (await page.locator('#chart-latency .u-over').boundingBox())!;
      await page.mouse.move(over.x + over.width * 0.5, over.y + over.height / 2, { steps: 4 });
      const values = await page.evaluate(() =>
        ['chart-throughput', 'chart-latency', 'chart-load'].map((id) =>
          [...document.querySelectorAll(`#${id} .u-legend .u-value`)].map((e) => e.textContent),
        ),
      );
      for (const vs of values) {
        assert.match(vs[0] ?? '', /^0:0\d$/, `time under the cursor: ${vs.join(', ')}`);
        assert.ok(
          vs.slice(1).some((x) => x !== '-'),
          `values under the cursor: ${vs.join(', ')}`,
        );
      }
      assert.match(values[1]![1] ?? '', /^\d[\d.]* ms$/, 'p50 in ms');
      assert.deepEqual(problems, []);

      for (const other of [emptyFile, hourFile]) {
        const o = await open(other);
        const n = await o.page.evaluate(() => document.querySelectorAll('.uplot canvas').length);
        assert.equal(n, other === hourFile ? 4 : 3, `${other}: charts`);
        assert.deepEqual(o.problems, [], other);
      }

      assert.deepEqual(blocked, [], 'nothing was fetched from the network');
      assert.ok(requests.length > 0 && requests.every((u) => u.startsWith('file:')), requests.join(', '));
    } finally {
      await browser.close();
    }
  });
});
