// Watching the service while the load runs: its CPU and memory every second, and the user's monitor
// commands every N seconds (e.g. `kubectl get deploy X -o jsonpath={.status.readyReplicas}` to see an
// autoscaler scale out, as the seed did by hand with `kubectl top`).
//
//   command service:   /proc/<pid>/stat of every process in its process group (utime+stime, rss)
//   container service: its cgroup's files (cpuacct/cpu.stat, memory), found through the engine's PID for
//                      it; `docker stats --no-stream` polled where those cannot be read (works with podman too)
//   URL service:       nothing to watch (monitor commands still run)
//
// The samplers only collect time-stamped samples; `attachWatch` (pure, src/metrics/resources.ts) folds them
// into the RunResult's per-second timeline afterwards, so the engine's hot path never sees them. A sampler that fails says so
// once in `problems`; it never stops the run.

import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { MonitorPlan } from '../plan/types.ts';
import type { ServiceWatch } from './running-service.ts';
import { containerCli, lastLine } from './container-cli.ts';
import { readProcStat } from './procfs.ts';


/** Where resource samples come from: a process group's /proc files, or a container's cgroup or engine stats. */
export type ResourceSource = 'proc' | 'container';

export interface ResourceSample {
  /** Wall clock, ms since the epoch. */
  atMs: number;
  /** Share of one core, in percent (200 = two cores busy). */
  cpuPercent?: number;
  memoryBytes?: number;
}

export interface MonitorSample {
  atMs: number;
  name: string;
  value: number;
}

export interface Watcher {
  readonly resources: ResourceSample[];
  readonly monitors: MonitorSample[];
  /** Per monitor: failed samples and the last reason. */
  readonly monitorFailures: Map<string, { count: number; last: string }>;
  /** Why resources could not be sampled, once each. */
  readonly problems: string[];
  readonly source: ResourceSource | null;
  /** How a container is sampled, once known: its cgroup files, or the engine's stats command. */
  readonly containerVia: 'cgroup' | 'engine stats' | undefined;
  /** Stops every sampler and waits for its children to end. */
  stop(): Promise<void>;
}

/** At the stop, a last sample covers the time since the previous one, when that is at least this long. */
const MIN_FINAL_MS = 250;

/** Samples above this many are dropped (a 10 h run at 1/s): memory stays bounded. */
const MAX_SAMPLES = 36_000;

export function startWatching(target: ServiceWatch, monitors: readonly MonitorPlan[], opts: { intervalMs?: number } = {}): Watcher {
  const intervalMs = opts.intervalMs ?? 1000;
  const resources: ResourceSample[] = [];
  const monitorSamples: MonitorSample[] = [];
  const monitorFailures = new Map<string, { count: number; last: string }>();
  const problems: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  const push = <T>(list: T[], s: T) => {
    if (list.length < MAX_SAMPLES) list.push(s);
  };
  let source: ResourceSource | null = null;
  let via: Watcher['containerVia'];
  if (target?.kind === 'pid') {
    source = 'proc';
    stops.push(sampleProcessGroup(target.pid, intervalMs, (s) => push(resources, s), (p) => problems.push(p)));
  } else if (target?.kind === 'container') {
    source = 'container';
    stops.push(sampleContainer(target.cli, target.id, intervalMs, (s) => push(resources, s), (p) => problems.push(p), (v) => (via = v)));
  }
  for (const m of monitors) {
    stops.push(
      runMonitor(m, (value) => push(monitorSamples, { atMs: Date.now(), name: m.name, value }), (why) => {
        const f = monitorFailures.get(m.name) ?? { count: 0, last: '' };
        f.count++;
        f.last = why;
        monitorFailures.set(m.name, f);
      }),
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    resources,
    monitors: monitorSamples,
    monitorFailures,
    problems,
    source,
    get containerVia() {
      return via;
    },
    stop: () => (stopping ??= Promise.all(stops.map((s) => s())).then(() => {})),
  };
}

// ---- command services: /proc ----

let sysconf: { clockTicks: number; pageSize: number } | undefined;
function systemUnits(): { clockTicks: number; pageSize: number } {
  const read = (name: string, fallback: number) => {
    try {
      const n = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
      return n > 0 ? n : fallback;
    } catch {
      return fallback;
    }
  };
  sysconf ??= { clockTicks: read('CLK_TCK', 100), pageSize: read('PAGESIZE', 4096) };
  return sysconf;
}

/** The processes of group `pgid` now: ticks per pid and the group's resident memory in pages. */
function readGroup(pgid: number): { ticks: Map<number, number>; rssPages: number } {
  const ticks = new Map<number, number>();
  let rssPages = 0;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readProcStat(pid); // null when it exited between readdir and read
    if (!st || st.pgrp !== pgid) continue;
    ticks.set(pid, st.ticks);
    rssPages += st.rssPages;
  }
  return { ticks, rssPages };
}

