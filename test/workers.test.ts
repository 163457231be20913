// `workers: N` end to end through the command line: N shard processes of one plan, sharing one service the
// parent started, merged into one result and verdict. The merged counts are the sum of the workers' and the
// plan's; a worker killed mid-run is named in the verdict and stops the others; SIGINT stops every worker
// and the service, with nothing left running; bad input is one message, exit 2.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunResult, parseRunResult, statsFor } from '../src/metrics/result.ts';
import { closeAllServers, startServer } from './helpers/http.ts';
import { CLI, PATH_WITH_NODE, eventually, killChildren, processAlive, runNode, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(killChildren);
after(closeAllServers);
after(removeTempDirs);

const read = (dir: string): RunResult => parseRunResult(readFileSync(join(dir, 'result.json'), 'utf8'));
const verdictOf = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { verdict: { pass: boolean; problems: string[]; outcomes: unknown[] } })
    .verdict;
/** The pids the parent says it started. */
const pidsIn = (out: string): number[] => {
  const pids = /Started \d+ workers \(pids ([\d, ]+)\)/.exec(out)?.[1]?.split(', ').map(Number) ?? [];
  // Never an empty list or a 0 (process.kill(0) would probe the test's own group): the checks need real pids.
  assert.ok(pids.length >= 2 && pids.every((p) => p > 0), `the parent names its workers' pids: ${out.slice(0, 400)}`);
  return pids;
};
/** Each worker's own count, as the parent logs it when the worker is done. */
const workerCounts = (out: string): number[] =>
  [...out.matchAll(/^worker \d+\/\d+ \(pid \d+\): \w+, (\d+) requests/gm)].map((m) => Number(m[1]));

/** A service as a command (run with the tests' Node first on PATH): the parent starts it once, the workers load it at its URL. */
const SERVICE = `node -e "require('http').createServer((q, s) => setTimeout(() => s.end('ok'), 5)).listen(+process.argv[1], '127.0.0.1')" {port}`;

