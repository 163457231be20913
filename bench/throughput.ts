// Throughput and CPU-per-request benchmark: loadgate vs autocannon (npm) vs wrk (Debian), in one run,
// against one local nginx worker pinned to core 1, each generator pinned to core 0.
//
//   node bench/throughput.ts [--rounds 3] [--duration 10] [--fixed-duration 20] [--rate 2000]
//                            [--connections 10] [--profile] [--only saturation|fixed] [--out bench/results]
//
// 1. Saturation: wrk -t1 -c10, autocannon -c10, loadgate closed model with 10 users and no wait,
//    each for --duration s, interleaved (the order rotates every round). Figures: completed req/s
//    (median of all rounds, and of the undisturbed rounds: those where the generator got at least
//    90% of its core), and req/s per core (1e6 / CPU µs per request), which host noise barely moves.
// 2. Fixed rate: loadgate open model at --rate req/s (maxInFlight = --connections) vs autocannon
//    -R --rate -c --connections, and hey -q (--rate / --connections per worker) when installed, for
//    --fixed-duration s, interleaved. Figure: CPU time per request.
// --profile adds one V8 CPU profile of loadgate's load phase in each mode (top self-time functions).
//
// Every tool is a child process started as `taskset -c 0 /usr/bin/time ... TOOL`, and measured the
// same way: its utime+stime from /proc/PID/stat, sampled every 100 ms by this (parent) process,
// over a steady-state window that excludes start-up (the main figure), and /usr/bin/time's total
// for the whole process including start-up (secondary). loadgate also reports process.cpuUsage()
// over the load phase from inside its process, as a cross-check.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildArgs, ChildResult } from './loadgate-child.ts';
import {
  AUTOCANNON,
  BENCH_DIR,
  BODY,
  GENERATOR_CORE,
  LOADGATE_CHILD,
  NODE,
  type Nginx,
  TARGET_CORE,
  type ToolRun,
  fmt,
  machine,
  median,
  pinSelf,
  runTool,
  sleep,
  stamp,
  startNginx,
  table,
  windowCpu,
} from './lib.ts';
import { summarizeProfile } from './profile-summary.ts';

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    'fixed-duration': { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(
    'usage: node bench/throughput.ts [--rounds 3] [--duration 10] [--fixed-duration 20] [--rate 2000] [--connections 10] [--profile] [--only saturation|fixed] [--out DIR]',
  );
  process.exit(0);
}
const ROUNDS = Number(opt.rounds);
const D = Number(opt.duration);
const FD = Number(opt['fixed-duration']);
const RATE = Number(opt.rate);
const CONNS = Number(opt.connections);
for (const [k, v] of Object.entries({ rounds: ROUNDS, duration: D, 'fixed-duration': FD, rate: RATE, connections: CONNS })) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${k} must be a positive integer`);
}
const ONLY = opt.only;
if (ONLY !== '' && ONLY !== 'saturation' && ONLY !== 'fixed') throw new Error('--only must be saturation or fixed');
if (D < 4 || FD < 5) throw new Error('--duration must be at least 4 s and --fixed-duration at least 5 s (the CPU window skips start-up)');

type Tool = 'wrk' | 'autocannon' | 'loadgate' | 'loadgate-undici' | 'hey' | 'paced-floor';

/** hey (Debian) paces each worker with a ticker: a reference for a truly paced fixed rate. Optional. */
const HEY = spawnSync('hey', [], { stdio: 'ignore' }).error === undefined;

interface Measured {
  tool: Tool;
  round: number;
  requests: number;
  errors: number;
  durationS: number;
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Share of one core used by the generator / the nginx worker over the steady-state window. */
  generatorCpu: number | null;
  nginxCpu: number | null;
  /** Steady-state generator CPU per completed request, µs (window CPU / achieved rate). */
  cpuUsPerRequest: number | null;
  /** Voluntary context switches (thread wake-ups) of the generator per completed request, steady state. */
  wakeupsPerRequest: number | null;
  /** Whole-process CPU (start-up included, /usr/bin/time) per completed request, µs. */
  wholeProcessCpuUsPerRequest: number | null;
  /** loadgate only: process.cpuUsage() over runLoad per request, µs. */
  inProcessCpuUsPerRequest?: number;
  /** loadgate open model only: how late requests left their intended time, ms. */
  sendLagP50Ms?: number | null;
  sendLagP99Ms?: number | null;
  maxRssBytes: number | null;
  /** Saturation: the generator used under 90% of its core, so the host, not either process, set the pace. */
  disturbed?: boolean;
  raw: unknown;
}

const results: { saturation: Measured[]; fixedRate: Measured[] } = { saturation: [], fixedRate: [] };

/** Under this share of its core, a saturating generator was held back by the (shared, noisy) host. */
const DISTURBED_BELOW = 0.9;

function wrkScript(dir: string): string {
  const path = join(dir, 'post.lua');
  writeFileSync(path, `wrk.method = "POST"\nwrk.body = '${BODY}'\nwrk.headers["Content-Type"] = "application/json"\n`);
  return path;
}

/** wrk prints durations as 31.00us, 1.82ms, 2.00s. */
function wrkMs(s: string | undefined): number | null {
  const m = s ? /^([\d.]+)(us|ms|s|m)$/.exec(s) : null;
  if (!m) return null;
  const x = Number(m[1]);
  return m[2] === 'us' ? x / 1000 : m[2] === 'ms' ? x : m[2] === 's' ? x * 1000 : x * 60_000;
}

function check(run: ToolRun, what: string): void {
  if (run.code !== 0) throw new Error(`${what} exited with ${run.code}: ${run.stderr.slice(0, 2000)}`);
}

function measure(
  tool: Tool,
  round: number,
  run: ToolRun,
  windowMs: [number, number],
  parsed: Omit<
    Measured,
    'tool' | 'round' | 'generatorCpu' | 'nginxCpu' | 'cpuUsPerRequest' | 'wakeupsPerRequest' | 'wholeProcessCpuUsPerRequest' | 'maxRssBytes'
  >,
): Measured {
  const w = windowCpu(run.samples, windowMs[0], windowMs[1]);
  const whole = run.time ? (run.time.userS + run.time.sysS) * 1e6 : null;
  return {
    tool,
    round,
    ...parsed,
    generatorCpu: w ? w.share : null,
    nginxCpu: w ? w.other[0]! : null,
    cpuUsPerRequest: w && parsed.rps > 0 ? (w.share * 1e6) / parsed.rps : null,
    wakeupsPerRequest: w && parsed.rps > 0 ? w.switchesPerSecond / parsed.rps : null,
    wholeProcessCpuUsPerRequest: whole !== null && parsed.requests > 0 ? whole / parsed.requests : null,
    maxRssBytes: run.time?.maxRssBytes ?? null,
  };
}

async function runWrk(nginx: Nginx, round: number, script: string): Promise<Measured> {
  const run = await runTool(['wrk', '-t1', `-c${CONNS}`, `-d${D}s`, '--latency', '-s', script, `${nginx.url}/`], {
    watch: [nginx.workerPid],
  });
  check(run, 'wrk');
  const out = run.stdout;
  const total = /(\d+) requests in ([\d.]+)(\w+),/.exec(out);
  if (!total) throw new Error(`cannot parse wrk output:\n${out}`);
  const requests = Number(total[1]);
  const durationS = (wrkMs(total[2]! + total[3]!) ?? NaN) / 1000;
  const errLine = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (errLine ? errLine.slice(1).reduce((s, x) => s + Number(x), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return measure('wrk', round, run, [1500, D * 1000], {
    requests,
    errors,
    durationS,
    rps: requests / durationS,
    p50Ms: wrkMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99Ms: wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    raw: out,
  });
}

interface AutocannonJson {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { total: number; sent: number; average: number };
}

async function runAutocannon(nginx: Nginx, round: number, fixedRate: boolean): Promise<Measured> {
  const d = fixedRate ? FD : D;
  const argv = [
    NODE,
    AUTOCANNON,
    '-j',
    '-n',
    '-c',
    String(CONNS),
    '-d',
    String(d),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    BODY,
  ];
  if (fixedRate) argv.push('-R', String(RATE));
  argv.push(`${nginx.url}/`);
  const run = await runTool(argv, { watch: [nginx.workerPid] });
  check(run, 'autocannon');
  const j = JSON.parse(run.stdout) as AutocannonJson;
  const requests = j.requests.total;
  return measure('autocannon', round, run, fixedRate ? [2000, FD * 1000 - 500] : [1500, D * 1000], {
    requests,
    errors: j.errors + j.timeouts + j.non2xx,
    durationS: j.duration,
    rps: requests / j.duration,
    p50Ms: j.latency.p50,
    p99Ms: j.latency.p99,
    raw: { ...j, note: 'autocannon latencies are whole milliseconds' },
  });
}

/** hey prints durations in seconds: "  50% in 0.0004 secs". */
async function runHey(nginx: Nginx, round: number): Promise<Measured> {
  const perWorker = RATE / CONNS;
  const argv = [
    'hey',
    '-z',
    `${FD}s`,
    '-c',
    String(CONNS),
    '-q',
    String(perWorker),
    '-cpus',
    '1',
    '-m',
    'POST',
    '-T',
    'application/json',
    '-d',
    BODY,
    `${nginx.url}/`,
  ];
  const run = await runTool(argv, { watch: [nginx.workerPid] });
  check(run, 'hey');
  const out = run.stdout;
  const total = /Total:\s+([\d.]+) secs/.exec(out);
  const codes = [...out.matchAll(/\[(\d+)\]\s+(\d+) responses/g)];
  if (!total || codes.length === 0) throw new Error(`cannot parse hey output:\n${out}`);
  const requests = codes.reduce((s, m) => s + Number(m[2]), 0);
  const ok = codes.filter((m) => Number(m[1]) < 400).reduce((s, m) => s + Number(m[2]), 0);
  const errorSection = out.split('Error distribution:')[1] ?? '';
  const errs = [...errorSection.matchAll(/^\s+\[(\d+)\]/gm)].reduce((s, m) => s + Number(m[1]), 0);
  const durationS = Number(total[1]);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}% in ([\\d.]+) secs`, 'm').exec(out);
    return m ? Number(m[1]) * 1000 : null;
  };
  return measure('hey', round, run, [2000, FD * 1000 - 500], {
    requests,
    errors: requests - ok + errs,
    durationS,
    rps: requests / durationS,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    raw: { output: out, note: `hey -q is per worker: ${perWorker} req/s x ${CONNS} workers, each paced by a ticker` },
  });
}