/**
 * CPU over one interval from two readings of a group: per process, the ticks it added (a process new
 * since the last reading added all of its ticks since then; one that exited is simply gone).
 */
export function cpuPercentBetween(prev: Map<number, number>, now: Map<number, number>, elapsedMs: number, clockTicks: number): number {
  let delta = 0;
  for (const [pid, t] of now) delta += Math.max(0, t - (prev.get(pid) ?? 0));
  return elapsedMs > 0 ? (delta / clockTicks / (elapsedMs / 1000)) * 100 : 0;
}

function sampleProcessGroup(pgid: number, intervalMs: number, onSample: (s: ResourceSample) => void, onProblem: (p: string) => void): () => Promise<void> {
  const { clockTicks, pageSize } = systemUnits();
  let prev: { at: number; ticks: Map<number, number> };
  try {
    prev = { at: performance.now(), ticks: readGroup(pgid).ticks };
  } catch (e) {
    onProblem(`cannot read /proc to sample the service's CPU and memory: ${(e as Error).message}`);
    return async () => {};
  }
  const sample = () => {
    const at = performance.now();
    const g = readGroup(pgid);
    if (g.ticks.size === 0) return; // the group is gone: the run notices through the service's exit
    onSample({ atMs: Date.now(), cpuPercent: cpuPercentBetween(prev.ticks, g.ticks, at - prev.at, clockTicks), memoryBytes: g.rssPages * pageSize });
    prev = { at, ticks: g.ticks };
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    // The last part of the run, so a short run still has its samples.
    if (performance.now() - prev.at >= MIN_FINAL_MS) sample();
  };
}

// ---- container services: docker stats ----

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** "12.5MiB" -> bytes; null when it is not a size. */
export function parseSize(s: string): number | null {
  const m = /^\s*([\d.]+)\s*([a-z]+)\s*$/i.exec(s);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined && Number.isFinite(Number(m[1])) ? Number(m[1]) * unit : null;
}

/**
 * One line of `docker stats --format '{{json .}}'` (a terminal-clearing escape may precede the JSON):
 * CPUPerc "12.34%" and MemUsage "12.5MiB / 1GiB" (podman prints the same fields). Null for anything else.
 */
export function parseDockerStatsLine(line: string): { cpuPercent?: number; memoryBytes?: number } | null {
  const start = line.indexOf('{');
  const end = line.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line.slice(start, end + 1)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const out: { cpuPercent?: number; memoryBytes?: number } = {};
  const cpu = typeof o['CPUPerc'] === 'string' ? Number.parseFloat(o['CPUPerc']) : NaN;
  if (Number.isFinite(cpu)) out.cpuPercent = cpu;
  const mem = typeof o['MemUsage'] === 'string' ? parseSize(o['MemUsage'].split('/')[0] ?? '') : null;
  if (mem !== null) out.memoryBytes = mem;
  return out.cpuPercent === undefined && out.memoryBytes === undefined ? null : out;
}

