// `loadgate run --shard 1/2` and `--shard 2/2` at the same time against one local server, then
// `loadgate merge`: the merged result counts the shards' requests (the plan's whole schedule), its p50
// agrees with a single run at the full rate, and every report is written. A shard missing, a result of
// another plan, and merging a single run (its own reports again) end to end too; late and failed
// shards on crafted results.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { percentileMs } from '../src/metrics/histogram.ts';
import { type RunResult, parseRunResult, statsFor } from '../src/metrics/result.ts';
import { shardProblems } from '../src/run/merge.ts';
import { closeAllServers, startServer } from './helpers/http.ts';
import { CLI, type Finished, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir } from './helpers/tmp.ts';

after(killChildren);
after(closeAllServers);
after(removeTempDirs);

const RATE = 40;
const SECONDS = 3;
const DELAY_MS = 15;

const run = (args: string[]): Promise<Finished> => startNode([CLI, ...args], { timeoutMs: 30_000 }).exited;
const read = (dir: string): RunResult => parseRunResult(readFileSync(join(dir, 'result.json'), 'utf8'));
const p50 = (r: RunResult) => percentileMs(statsFor(r).latency, 50)!;

describe('two shards at a combined rate, merged', () => {
  const dir = tempDir('loadgate-merge-');
  const shardDirs = [join(dir, 's1'), join(dir, 's2')];
  const singleDir = join(dir, 'single');
  const mergedDir = join(dir, 'merged');
  let url = '';
  const flags = () => [
    '--url',
    url,
    '--path',
    '/p',
    '--rate',
    String(RATE),
    '--duration',
    `${SECONDS}s`,
    '--slo',
    'p99 < 2000ms',
    '--slo',
    'errors == 0',
  ];

  before(async () => {
    const srv = await startServer({ delayMs: DELAY_MS });
    url = srv.url;
    // The shards together, as two matrix jobs would run them; then one run with the whole load.
    const shards = await Promise.all(shardDirs.map((out, i) => run(['run', ...flags(), '--shard', `${i + 1}/2`, '--out', out])));
    for (const r of shards) assert.equal(r.code, 0, r.stderr + r.stdout);
    const single = await run(['run', ...flags(), '--out', singleDir]);
    assert.equal(single.code, 0, single.stderr);
  });

  it('merges into one verdict and every report; the counts are the sum, the schedule the plan', async () => {
    const r = await run(['merge', ...shardDirs, '--out', mergedDir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /shard 1\/2 from .*s1: completed/);
    const merged = read(mergedDir);
    const [a, b] = shardDirs.map(read);
    assert.equal(statsFor(merged).requests, statsFor(a!).requests + statsFor(b!).requests);
    assert.equal(statsFor(merged).requests, RATE * SECONDS, "the plan's whole schedule");
    assert.deepEqual(
      merged.plan?.shards?.map((s) => [s.index, s.count, s.status]),
      [
        [0, 2, 'completed'],
        [1, 2, 'completed'],
      ],
    );
    assert.equal(merged.plan?.fingerprint, read(singleDir).plan?.fingerprint, 'the shards ran the plan of the single run');
    assert.equal(merged.stages[0]!.rate, RATE);
    for (const f of ['report.html', 'report.md', 'junit.xml', 'loadgate_stats.csv', 'loadgate_stats_history.csv'])
      readFileSync(join(mergedDir, f));
    const verdict = (
      JSON.parse(readFileSync(join(mergedDir, 'result.json'), 'utf8')) as { verdict: { pass: boolean; outcomes: unknown[] } }
    ).verdict;
    assert.equal(verdict.pass, true);
    assert.equal(verdict.outcomes.length, 2, "judged on the shards' SLOs");
    // A shard is not judged on the whole plan's SLOs (its throughput is a part of the plan's): the merge is.
    const shardVerdict = (JSON.parse(readFileSync(join(shardDirs[0]!, 'result.json'), 'utf8')) as { verdict: { outcomes: unknown[] } })
      .verdict;
    assert.equal(shardVerdict.outcomes.length, 0);
    assert.equal(a!.plan?.slos.length, 2, 'but it records them for the merge');
  });

  it('the merged p50 agrees with a single run at the full rate', () => {
    const merged = p50(read(mergedDir));
    const single = p50(read(singleDir));
    const own = shardDirs.map((d) => p50(read(d)));
    assert.ok(merged >= DELAY_MS && single >= DELAY_MS);
    // Between the shards' own medians (a merged median always is), and within the run-to-run spread of
    // a run at this load: a few ms over a 15 ms service time on a shared machine.
    assert.ok(merged >= Math.min(...own) && merged <= Math.max(...own), `${merged} vs shards ${own}`);
    assert.ok(Math.abs(merged - single) <= Math.max(5, single * 0.3), `merged p50 ${merged} ms vs single ${single} ms`);
  });

  it('a missing shard fails the verdict as an incomplete run, unless allowed', async () => {
    const out = join(dir, 'one');
    const r = await run(['merge', shardDirs[0]!, '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /incomplete run\\?: shard 2\/2 is missing/);
    const allowed = await run(['merge', shardDirs[0]!, '--out', out, '--allow-incomplete']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /Allowed, incomplete: shard 2\/2 is missing/);
  });

  it('refuses a shard of another plan, naming both', async () => {
    const r = await run(['merge', shardDirs[0]!, singleDir, '--out', join(dir, 'x')]);
    // The single run is the same plan unsharded (1/1): another split, refused.
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^loadgate: the shards split the plan differently: .*s1 is 1\/2, .*single is 1\/1/);
    const other = join(dir, 'other');
    const o = await run(['run', '--url', url, '--path', '/q', '--rate', '10', '--duration', '1s', '--shard', '2/2', '--out', other]);
    assert.equal(o.code, 0, o.stderr);
    const m = await run(['merge', shardDirs[0]!, other, '--out', join(dir, 'y')]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /different plans, not parts of one: .*s1 \(plan [0-9a-f]{16}\) and .*other \(plan [0-9a-f]{16}\)/);
  });

  it('merging one whole run writes its own reports again', async () => {
    const out = join(dir, 'again');
    const r = await run(['merge', singleDir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['loadgate_stats.csv', 'loadgate_stats_history.csv', 'loadgate_failures.csv', 'junit.xml']) {
      assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(singleDir, f), 'utf8'), f);
    }
  });
});

describe('what makes a merged run incomplete', () => {
  const merged = (shards: Array<{ index: number; startOffsetMs: number; status?: 'completed' | 'interrupted' }>, count = 3): RunResult =>
    ({
      durationMs: 60_000,
      stages: [{ index: 0, name: 's', startMs: 0, endMs: 60_000 }],
      plan: {
        fingerprint: 'f',
        slos: [],
        shards: shards.map((s) => ({
          index: s.index,
          count,
          from: `dir${s.index + 1}`,
          startedAt: '',
          startOffsetMs: s.startOffsetMs,
          durationMs: 60_000,
          status: s.status ?? 'completed',
          ...(s.status === 'interrupted' ? { reason: 'interrupted by SIGTERM' } : {}),
          target: 'http://x',
        })),
      },
    }) as unknown as RunResult;

  it('names missing, late and failed shards; a start within max(2 s, 5%) is on time', () => {
    assert.deepEqual(
      shardProblems(
        merged([
          { index: 0, startOffsetMs: 0 },
          { index: 1, startOffsetMs: 2900 },
          { index: 2, startOffsetMs: 1000 },
        ]),
      ),
      [],
    );
    assert.deepEqual(
      shardProblems(
        merged([
          { index: 0, startOffsetMs: 0 },
          { index: 2, startOffsetMs: 3100, status: 'interrupted' },
        ]),
      ),
      [
        'shard 2/3 is missing',
        'shard 3/3 (dir3) started 3.1 s after the first (more than 3 s)',
        'shard 3/3 (dir3) interrupted: interrupted by SIGTERM',
      ],
    );
  });
});