async function runLoadgate(
  nginx: Nginx,
  round: number,
  fixedRate: boolean,
  cpuProfile?: string,
  httpClient: 'auto' | 'undici' = 'auto',
): Promise<Measured> {
  const args: ChildArgs = fixedRate
    ? { baseUrl: nginx.url, model: 'open', rate: RATE, maxInFlight: CONNS, durationMs: FD * 1000, body: BODY }
    : { baseUrl: nginx.url, model: 'closed', users: CONNS, durationMs: D * 1000, body: BODY };
  if (cpuProfile) args.cpuProfile = cpuProfile;
  args.httpClient = httpClient;
  const run = await runTool([NODE, LOADGATE_CHILD, JSON.stringify(args)], { watch: [nginx.workerPid] });
  check(run, 'loadgate');
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ChildResult;
  const m = measure(
    httpClient === 'undici' ? 'loadgate-undici' : 'loadgate',
    round,
    run,
    fixedRate ? [2000, FD * 1000 - 500] : [1500, D * 1000],
    {
      requests: r.requests,
      errors: r.failures + r.unsent,
      durationS: r.durationMs / 1000,
      rps: r.rps,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      raw: r,
    },
  );
  m.inProcessCpuUsPerRequest = r.requests > 0 ? (r.loadCpuUserUs + r.loadCpuSystemUs) / r.requests : NaN;
  if (fixedRate) {
    m.sendLagP50Ms = r.sendLagP50Ms;
    m.sendLagP99Ms = r.sendLagP99Ms;
  }
  return m;
}