/** Where a process's cgroup keeps its CPU time and memory use, from /proc/<pid>/cgroup and /proc/self/mountinfo. */
export interface CgroupFiles {
  version: 1 | 2;
  /** v1: cpuacct.usage (ns); v2: cpu.stat (usage_usec line). */
  cpu: string;
  /** v1: memory.usage_in_bytes; v2: memory.current. */
  memory: string;
  /** memory.stat: its inactive file pages are left out, as docker stats does. */
  memoryStat: string;
}

/**
 * Finds the cgroup files of a process (pure: the texts of /proc/<pid>/cgroup and /proc/self/mountinfo).
 * cgroup v1 controllers (cpuacct, memory) win over the v2 hierarchy, which on a hybrid host is mounted
 * without controllers. Null when a controller is missing, or mounted at a root other than / (nested).
 */
export function findCgroupFiles(procCgroup: string, mountinfo: string): CgroupFiles | null {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else for (const c of m[2]!.split(',')) v1.set(c, m[3]!);
  }
  const mounts: Array<{ root: string; at: string; type: string; opts: string[] }> = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [type, , superOpts] = post.split(' ');
    if (f[3] && f[4] && type) mounts.push({ root: f[3], at: f[4], type, opts: (superOpts ?? '').split(',') });
  }
  const join = (a: string, b: string) => `${a.replace(/\/$/, '')}${b}`;
  const v1Dir = (controller: string) => {
    const path = v1.get(controller);
    const mount = mounts.find((mt) => mt.type === 'cgroup' && mt.opts.includes(controller));
    return path !== undefined && mount && mount.root === '/' ? join(mount.at, path) : undefined;
  };
  const cpuDir = v1Dir('cpuacct');
  const memDir = v1Dir('memory');
  if (cpuDir && memDir) {
    return { version: 1, cpu: `${cpuDir}/cpuacct.usage`, memory: `${memDir}/memory.usage_in_bytes`, memoryStat: `${memDir}/memory.stat` };
  }
  const unified = mounts.find((mt) => mt.type === 'cgroup2');
  if (v2 !== undefined && unified && unified.root === '/') {
    const dir = join(unified.at, v2);
    return { version: 2, cpu: `${dir}/cpu.stat`, memory: `${dir}/memory.current`, memoryStat: `${dir}/memory.stat` };
  }
  return null;
}

/** CPU time in ns and memory in use (less inactive file cache) from a cgroup's files. */
function readCgroup(f: CgroupFiles): { cpuNs: number; memoryBytes: number } {
  const stat = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const memStat = readFileSync(f.memoryStat, 'utf8');
  const inactive = f.version === 1 ? stat(memStat, 'total_inactive_file') : stat(memStat, 'inactive_file');
  const used = Number(readFileSync(f.memory, 'utf8').trim());
  const cpuNs = f.version === 1 ? Number(readFileSync(f.cpu, 'utf8').trim()) : stat(readFileSync(f.cpu, 'utf8'), 'usage_usec') * 1000;
  return { cpuNs, memoryBytes: Math.max(0, used - inactive) };
}

/**
 * A container's CPU and memory: from its cgroup files when this host can read them (the engine's PID
 * for the container, then /proc/<pid>/cgroup), every second; otherwise by polling
 * `<engine> stats --no-stream` (about 1.5 s a call, one at a time), which works with any engine.
 */
