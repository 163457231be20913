// Limits are part of the plan: each connection the load opens is a file descriptor. Before anything
// starts, the soft open-file limit is raised to the hard limit (Node has no setrlimit: util-linux's
// `prlimit --pid` sets a running process's; Node 24 itself raises it at startup on Linux, so this is the
// fallback for where it could not), and a plan whose peak connections plus headroom cannot fit
// is refused as bad input, with the numbers and what to change, rather than failing mid-run with EMFILE.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../plan/config.ts';
import type { LoadPlan } from '../plan/types.ts';

/** Descriptors beside the connections: the service's pipes, logs, monitors, /proc reads, Node's own. */
export const HEADROOM = 256;

export interface FileLimit {
  soft: number;
  hard: number;
}

/** The open-file limit of a process, from /proc/<pid>/limits (Infinity for "unlimited"); null if unreadable. */
export function readFileLimit(pid: number | 'self' = 'self'): FileLimit | null {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line ? /^Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
    if (!m) return null;
    const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return null;
  }
}

/** The connections the load may hold at once: the most users of any stage, or the open model's in-flight cap. */
export function peakConnections(load: LoadPlan): number {
  if (load.model === 'closed') return Math.max(0, ...load.stages.map((s) => s.users));
  return load.maxInFlight;
}

/**
 * Raises the soft limit to the hard one when the plan needs more than the soft one, and refuses a plan that
 * needs more than it can get. Returns what it did, for the log (nothing when nothing was needed).
 */
export function fitFileLimit(
  load: LoadPlan,
  io: { read: () => FileLimit | null; raise: (to: number) => string | null } = { read: readFileLimit, raise: raiseSoftLimit },
): string | null {
  const limit = io.read();
  if (!limit) return null; // not Linux, or /proc hidden: nothing to check against
  const peak = peakConnections(load);
  const need = peak + HEADROOM;
  if (need <= limit.soft) return null;
  const what = load.model === 'closed' ? `users (${peak} at the peak)` : `max-in-flight (${peak})`;
  if (need > limit.hard) {
    throw new ConfigError(
      `load: the plan needs up to ${need} open files (${peak} connections plus ${HEADROOM} for the rest), but the hard limit here is ${limit.hard} (ulimit -Hn): ` +
        `lower ${what} to at most ${Math.max(0, limit.hard - HEADROOM)}, or raise the hard limit (e.g. LimitNOFILE, /etc/security/limits.conf, docker --ulimit nofile)`,
    );
  }
  const why = io.raise(limit.hard);
  const after = io.read();
  if (why !== null || !after || after.soft < need) {
    throw new ConfigError(
      `load: the plan needs up to ${need} open files (${peak} connections plus ${HEADROOM}), but the soft limit is ${limit.soft} and could not be raised` +
        `${why ? ` (${why})` : ''}: run \`ulimit -n ${limit.hard}\` before loadgate, or lower ${what} to at most ${Math.max(0, limit.soft - HEADROOM)}`,
    );
  }
  return `Raised the open-file limit from ${limit.soft} to ${after.soft} (the plan needs up to ${need})`;
}

/** `prlimit --pid <self> --nofile=H:H`; null when it worked, else why not. */
function raiseSoftLimit(to: number): string | null {
  const value = Number.isFinite(to) ? String(to) : 'unlimited';
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${value}:${value}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 5000,
    });
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') return 'prlimit (util-linux) is not installed';
    return err.stderr?.toString().trim().split('\n').pop() || err.message;
  }
}