/** The least a paced Node generator pays: loadgate's schedule and sockets, no parsing or recording (paced-floor-child.ts). */
async function runFloor(nginx: Nginx, round: number): Promise<Measured> {
  const args = { baseUrl: nginx.url, rate: RATE, connections: CONNS, durationMs: FD * 1000, body: BODY };
  const run = await runTool([NODE, join(BENCH_DIR, 'paced-floor-child.ts'), JSON.stringify(args)], { watch: [nginx.workerPid] });
  check(run, 'paced-floor');
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
    requests: number;
    unsent: number;
    durationMs: number;
    rps: number;
    cpuUserUs: number;
    cpuSystemUs: number;
  };
  const m = measure('paced-floor', round, run, [2000, FD * 1000 - 500], {
    requests: r.requests,
    errors: r.unsent,
    durationS: r.durationMs / 1000,
    rps: r.rps,
    p50Ms: null,
    p99Ms: null,
    raw: r,
  });
  m.inProcessCpuUsPerRequest = r.requests > 0 ? (r.cpuUserUs + r.cpuSystemUs) / r.requests : NaN;
  return m;
}

function rotate<T>(xs: readonly T[], k: number): T[] {
  return xs.map((_, i) => xs[(i + k) % xs.length]!);
}

function line(m: Measured): string {
  return `  ${m.tool.padEnd(10)} ${fmt(m.rps).padStart(8)} req/s  gen cpu ${fmt((m.generatorCpu ?? NaN) * 100)}%  nginx cpu ${fmt((m.nginxCpu ?? NaN) * 100)}%  ${fmt(m.cpuUsPerRequest, 1)} µs/req  ${fmt(m.wakeupsPerRequest, 2)} wake-ups/req  p50 ${fmt(m.p50Ms, 3)} ms  p99 ${fmt(m.p99Ms, 3)} ms  errors ${m.errors}`;
}

