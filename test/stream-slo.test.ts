// SLOs on streamed answers (issue 12): the lines (statistics of TTFT, ITL, TPOT and E2E, output-tps,
// goodput and attainment with their per-request objectives), their errors, the objective sets a plan
// carries, and their evaluation against results built by hand with real histograms.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, buildPlan, readConfigFile } from '../src/plan/config.ts';
import { SloSyntaxError, parseSloLine, requestObjectiveSets, resolveSlo } from '../src/plan/slo.ts';
import type { Slo } from '../src/plan/types.ts';
import { abortingSlo, evaluate, evaluateSlo } from '../src/verdict/evaluate.ts';
import { streamFor, streamWarnings } from '../src/verdict/stream.ts';
import { constructedResult } from './fixtures/result.ts';
import { SET, streamCell, streamResult } from './fixtures/stream-result.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const plan = { stageNames: ['low', 'high'], endpointNames: ['chat', 'plain'], warmupMs: 0, streaming: [true, false] };
const slo = (line: string, p = plan): Slo => resolveSlo(parseSloLine(line), p);

describe('stream SLO lines', () => {
  it('parses every form: a statistic of ttft, itl, tpot or e2e, output-tps, goodput and attainment', () => {
    const cases: Array<[string, Partial<Slo>]> = [
      ['p99 ttft < 300ms', { metric: { kind: 'stream', of: 'ttft', stat: 'percentile', percentile: 99 }, op: '<', threshold: 300 }],
      ['ttft p99 < 300ms', { metric: { kind: 'stream', of: 'ttft', stat: 'percentile', percentile: 99 }, threshold: 300 }],
      ['p95 itl < 50ms', { metric: { kind: 'stream', of: 'itl', stat: 'percentile', percentile: 95 }, threshold: 50 }],
      ['median ITL <= 20ms', { metric: { kind: 'stream', of: 'itl', stat: 'percentile', percentile: 50 }, op: '<=' }],
      ['mean tpot < 30ms', { metric: { kind: 'stream', of: 'tpot', stat: 'mean' }, threshold: 30 }],
      ['max e2e < 10s', { metric: { kind: 'stream', of: 'e2e', stat: 'max' }, threshold: 10_000 }],
      ['min ttft >= 1ms', { metric: { kind: 'stream', of: 'ttft', stat: 'min' }, op: '>=', threshold: 1 }],
      ['p(99.9) e2el < 1.1s', { metric: { kind: 'stream', of: 'e2e', stat: 'percentile', percentile: 99.9 }, threshold: 1100 }],
      ['output-tps >= 100', { metric: { kind: 'output-tps' }, op: '>=', threshold: 100 }],
      ['output-tps >= 100tok/s', { threshold: 100 }],
      [
        'p99 ttft < 300ms in stage 2 for endpoint chat, abort after 30s',
        { stage: 1, endpoint: 0, abortOnFail: true, abortAfterMs: 30_000 },
      ],
      ['p99 < 100ms, abort', { metric: { kind: 'latency', stat: 'percentile', percentile: 99 }, abortOnFail: true }],
    ];
    for (const [line, want] of cases) {
      const got = slo(line);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof Slo], v, `${line}: ${k}`);
      assert.equal(got.text, line);
    }
  });

  it('reads goodput and attainment with their per-request objectives; the comma before abort starts the options', () => {
    const a = slo('attainment >= 99% for ttft < 300ms, tpot < 50ms');
    assert.deepEqual(a.metric, {
      kind: 'attainment',
      objectives: {
        id: 'ttft < 300ms, tpot < 50ms',
        objectives: [
          { metric: 'ttft', belowMs: 300, inclusive: false },
          { metric: 'tpot', belowMs: 50, inclusive: false },
        ],
      },
    });
    assert.equal(a.threshold, 0.99);
    assert.equal(a.abortOnFail, false);
    const g = slo('goodput >= 5/s for ttft < 300ms, tpot < 50ms in stage high for endpoint chat, abort after 10s');
    assert.equal(g.metric.kind, 'goodput');
    assert.equal(g.threshold, 5);
    assert.deepEqual([g.stage, g.endpoint, g.abortOnFail, g.abortAfterMs], [1, 0, true, 10_000]);
    const x = slo('attainment >= 0.95 for itl <= 100ms and e2e < 10s, latency < 12s including warm-up, abort');
    assert.equal(x.threshold, 0.95);
    assert.equal(x.abortOnFail, true);
    assert.equal(x.metric.kind === 'attainment' && x.metric.objectives.id, 'latency < 12s, itl <= 100ms, e2e < 10s');
  });

  it('gives the same objectives one set id however they are written, and the plan one set per id', () => {
    const slos = [
      slo('attainment >= 99% for ttft < 300ms, tpot < 50ms'),
      slo('goodput >= 2 for tpot < 0.05s, ttft < 300ms in stage 2'),
      slo('attainment >= 90% for ttft < 300ms'),
      slo('p99 ttft < 1s'),
    ];
    const sets = requestObjectiveSets(slos);
    assert.deepEqual(
      sets.map((s) => s.id),
      ['ttft < 300ms, tpot < 50ms', 'ttft < 300ms'],
    );
  });

  it('rejects bad lines with a message that says what is wrong', () => {
    const bad: Array<[string, RegExp]> = [
      ['ttft < 300ms', /ttft needs a statistic over the answers, e\.g\. "p99 ttft < 300ms".*per-request objective/],
      ['p99 foo < 1ms', /unknown metric "p99 foo" \(expected .*p99 ttft/],
      ['p99 ttft ~ 1ms', /unknown operator "~"/],
      ['p99 ttft < 300', /latency needs a unit/],
      ['p99 ttft itl < 300ms', /expected "<metric> <operator> <value>"|unknown/],
      ['ttft itl < 300ms', /unknown metric "ttft itl"/],
      ['last ttft < 300ms', /unknown statistic "last" of ttft/],
      ['p101 tpot < 1ms', /percentile must be above 0 and at most 100/],
      ['output-tps >= 100ms', /output tokens per second/],
      ['goodput >= 5ms for ttft < 1s', /goodput is in requests per second/],
      ['attainment >= 150% for ttft < 1s', /at most 100%/],
      ['attainment >= 99 for ttft < 1s', /did you mean 99%\?/],
      ['attainment >= 99%', /attainment needs the per-request objectives .* "attainment >= 99% for ttft < 300ms, tpot < 50ms"/],
      ['goodput >= 5 in stage 1', /goodput needs the per-request objectives/],
      ['attainment >= 99% for ttft > 300ms', /a per-request objective is a limit a request stays under: "ttft < 300ms" or "<=", not ">"/],
      ['attainment >= 99% for speed < 300ms', /unknown per-request objective "speed" \(expected latency, ttft, itl, tpot or e2e\)/],
      ['attainment >= 99% for ttft < 300', /latency needs a unit/],
      ['attainment >= 99% for ttft < 300ms, ttft < 1s', /ttft is given twice among the per-request objectives/],
      ['attainment >= 99% for ttft < 1s for tpot < 1s', /the per-request objectives are given twice/],
      ['attainment >= 99% for ttft < 300ms, loudly', /unknown option "loudly"/],
      ['attainment >= 99% for ttft < 300ms, abort, tpot < 50ms', /unknown option "tpot < 50ms"/],
      ['attainment >= 99% for ttft < 300ms during lunch', /unexpected "during lunch" \(expected "for ttft < 300ms, tpot < 50ms"/],
      ['p99 ttft < 1s for tpot < 50ms', /per-request objectives \("for tpot < 50ms"\) belong to goodput and attainment lines/],
      [
        'p99 ttft < 1s for endpoint plain',
        /ttft is measured on streamed answers, and endpoint "plain" does not stream \(endpoints that stream: "chat"\)/,
      ],
      ['output-tps >= 1 for endpoint plain', /output-tps is measured on streamed answers, and endpoint "plain" does not stream/],
      ['attainment >= 99% for ttft < 1s for endpoint plain', /the objective ttft < 1s is measured on streamed answers/],
      ['peak-rps >= 1 for endpoint chat', /cannot be scoped to an endpoint/],
    ];
    for (const [line, re] of bad) {
      assert.throws(
        () => slo(line),
        (e: unknown) => e instanceof SloSyntaxError && re.test(e.message),
        `line ${JSON.stringify(line)}`,
      );
    }
  });

  it('a stream SLO where no endpoint streams is refused; objectives on latency alone need no stream', () => {
    const none = { ...plan, streaming: [false, false] };
    for (const line of ['p99 ttft < 1s', 'mean tpot < 30ms', 'output-tps >= 1', 'goodput >= 1 for itl < 50ms']) {
      assert.throws(
        () => slo(line, none),
        (e: unknown) => e instanceof SloSyntaxError && /is measured on streamed answers, and no endpoint streams/.test(e.message),
        line,
      );
    }
    assert.equal(slo('attainment >= 99% for latency < 1s', none).metric.kind, 'attainment');
    assert.equal(
      slo('p99 ttft < 1s', { ...plan, streaming: undefined } as never).metric.kind,
      'stream',
      'without the information, no check',
    );
  });

  it('in a config: a stream SLO without a streaming endpoint is a ConfigError naming its line; sets go into the plan', () => {
    const dir = tempDir('loadgate-stream-slo-');
    const base = 'service: {url: "http://127.0.0.1:8000"}\nrequest: {path: /predict}\nload: {stages: [{duration: 1s, users: 1}]}\n';
    const bad = writeFile(dir, 'bad.yml', `${base}slos:\n  - errors == 0\n  - p99 ttft < 300ms\n`);
    assert.throws(
      () => buildPlan(readConfigFile(bad)),
      (e: unknown) =>
        e instanceof ConfigError &&
        /bad\.yml:6 slos\[1\]: "p99 ttft < 300ms": ttft is measured on streamed answers, and no endpoint streams/.test(e.message),
    );
    const good = writeFile(
      dir,
      'good.yml',
      `${base}slos:\n  - attainment >= 99% for latency < 1s\n  - goodput >= 1 for latency < 1000ms\n`,
    );
    const p = buildPlan(readConfigFile(good));
    assert.deepEqual(p.requestObjectives, [{ id: 'latency < 1s', objectives: [{ metric: 'latency', belowMs: 1000, inclusive: false }] }]);
    const plain = writeFile(dir, 'plain.yml', `${base}slos: [p99 < 1s]\n`);
    assert.equal(buildPlan(readConfigFile(plain)).requestObjectives, undefined, 'no goodput or attainment: no sets');
  });
});