describe('workers: 2', () => {
  it("open model: the merged count is the sum of the workers' and the plan's schedule; one service, started once", async () => {
    const out = tempDir('loadgate-workers-');
    const r = await runNode(
      [
        CLI,
        'run',
        '--command',
        SERVICE,
        '--path',
        '/',
        '--rate',
        '40',
        '--duration',
        '3s',
        '--workers',
        '2',
        '--slo',
        'p99 < 2s',
        '--slo',
        'errors == 0',
        '--out',
        out,
      ],
      { timeoutMs: 60_000, env: { PATH: PATH_WITH_NODE } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.match(/^Started the service \(pid/gm)?.length, 1, 'the service is started once');
    const counts = workerCounts(r.stdout);
    assert.equal(counts.length, 2, r.stdout);
    const merged = read(out);
    assert.equal(statsFor(merged).requests, counts[0]! + counts[1]!, "the workers' sum");
    assert.equal(statsFor(merged).requests, 40 * 3, "the plan's schedule");
    assert.deepEqual(
      merged.plan?.shards?.map((s) => [s.index, s.count, s.status]),
      [
        [0, 2, 'completed'],
        [1, 2, 'completed'],
      ],
    );
    // Released at one instant once both were ready (the merge would call a late one incomplete).
    for (const s of merged.plan?.shards ?? []) assert.ok(s.startOffsetMs < 500, `shard ${s.index + 1} started +${s.startOffsetMs} ms`);
    // The parent's service, as a single run records and watches it.
    assert.equal(merged.service?.kind, 'command');
    assert.ok(
      merged.timeline.some((p) => p.cpuPercent !== undefined),
      'the service was watched',
    );
    assert.ok(r.stdout.includes('Reports: ') && r.stdout.includes('service.log'), 'its log is listed with the reports');
    const v = verdictOf(out);
    assert.equal(v.pass, true);
    assert.equal(v.outcomes.length, 2, "judged on the whole plan's SLOs");
    for (const pid of pidsIn(r.stdout)) assert.ok(!processAlive(pid), `worker ${pid} is gone`);
  });

  it("closed model: the workers' users add up to the plan's", async () => {
    const srv = await startServer({ delayMs: 5 });
    const out = tempDir('loadgate-workers-');
    const r = await runNode(
      [CLI, 'run', '--url', srv.url, '--path', '/', '--users', '5', '--pacing', '10/s', '--duration', '2s', '--workers', '2', '--out', out],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const merged = read(out);
    assert.equal(merged.stages[0]?.users, 5);
    const counts = workerCounts(r.stdout);
    assert.equal(statsFor(merged).requests, counts[0]! + counts[1]!);
    // Besides the load: one readiness check by the parent, one by each worker.
    assert.equal(srv.requests, statsFor(merged).requests + 3, "the server saw the workers' requests");
  });

  it('with start-at, every worker waits for that instant and starts on time', async () => {
    const srv = await startServer({ delayMs: 5 });
    const out = tempDir('loadgate-workers-');
    const at = new Date(Date.now() + 6000).toISOString();
    const r = await runNode(
      [CLI, 'run', '--url', srv.url, '--path', '/', '--rate', '20', '--duration', '2s', '--workers', '2', '--start-at', at, '--out', out],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const merged = read(out);
    assert.equal(merged.plan?.shards?.length, 2);
    for (const s of merged.plan?.shards ?? []) {
      const late = Date.parse(s.startedAt) - Date.parse(at);
      assert.ok(late >= 0 && late < 1000, `shard ${s.index + 1} started ${late} ms after start-at`);
    }
    assert.equal(statsFor(merged).requests, 40);
  });

  it('a worker killed mid-run is named in the verdict, the others stop, nothing is left running', async () => {
    const out = tempDir('loadgate-workers-');
    const p = startNode(
      [CLI, 'run', '--command', SERVICE, '--path', '/', '--rate', '20', '--duration', '30s', '--workers', '2', '--out', out],
      {
        timeoutMs: 60_000,
        env: { PATH: PATH_WITH_NODE },
      },
    );
    const [, servicePid] = await p.waitFor(/Started the service \(pid (\d+)\)/, 30_000);
    await p.waitFor(/Started 2 workers/, 30_000);
    const [a, b] = pidsIn(p.stdout);
    await p.waitFor(/^\[\d+s\/30s\]/m, 30_000);
    process.kill(b!, 'SIGKILL');
    const r = await p.exited;
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const dead = `worker 2/2 (pid ${b}) was killed by SIGKILL before it wrote its result`;
    assert.match(r.stderr, new RegExp(`^loadgate: ${dead.replace(/[()/]/g, '\\$&')}$`, 'm'));
    const v = verdictOf(out);
    assert.equal(v.pass, false);
    assert.ok(
      v.problems.some((x) => x.includes(dead)),
      v.problems.join('\n'),
    );
    assert.ok(v.problems.includes('incomplete run: shard 2/2 is missing'), v.problems.join('\n'));
    const merged = read(out);
    assert.deepEqual(
      merged.plan?.shards?.map((s) => [s.index, s.status, s.reason]),
      [[0, 'aborted', dead]],
    );
    assert.ok(merged.durationMs < 25_000, 'worker 1 stopped early');
    assert.ok(await eventually(() => !processAlive(a!) && !processAlive(Number(servicePid)), 3000), 'worker 1 and the service are gone');
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} stops every worker and the service, writes what was measured, exits 130`, async () => {
      const out = tempDir('loadgate-workers-');
      const p = startNode(
        [CLI, 'run', '--command', SERVICE, '--path', '/', '--rate', '20', '--duration', '30s', '--workers', '2', '--out', out],
        {
          timeoutMs: 60_000,
          env: { PATH: PATH_WITH_NODE },
        },
      );
      const [, servicePid] = await p.waitFor(/Started the service \(pid (\d+)\)/, 30_000);
      await p.waitFor(/^\[\d+s\/30s\]/m, 30_000);
      const pids = pidsIn(p.stdout);
      p.kill(sig);
      const r = await p.exited;
      assert.equal(r.code, 130, r.stdout + r.stderr);
      const merged = read(out);
      assert.equal(merged.status, 'interrupted');
      assert.deepEqual(
        merged.plan?.shards?.map((s) => [s.index, s.status]),
        [
          [0, 'interrupted'],
          [1, 'interrupted'],
        ],
      );
      assert.match(merged.reason ?? '', new RegExp(`interrupted by ${sig}`));
      assert.ok(statsFor(merged).requests > 0);
      assert.ok(
        await eventually(() => [...pids, Number(servicePid)].every((pid) => !processAlive(pid)), 3000),
        `still running: ${[...pids, Number(servicePid)].filter(processAlive).join(', ')}`,
      );
    });
  }

  it('a parent killed outright (SIGKILL) leaves no worker running: their channel closes and they stop', async () => {
    const srv = await startServer({ delayMs: 5 });
    const p = startNode([CLI, 'run', '--url', srv.url, '--path', '/', '--rate', '20', '--duration', '30s', '--workers', '2'], {
      cwd: tempDir('loadgate-workers-'),
      timeoutMs: 60_000,
    });
    await p.waitFor(/^\[\d+s\/30s\]/m, 30_000);
    const pids = pidsIn(p.stdout);
    p.kill('SIGKILL');
    await p.exited;
    assert.ok(
      await eventually(() => pids.every((pid) => !processAlive(pid)), 8000),
      `still running: ${pids.filter(processAlive).join(', ')}`,
    );
  });

  it('bad input: one message, exit 2, nothing started', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--workers', '0'], /^loadgate: --workers \(workers\): must be at least 1, got 0$/m],
      [['--workers', 'two'], /^loadgate: --workers \(workers\): expected a number, got "two"$/m],
      [['--workers', '2', '--shard', '1/2'], /exclude each other/],
      // Each worker is a shard: one body cannot be split over two without both sending it.
      [['--workers', '2', '--bodies', writeFile(tempDir(), 'one.jsonl', '{"x":1}\n')], /cannot be split over 2 shards/],
    ];
    for (const [flags, re] of cases) {
      const r = await runNode([CLI, 'run', '--url', 'http://127.0.0.1:1', '--path', '/', '--rate', '5', '--duration', '1s', ...flags], {
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at |Started/);
    }
    const byHand = await runNode([CLI, 'worker'], { timeoutMs: 20_000 });
    assert.equal(byHand.code, 2);
    assert.match(byHand.stderr, /^loadgate: `loadgate worker` is started by a run with workers: N/);
  });
});