// ---------------------------------------------------------------------------------------------

const info = machine();
pinSelf(TARGET_CORE); // this process only samples /proc; keep it off the generators' core
const startedAt = new Date().toISOString();
console.log(
  `loadgate throughput benchmark: ${ROUNDS} rounds, saturation ${D} s, fixed rate ${RATE} req/s for ${FD} s, ${CONNS} connections`,
);
console.log(
  `machine: ${info.nproc} cores, ${info.cpuModel}, node ${info.node}; generators on core ${GENERATOR_CORE}, nginx on core ${TARGET_CORE}`,
);
const work = mkdtempSync(join(tmpdir(), 'loadgate-bench-'));
const script = wrkScript(work);
const nginx = await startNginx(TARGET_CORE);
let profile: unknown;
let wakeup: { wakes: number; wakesPerSecond: number; cpuUsPerWake: number; userUsPerWake: number; systemUsPerWake: number } | undefined;
try {
  // Context for the fixed-rate figures: what one idle event-loop wake-up costs here (Node, core 0).
  const wk = await runTool([NODE, join(BENCH_DIR, 'wakeup-child.ts'), '5']);
  check(wk, 'wakeup-child');
  wakeup = JSON.parse(wk.stdout);
  console.log(
    `one idle event-loop wake-up (1 ms interval, Node): ${fmt(wakeup!.cpuUsPerWake, 1)} µs of CPU (${fmt(wakeup!.wakesPerSecond)} wakes/s)`,
  );

  // Warm the target up (and check that every tool works) with a short wrk run.
  await runTool(['wrk', '-t1', `-c${CONNS}`, '-d2s', '-s', script, `${nginx.url}/`]);

  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`\nround ${round}/${ROUNDS}: saturation`);
    for (const tool of ONLY === 'fixed' ? [] : rotate<Tool>(['wrk', 'autocannon', 'loadgate', 'loadgate-undici'], round - 1)) {
      const m =
        tool === 'wrk'
          ? await runWrk(nginx, round, script)
          : tool === 'autocannon'
            ? await runAutocannon(nginx, round, false)
            : await runLoadgate(nginx, round, false, undefined, tool === 'loadgate-undici' ? 'undici' : 'auto');
      m.disturbed = m.generatorCpu === null || m.generatorCpu < DISTURBED_BELOW;
      results.saturation.push(m);
      console.log(line(m) + (m.disturbed ? '  (disturbed: generator under 90% of its core)' : ''));
      await sleep(1000);
    }
    console.log(`round ${round}/${ROUNDS}: fixed rate ${RATE} req/s`);
    const fixedRound: Tool[] = HEY
      ? ['loadgate', 'autocannon', 'hey', 'loadgate-undici', 'paced-floor']
      : ['loadgate', 'autocannon', 'loadgate-undici', 'paced-floor'];
    for (const tool of ONLY === 'saturation' ? [] : rotate<Tool>(fixedRound, round - 1)) {
      const m =
        tool === 'paced-floor'
          ? await runFloor(nginx, round)
          : tool === 'autocannon'
            ? await runAutocannon(nginx, round, true)
            : tool === 'hey'
              ? await runHey(nginx, round)
              : await runLoadgate(nginx, round, true, undefined, tool === 'loadgate-undici' ? 'undici' : 'auto');
      results.fixedRate.push(m);
      console.log(line(m));
      await sleep(1000);
    }
  }

  if (opt.profile) {
    console.log('\nprofiling loadgate (V8 CPU profile of the load phase) at saturation and at the fixed rate');
    const dir = mkdtempSync(join(tmpdir(), 'loadgate-prof-'));
    const out: Record<string, unknown> = {};
    for (const fixed of [false, true]) {
      const file = join(dir, `${fixed ? 'fixed' : 'saturation'}.cpuprofile`);
      const m = await runLoadgate(nginx, 0, fixed, file);
      const s = summarizeProfile(file, 25);
      out[fixed ? 'fixedRate' : 'saturation'] = { rps: m.rps, cpuUsPerRequest: m.cpuUsPerRequest, ...s };
      console.log(
        `\n${fixed ? `fixed rate ${RATE} req/s` : 'saturation'} (profiled run: ${fmt(m.rps)} req/s, ${fmt(m.cpuUsPerRequest, 1)} µs/req; the profiler itself costs some)`,
      );
      console.log(
        '  by area:',
        Object.entries(s.areas)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
          .join(', '),
      );
      for (const f of s.functions.slice(0, 15)) console.log(`  ${(f.selfShare * 100).toFixed(1).padStart(5)}%  ${f.function}  ${f.where}`);
    }
    rmSync(dir, { recursive: true, force: true });
    profile = out;
  }
} finally {
  await nginx.stop();
  rmSync(work, { recursive: true, force: true });
}

