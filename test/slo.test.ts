import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../src/load/engine.ts';
import { statsFor } from '../src/metrics/result.ts';
import { abortingSlo, evaluate, evaluateSlo } from '../src/verdict/evaluate.ts';
import { SloSyntaxError, parseSloLine, resolveSlo } from '../src/plan/slo.ts';
import type { EndpointPlan, Slo } from '../src/plan/types.ts';
import { constructedResult } from './fixtures/result.ts';

const plan = { stageNames: ['one', 'two'], endpointNames: ['a', 'b'], warmupMs: 0 };
const slo = (line: string, p = plan): Slo => resolveSlo(parseSloLine(line), p);

describe('SLO lines', () => {
  it('parses every documented form', () => {
    const cases: Array<[string, Partial<Slo>]> = [
      ['p99 < 100ms', { metric: { kind: 'latency', stat: 'percentile', percentile: 99 }, op: '<', threshold: 100 }],
      ['p95 <= 250ms in stage 2', { metric: { kind: 'latency', stat: 'percentile', percentile: 95 }, op: '<=', threshold: 250, stage: 1 }],
      ['p99.9 < 1s for endpoint b', { metric: { kind: 'latency', stat: 'percentile', percentile: 99.9 }, threshold: 1000, endpoint: 1 }],
      ['p(90) < 1.5s', { metric: { kind: 'latency', stat: 'percentile', percentile: 90 }, threshold: 1500 }],
      ['median < 500us', { metric: { kind: 'latency', stat: 'percentile', percentile: 50 }, threshold: 0.5 }],
      ['mean < 50ms', { metric: { kind: 'latency', stat: 'mean' }, threshold: 50 }],
      ['max < 1s', { metric: { kind: 'latency', stat: 'max' }, threshold: 1000 }],
      ['min >= 1ms', { metric: { kind: 'latency', stat: 'min' }, op: '>=', threshold: 1 }],
      ['error-rate < 0.1%', { metric: { kind: 'error-rate' }, threshold: 0.001 }],
      ['error-rate <= 0.05', { metric: { kind: 'error-rate' }, op: '<=', threshold: 0.05 }],
      ['errors == 0', { metric: { kind: 'errors' }, op: '==', threshold: 0 }],
      ['errors = 0', { op: '==' }],
      ['errors < 10, abort', { metric: { kind: 'errors' }, threshold: 10, abortOnFail: true }],
      ['error-rate < 5%, abort after 30s', { abortOnFail: true, abortAfterMs: 30_000 }],
      ['rps >= 5', { metric: { kind: 'throughput', stat: 'mean' }, op: '>=', threshold: 5 }],
      ['peak-rps >= 5/s', { metric: { kind: 'throughput', stat: 'peak' }, threshold: 5 }],
      ['min-rps > 4 rps'.replace(' rps', 'rps'), { metric: { kind: 'throughput', stat: 'min' }, op: '>', threshold: 4 }],
      ['p99 < 100ms in stage "two" for endpoint a', { stage: 1, endpoint: 0 }],
      ['p50 != 3ms', { op: '!=' }],
    ];
    for (const [line, want] of cases) {
      const got = slo(line);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof Slo], v, `${line}: ${k}`);
      assert.equal(got.text, line);
    }
  });

  it('rejects bad lines with a message that says what is wrong', () => {
    const bad: Array<[string, RegExp]> = [
      ['p99x < 100ms', /unknown metric "p99x" \(expected p50, p90, p99/],
      ['latency < 100ms', /unknown metric "latency"/],
      ['p99 ~ 100ms', /unknown operator "~"/],
      ['p99 < 100', /latency needs a unit: "100ms" or "100s"\?/],
      ['p99 < 100 ms', /latency needs a unit|unexpected "ms"/],
      ['p99 < 100parsecs', /unknown latency unit "parsecs"/],
      ['p0 < 1ms', /percentile must be above 0/],
      ['p101 < 1ms', /percentile must be above 0 and at most 100/],
      ['error-rate < 150%', /at most 100%/],
      ['error-rate < 2', /did you mean 2%\?/],
      ['errors < 1.5', /a whole number/],
      ['errors < 5%', /errors is a count/],
      ['rps >= 5ms', /requests per second/],
      ['p99 < 100ms in stage 7', /unknown stage "7" \(the run has 2 stages: 1\.\.2, or by name: "one", "two"\)/],
      ['p99 < 100ms in stage three', /unknown stage "three"/],
      ['p99 < 100ms for endpoint zzz', /unknown endpoint "zzz" \(endpoints: "a", "b"\)/],
      ['peak-rps > 1 for endpoint a', /cannot be scoped to an endpoint/],
      ['p99 < 100ms during lunch', /unexpected "during lunch"/],
      ['p99 < 100ms, abort after soon', /"abort after" takes a duration/],
      ['p99 < 100ms, loudly', /unknown option "loudly"/],
      ['p99 < -5ms', /expected a number with its unit|cannot be negative/],
      ['', /empty SLO/],
      ['p99', /expected "<metric> <operator> <value>"/],
    ];
    for (const [line, re] of bad) {
      assert.throws(
        () => slo(line),
        (e: unknown) => e instanceof SloSyntaxError && re.test(e.message),
        `line ${JSON.stringify(line)}`,
      );
    }
  });

  it('leaves the warm-up out by default when the run has one, unless the line includes it', () => {
    const w = { ...plan, warmupMs: 5000 };
    assert.equal(slo('p99 < 1s', w).excludeWarmup, true);
    assert.equal(slo('p99 < 1s including warm-up', w).excludeWarmup, false);
    assert.equal(slo('p99 < 1s', plan).excludeWarmup, false);
  });
});

