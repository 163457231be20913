// Child processes for tests: run one to the end, or start one and talk to it while it runs.
// Every child is tracked; call `killChildren` in `after` so none outlives a failed assertion.
//
//   after(killChildren);
//   const r = await runNode([CLI, 'run', '--url', url], { timeoutMs: 20_000 });
//   const p = startNode([CLI, 'run', ...]); await p.waitFor(/Service ready/); p.kill('SIGINT'); await p.exited;

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readProcStat } from '../../src/service/procfs.ts';

export const REPO = resolve(import.meta.dirname, '..', '..');
/** The Node running the tests (24), not whatever `node` is first on PATH. */
export const NODE = process.execPath;
export const CLI = join(REPO, 'src', 'cli.ts');
/** PATH with this Node's folder first, for commands that say `node` (started through a shell). */
export const PATH_WITH_NODE = `${dirname(NODE)}:${process.env['PATH'] ?? ''}`;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Finished extends Exit {
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited and its output is read. */
  exited: Promise<Finished>;
  /** Resolves with the first match of `re` in stdout or stderr (checked as output arrives). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): void;
}

const children = new Set<ChildProcess>();

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Killed (SIGKILL) after this long, and `exited` then rejects; default 30 s. */
  timeoutMs?: number;
}

/** Starts `node args...` with piped output; the environment is the tests' plus `env`. */
export function startNode(args: string[], opts: StartOptions = {}): Started {
  return start(NODE, args, opts);
}

export function start(file: string, args: string[], opts: StartOptions = {}): Started {
  const t0 = performance.now();
  const child = spawn(file, args, {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    notify();
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const exited = new Promise<Finished>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${file} ${args.join(' ')} still ran after ${timeoutMs} ms; killed.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      children.delete(child);
      rej(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      notify();
      res({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
  // A rejection nobody awaits yet must not crash the test process; callers still see it.
  exited.catch(() => {});
  return {
    child,
    pid: child.pid!,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitFor(re, waitMs = 15_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = stdout.match(re) ?? stderr.match(re);
          if (m) {
            done();
            res(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            rej(
              new Error(
                `exited (code ${child.exitCode}, signal ${child.signalCode}) before printing ${re}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`no ${re} after ${waitMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        }, waitMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
  };
}

/** Runs `node args...` to the end. */
export function runNode(args: string[], opts: StartOptions = {}): Promise<Finished> {
  return startNode(args, opts).exited;
}

/** Kills (SIGKILL, by PID) every child started here that is still running. */
export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Gone in the meantime.
      }
    }
  }
  children.clear();
}

/** Whether a process with this PID exists (a zombie waiting to be reaped counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return readProcStat(pid)?.state !== 'Z';
}

/**
 * Whether any live process is in process group `pgid` (zombies aside: in a container, whoever
 * reaps orphans may take a while). Without /proc, any member counts.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const st = readProcStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z') return true;
  }
  return false;
}

/** Polls `check` every 50 ms until it is true; false if it is still false after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
