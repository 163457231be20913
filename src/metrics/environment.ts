// Where a run ran: the machine (CPU model and count, memory), OS and kernel, the CI runner (name, OS,
// architecture, image) when the runner says, Node and loadgate versions, the service's image and its
// digest, and what the run itself saw of the machine: CPU stolen by the hypervisor during the load (the
// steal column of /proc/stat, before and after) and the generator's own CPU. The one record of it: a
// single run, each round of a comparison, the comparison's two sides and a stored baseline all use this
// type, under `environment` in result.json. Two results taken on different machines cannot be compared
// with confidence; `environmentDifferences` says how two differ, for the comparison to warn from.
// Reading it costs two /proc reads and a few os calls per run.

import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, release, totalmem, type as osType } from 'node:os';
import type { ServiceImage } from '../service/running-service.ts';
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
  serviceImage?: ServiceImage;
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

/** Everything about where the run ran, once the load is over: the one place this machine's record is gathered. */
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

/**
 * One record for several loads on one machine (the rounds of one side): the first's machine, the steal
 * over all of them (each round's share weighted by its duration: the jiffies it covered), and the given
 * generator CPU (the merged result's).
 */
export function acrossLoads(
  parts: ReadonlyArray<{ environment?: Environment; durationMs: number }>,
  generatorCpu: number,
): Environment | undefined {
  const first = parts.find((p) => p.environment)?.environment;
  if (!first) return undefined;
  const { cpuStealPercent: _, ...machine } = first;
  const withSteal = parts.filter((p) => p.environment?.cpuStealPercent !== undefined && p.durationMs > 0);
  const span = withSteal.reduce((t, p) => t + p.durationMs, 0);
  const steal = span > 0 ? withSteal.reduce((t, p) => t + p.environment!.cpuStealPercent! * p.durationMs, 0) / span : undefined;
  return { ...machine, ...(steal !== undefined ? { cpuStealPercent: Math.round(steal * 10) / 10 } : {}), generatorCpu };
}

/** Steal above this share of the machine (percent) makes the numbers of a run doubtful on its own. */
export const STEAL_WARN_PERCENT = 5;

/**
 * How two runs' environments differ, one phrase per difference that can move latency figures (empty:
 * comparable), for a comparison to warn from. A record may be partial (a stored result from an older
 * loadgate recorded less): a field recorded on one side only is named once, as not checkable.
 *
 * What warns is the measuring set-up, not the service: the machine (CPU model and count, memory,
 * architecture), its OS and kernel, the CI runner's image, the generator's Node and loadgate, and a
 * machine whose CPU was stolen. The service's image and digest are left out on purpose: two different
 * images are the point of a comparison (the PR's build against main's), so a different digest is what
 * the user asked for, not a caveat. Both sides' digests are recorded (comparison.environments) and shown
 * beside the comparison instead; the one surprise worth a warning, two differently named images that
 * are one and the same, is `sameImageWarning`.
 */
export function environmentDifferences(
  a: Partial<Environment> | undefined,
  b: Partial<Environment> | undefined,
  labels: readonly [string, string] = ['this run', 'the baseline'],
): string[] {
  if (!a || !b) {
    if (a === b) return [];
    return [`${a ? labels[1] : labels[0]} does not say where it ran: differences of machine cannot be checked`];
  }
  const out: string[] = [];
  const unrecorded: string[][] = [[], []];
  const differ = (
    what: string,
    x: string | number | undefined,
    y: string | number | undefined,
    show = (v: string | number) => String(v),
  ) => {
    if (x === undefined || y === undefined) {
      if (x !== y) unrecorded[x === undefined ? 0 : 1]!.push(what);
    } else if (x !== y) out.push(`${what} differs: ${show(x)} (${labels[0]}) vs ${show(y)} (${labels[1]})`);
  };
  differ('CPU model', a.cpuModel, b.cpuModel);
  differ('CPU count', a.cpuCount, b.cpuCount);
  const ma = a.memoryBytes;
  const mb = b.memoryBytes;
  // Memory as the OS reports it moves by a few MiB between boots of the same machine type.
  if (ma === undefined || mb === undefined || Math.abs(ma - mb) > 0.1 * Math.max(ma, mb)) differ('memory', ma, mb, gib);
  differ('architecture', a.arch, b.arch);
  differ('OS', a.os, b.os);
  differ('kernel', a.kernel, b.kernel);
  // Only when either ran on a CI runner that names its image. A record of this loadgate without one ran
  // elsewhere ("none"); an older record may just not have said.
  if (a.runner?.image || b.runner?.image) differ('runner image', runnerImage(a), runnerImage(b));
  differ('Node', a.node, b.node);
  differ('loadgate', a.loadgate, b.loadgate);
  for (const [i, e] of [a, b].entries()) {
    if ((e.cpuStealPercent ?? 0) > STEAL_WARN_PERCENT)
      out.push(`${labels[i]}'s machine had ${e.cpuStealPercent}% of its CPU stolen by the hypervisor`);
  }
  for (const [i, what] of unrecorded.entries()) {
    if (what.length > 0) out.push(`${labels[i]} does not record its ${what.join(', ')}: differences there cannot be checked`);
  }
  return out;
}

/**
 * A same-job baseline whose image is named differently from the candidate's (e.g. model:pr and
 * model:main) yet has the same digest: the two tags point at one image, so the comparison cannot show a
 * change of image (a build that did not change, or a tag not pushed). The same name on both sides is a
 * comparison of settings (env, limits), meant that way, and says nothing.
 */
export function sameImageWarning(
  candidate: Partial<Environment> | undefined,
  baseline: Partial<Environment> | undefined,
): string | undefined {
  const c = candidate?.serviceImage;
  const b = baseline?.serviceImage;
  if (!c?.digest || !b?.digest || c.image === b.image || c.digest !== b.digest) return undefined;
  return `the candidate (${c.image}) and the baseline (${b.image}) are the same image (${c.digest}): the comparison cannot show a change of image`;
}

function runnerImage(e: Partial<Environment>): string | undefined {
  if (e.runner?.image) return `${e.runner.image} ${e.runner.imageVersion ?? ''}`.trim();
  return e.node !== undefined ? 'none' : undefined;
}

function gib(bytes: string | number): string {
  return `${Math.round((Number(bytes) / 2 ** 30) * 10) / 10} GiB`;
}
