// CPU and memory of a container service: from its cgroup's files (cpuacct/cpu.stat, memory), found through
// the container CLI's PID for it, every interval; where those cannot be read here (a remote engine, a VM),
// by polling `docker stats --no-stream` (works with podman too).

import { readFileSync } from 'node:fs';
import { containerCli, lastLine } from './container-cli.ts';
import { type ContainerVia, MIN_FINAL_MS, type ResourceSample } from './resource-sample.ts';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
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
 * A container's CPU and memory: from its cgroup files when this host can read them (the CLI's PID for
 * the container, then /proc/<pid>/cgroup), every second; otherwise by polling
 * `<cli> stats --no-stream` (about 1.5 s a call, one at a time), which works with any engine.
 */
export function sampleContainer(
  cli: string,
  id: string,
  intervalMs: number,
  onSample: (s: ResourceSample) => void,
  onProblem: (p: string) => void,
  onVia: (via: ContainerVia) => void,
): () => Promise<void> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let idle: Promise<void> = Promise.resolve();
  let finalSample = () => {};
  // A stats call in progress is a read-only client: ending it at once is safe (docker stats ignores SIGTERM).
  const run = (args: string[]) =>
    containerCli(cli)
      .run(args, { timeoutMs: 10_000, signal: stop.signal, killSignal: 'SIGKILL' })
      .catch((e: unknown) => ({ code: null, stdout: '', stderr: (e as Error).message }));
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
        files = null; // not on this host (a remote engine, a VM): ask the CLI instead
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
      else if (!stop.signal.aborted && ++failures === 3)
        onProblem(`cannot sample the container's CPU and memory: ${cli} stats: ${lastLine(r.stderr) || 'no numbers'}`);
    }
  })();
  return async () => {
    stop.abort();
    clearInterval(timer);
    await idle;
    finalSample();
  };
}
