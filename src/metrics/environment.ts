// Where a run ran: the machine (CPU model and count, memory), OS and kernel, the CI runner (name, OS,
// architecture, image) when the runner says, Node and loadgate versions, the service's image digest,
// and what the run itself saw of the machine: CPU stolen by the hypervisor during the load (the steal
// column of /proc/stat, before and after) and the generator's own CPU. Two results taken on different
// machines cannot be compared with confidence; `environmentDifferences` says how two differ, for the
// baseline comparison to warn from. Reading it costs two /proc reads and a few os calls per run.

import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, release, totalmem, type as osType } from 'node:os';
import { VERSION } from '../version.ts';

export interface Environment {
  cpuModel: string;
  cpuCount: number;
  memoryBytes: number;
  /** e.g. "Linux", and the distribution when /etc/os-release names it. */
  os: string;
  kernel: string;
  arch: string;
  node: string;
  loadgate: string;
  /** GitHub Actions runner, from its environment (RUNNER_NAME, RUNNER_OS, RUNNER_ARCH, ImageOS, ImageVersion). */
  runner?: { name?: string; os?: string; arch?: string; image?: string; imageVersion?: string };
  /** The service's container image and its digest (added by the run, for a container service). */
  serviceImage?: { image: string; digest?: string };
  /** Share of the machine's CPU time the hypervisor stole during the load, percent (Linux only). */
  cpuStealPercent?: number;
  /** The generator's CPU over the load, share of one core. */
  generatorCpu: number;
}

/** /proc/stat's aggregate line: [steal, total] jiffies, or null off Linux. */
export function readSteal(text?: string): [steal: number, total: number] | null {
  try {
    const line = (text ?? readFileSync('/proc/stat', 'utf8')).split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return null;
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is inside user already.
    return [f[7]!, f.slice(0, 8).reduce((a, b) => a + b, 0)];
  } catch {
    return null;
  }
}

export interface MachineBefore {
  steal: [number, number] | null;
}

export function machineBefore(): MachineBefore {
  return { steal: readSteal() };
}

/** Everything about where the run ran, once the load is over. */
export function machineAfter(before: MachineBefore, generatorCpu: number, env: NodeJS.ProcessEnv = process.env): Environment {
  const after = readSteal();
  const c = cpus();
  const runner = {
    ...(env.RUNNER_NAME ? { name: env.RUNNER_NAME } : {}),
    ...(env.RUNNER_OS ? { os: env.RUNNER_OS } : {}),
    ...(env.RUNNER_ARCH ? { arch: env.RUNNER_ARCH } : {}),
    ...(env.ImageOS ? { image: env.ImageOS } : {}),
    ...(env.ImageVersion ? { imageVersion: env.ImageVersion } : {}),
  };
  const steal =
    before.steal && after && after[1] > before.steal[1]
      ? Math.round(((after[0] - before.steal[0]) / (after[1] - before.steal[1])) * 1000) / 10
      : undefined;
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cpuCount: availableParallelism(),
    memoryBytes: totalmem(),
    os: osName(),
    kernel: release(),
    arch: arch(),
    node: process.version,
    loadgate: VERSION,
    ...(Object.keys(runner).length ? { runner } : {}),
    ...(steal !== undefined ? { cpuStealPercent: steal } : {}),
    generatorCpu,
  };
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return `${osType()} (${m[1]})`;
  } catch {}
  return osType();
}

/** Steal above this share of the machine (percent) makes the numbers of a run doubtful on its own. */
const STEAL_WARN_PERCENT = 5;

/**
 * How two runs' environments differ, one phrase per difference that can move latency figures (empty:
 * comparable). Pure, for the baseline comparison to warn from; an environment missing on either side
 * is itself a difference.
 */
export function environmentDifferences(a: Environment | undefined, b: Environment | undefined): string[] {
  if (!a || !b) return a === b ? [] : ['one of the runs does not say where it ran'];
  const out: string[] = [];
  const differ = (what: string, x: unknown, y: unknown) => {
    if (x !== y) out.push(`${what}: ${String(x ?? 'unknown')} vs ${String(y ?? 'unknown')}`);
  };
  differ('CPU', a.cpuModel, b.cpuModel);
  differ('CPU count', a.cpuCount, b.cpuCount);
  if (Math.abs(a.memoryBytes - b.memoryBytes) > 0.1 * Math.max(a.memoryBytes, b.memoryBytes)) {
    out.push(`memory: ${gib(a.memoryBytes)} vs ${gib(b.memoryBytes)}`);
  }
  differ('architecture', a.arch, b.arch);
  differ('OS', a.os, b.os);
  differ('kernel', a.kernel, b.kernel);
  differ('runner image', runnerImage(a), runnerImage(b));
  differ('Node', a.node, b.node);
  differ('loadgate', a.loadgate, b.loadgate);
  if (a.serviceImage || b.serviceImage) {
    differ('service image', a.serviceImage?.image, b.serviceImage?.image);
    differ('service image digest', a.serviceImage?.digest, b.serviceImage?.digest);
  }
  for (const [name, e] of [
    ['first', a],
    ['second', b],
  ] as const) {
    if ((e.cpuStealPercent ?? 0) > STEAL_WARN_PERCENT) out.push(`the ${name} run's machine had ${e.cpuStealPercent}% of its CPU stolen`);
  }
  return out;
}

function runnerImage(e: Environment): string | undefined {
  return e.runner?.image ? `${e.runner.image} ${e.runner.imageVersion ?? ''}`.trim() : undefined;
}

function gib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 10) / 10} GiB`;
}