describe('the documented stream SLOs', () => {
  it("every line of the README's stream SLO block, and of the LLM example config, parses", () => {
    const md = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const from = md.indexOf('**Streamed answers**');
    const block = md.slice(md.indexOf('```yaml', from), md.indexOf('```\n', md.indexOf('```yaml', from) + 7));
    const example = readFileSync(join(import.meta.dirname, '..', 'examples', 'llm-chat', 'loadgate.yml'), 'utf8');
    const exampleSlos = example.slice(example.indexOf('\nslos:'), example.indexOf('\ntimeout:'));
    // The example's lines, and those it keeps commented out until they can run ("# - p99 ttft < 300ms").
    const lines = [block, exampleSlos].flatMap((text) =>
      text
        .split('\n')
        .filter((l) => /^ {2}(# )?- /.test(l))
        .map((l) =>
          l
            .replace(/^ {2}(# )?- /, '')
            .replace(/(^|\s)#.*$/, '')
            .trim(),
        ),
    );
    assert.ok(lines.length >= 10, lines.join(' / '));
    for (const want of [
      'p99 ttft < 300ms',
      'attainment >= 99% for ttft < 300ms, tpot < 50ms',
      'goodput >= 5/s for ttft < 300ms, tpot < 50ms',
    ])
      assert.ok(lines.includes(want), want);
    const p = { stageNames: ['a', 'b', 'c'], endpointNames: ['chat'], warmupMs: 0, streaming: [true] };
    for (const line of lines) assert.doesNotThrow(() => resolveSlo(parseSloLine(line), p), line);
  });
});

describe('stream SLO evaluation', () => {
  const r = streamResult();
  const judge = (line: string) => evaluateSlo(r, slo(line));

  it('merges the cells of a scope as latency does', () => {
    const all = streamFor(r);
    assert.equal(all.stream!.streams, 20);
    assert.equal(all.requests, 32);
    assert.equal(all.good[SET], 20);
    assert.equal(streamFor(r, { stage: 0 }).stream!.streams, 10);
    assert.equal(streamFor(r, { endpoint: 1 }).stream, null, 'the plain endpoint kept no streams');
    assert.equal(streamFor(constructedResult()).stream, null);
  });

  it('judges statistics of TTFT, ITL, TPOT and E2E over the scope', () => {
    const p99 = judge('p99 ttft < 300ms');
    assert.ok(Math.abs(p99.observed! - 400) <= 0.4, String(p99.observed));
    assert.equal(p99.pass, false);
    assert.equal(p99.sentence, 'p99 TTFT 400 ms is above 300 ms over the whole run');
    assert.deepEqual(p99.labels, { metric: 'p99 TTFT', objective: '< 300 ms', observed: '400 ms', scope: 'whole run' });
    const low = judge('p99 ttft < 300ms in stage 1');
    assert.equal(low.pass, true);
    assert.equal(low.sentence, 'p99 TTFT 100 ms is below 300 ms in stage 1 (low)');
    assert.equal(judge('mean tpot < 30ms').observed, 35, 'the exact mean: 10 answers of 20 ms and 10 of 50 ms');
    assert.ok(Math.abs(judge('p95 itl < 50ms').observed! - 50) <= 0.05);
    assert.equal(judge('p95 itl <= 50ms for endpoint chat').pass, true);
    assert.equal(judge('max e2e < 1s').observed, 900);
    assert.equal(judge('min e2e >= 300ms').pass, true);
  });

  it('output-tps: tokens over the scope seconds, or chunks when no server sent usage (and says so)', () => {
    const tps = judge('output-tps >= 100');
    assert.equal(tps.observed, 220 / 20);
    assert.equal(tps.pass, false);
    assert.equal(tps.sentence, 'output tokens/s 11.0 tok/s (220 tokens in 20.0 s) is below 100 tok/s over the whole run');
    assert.equal(judge('output-tps >= 10 in stage 2').observed, 11);
    const chunks = evaluateSlo(streamResult({ usage: false }), slo('output-tps >= 10'));
    assert.equal(chunks.observed, 11);
    assert.equal(chunks.pass, true);
    assert.equal(chunks.labels.observed, '11.0 chunks/s');
    assert.match(
      chunks.sentence,
      /^output chunks\/s 11\.0 chunks\/s .* \(counted in chunks \(content events\): the server sent no token usage/,
    );
  });

  it('goodput: requests that met every objective per second; attainment: their share of all requests, failures included', () => {
    const att = judge('attainment >= 99% for ttft < 300ms, tpot < 50ms');
    assert.equal(att.observed, 20 / 32);
    assert.equal(att.pass, false);
    assert.equal(
      att.sentence,
      'attainment 62.5% (20 of 32 requests met ttft < 300ms, tpot < 50ms; a failed request did not) is below 99.0% over the whole run',
    );
    const chat = judge('attainment >= 99% for tpot < 50ms, ttft < 300ms for endpoint chat');
    assert.equal(chat.observed, 10 / 22, 'the two cut streams count against it');
    assert.equal(judge('attainment >= 99% for ttft < 300ms, tpot < 50ms in stage 1').pass, true);
    const good = judge('goodput >= 5/s for ttft < 300ms, tpot < 50ms');
    assert.equal(good.observed, 1);
    assert.equal(
      good.sentence,
      'goodput 1.0 req/s (20 of 32 requests met ttft < 300ms, tpot < 50ms, over 20.0 s) is below 5.0 req/s over the whole run',
    );
    assert.equal(judge('goodput >= 1/s for ttft < 300ms, tpot < 50ms in stage 1 for endpoint chat').observed, 1);
    assert.equal(judge('goodput >= 1/s for ttft < 300ms, tpot < 50ms in stage 2 for endpoint chat').observed, 0);
  });

  it('with no streamed answers a stream SLO fails, saying so, and never passes', () => {
    const plain = constructedResult();
    const p = { stageNames: ['one', 'two'], endpointNames: ['a', 'b'], warmupMs: 0 };
    for (const line of [
      'p99 ttft < 1h',
      'max itl >= 0ms',
      'output-tps >= 0',
      'attainment >= 0% for ttft < 1h',
      'goodput >= 0 for tpot < 1h',
    ]) {
      const o = evaluateSlo(plain, resolveSlo(parseSloLine(line), p));
      assert.equal(o.observed, null, line);
      assert.equal(o.pass, false, line);
      assert.match(o.sentence, /could not be measured over the whole run: no streamed answers were measured$/, line);
    }
    // Latency objectives alone are judged on any request.
    const lat = evaluateSlo(plain, resolveSlo(parseSloLine('attainment >= 0% for latency < 1s'), p));
    assert.equal(lat.observed, 0, 'no cell counted any request as good');
    // Every stream of stage 2 cut: that stage has no answer to judge, stage 1 still has.
    const cut = streamResult();
    cut.cells[1]![0] = streamCell(0, { ttftMs: 1, gapsMs: [] }, 12, 0);
    const empty = evaluateSlo(cut, slo('p99 ttft < 1s in stage 2'));
    assert.equal(empty.pass, false);
    assert.equal(empty.sentence, 'p99 TTFT could not be measured in stage 2 (high): no streamed answers were measured');
    assert.equal(evaluateSlo(cut, slo('p99 ttft < 1s in stage 1')).pass, true);
    assert.equal(evaluateSlo(cut, slo('attainment >= 50% for ttft < 1s in stage 2 for endpoint chat')).observed, null);
    // A stream of one-event answers has a TTFT but no gap: ITL cannot be measured, and says why.
    const one = streamResult();
    for (const row of one.cells) {
      const s = row[0]!.stream!;
      s.itl.reset();
      s.tpot.reset();
    }
    assert.match(evaluateSlo(one, slo('p99 itl < 1s')).sentence, /no gap between them$/);
    assert.match(evaluateSlo(one, slo('mean tpot < 1s')).sentence, /had 2 or more output tokens$/);
    // Every answer one JSON document: said as such, not as short answers.
    for (const row of one.cells) row[0]!.stream!.nonStreaming = row[0]!.stream!.streams;
    assert.match(evaluateSlo(one, slo('p99 itl < 1s')).sentence, /: all 20 answers came as one JSON document, not as a stream/);
  });

  it('leaves the warm-up out unless the line includes it', () => {
    const w = streamResult();
    w.warmupMs = 10_000;
    w.segments[0]!.warmup = true;
    const p = { ...plan, warmupMs: 10_000 };
    assert.equal(evaluateSlo(w, slo('min ttft >= 300ms', p)).observed, 400, 'stage 1 was the warm-up');
    assert.equal(evaluateSlo(w, slo('min ttft >= 300ms including warm-up', p)).observed, 100);
    const g = evaluateSlo(w, slo('goodput >= 1 for ttft < 300ms, tpot < 50ms', p));
    assert.equal(g.observed, 5 / 10, 'the plain requests after the warm-up, over its 10 s');
    assert.match(g.sentence, /after the 10\.0 s warm-up$/);
  });

  it('an abort-marked stream SLO waits for data, then stops the run when it fails', () => {
    const none = constructedResult();
    const s = resolveSlo(parseSloLine('p99 ttft < 300ms, abort'), { stageNames: ['one', 'two'], endpointNames: ['a', 'b'], warmupMs: 0 });
    assert.equal(abortingSlo(none, [s], 60_000), null);
    assert.equal(abortingSlo(r, [slo('p99 ttft < 300ms, abort')], 60_000)?.slo.text, 'p99 ttft < 300ms, abort');
  });

  it('the verdict warns when most answers did not stream', () => {
    assert.deepEqual(streamWarnings(r), []);
    assert.equal(evaluate(r, []).warnings, undefined);
    const buffered = streamResult({ buffered: 22 });
    const w = streamWarnings(buffered);
    assert.equal(w.length, 1);
    assert.match(
      w[0]!,
      /^most answers did not stream: 22 of 42 came whole \(22 buffered to the end of the stream\)\. .*TTFT is close to E2E/,
    );
    assert.deepEqual(evaluate(buffered, []).warnings, w);
    assert.deepEqual(streamWarnings(streamResult({ buffered: 19 })), [], '19 of 39 is under half');
  });
});