// ---- summary ----

const tools: Array<'loadgate' | 'loadgate-undici' | 'autocannon' | 'wrk'> = ['loadgate', 'loadgate-undici', 'autocannon', 'wrk'];
const med = (list: Measured[], tool: Tool, f: (m: Measured) => number | null | undefined) =>
  median(list.filter((m) => m.tool === tool).map((m) => f(m) ?? NaN));

const clean = (t: Tool) => {
  const ok = results.saturation.filter((m) => m.tool === t && !m.disturbed);
  return ok.length > 0 ? ok : results.saturation.filter((m) => m.tool === t);
};
const sat = Object.fromEntries(
  tools.map((t) => [
    t,
    {
      rpsByRound: results.saturation.filter((m) => m.tool === t).map((m) => m.rps),
      rps: med(results.saturation, t, (m) => m.rps),
      /** Median over the undisturbed rounds (all rounds if none was undisturbed). */
      rpsUndisturbed: med(clean(t), t, (m) => m.rps),
      undisturbedRounds: clean(t).length,
      /** Requests per second of generator CPU: what one full core would do (1e6 / CPU µs per request). */
      perCoreCapacity: 1e6 / med(results.saturation, t, (m) => m.cpuUsPerRequest),
      generatorCpu: med(results.saturation, t, (m) => m.generatorCpu),
      nginxCpu: med(results.saturation, t, (m) => m.nginxCpu),
      cpuUsPerRequest: med(results.saturation, t, (m) => m.cpuUsPerRequest),
      wakeupsPerRequest: med(results.saturation, t, (m) => m.wakeupsPerRequest),
      p50Ms: med(results.saturation, t, (m) => m.p50Ms),
      p99Ms: med(results.saturation, t, (m) => m.p99Ms),
      errors: results.saturation.filter((m) => m.tool === t).reduce((s, m) => s + m.errors, 0),
    },
  ]),
) as Record<
  Tool,
  {
    rpsByRound: number[];
    rps: number;
    rpsUndisturbed: number;
    undisturbedRounds: number;
    perCoreCapacity: number;
    wakeupsPerRequest: number;
    generatorCpu: number;
    nginxCpu: number;
    cpuUsPerRequest: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
  }
