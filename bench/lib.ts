// Shared helpers of the benchmarks: the nginx target, pinned child processes sampled through /proc,
// and small statistics. Linux only (taskset, /proc, /usr/bin/time).

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH_DIR);
/** The Node 24 the project pins (the system node may be older). */
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const AUTOCANNON = join(ROOT, 'node_modules/autocannon/autocannon.js');
export const LOADGATE_CHILD = join(BENCH_DIR, 'loadgate-child.ts');
export const NGINX = '/usr/sbin/nginx';

/** The request every tool sends: the insurance-charges example's prediction input. */
export const BODY = '{"age":65,"sex":"male","bmi":50.0,"children":5,"smoker":true,"region":"southwest"}';

/** Generators run on this core, the target on the other. */
export const GENERATOR_CORE = 0;
export const TARGET_CORE = 1;

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// ---- /proc ----

/** utime + stime of a process (all its threads, alive or exited), in clock ticks; null once it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5)
  } catch {
    return null;
  }
}

/** Resident set size in bytes (VmRSS), or null once the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Voluntary context switches summed over the process's threads: how many times they blocked and were
 * woken up again (an event loop blocks in epoll_wait once per wake-up). Null once the process is gone.
 */
export function voluntarySwitches(pid: number): number | null {
  try {
    let sum = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      if (m) sum += Number(m[1]);
    }
    return sum;
  } catch {
    return null;
  }
}

export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pins every thread of this process to `core` (the parent's sampling stays off the generator's core). */
export function pinSelf(core: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

// ---- processes we start: tracked so that nothing is left running ----

const started = new Set<ChildProcess>();

function killStarted(): void {
  for (const c of started)
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
}
process.on('exit', killStarted);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killStarted();
    process.exit(130);
  });
}

// ---- the target ----

export interface Nginx {
  url: string;
  port: number;
  masterPid: number;
  workerPid: number;
  stop(): Promise<void>;
}

/** Starts nginx (one worker) on a free loopback port, pinned to `core` (a taskset list: 1, or 0-1), and waits until it answers. */
export async function startNginx(core: number | string = TARGET_CORE): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'loadgate-bench-nginx-'));
  const port = await freePort();
  const conf = readFileSync(join(BENCH_DIR, 'nginx.conf'), 'utf8').replaceAll('__PORT__', String(port)).replaceAll('__PREFIX__', prefix);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child = spawn('taskset', ['-c', String(core), NGINX, '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      const res = await fetch(`${url}/`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      if (res.status === 200 && text.includes('charges')) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url}: ${stderr}`);
    await sleep(50);
  }
  const workers = childPids(child.pid!);
  if (workers.length !== 1) throw new Error(`expected one nginx worker, found ${workers.length}`);
  return {
    url,
    port,
    masterPid: child.pid!,
    workerPid: workers[0]!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT'); // graceful: the master stops its worker
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      started.delete(child);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

// ---- generators ----

export interface CpuSample {
  /** ms since the tool's process was spawned. */
  t: number;
  /** utime + stime of the tool, clock ticks. */
  ticks: number;
  /** utime + stime of the extra watched processes (e.g. the nginx worker), clock ticks. */
  other: number[];
  rss: number;
  /** Voluntary context switches of the tool, summed over its threads (wake-ups after blocking). */
  switches: number;
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From /usr/bin/time: wall seconds, user and system CPU seconds, max RSS in bytes, for the whole process. */
  time: { elapsedS: number; userS: number; sysS: number; maxRssBytes: number } | null;
  samples: CpuSample[];
  toolPid: number;
  wallMs: number;
}

/**
 * Runs `argv` pinned to `core` under /usr/bin/time, sampling the tool's CPU ticks (and those of `watch`)
 * from /proc every `sampleMs`. The tool is a child of `time`, itself a child of `taskset` (which execs).
 */
export async function runTool(
  argv: string[],
  opts: { core?: number; sampleMs?: number; watch?: number[]; env?: NodeJS.ProcessEnv; onStdoutLine?: (line: string) => void } = {},
): Promise<ToolRun> {
  const core = opts.core ?? GENERATOR_CORE;
  const sampleMs = opts.sampleMs ?? 100;
  const watch = opts.watch ?? [];
  const t0 = performance.now();
  const child = spawn('taskset', ['-c', String(core), '/usr/bin/time', '-f', '@@time %e %U %S %M', ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  started.add(child);
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const s = d.toString();
    stdout += s;
    if (opts.onStdoutLine) {
      partial += s;
      let i: number;
      while ((i = partial.indexOf('\n')) >= 0) {
        opts.onStdoutLine(partial.slice(0, i));
        partial = partial.slice(i + 1);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  let toolPid = 0;
  const samples: CpuSample[] = [];
  const sample = () => {
    if (!toolPid) toolPid = childPids(child.pid!)[0] ?? 0;
    if (!toolPid) return;
    const ticks = cpuTicks(toolPid);
    const rss = rssBytes(toolPid);
    const switches = voluntarySwitches(toolPid);
    if (ticks === null || rss === null || switches === null) return;
    samples.push({ t: performance.now() - t0, ticks, other: watch.map((p) => cpuTicks(p) ?? NaN), rss, switches });
  };
  const timer = setInterval(sample, sampleMs);
  sample();
  const code = await exited;
  clearInterval(timer);
  started.delete(child);
  const wallMs = performance.now() - t0;
  const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  const time = m ? { elapsedS: Number(m[1]), userS: Number(m[2]), sysS: Number(m[3]), maxRssBytes: Number(m[4]) * 1024 } : null;
  stderr = stderr.replace(/@@time .*\n?/, '');
  return { code, stdout, stderr, time, samples, toolPid, wallMs };
}

/**
 * CPU use, as a share of one core, of the tool (and of each watched process) between `fromMs` and
 * `toMs` after spawn: the first sample at or after `fromMs` and the last at or before `toMs`.
 */
export function windowCpu(
  samples: readonly CpuSample[],
  fromMs: number,
  toMs: number,
): { share: number; other: number[]; spanMs: number; switchesPerSecond: number } | null {
  const a = samples.find((s) => s.t >= fromMs);
  const b = samples.findLast((s) => s.t <= toMs);
  if (!a || !b || b.t - a.t < 500) return null;
  const secs = (b.t - a.t) / 1000;
  return {
    share: (b.ticks - a.ticks) / CLK_TCK / secs,
    other: a.other.map((x, i) => (b.other[i]! - x) / CLK_TCK / secs),
    spanMs: b.t - a.t,
    switchesPerSecond: (b.switches - a.switches) / secs,
  };
}

// ---- statistics and formatting ----

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export function fmt(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function stamp(): string {
  return new Date()
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}

export function machine(): Record<string, unknown> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const mhz = /^cpu MHz\s*:\s*(.*)$/m.exec(cpuinfo)?.[1];
  const read = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  };
  return {
    nproc: Number(read('nproc', ['--all'])),
    cpuModel: model,
    cpuMHz: mhz ? Number(mhz) : undefined,
    kernel: read('uname', ['-r']),
    node: process.version,
    nginx: read(NGINX, ['-v']),
    wrk: read('wrk', ['--version']).split('\n')[0],
    autocannon: JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version as string,
  };
}
