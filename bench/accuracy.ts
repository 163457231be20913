// Accuracy of loadgate's latencies against a target whose own timings are known (issue 14), two
// checkouts side by side in one run (say main and a branch), the order swapped every round:
//   1. 200 req/s against a 20 ms server (bench/timed-server.ts, pinned to core 1), 10 s: loadgate's
//      p50 against the p50 the server measured itself for the same requests (target: within 2%);
//   2. the stall case: 200 req/s for 15 s, the server holding every request that arrives during one
//      second (from 5 s on): p99 (target: within 10% of 850 ms, the 99th percentile of a 1 s stall
//      in 15 s: 1000 - 15 x 10 ms, plus the 20 ms service time);
//   3. 2000 req/s against nginx (one worker, core 1), 10 s: the schedule error's p99 (target <= 1 ms)
//      and the generator's CPU per request.
// Every generator runs through its checkout's bench/loadgate-child.ts, pinned to core 0.
//
//   node bench/accuracy.ts --before ../main --after . [--rounds 3]
// Writes bench/results/accuracy-*.json; the figures are in bench/README.md ("Trust").

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildArgs, ChildResult } from './loadgate-child.ts';
import { BENCH_DIR, BODY, NODE, TARGET_CORE, fmt, machine, median, pinSelf, runTool, sleep, stamp, startNginx, windowCpu } from './lib.ts';

const { values: opt } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});
if (!opt.before || !opt.after) {
  console.error('usage: node bench/accuracy.ts --before DIR --after DIR [--rounds 3] [--out DIR]');
  process.exit(2);
}
const SIDES = { before: resolve(opt.before), after: resolve(opt.after) } as const;
type Side = keyof typeof SIDES;
const ROUNDS = Number(opt.rounds);

async function child(side: Side, args: ChildArgs, watch: number[] = []) {
  const dir = SIDES[side];
  const run = await runTool([join(dir, 'node_modules/.bin/node'), join(dir, 'bench/loadgate-child.ts'), JSON.stringify(args)], { watch });
  if (run.code !== 0) throw new Error(`${side} exited with ${run.code}: ${run.stderr.slice(0, 2000)}`);
  return { run, r: JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ChildResult & { scheduleErrorP99Ms?: number | null } };
}

async function startTimedServer(): Promise<{ url: string; stop: () => void }> {
  const p = spawn('taskset', ['-c', String(TARGET_CORE), NODE, join(BENCH_DIR, 'timed-server.ts'), '--delay-ms', '20'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    p.once('exit', (c) => rej(new Error(`timed server exited ${c}`)));
  });
  return { url, stop: () => p.kill('SIGTERM') };
}

const get = async (url: string) => (await fetch(url)).text();

interface Row {
  test: string;
  round: number;
  side: Side;
  [k: string]: unknown;
}
const rows: Row[] = [];
pinSelf(TARGET_CORE);
const startedAt = new Date().toISOString();
const srv = await startTimedServer();
const nginx = await startNginx(TARGET_CORE);
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of round % 2 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
      // 1. p50 against the server's own.
      await get(`${srv.url}/__stats`);
      const a = await child(side, {
        baseUrl: srv.url,
        model: 'open',
        rate: 200,
        maxInFlight: 1000,
        durationMs: 10_000,
        body: BODY,
        path: '/',
      });
      const own = JSON.parse(await get(`${srv.url}/__stats`)) as { count: number; p50: number; p99: number };
      rows.push({
        test: 'p50',
        round,
        side,
        loadgateP50: a.r.p50Ms,
        serverP50: own.p50,
        ratio: a.r.p50Ms! / own.p50,
        requests: a.r.requests,
        serverCount: own.count,
        sendLagP50: a.r.sendLagP50Ms,
      });
      console.log(
        `round ${round} ${side.padEnd(6)} 200 req/s vs 20 ms: loadgate p50 ${fmt(a.r.p50Ms, 3)} ms, server's own p50 ${fmt(own.p50, 3)} ms: ${fmt(a.r.p50Ms! / own.p50, 4)}`,
      );
      await sleep(300);
      // 2. the stall.
      await get(`${srv.url}/__stall?in=5000&ms=1000`);
      const b = await child(side, {
        baseUrl: srv.url,
        model: 'open',
        rate: 200,
        maxInFlight: 1000,
        durationMs: 15_000,
        body: BODY,
        path: '/',
      });
      rows.push({ test: 'stall', round, side, p99: b.r.p99Ms, ratio: b.r.p99Ms! / 850, requests: b.r.requests });
      console.log(
        `round ${round} ${side.padEnd(6)} 1 s stall at 200 req/s: p99 ${fmt(b.r.p99Ms, 1)} ms (${fmt(b.r.p99Ms! / 850, 3)} of 850)`,
      );
      await get(`${srv.url}/__stats`);
      await sleep(300);
      // 3. 2000 req/s against nginx.
      const c = await child(side, { baseUrl: nginx.url, model: 'open', rate: 2000, maxInFlight: 10, durationMs: 10_000, body: BODY }, [
        nginx.workerPid,
      ]);
      const w = windowCpu(c.run.samples, 2000, 9500);
      const cpuUs = w && c.r.rps > 0 ? (w.share * 1e6) / c.r.rps : null;
      rows.push({
        test: '2000',
        round,
        side,
        sendLagP50: c.r.sendLagP50Ms,
        sendLagP99: c.r.sendLagP99Ms,
        cpuUsPerRequest: cpuUs,
        wakeupsPerRequest: w ? w.switchesPerSecond / c.r.rps : null,
        p50: c.r.p50Ms,
        p99: c.r.p99Ms,
      });
      console.log(
        `round ${round} ${side.padEnd(6)} 2000 req/s: send lag / schedule error p50 ${fmt(c.r.sendLagP50Ms, 3)} p99 ${fmt(c.r.sendLagP99Ms, 3)} ms, ${fmt(cpuUs, 1)} µs/req, ${fmt(w ? w.switchesPerSecond / c.r.rps : null, 3)} wake-ups/req`,
      );
      await sleep(300);
    }
  }
} finally {
  srv.stop();
  await nginx.stop();
}
for (const test of ['p50', 'stall', '2000']) {
  for (const side of ['before', 'after'] as const) {
    const rs = rows.filter((r) => r.test === test && r.side === side);
    const key = test === '2000' ? 'sendLagP99' : 'ratio';
    console.log(
      `${test.padEnd(5)} ${side.padEnd(6)} median ${key}: ${fmt(median(rs.map((r) => Number(r[key]))), 4)}${test === '2000' ? `, CPU µs/req ${fmt(median(rs.map((r) => Number(r.cpuUsPerRequest))), 1)}` : ''}`,
    );
  }
}
mkdirSync(opt.out, { recursive: true });
const file = join(opt.out, `accuracy-${stamp()}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      benchmark: 'accuracy',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machine(),
      config: { sides: SIDES, rounds: ROUNDS },
      rows,
    },
    null,
    1,
  ),
);
console.log(`raw results: ${file}`);