function sampleContainer(
  engine: string,
  id: string,
  intervalMs: number,
  onSample: (s: ResourceSample) => void,
  onProblem: (p: string) => void,
  onVia: (via: 'cgroup' | 'engine stats') => void,
): () => Promise<void> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let idle: Promise<void> = Promise.resolve();
  let finalSample = () => {};
  // A stats call in progress is a read-only client: ending it at once is safe (docker stats ignores SIGTERM).
  const cli = containerCli(engine);
  const run = (args: string[]) =>
    cli.run(args, { timeoutMs: 10_000, signal: stop.signal, killSignal: 'SIGKILL' }).catch((e: unknown) => ({ code: null, stdout: '', stderr: (e as Error).message }));
  idle = (async () => {
    const inspect = await run(['inspect', '--format', '{{.State.Pid}}', id]);
    const pid = Number(inspect.stdout.trim());
    let files: CgroupFiles | null = null;
    let first: { at: number; cpuNs: number } | undefined;
    if (inspect.code === 0 && pid > 0) {
      try {
        const procCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
        // With a remote engine (DOCKER_HOST, a VM) the PID is another kernel's: a local process that
        // happens to have it is not the container. Engines name the container's cgroup after its id.
        files = procCgroup.includes(id.slice(0, 12)) ? findCgroupFiles(procCgroup, readFileSync('/proc/self/mountinfo', 'utf8')) : null;
        // The first reading: proof the files can be read here, and where CPU time is counted from.
        if (files) first = { at: performance.now(), cpuNs: readCgroup(files).cpuNs };
      } catch {
        files = null; // not on this host (a remote engine, a VM): ask the engine instead
      }
    } else if (inspect.code !== 0) {
      onProblem(`cannot sample the container's CPU and memory: ${lastLine(inspect.stderr)}`);
      return;
    }
    onVia(files && first ? 'cgroup' : 'engine stats');
    if (files && first) {
      const cg = files;
      let prev = first;
      const sample = () => {
        try {
          const at = performance.now();
          const now = readCgroup(cg);
          onSample({ atMs: Date.now(), cpuPercent: ((now.cpuNs - prev.cpuNs) / 1e6 / (at - prev.at)) * 100, memoryBytes: now.memoryBytes });
          prev = { at, cpuNs: now.cpuNs };
        } catch {
          // the container is gone: the run notices through the service's exit
        }
      };
      timer = setInterval(sample, intervalMs);
      timer.unref();
      finalSample = () => {
        if (performance.now() - prev.at >= MIN_FINAL_MS) sample();
      };
      return;
    }
    let failures = 0;
    while (!stop.signal.aborted) {
      const r = await run(['stats', '--no-stream', '--format', '{{json .}}', id]);
      const s = r.code === 0 ? parseDockerStatsLine(r.stdout) : null;
      if (s) onSample({ atMs: Date.now(), ...s });
      else if (!stop.signal.aborted && ++failures === 3) onProblem(`cannot sample the container's CPU and memory: ${engine} stats: ${lastLine(r.stderr) || 'no numbers'}`);
    }
  })();
  return async () => {
    stop.abort();
    clearInterval(timer);
    await idle;
    finalSample();
  };
}

// ---- monitor commands ----

/** The number a monitor printed: the first number in its output ("3", "3 replicas", "0.75\n"); null if none. */
export function parseMonitorOutput(stdout: string): number | null {
  const m = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i.exec(stdout);
  return m ? Number(m[0]) : null;
}

function runMonitor(m: MonitorPlan, onValue: (v: number) => void, onFailure: (why: string) => void): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const once = () => {
    if (running || stopped) return; // a slow command is never run twice at once
    running = new Promise<void>((res) => {
      execFile('/bin/sh', ['-c', m.command], { timeout: m.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
        running = null;
        res();
        if (stopped && error) return; // cut short by the end of the run
        if (error) {
          const why = error.killed ? `timed out after ${m.timeoutMs} ms` : (stderr.trim().split('\n').pop() ?? '') || error.message;
          onFailure(why.slice(0, 300));
          return;
        }
        const v = parseMonitorOutput(stdout);
        if (v === null) onFailure(`printed no number: ${JSON.stringify(stdout.trim().slice(0, 80))}`);
        else onValue(v);
      });
    });
  };
  once();
  const timer = setInterval(once, m.everyMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
