// CPU and memory of a command service: every process in its process group, read from /proc/<pid>/stat
// (utime+stime, rss) each interval. The shell loadgate starts and everything it starts share the group,
// so a server's worker processes count too.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readProcStat } from './procfs.ts';
import { MIN_FINAL_MS, type ResourceSample } from './resource-sample.ts';

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

/**
 * Samples process group `pgid` every `intervalMs`. The returned stop takes a last sample when the previous one
 * is at least MIN_FINAL_MS old, so a short run still has its samples.
 */
export function sampleProcessGroup(
  pgid: number,
  intervalMs: number,
  onSample: (s: ResourceSample) => void,
  onProblem: (p: string) => void,
): () => Promise<void> {
  const { clockTicks, pageSize } = systemUnits();
  let prev: { at: number; ticks: Map<number, number> };
  try {
    prev = { at: performance.now(), ticks: readGroup(pgid).ticks };
  } catch (e) {
    onProblem(`cannot read /proc to sample the service's CPU and memory: ${(e as Error).message}`);
    return async () => {};
  }
  let failed = false;
  const sample = () => {
    const at = performance.now();
    let g: ReturnType<typeof readGroup>;
    try {
      g = readGroup(pgid);
    } catch (e) {
      // Out of file descriptors (EMFILE under a low `ulimit -n`) or /proc gone: a gap in the chart, said
      // once, never a crash of the run.
      if (!failed)
        onProblem(
          `could not read /proc for some samples of the service's CPU and memory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      failed = true;
      return;
    }
    if (g.ticks.size === 0) return; // the group is gone: the run notices through the service's exit
    onSample({
      atMs: Date.now(),
      cpuPercent: cpuPercentBetween(prev.ticks, g.ticks, at - prev.at, clockTicks),
      memoryBytes: g.rssPages * pageSize,
    });
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
