// `loadgate run --shard i/n` for 2 and 4 shards at one shared start-at against one local server, then
// `loadgate merge`: the merged result counts the shards' requests (the plan's whole schedule, at the plan's
// rate each second), its per-second percentiles are those of the shards' per-second histograms merged by
// hand, its p50 agrees with a single run at the full rate, and every report is written and names where
// each shard ran. A shard missing, late (its start-at already past), given twice or of another plan;
// --allow-incomplete; results without per-second histograms; merging a single run (its own reports
// again); start-at refused when far off, and its wait interrupted. Every rule of an incomplete run on
// crafted results too.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addEncodedCounts, mergeHistograms, newHistogram, percentileMs, setMaxUs } from '../src/metrics/histogram.ts';
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
/** A start-at this far ahead: long enough for the shards' processes to boot and reach it on a busy machine. */
const startAtIn = (ms: number) => new Date(Date.now() + ms).toISOString();
const read = (dir: string): RunResult => parseRunResult(readFileSync(join(dir, 'result.json'), 'utf8'));
const p50 = (r: RunResult) => percentileMs(statsFor(r).latency, 50)!;

describe('two shards at a combined rate, merged', () => {
  const dir = tempDir('loadgate-merge-');
  const shardDirs = [join(dir, 's1'), join(dir, 's2')];
  const quarterDirs = [1, 2, 3, 4].map((i) => join(dir, `q${i}`));
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
    '--slo',
    'peak-rps >= 30',
  ];

  before(async () => {
    const srv = await startServer({ delayMs: DELAY_MS });
    url = srv.url;
    // The shards together from one start-at, as matrix jobs would run them; then one run with the whole load.
    for (const dirs of [shardDirs, quarterDirs]) {
      const at = startAtIn(8000);
      const shards = await Promise.all(
        dirs.map((out, i) => run(['run', ...flags(), '--shard', `${i + 1}/${dirs.length}`, '--start-at', at, '--out', out])),
      );
      for (const r of shards) assert.equal(r.code, 0, r.stderr + r.stdout);
      for (const r of shards) assert.match(r.stdout, /Waiting \d+\.\d s for start-at/);
    }
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
    assert.equal(verdict.outcomes.length, 3, "judged on the shards' SLOs");
    // A shard is not judged on the whole plan's SLOs (its throughput is a part of the plan's): the merge is.
    const shardVerdict = (JSON.parse(readFileSync(join(shardDirs[0]!, 'result.json'), 'utf8')) as { verdict: { outcomes: unknown[] } })
      .verdict;
    assert.equal(shardVerdict.outcomes.length, 0);
    assert.equal(a!.plan?.slos.length, 3, 'but it records them for the merge');
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

  it("four shards: the counts are the sum, each whole second has the plan rate, and each second's percentiles are the shards' histograms merged by hand", async () => {
    const out = join(dir, 'merged4');
    const r = await run(['merge', ...quarterDirs, '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const merged = read(out);
    const shards = quarterDirs.map(read);
    assert.equal(
      statsFor(merged).requests,
      shards.reduce((t, s) => t + statsFor(s).requests, 0),
    );
    assert.equal(statsFor(merged).requests, RATE * SECONDS, "the plan's whole schedule");
    assert.ok(merged.plan?.startAt !== undefined, 'the merged plan keeps the shared start-at');
    assert.ok(shards.every((s) => s.plan?.startAt === merged.plan?.startAt && s.endedAt !== undefined));
    assert.equal(
      merged.endedAt,
      shards
        .map((s) => s.endedAt!)
        .sort()
        .at(-1),
      'the merged load ends with the last shard',
    );
    // Each shard began its load at start-at, not before, and within a second of it on this machine.
    for (const s of shards) {
      const after = Date.parse(s.startedAt) - Date.parse(s.plan!.startAt!);
      assert.ok(after >= 0 && after <= 1000, `shard ${s.plan?.shard?.index}: ${after} ms after start-at`);
    }
    assert.deepEqual(merged.plan?.estimated, ['totalMean'], 'the per-second percentiles are exact');
    const whole = merged.timeline.filter((p) => p.span === undefined && p.t * 1000 <= SECONDS * 1000);
    assert.equal(whole.length, SECONDS);
    for (const p of whole) {
      assert.equal(p.targetRate, RATE, `second ${p.t}: the shards' target rates add up to the plan's`);
      // Requests count by completion: an arrival near a second's edge may land on either side.
      assert.ok(Math.abs(p.requests - RATE) <= 4, `second ${p.t}: ${p.requests} requests`);
    }
    // The per-second SLO is judged on the merged seconds: the whole load's peak, not a shard's.
    const outcomes = (JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { verdict: { outcomes: Array<{ observed: number }> } })
      .verdict.outcomes;
    assert.equal(outcomes[2]!.observed, Math.max(...whole.map((p) => p.requests)));
    assert.ok(outcomes[2]!.observed >= RATE - 4 && shards.every((s) => Math.max(...s.timeline.map((p) => p.requests)) <= RATE / 4 + 2));
    // By hand: each shard's second t (they started together: no shift), its histogram decoded, summed.
    assert.ok(merged.plan?.shards?.every((s) => s.shiftS === undefined));
    for (const p of merged.timeline) {
      const own = shards.flatMap((s) => s.timeline.filter((q) => Math.ceil(q.t - 1e-9) === Math.ceil(p.t - 1e-9)));
      const hs = own.flatMap((q) => {
        if (q.histogram === undefined) return [];
        const h = newHistogram();
        addEncodedCounts(h, q.histogram);
        setMaxUs(h, Math.round(q.max! * 1000));
        return [h];
      });
      const h = mergeHistograms(hs);
      if (hs.length > 0) setMaxUs(h, Math.max(...hs.map((x) => x.maxValue)));
      assert.deepEqual(
        [p.p50, p.p95, p.p99],
        [50, 95, 99].map((q) => percentileMs(h, q)),
        `second ${p.t}`,
      );
      assert.equal(
        p.requests,
        own.reduce((t, q) => t + q.requests, 0),
      );
    }
    // Every report says where each shard ran.
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (let i = 1; i <= 4; i++) assert.match(md, new RegExp(`Shard: shard ${i}/4 .*q${i}.*; completed, .*; generator CPU`));
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<h2>The shards<\/h2>/);
    assert.equal(merged.shardMachines?.length, 4);
    assert.ok(merged.shardMachines?.every((m) => m.environment?.cpuCount && m.generator));
    // Within the run-to-run spread of the single run at the same total load.
    const single = p50(read(singleDir));
    assert.ok(Math.abs(p50(merged) - single) <= Math.max(5, single * 0.3), `merged p50 ${p50(merged)} ms vs single ${single} ms`);
  });

  it('a missing shard fails the merged run as incomplete (exit 3), unless allowed', async () => {
    const out = join(dir, 'one');
    const r = await run(['merge', shardDirs[0]!, '--out', out]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^loadgate: incomplete run, not measured as planned: shard 2\/2 is missing/m);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /incomplete run\\?: shard 2\/2 is missing/);
    const verdict = (JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { verdict: { pass: boolean; problems: string[] } })
      .verdict;
    assert.equal(verdict.pass, false);
    // Allowed, what was measured is judged: half the load, whose peak second breaches peak-rps >= 30.
    const allowed = await run(['merge', shardDirs[0]!, '--out', out, '--allow-incomplete']);
    assert.equal(allowed.code, 1, allowed.stderr);
    assert.match(allowed.stdout, /Allowed, incomplete: shard 2\/2 is missing/);
    assert.match(allowed.stdout, /\[FAIL\] peak-rps >= 30/);
  });

  it('the same shard twice is refused', async () => {
    const r = await run(['merge', shardDirs[0]!, shardDirs[0]!, '--out', join(dir, 'twice')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^loadgate: shard 1\/2 is given twice: .*s1 and .*s1/);
  });

  it('results without per-second histograms (older loadgate) still merge, their per-second percentiles marked estimated', async () => {
    const olds = shardDirs.map((d, i) => {
      const raw = JSON.parse(readFileSync(join(d, 'result.json'), 'utf8')) as { timeline: Array<Record<string, unknown>> };
      for (const p of raw.timeline) delete p['histogram'];
      const to = join(dir, `old${i + 1}`);
      mkdirSync(to, { recursive: true });
      writeFileSync(join(to, 'result.json'), JSON.stringify(raw));
      return to;
    });
    const out = join(dir, 'old-merged');
    const r = await run(['merge', ...olds, '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const merged = read(out);
    assert.deepEqual(merged.plan?.estimated, ['p50', 'p95', 'p99', 'totalP50', 'totalMean']);
    assert.equal(statsFor(merged).requests, RATE * SECONDS, 'the counts are exact all the same');
    assert.ok(merged.timeline.some((p) => p.p50 !== null) && merged.timeline.every((p) => p.histogram === undefined));
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /per\\?-second percentiles over time are estimates/);
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
    const [again, own] = [read(out), read(singleDir)];
    assert.deepEqual(again.timeline, own.timeline, 'the timeline, per-second histograms and all');
    assert.deepEqual(again.environment, own.environment);
    assert.deepEqual(again.generator, own.generator);
  });

  it('a shard whose start-at had passed starts at once, late, and the merged run is incomplete', async () => {
    // 5 s of load, so that the late shard's start-at (about 2 s past when it boots) is not refused as older than the run.
    const longer = () => flags().map((f) => (f === `${SECONDS}s` ? '5s' : f));
    const at = startAtIn(6000);
    const early = startNode([CLI, 'run', ...longer(), '--shard', '1/2', '--start-at', at, '--out', join(dir, 'l1')], { timeoutMs: 30_000 });
    // The second job is held up: it is launched 1.2 s after start-at.
    await new Promise((res) => setTimeout(res, Date.parse(at) + 1200 - Date.now()));
    const late = await run(['run', ...longer(), '--shard', '2/2', '--start-at', at, '--out', join(dir, 'l2')]);
    // Either shard may also find its generator was the limit on a machine this busy (exit 3, status invalid):
    // the merge then names that too; what is asserted here is that the late one is named late.
    const first = await early.exited;
    assert.ok([0, 3].includes(first.code ?? -1), first.stdout + first.stderr);
    assert.ok([0, 3].includes(late.code ?? -1), late.stdout + late.stderr);
    assert.match(late.stdout, /start-at .* passed \d+\.\d s ago: starting the load now \(a merge names this shard late/);
    const out = join(dir, 'late');
    const r = await run(['merge', join(dir, 'l1'), join(dir, 'l2'), '--out', out]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /shard 2\/2 \(.*l2\) started [1-9]\.\d s after start-at .* \(more than 1 s\)/);
    const merged = read(out);
    assert.ok((merged.plan?.shards?.[1]?.shiftS ?? 0) >= 1, "the late shard's seconds are moved to where they fell");
    assert.equal(statsFor(merged).requests, RATE * 5);
    const allowed = await run(['merge', join(dir, 'l1'), join(dir, 'l2'), '--out', out, '--allow-incomplete']);
    assert.ok([0, 1].includes(allowed.code ?? -1), allowed.stderr);
    assert.match(allowed.stdout, /Allowed, incomplete: .*shard 2\/2 .* started/);
  });

  it('start-at: refused (exit 2, one line) when not a time, more than 1 h ahead, or older than the run', async () => {
    for (const [value, why] of [
      ['tomorrow', /--start-at \(start-at\): expected an ISO 8601 time with its zone/],
      ['2026-11-30T18:00:00', /--start-at \(start-at\): expected an ISO 8601 time with its zone/],
      [new Date(Date.now() + 2 * 3600_000).toISOString(), /--start-at \(start-at\): .* is 2\.0 h from now: at most 1 h ahead/],
      [String(Math.round(Date.now() / 1000) - 600), /--start-at \(start-at\): .* was 10\.\d min ago, longer than the run lasts \(3\.0 s\)/],
    ] as const) {
      const r = await run(['run', ...flags(), '--start-at', value, '--out', join(dir, 'bad')]);
      assert.equal(r.code, 2, `${value}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('the wait for start-at ends on SIGTERM: the service is stopped, the reports say the load never started', async () => {
    const out = join(dir, 'waiting');
    const p = startNode([CLI, 'run', ...flags(), '--start-at', startAtIn(60_000), '--out', out], { timeoutMs: 30_000 });
    await p.waitFor(/Waiting \d+\.\d s for start-at/);
    const t = performance.now();
    p.kill('SIGTERM');
    const r = await p.exited;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(performance.now() - t < 5000);
    const result = read(out);
    assert.equal(result.status, 'not-started');
    assert.match(result.reason ?? '', /interrupted by SIGTERM while waiting for start-at .*, before the load started/);
  });
});

describe('what makes a merged run incomplete', () => {
  type Crafted = {
    index: number;
    startedMs: number;
    durationMs?: number;
    status?: 'completed' | 'interrupted' | 'not-started' | 'invalid';
    startAt?: number;
  };
  const T = Date.UTC(2026, 10, 30, 18, 0, 0);
  const merged = (shards: Crafted[], count = 3): RunResult =>
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
          startedAt: new Date(T + s.startedMs).toISOString(),
          startOffsetMs: s.startedMs - Math.min(...shards.map((x) => x.startedMs)),
          durationMs: s.durationMs ?? 60_000,
          plannedMs: 60_000,
          status: s.status ?? 'completed',
          ...(s.status && s.status !== 'completed' ? { reason: `it went ${s.status}` } : {}),
          ...(s.startAt !== undefined ? { startAt: new Date(T + s.startAt).toISOString() } : {}),
          target: 'http://x',
        })),
      },
    }) as unknown as RunResult;

  it('a start within 1 s of start-at (or of the first shard without one) is on time', () => {
    assert.deepEqual(shardProblems(merged([0, 1, 2].map((index) => ({ index, startedMs: 1000 - index * 300, startAt: 0 })))), []);
    assert.deepEqual(shardProblems(merged([0, 1, 2].map((index) => ({ index, startedMs: 5000 + index * 450 })))), []);
  });

  it('names missing, late, early, failed and unmeasured shards, each once', () => {
    assert.deepEqual(
      shardProblems(
        merged([
          { index: 0, startedMs: 40, startAt: 0 },
          { index: 2, startedMs: 3100, startAt: 0, status: 'interrupted', durationMs: 12_000 },
        ]),
      ),
      [
        'shard 2/3 is missing',
        'shard 3/3 (dir3) interrupted after 12.0 s of 60.0 s: it went interrupted',
        'shard 3/3 (dir3) started 3.1 s after start-at 2026-11-30T18:00:00.000Z (more than 1 s)',
      ],
    );
    assert.deepEqual(
      shardProblems(
        merged([
          { index: 0, startedMs: 0 },
          { index: 1, startedMs: 1500, durationMs: 59_000 },
          { index: 2, startedMs: 0, status: 'not-started', durationMs: 0 },
        ]),
      ),
      [
        'shard 2/3 (dir2) stopped early: its load ended after 59.0 s of 60.0 s',
        'shard 2/3 (dir2) started 1.5 s after the first shard (more than 1 s; no start-at was given)',
        'shard 3/3 (dir3) never started its load: it went not-started',
      ],
    );
    assert.deepEqual(
      shardProblems(merged([0, 1, 2].map((index) => ({ index, startedMs: 0, status: index === 1 ? 'invalid' : 'completed' })))),
      ['shard 2/3 (dir2) did not measure the service: it went invalid'],
    );
  });

  it('shards given different start-at times are named', () => {
    const problems = shardProblems(
      merged([
        { index: 0, startedMs: 0, startAt: 0 },
        { index: 1, startedMs: 0, startAt: 0 },
        { index: 2, startedMs: 0, startAt: -60_000 },
      ]),
    );
    assert.match(
      problems[0]!,
      /^the shards were given different start-at times: 1\/3 2026-11-30T18:00:00.000Z, .* 3\/3 2026-11-30T17:59:00.000Z$/,
    );
  });
});