>;

const fixedTools: Array<'loadgate' | 'loadgate-undici' | 'autocannon' | 'hey' | 'paced-floor'> = HEY
  ? ['loadgate', 'loadgate-undici', 'autocannon', 'hey', 'paced-floor']
  : ['loadgate', 'loadgate-undici', 'autocannon', 'paced-floor'];
const fix = Object.fromEntries(
  fixedTools.map((t) => [
    t,
    {
      cpuUsPerRequestByRound: results.fixedRate.filter((m) => m.tool === t).map((m) => m.cpuUsPerRequest),
      cpuUsPerRequest: med(results.fixedRate, t, (m) => m.cpuUsPerRequest),
      wholeProcessCpuUsPerRequest: med(results.fixedRate, t, (m) => m.wholeProcessCpuUsPerRequest),
      inProcessCpuUsPerRequest: med(results.fixedRate, t, (m) => m.inProcessCpuUsPerRequest),
      wakeupsPerRequest: med(results.fixedRate, t, (m) => m.wakeupsPerRequest),
      sendLagP50Ms: med(results.fixedRate, t, (m) => m.sendLagP50Ms),
      sendLagP99Ms: med(results.fixedRate, t, (m) => m.sendLagP99Ms),
      generatorCpu: med(results.fixedRate, t, (m) => m.generatorCpu),
      rps: med(results.fixedRate, t, (m) => m.rps),
      p50Ms: med(results.fixedRate, t, (m) => m.p50Ms),
      p99Ms: med(results.fixedRate, t, (m) => m.p99Ms),
      maxRssBytes: med(results.fixedRate, t, (m) => m.maxRssBytes),
      errors: results.fixedRate.filter((m) => m.tool === t).reduce((s, m) => s + m.errors, 0),
    },
  ]),
) as Record<
  'loadgate' | 'loadgate-undici' | 'autocannon' | 'hey' | 'paced-floor',
  {
    cpuUsPerRequestByRound: (number | null)[];
    cpuUsPerRequest: number;
    wholeProcessCpuUsPerRequest: number;
    inProcessCpuUsPerRequest: number;
    wakeupsPerRequest: number;
    sendLagP50Ms: number;
    sendLagP99Ms: number;
    generatorCpu: number;
    rps: number;
    p50Ms: number;
    p99Ms: number;
    maxRssBytes: number;
    errors: number;
  }
>;