describe('evaluation', () => {
  const r = constructedResult(); // 4 requests: 5 ms ok, 7 ms 503, 1 s timeout, refused; stages one, two

  it('judges each SLO with its observed value and a sentence', () => {
    const v = evaluate(r, [
      slo('p99 < 100ms'),
      slo('errors == 0'),
      slo('error-rate < 80%'),
      slo('max <= 1s'),
      slo('p50 < 10ms in stage 1'),
    ]);
    assert.equal(v.pass, false);
    const [p99, errs, rate, max, p50] = v.outcomes;
    assert.equal(p99!.observed, 1000);
    assert.equal(p99!.pass, false);
    assert.equal(p99!.sentence, 'p99 latency 1.00 s is above 100 ms over the whole run');
    assert.deepEqual(p99!.labels, { metric: 'p99 latency', objective: '< 100 ms', observed: '1.00 s', scope: 'whole run' });
    assert.equal(errs!.sentence, '3 requests failed over the whole run, expected none');
    assert.equal(rate!.observed, 0.75);
    assert.equal(rate!.pass, true);
    assert.equal(rate!.sentence, 'error rate 75.0% (3 of 4 requests) is below 80.0% over the whole run');
    assert.equal(max!.pass, true, 'max 1 s <= 1 s');
    assert.equal(max!.sentence, 'max latency 1.00 s is equal to 1.00 s over the whole run');
    assert.ok(Math.abs(p50!.observed! - 5) <= 0.005, 'HDR answers within 0.1%');
    assert.equal(p50!.sentence, 'p50 latency 5.00 ms is below 10.0 ms in stage 1 (one)');
  });

  it('scopes to a stage and an endpoint', () => {
    assert.equal(evaluateSlo(r, slo('errors == 0 in stage 1 for endpoint a')).pass, true);
    assert.equal(evaluateSlo(r, slo('errors == 1 in stage 1 for endpoint b')).pass, true);
    assert.equal(evaluateSlo(r, slo('errors <= 1 for endpoint a')).sentence, '1 request failed for endpoint a, expected at most 1');
  });

  it('throughput: mean over the scope span, peak and min over whole seconds only', () => {
    // 2.6 s run, 4 requests: timeline seconds hold 2, 0 and a partial 0.6 s with 2.
    assert.ok(Math.abs(evaluateSlo(r, slo('rps >= 1')).observed! - 4 / 2.6) < 1e-9);
    assert.equal(evaluateSlo(r, slo('rps >= 1 in stage 2')).observed, 2 / 0.6);
    assert.equal(evaluateSlo(r, slo('peak-rps >= 5')).observed, 2);
    assert.equal(evaluateSlo(r, slo('peak-rps >= 5')).sentence, 'peak throughput 2.0 req/s is below 5.0 req/s over the whole run');
    assert.equal(evaluateSlo(r, slo('min-rps >= 1')).observed, 0, 'the partial last second is not a whole second');
  });

  it('says when nothing in scope was measured, and fails', () => {
    const o = evaluateSlo(r, slo('p99 < 1s in stage 2 for endpoint b'));
    assert.equal(o.observed, null);
    assert.equal(o.pass, false);
    assert.equal(o.sentence, 'p99 latency could not be measured for endpoint b in stage 2 (two): no response was measured');
  });

  it('shows more digits when rounding would hide why an SLO failed', () => {
    // The overall p50 is the 7 ms response, reported as its HDR bucket's top: a hair above 7 ms.
    const o = evaluateSlo(r, slo('p50 < 7ms'));
    assert.equal(o.pass, false);
    assert.match(o.sentence, /^p50 latency 7\.00\d ms is above 7\.00 ms/);
    assert.equal(o.labels.observed, '7.00 ms', 'tables keep the short form');
    assert.match(evaluateSlo(r, slo('p50 < 8ms')).sentence, /^p50 latency 7\.00 ms is below 8\.00 ms/);
  });

  it('fails the verdict on an aborted or interrupted run, whatever the SLOs say', () => {
    assert.equal(evaluate(r, []).pass, true);
    const died = evaluate({ ...r, status: 'aborted', reason: 'the service exited with code 1 during the run' }, []);
    assert.equal(died.pass, false);
    assert.deepEqual(died.problems, ['the run was aborted: the service exited with code 1 during the run']);
    const stopped = evaluate({ ...r, status: 'interrupted', reason: 'interrupted by SIGINT' }, []);
    assert.equal(stopped.pass, false);
    const bySlo = evaluate({ ...r, status: 'aborted', reason: 'x', abortedBy: 'errors == 0' }, [slo('errors == 0')]);
    assert.equal(bySlo.abortedBy, 'errors == 0');
    assert.deepEqual(bySlo.problems, [], 'an abort by an SLO is reported as that SLO, not as a problem');
  });

  it('abort check: only abort-marked SLOs, only once they fail, not before their delay', () => {
    const slos = [slo('p99 < 1ms'), slo('errors < 2, abort after 2s'), slo('max < 1h, abort')];
    assert.equal(abortingSlo(r, slos, 1000), null, 'errors has a 2 s delay; p99 is not marked abort');
    assert.equal(abortingSlo(r, slos, 2500)!.slo.text, 'errors < 2, abort after 2s');
    assert.equal(abortingSlo(r, [slo('p99 < 1s in stage 2 for endpoint b, abort')], 5000), null, 'no data yet is no failure');
  });
});

