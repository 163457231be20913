// Rounds of a run (src/metrics/rounds.ts): kept losslessly through JSON, and one side's rounds merged into
// the run the absolute SLOs judge. Two real rounds against a local HTTP server.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../src/load/engine.ts';
import { statsFor, type RunResult } from '../src/metrics/result.ts';
import { mergeRounds, parseRounds, serializeRounds } from '../src/metrics/rounds.ts';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.end('ok'), 2));
});
let base = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function round(): Promise<RunResult> {
  return runLoad({
    baseUrl: base,
    endpoints: [{ name: 'get', method: 'GET', path: '/', headers: {}, body: { kind: 'none' }, weight: 1, okStatus: [[200, 399]] }],
    load: { model: 'closed', perUserRate: 0, stages: [{ name: 'one', durationMs: 300, users: 1, spawnRate: 0 }] },
    timeoutMs: 2000,
    seed: 1,
    warmupMs: 100,
  });
}

describe('rounds', () => {
  it('survive JSON with their histograms, and merge into one run with every request counted', async () => {
    const a = await round();
    const b = await round();
    const rounds = [
      { side: 'candidate' as const, pair: 0, seq: 0, warmup: false, result: a },
      { side: 'candidate' as const, pair: 1, seq: 1, warmup: false, excluded: 'why', result: b },
    ];
    const back = parseRounds(JSON.parse(JSON.stringify(serializeRounds(rounds))));
    assert.equal(back[1]!.excluded, 'why');
    assert.equal(statsFor(back[0]!.result).latency.totalCount, statsFor(a).latency.totalCount);
    assert.equal(statsFor(back[0]!.result).latency.getValueAtPercentile(99), statsFor(a).latency.getValueAtPercentile(99));
    const m = mergeRounds([a, b]);
    assert.equal(statsFor(m).requests, statsFor(a).requests + statsFor(b).requests);
    assert.equal(
      statsFor(m, { excludeWarmup: true }).requests,
      statsFor(a, { excludeWarmup: true }).requests + statsFor(b, { excludeWarmup: true }).requests,
    );
    // Each stage ran once per round: its span doubles, so its rate per second stays the rounds' rate.
    assert.equal(m.stages[0]!.endMs, 600);
    assert.equal(m.durationMs, a.durationMs + b.durationMs);
    assert.ok(m.timeline.at(-1)!.t > a.timeline.at(-1)!.t);
  });
});
