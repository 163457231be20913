import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatChecklist, formatProgress, formatSummary, generatorWarnings } from '../src/report/console.ts';
import { fmtMs, fmtPct } from '../src/format.ts';
import { failingVerdict, passingVerdict } from './fixtures/verdict.ts';
import { constructedResult } from './fixtures/result.ts';

describe('console output', () => {
  it('summarizes per stage and endpoint with the total last', () => {
    const text = formatSummary(constructedResult());
    const lines = text.split('\n');
    assert.match(lines[0]!, /requests\s+failures\s+req\/s\s+p50\s+p95\s+p99\s+max\s+mean/);
    assert.match(lines[1]!, /^1\. one\s+2\s+1 \(50\.0%\)/);
    assert.match(lines[2]!, /^2\. two\s+2\s+2 \(100\.0%\)/);
    assert.match(lines[3]!, /^a\s+2\s+1 \(50\.0%\)/, 'a row per endpoint when there are several');
    assert.match(lines[5]!, /^Total\s+4\s+3 \(75\.0%\)\s+1\.5\s+7\.00 ms\s+1\.00 s\s+1\.00 s\s+1\.00 s\s+337 ms/);
    assert.match(text, /Errors by kind: status 1, timeout 1, refused 1/);
    assert.match(text, /2 x b: connect ECONNREFUSED/);
    assert.match(text, /1 x b: HTTP 503 "<html>busy<\/html>"/);
    assert.ok(
      text.split('\n').every((l) => !/\x1b|\r/.test(l)),
      'plain text: no escapes',
    );
  });

  it('warns when the generator, not the service, may be the limit', () => {
    const r = constructedResult();
    assert.deepEqual(generatorWarnings(r), [
      'requests left up to 12.5 ms off their planned time (p99): the generator could not keep the schedule.',
    ]);
    delete r.sendLag;
    assert.deepEqual(generatorWarnings(r), []);
    r.generatorCpu = 0.95;
    assert.match(generatorWarnings(r)[0]!, /used 95\.0% of a CPU core: it may have been the bottleneck/);
    const open = { ...constructedResult(), load: { model: 'open' as const, maxInFlight: 2 }, delayedByCap: 7 };
    assert.match(generatorWarnings(open).join('\n'), /7 requests were held back by the service \(due while all 2 connections were busy/);
    assert.match(formatSummary(open), /Warning: 7 requests were held back by the service/);
  });

  it('prints one progress line with elapsed time, stage, load, rate, p95 and errors', () => {
    const line = formatProgress(
      {
        elapsedMs: 65_000,
        totalMs: 270_000,
        stage: 2,
        stageName: '3 users',
        users: 3,
        rps: 2.95,
        p95: 31.42,
        requests: 120,
        failures: 3,
        inFlight: 1,
      },
      9,
    );
    assert.equal(line, '[1m05s/4m30s] stage 3/9 3 users: users 3, 3.0 req/s, p95 31.4 ms, errors 3 (2.50%), in flight 1');
    const open = formatProgress(
      {
        elapsedMs: 1000,
        totalMs: 2000,
        stage: 0,
        stageName: 's',
        targetRate: 1500,
        rps: 1499.6,
        p95: null,
        requests: 0,
        failures: 0,
        inFlight: 0,
      },
      1,
    );
    assert.match(open, /rate 1,500\/s, 1,500 req\/s, p95 -, errors 0, in flight 0$/);
  });

  it('formats durations and shares readably', () => {
    assert.deepEqual([0.1234, 12.34, 123.4, 1234, 12_345].map(fmtMs), ['0.12 ms', '12.3 ms', '123 ms', '1.23 s', '12.3 s']);
    assert.deepEqual([0, 0.0001, 0.05, 0.5].map(fmtPct), ['0%', '0.010%', '5.00%', '50.0%']);
  });

  it('prints the SLO checklist with observed values, then the verdict', () => {
    const text = formatChecklist(constructedResult(), failingVerdict());
    assert.deepEqual(text.split('\n'), [
      'SLOs:',
      '  [FAIL] p99 < 100ms           observed 1.00 s: p99 latency 1.00 s is above 100 ms over the whole run',
      '  [FAIL] errors == 0           observed 3: 3 requests failed over the whole run, expected none',
      '  [pass] peak-rps >= 1         observed 2.0 req/s',
      '  [pass] p95 <= 2s in stage 2  observed 1.00 s',
      'FAIL: 2 of 4 SLOs breached.',
    ]);
    assert.match(formatChecklist(constructedResult(), passingVerdict()), /PASS: all 2 SLOs met\.$/);
    assert.equal(formatChecklist(constructedResult(), { pass: true, outcomes: [], problems: [] }), 'PASS: no SLOs set.');
    assert.match(
      formatChecklist(
        { ...constructedResult(), status: 'aborted' },
        { pass: false, outcomes: [], problems: ['the run was aborted: boom'] },
      ),
      /^Problem: the run was aborted: boom\nFAIL: no SLOs set, 1 problem with the run, run aborted\.$/,
    );
  });
});