describe('warm-up and early abort in a real run', () => {
  let url = '';
  let requests = 0;
  const srv = createServer((_req, res) => {
    requests++;
    // The first 20 requests are slow (a cold model), then fast. Slow enough (400 ms) that the thresholds
    // below can sit far above what a busy 2-core machine adds to a fast request (stalls of 100+ ms seen).
    setTimeout(() => res.end('ok'), requests <= 20 ? 400 : 2);
  });
  before(async () => {
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  });
  after(() => {
    srv.closeAllConnections();
    srv.close();
  });

  const endpoints: EndpointPlan[] = [
    { name: 'p', method: 'GET', path: '/', headers: {}, body: { kind: 'none' }, weight: 1, okStatus: [[200, 399]] },
  ];

  it('an SLO that leaves out the warm-up judges only the rest', async () => {
    requests = 0;
    const r = await runLoad({
      baseUrl: url,
      endpoints,
      load: { model: 'open', maxInFlight: 100, stages: [{ name: 's', durationMs: 2000, rate: 40, ramp: false }] },
      timeoutMs: 5000,
      seed: 1,
      warmupMs: 600,
    });
    const w = { stageNames: ['s'], endpointNames: ['p'], warmupMs: 600 };
    const cold = evaluateSlo(r, slo('p99 < 200ms including warm-up', w));
    const warm = evaluateSlo(r, slo('p99 < 200ms', w));
    assert.equal(cold.pass, false, cold.sentence);
    assert.equal(warm.pass, true, warm.sentence);
    assert.match(warm.sentence, /after the 600 ms warm-up$/);
  });

  it('an abort-on-fail SLO stops the run early and the verdict names it', async () => {
    const slos = [slo('max < 10ms, abort', { stageNames: ['s'], endpointNames: ['p'], warmupMs: 0 })];
    requests = 0;
    const t0 = performance.now();
    const r = await runLoad({
      baseUrl: url,
      endpoints,
      load: { model: 'open', maxInFlight: 100, stages: [{ name: 's', durationMs: 10_000, rate: 20, ramp: false }] },
      timeoutMs: 5000,
      seed: 1,
      abortCheck: (soFar, elapsed) => {
        const o = abortingSlo(soFar, slos, elapsed);
        return o ? { by: o.slo.text, reason: `SLO "${o.slo.text}" failed: ${o.sentence}` } : null;
      },
    });
    assert.ok(performance.now() - t0 < 3000, 'stopped within about a second of the first breach');
    assert.equal(r.status, 'aborted');
    assert.equal(r.abortedBy, 'max < 10ms, abort');
    assert.match(r.reason!, /^SLO "max < 10ms, abort" failed: max latency \d+(\.\d+)? ms is above 10\.0 ms/);
    assert.ok(statsFor(r).requests < 60);
    const v = evaluate(r, slos);
    assert.equal(v.pass, false);
    assert.equal(v.abortedBy, 'max < 10ms, abort');
  });

  it('judges every second even when busy traffic closes the seconds (not the housekeeping tick)', async () => {
    // At 200 req/s a response closes nearly every second before the 100 ms tick does: the abort check
    // must still run once per second.
    const slos = [slo('errors == 0, abort', { stageNames: ['s'], endpointNames: ['p'], warmupMs: 0 })];
    const failing = createServer((_req, res) => {
      res.statusCode = 500;
      res.end('no');
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    try {
      const t0 = performance.now();
      const r = await runLoad({
        baseUrl: `http://127.0.0.1:${(failing.address() as { port: number }).port}`,
        endpoints,
        load: { model: 'open', maxInFlight: 100, stages: [{ name: 's', durationMs: 8000, rate: 200, ramp: false }] },
        timeoutMs: 5000,
        seed: 1,
        abortCheck: (soFar, elapsed) => {
          const o = abortingSlo(soFar, slos, elapsed);
          return o ? { by: o.slo.text, reason: o.sentence } : null;
        },
      });
      assert.equal(r.status, 'aborted');
      assert.ok(performance.now() - t0 < 3000, `aborted after ${Math.round(performance.now() - t0)} ms`);
    } finally {
      failing.closeAllConnections();
      failing.close();
    }
  });
});
