// `workers: N` at saturation: the same closed-model load (10 users, no wait, POST / to nginx) through
// loadgate's command line, in one process (workers: 1) and in two (workers: 2), interleaved, the order
// rotating every round. Two layouts on this 2-core machine:
//   pinned: nginx on core 1, every loadgate process on core 0 (taskset, inherited by the workers):
//           what splitting one core's load over two processes costs;
//   shared: nothing pinned, nginx and loadgate share both cores: what workers: 2 buys when the
//           generator, not one core, is the limit.
// The figure is the merged result's requests over its duration (what the reports say), and the CPU of
// the whole loadgate process tree (parent, workers) and of nginx's worker, from /proc.
//
//   node_modules/.bin/node bench/workers.ts [--rounds 3] [--duration 10] [--users 10] [--out DIR]
// All traffic goes to 127.0.0.1; every run is bounded by --duration; the nginx started here is stopped.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';
import { BENCH_DIR, BODY, CLK_TCK, NODE, ROOT, childPids, cpuTicks, machine, median, sleep, stamp, startNginx, table } from './lib.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    users: { type: 'string', default: '10' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.duration);
const USERS = Number(values.users);
const CLI = join(ROOT, 'src', 'cli.ts');

type Layout = 'pinned' | 'shared';
interface Run {
  layout: Layout;
  workers: number;
  round: number;
  /** `invalid` when the run found its generator was the limit (a process at ~100% of a core). */
  status: string;
  requests: number;
  failures: number;
  durationMs: number;
  rps: number;
  /** CPU seconds of the loadgate process tree and of nginx's worker, over the whole run. */
  loadgateCpuS: number;
  nginxCpuS: number;
  /** The machine's 1-minute load average before the run (other work on a shared VM shows here). */
  loadAvg: number;
}

/** Every process under `pid` (the parent, its workers), read while they run. */
function tree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(tree)];
}

async function once(layout: Layout, workers: number, round: number, url: string, nginxPid: number): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'loadgate-bench-workers-'));
  const loadAvg = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const args = [CLI, 'run', '--url', url, '--path', '/', '--method', 'POST', '--body', BODY, '--users', String(USERS)];
  args.push('--duration', `${SECONDS}s`, '--workers', String(workers), '--progress-interval', '60s', '--out', out);
  const child =
    layout === 'pinned' ? spawn('taskset', ['-c', '0', NODE, ...args], { stdio: 'ignore' }) : spawn(NODE, args, { stdio: 'ignore' });
  // CPU of the tree: the last reading of each process (workers exit before the parent writes the merge).
  const last = new Map<number, number>();
  const nginx0 = cpuTicks(nginxPid) ?? 0;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    for (const p of tree(child.pid!)) {
      const t = cpuTicks(p);
      if (t !== null) last.set(p, t);
    }
    await sleep(100);
  }
  const code = await exited;
  // 3: the run's verdict says the generator was the limit (`invalid`): at saturation that is the point.
  if (code !== 0 && code !== 3) throw new Error(`loadgate exited ${code} (${layout}, workers ${workers})`);
  const r = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  const s = statsFor(r);
  return {
    layout,
    workers,
    round,
    status: r.status,
    requests: s.requests,
    failures: s.failures,
    durationMs: r.durationMs,
    rps: s.requests / (r.durationMs / 1000),
    loadgateCpuS: [...last.values()].reduce((a, b) => a + b, 0) / CLK_TCK,
    nginxCpuS: ((cpuTicks(nginxPid) ?? nginx0) - nginx0) / CLK_TCK,
    loadAvg,
  };
}

const runs: Run[] = [];
for (const layout of ['pinned', 'shared'] as const) {
  const nginx = await startNginx(layout === 'pinned' ? 1 : '0-1');
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [1, 2] : [2, 1];
      for (const w of order) {
        const run = await once(layout, w, round, nginx.url, nginx.workerPid);
        runs.push(run);
        console.log(
          `${layout} workers ${w} round ${round}: ${Math.round(run.rps)} req/s (${run.status}), ${run.failures} failures, loadgate CPU ${run.loadgateCpuS.toFixed(1)} s, nginx ${run.nginxCpuS.toFixed(1)} s, load ${run.loadAvg}`,
        );
      }
    }
  } finally {
    await nginx.stop();
  }
}

const rows = (['pinned', 'shared'] as const).flatMap((layout) =>
  [1, 2].map((w) => {
    const rs = runs.filter((r) => r.layout === layout && r.workers === w);
    return [
      layout,
      String(w),
      ...rs.map((r) => String(Math.round(r.rps))),
      String(Math.round(median(rs.map((r) => r.rps)))),
      // CPU of the whole tree (start-up, the workers, the parent, the merge) per completed request.
      median(rs.map((r) => (r.loadgateCpuS / r.requests) * 1e6)).toFixed(1),
      median(rs.map((r) => r.nginxCpuS)).toFixed(1),
      `${rs.filter((r) => r.status === 'invalid').length}/${rs.length}`,
    ];
  }),
);
console.log(
  `\n${table(['layout', 'workers', ...Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`), 'median req/s', 'loadgate µs/req', 'nginx CPU s', 'invalid'], rows)}`,
);
mkdirSync(values.out!, { recursive: true });
const file = join(values.out!, `workers-${stamp()}.json`);
writeFileSync(file, JSON.stringify({ machine: machine(), users: USERS, seconds: SECONDS, rounds: ROUNDS, runs }, null, 2));
console.log(`\n${file}`);