const ratios = {
  saturationLoadgateOverAutocannon: sat.loadgate.rps / sat.autocannon.rps,
  saturationLoadgateOverWrk: sat.loadgate.rps / sat.wrk.rps,
  saturationUndisturbedLoadgateOverAutocannon: sat.loadgate.rpsUndisturbed / sat.autocannon.rpsUndisturbed,
  saturationUndisturbedLoadgateOverWrk: sat.loadgate.rpsUndisturbed / sat.wrk.rpsUndisturbed,
  perCoreCapacityLoadgateOverAutocannon: sat.loadgate.perCoreCapacity / sat.autocannon.perCoreCapacity,
  perCoreCapacityLoadgateOverWrk: sat.loadgate.perCoreCapacity / sat.wrk.perCoreCapacity,
  fixedRateCpuLoadgateOverAutocannon: fix.loadgate.cpuUsPerRequest / fix.autocannon.cpuUsPerRequest,
  fixedRateCpuLoadgateOverHey: HEY ? fix.loadgate.cpuUsPerRequest / fix.hey.cpuUsPerRequest : null,
  // loadgate's own HTTP/1.1 client (h1-slot.ts) against the same engine on undici, same run.
  saturationH1OverUndici: sat.loadgate.rpsUndisturbed / sat['loadgate-undici'].rpsUndisturbed,
  perCoreCapacityH1OverUndici: sat.loadgate.perCoreCapacity / sat['loadgate-undici'].perCoreCapacity,
  fixedRateCpuH1OverUndici: fix.loadgate.cpuUsPerRequest / fix['loadgate-undici'].cpuUsPerRequest,
  // What loadgate's own code adds per request over the bare paced floor, µs (and as a ratio).
  fixedRateLoadgateOverFloorUs: fix.loadgate.cpuUsPerRequest - fix['paced-floor'].cpuUsPerRequest,
  fixedRateLoadgateOverFloor: fix.loadgate.cpuUsPerRequest / fix['paced-floor'].cpuUsPerRequest,
  fixedRateFloorOverAutocannon: fix['paced-floor'].cpuUsPerRequest / fix.autocannon.cpuUsPerRequest,
  perCoreCapacityLoadgateUndiciOverAutocannon: sat['loadgate-undici'].perCoreCapacity / sat.autocannon.perCoreCapacity,
  saturationUndisturbedLoadgateUndiciOverAutocannon: sat['loadgate-undici'].rpsUndisturbed / sat.autocannon.rpsUndisturbed,
  // Per round (the tools ran minutes apart at most), then the median of the per-round ratios.
  saturationLoadgateOverAutocannonPerRoundMedian: median(
    Array.from({ length: ROUNDS }, (_, i) => {
      const r = (t: Tool) => results.saturation.find((m) => m.tool === t && m.round === i + 1)?.rps ?? NaN;
      return r('loadgate') / r('autocannon');
    }),
  ),
  fixedRateCpuLoadgateOverAutocannonPerRoundMedian: median(
    Array.from({ length: ROUNDS }, (_, i) => {
      const r = (t: Tool) => results.fixedRate.find((m) => m.tool === t && m.round === i + 1)?.cpuUsPerRequest ?? NaN;
      return r('loadgate') / r('autocannon');
    }),
  ),
};
const targets = {
  // On a noisy host the plain median can flip with one disturbed round; both noise-robust figures must agree.
  saturationAtLeastAutocannon:
    sat.loadgate.rpsUndisturbed >= sat.autocannon.rpsUndisturbed && sat.loadgate.perCoreCapacity >= sat.autocannon.perCoreCapacity,
  fixedRateCpuAtMostAutocannon: fix.loadgate.cpuUsPerRequest <= fix.autocannon.cpuUsPerRequest,
};

