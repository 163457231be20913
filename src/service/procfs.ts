// /proc/<pid>/stat, read one way for everything that looks at processes: the CPU and memory sampler
// (sample-process.ts), the post step's check that a saved process group is still the one started (service.ts),
// and the tests' liveness checks.

import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Field 3: R, S, D, Z (a zombie: exited, not yet reaped), ... */
  state: string;
  pgrp: number;
  /** utime + stime (fields 14 and 15), in clock ticks. */
  ticks: number;
  /** Field 22: when the process started, in clock ticks after boot (with the pid, it names one process). */
  startTicks: string;
  /** Field 24: resident pages. */
  rssPages: number;
}

/** Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state): field N is f[N - 3].
  const pgrp = Number(f[2]);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const rss = Number(f[21]);
  const startTicks = f[19];
  if (![pgrp, utime, stime, rss].every(Number.isFinite) || !f[0] || !startTicks) return null;
  return { state: f[0], pgrp, ticks: utime + stime, startTicks, rssPages: rss };
}

/** The stat of a live (or zombie) process, or null when it is gone or /proc cannot be read. */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}