if (ONLY !== 'fixed') {
  console.log(`\n== saturation, ${CONNS} connections, ${D} s each, medians of ${ROUNDS} rounds ==`);
  console.log(
    table(
      [
        'tool',
        ...Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`),
        'median req/s',
        'undisturbed median',
        'gen CPU',
        'nginx CPU',
        'CPU µs/req',
        'req/s per core',
        'p50 ms',
        'p99 ms',
        'errors',
      ],
      tools.map((t) => [
        t,
        ...results.saturation.filter((m) => m.tool === t).map((m) => fmt(m.rps) + (m.disturbed ? '*' : '')),
        fmt(sat[t].rps),
        `${fmt(sat[t].rpsUndisturbed)} (${sat[t].undisturbedRounds})`,
        `${fmt(sat[t].generatorCpu * 100)}%`,
        `${fmt(sat[t].nginxCpu * 100)}%`,
        fmt(sat[t].cpuUsPerRequest, 1),
        fmt(sat[t].perCoreCapacity),
        fmt(sat[t].p50Ms, 3),
        fmt(sat[t].p99Ms, 3),
        String(sat[t].errors),
      ]),
    ),
  );
  console.log('* disturbed round: the generator got under 90% of its core (host contention); left out of the undisturbed median');
  console.log(
    `loadgate/autocannon: median ${fmt(ratios.saturationLoadgateOverAutocannon, 3)}, undisturbed ${fmt(ratios.saturationUndisturbedLoadgateOverAutocannon, 3)}, per core ${fmt(ratios.perCoreCapacityLoadgateOverAutocannon, 3)}`,
  );
  console.log(
    `loadgate(h1)/undici: undisturbed ${fmt(ratios.saturationH1OverUndici, 3)}, per core ${fmt(ratios.perCoreCapacityH1OverUndici, 3)}; loadgate-undici/autocannon: undisturbed ${fmt(ratios.saturationUndisturbedLoadgateUndiciOverAutocannon, 3)}, per core ${fmt(ratios.perCoreCapacityLoadgateUndiciOverAutocannon, 3)}`,
  );
  console.log(
    `loadgate/wrk:        median ${fmt(ratios.saturationLoadgateOverWrk, 3)}, undisturbed ${fmt(ratios.saturationUndisturbedLoadgateOverWrk, 3)}, per core ${fmt(ratios.perCoreCapacityLoadgateOverWrk, 3)}`,
  );
}
if (ONLY !== 'saturation') {
  console.log(`\n== fixed rate ${RATE} req/s, ${CONNS} connections, ${FD} s each, medians of ${ROUNDS} rounds ==`);
  console.log(
    table(
      [
        'tool',
        ...Array.from({ length: ROUNDS }, (_, i) => `µs/req r${i + 1}`),
        'CPU µs/req',
        'wake-ups/req',
        'whole-process µs/req',
        'in-process µs/req',
        'achieved req/s',
        'p50 ms',
        'p99 ms',
        'max RSS MB',
        'errors',
      ],
      fixedTools.map((t) => [
        t,
        ...fix[t].cpuUsPerRequestByRound.map((x) => fmt(x, 1)),
        fmt(fix[t].cpuUsPerRequest, 1),
        fmt(fix[t].wakeupsPerRequest, 2),
        fmt(fix[t].wholeProcessCpuUsPerRequest, 1),
        fmt(fix[t].inProcessCpuUsPerRequest, 1),
        fmt(fix[t].rps),
        fmt(fix[t].p50Ms, 3),
        fmt(fix[t].p99Ms, 3),
        fmt(fix[t].maxRssBytes / 2 ** 20),
        String(fix[t].errors),
      ]),
    ),
  );
  console.log(
    `loadgate send lag (intended time to actual send, included in its latency): p50 ${fmt(fix.loadgate.sendLagP50Ms, 3)} ms, p99 ${fmt(fix.loadgate.sendLagP99Ms, 3)} ms`,
  );
  console.log(
    `loadgate/autocannon CPU per request ${fmt(ratios.fixedRateCpuLoadgateOverAutocannon, 3)} (per-round median ${fmt(ratios.fixedRateCpuLoadgateOverAutocannonPerRoundMedian, 3)})`,
  );
  console.log(`loadgate(h1)/loadgate-undici CPU per request ${fmt(ratios.fixedRateCpuH1OverUndici, 3)}`);
  console.log(
    `loadgate over the paced floor: +${fmt(ratios.fixedRateLoadgateOverFloorUs, 1)} µs/req (x${fmt(ratios.fixedRateLoadgateOverFloor, 2)}); paced floor/autocannon ${fmt(ratios.fixedRateFloorOverAutocannon, 2)}`,
  );
  if (HEY)
    console.log(
      `loadgate/hey CPU per request ${fmt(ratios.fixedRateCpuLoadgateOverHey, 3)} (hey paces each request, as loadgate does; autocannon -R does not, see bench/README.md)`,
    );
}
const verdict = (ran: boolean, met: boolean) => (!ran ? 'not run' : met ? 'MET' : 'MISSED');
console.log(
  `\ntargets: saturation >= autocannon: ${verdict(ONLY !== 'fixed', targets.saturationAtLeastAutocannon)}; CPU/request at ${RATE} req/s <= autocannon: ${verdict(ONLY !== 'saturation', targets.fixedRateCpuAtMostAutocannon)}`,
);

mkdirSync(opt.out, { recursive: true });
const file = join(opt.out, `throughput-${stamp()}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      benchmark: 'throughput',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: info,
      config: {
        only: ONLY || 'both',
        rounds: ROUNDS,
        durationS: D,
        fixedDurationS: FD,
        rate: RATE,
        connections: CONNS,
        generatorCore: GENERATOR_CORE,
        targetCore: TARGET_CORE,
        body: BODY,
      },
      method:
        'Each tool runs as `taskset -c 0 /usr/bin/time TOOL`; CPU = utime+stime from /proc/PID/stat sampled every 100 ms over a steady-state window ' +
        `(saturation: 1.5 s to ${D} s after spawn; fixed rate: 2 s to ${FD - 0.5} s), divided by the tool's achieved request rate. ` +
        'wholeProcess = /usr/bin/time user+sys over all requests (start-up included). inProcess = process.cpuUsage() around runLoad (loadgate only).',
      summary: { saturation: sat, fixedRate: fix, ratios, targets, idleWakeupCpuUs: wakeup?.cpuUsPerWake ?? null },
      wakeup,
      profile,
      runs: results,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nraw results: ${file}`);
