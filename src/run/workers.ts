// `workers: N`: one machine runs the load as N shards (src/plan/shard.ts), each in a child process of
// loadgate's own command line (`loadgate worker`, src/run/worker-child.ts), for loads one Node process
// cannot generate. The parent (src/run.ts) starts the service once and watches it; the workers load it
// at its URL and write their results to a temporary folder; the parent merges them as `loadgate merge`
// does (src/run/merge.ts), so the reports and the verdict are those of one run with the whole load.
//
// Over the IPC channel (JSON messages, WorkerMessage and ParentMessage below):
//   parent -> worker  start {plan, index, count, baseUrl, outDir}
//   worker -> parent  ready (the service answered, the bodies are made), then progress, log lines
//   parent -> worker  go {at}: every worker waits until the same wall-clock instant, then starts the load
//                     (with start-at, each waits for start-at instead, and the go is not waited for)
//   parent -> worker  stop {status, reason}: the parent was interrupted, the service died, a worker died
//   worker -> parent  done {status, requests, failures, durationMs} once its result.json is written
// A worker that exits without `done` died: the others are stopped, and the merged verdict names it.
// A worker whose IPC channel closes (the parent was killed) stops its load and exits on its own.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadStop } from '../load/engine.ts';
import type { Progress } from '../metrics/progress.ts';
import type { RunResult, RunStatus } from '../metrics/result.ts';
import { shardLabel } from '../plan/shard.ts';
import type { Plan } from '../plan/types.ts';
import { type MergeOutput, mergeShards } from './merge.ts';

export type ParentMessage =
  | { type: 'start'; plan: Plan; index: number; count: number; baseUrl: string; outDir: string }
  | { type: 'go'; at: number }
  | { type: 'stop'; status: 'interrupted' | 'aborted'; reason: string };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; progress: Progress }
  | { type: 'log'; line: string }
  | { type: 'done'; status: RunStatus; requests: number; failures: number; durationMs: number };

/** The workers' run: the folders of the results they wrote, and what went wrong with the others. */
export interface WorkersRun {
  kind: 'workers';
  /** When the load started (the instant every worker was told to start at). */
  startedAt: string;
  /** The folders holding a worker's result.json, and each worker's name, in shard order. */
  dirs: string[];
  names: string[];
  /** Workers that died before writing their result, said as sentences. */
  problems: string[];
  /** Why the workers were stopped early, if they were (the merged result's reason says it already). */
  stopReason: string;
  /** The temporary folder the results are in (removed once merged). */
  root: string;
}

export function isWorkersRun(x: RunResult | WorkersRun): x is WorkersRun {
  return (x as WorkersRun).kind === 'workers';
}

export interface WorkerOptions {
  /** Aborting it stops every worker; its reason (a LoadStop, or an interrupt) becomes theirs. */
  signal: AbortSignal;
  log: (line: string) => void;
  onProgress?: (p: Progress) => void;
}

/** How long the workers have to get ready (make their bodies) once the service is. */
const READY_TIMEOUT_MS = 120_000;
/** Between the go message and the start: enough for every worker to receive it first. */
const START_MARGIN_MS = 100;
/** After a stop, how long a worker has to write what it measured before it is killed. */
const STOP_GRACE_MS = 10_000;

/**
 * loadgate's own command line: src/cli.ts from the sources (this file is src/run/workers.ts), dist/cli.js
 * in the bundle (this code is in a chunk beside it, whichever entry point loaded it: the CLI or the action).
 */
export function cliEntry(): string {
  const file = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../cli.ts' : './cli.js', import.meta.url));
  if (!existsSync(file)) throw new Error(`cannot find loadgate's command line at ${file}, to start the workers`);
  return file;
}

/** Every worker still running, so that none outlives this process however it ends. */
const running = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHook) return;
  exitHook = true;
  // A second signal exits at once (src/cli.ts): the workers go with it.
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/** Runs the plan as `count` workers against the service at `baseUrl`; resolves once every worker has ended. */
export async function runWorkers(plan: Plan, count: number, baseUrl: string, opts: WorkerOptions): Promise<WorkersRun> {
  const cli = cliEntry();
  const root = mkdtempSync(join(tmpdir(), 'loadgate-workers-'));
  const label = (i: number) => `worker ${shardLabel({ index: i, count })}`;
  const { workers: _workers, ...whole } = plan;
  const latest: Array<Progress | undefined> = [];
  const done: Array<Extract<WorkerMessage, { type: 'done' }> | undefined> = [];
  const ready = new Set<number>();
  const ticked = new Set<number>();
  const problems: string[] = [];
  let goAt = 0;
  let stopped = false;
  let stopReason = '';
  let releaseReady: () => void = () => {};
  const allReady = new Promise<void>((r) => (releaseReady = r));

  const children = Array.from({ length: count }, (_, i) => {
    const child = spawn(process.execPath, [cli, 'worker'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: process.env });
    track(child);
    // The last lines a worker printed say why it died, if it does.
    let tail = '';
    const keep = (b: Buffer) => (tail = (tail + b.toString('utf8')).slice(-2000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const outDir = join(root, `worker-${i + 1}`);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        ready.add(i);
        if (ready.size === count) releaseReady();
      } else if (m.type === 'progress') {
        latest[i] = m.progress;
        // One line per tick, once every worker has reported it.
        ticked.add(i);
        if (ticked.size === count) {
          ticked.clear();
          opts.onProgress?.(combined(latest));
        }
      } else if (m.type === 'log') opts.log(`${label(i)}: ${m.line}`);
      else if (m.type === 'done') {
        done[i] = m;
        // Done before the start (the service did not answer it): the others must not wait for it.
        if (!ready.has(i)) {
          stopAll('aborted', `${label(i)} ended before the load started: ${m.status}`);
          releaseReady();
        }
      }
    });
    const exited = new Promise<void>((resolve) => {
      let ended = false;
      const end = (how: string) => {
        if (ended) return;
        ended = true;
        if (!done[i]) {
          const last = tail.trim().split('\n').slice(-3).join(' / ');
          const problem = `${label(i)} (pid ${child.pid ?? 'none'}) ${how} before it wrote its result${last ? `: ${last}` : ''}`;
          problems.push(problem);
          // The run cannot be whole without it: the others stop (and say why), nobody waits for it.
          stopAll('aborted', problem);
          releaseReady();
        }
        resolve();
      };
      child.once('exit', (code, signal) => end(signal ? `was killed by ${signal}` : `exited with code ${code}`));
      // It could not be started, or its channel broke: as good as dead (kill it if it still runs).
      child.once('error', (e) => {
        child.kill('SIGKILL');
        end(`failed (${e.message})`);
      });
    });
    send(child, { type: 'start', plan: whole, index: i, count, baseUrl, outDir });
    return { child, exited, outDir };
  });
  opts.log(`Started ${count} workers (pids ${children.map((c) => c.child.pid).join(', ')}), each with its shard of the load`);

  function stopAll(status: 'interrupted' | 'aborted', reason: string): void {
    if (stopped) return;
    stopped = true;
    stopReason = reason;
    for (const { child } of children) send(child, { type: 'stop', status, reason });
    // A worker that does not end in time (stuck) is killed: nothing is left running.
    const timer = setTimeout(() => {
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    timer.unref();
  }
  const onAbort = () => {
    const r: unknown = opts.signal.reason;
    if (r instanceof LoadStop && r.status === 'aborted') stopAll('aborted', r.message);
    else stopAll('interrupted', r instanceof Error ? r.message : 'interrupted');
  };
  if (opts.signal.aborted) onAbort();
  else opts.signal.addEventListener('abort', onAbort, { once: true });

  const readyTimer = setTimeout(() => {
    if (ready.size < count) {
      const late = children.map((_, i) => i).filter((i) => !ready.has(i));
      const problem = `${late.map(label).join(', ')} did not get ready within ${READY_TIMEOUT_MS / 1000} s`;
      problems.push(problem);
      stopAll('aborted', problem);
      releaseReady();
    }
  }, READY_TIMEOUT_MS);
  try {
    await Promise.race([allReady, Promise.all(children.map((c) => c.exited))]);
    clearTimeout(readyTimer);
    if (!stopped) {
      // The shards start together (the merge counts a late start against the run): one instant for all.
      goAt = Date.now() + START_MARGIN_MS;
      for (const { child } of children) send(child, { type: 'go', at: goAt });
    }
    await Promise.all(children.map((c) => c.exited));
  } finally {
    clearTimeout(readyTimer);
    opts.signal.removeEventListener('abort', onAbort);
  }
  children.forEach(({ child }, i) => {
    const d = done[i];
    if (d) {
      opts.log(
        `${label(i)} (pid ${child.pid}): ${d.status}, ${d.requests} requests, ${d.failures} failures, ${(d.durationMs / 1000).toFixed(1)} s`,
      );
    }
  });
  const kept = children.map((c, i) => ({ ...c, i })).filter(({ i, outDir }) => done[i] && existsSync(join(outDir, 'result.json')));
  return {
    kind: 'workers',
    startedAt: new Date(plan.startAt ?? (goAt || Date.now())).toISOString(),
    dirs: kept.map((c) => c.outDir),
    names: kept.map((c) => `worker pid ${c.child.pid}`),
    problems,
    stopReason,
    root,
  };
}

/**
 * The workers' results merged into `outDir` as `loadgate merge` merges shards, `amend` adding what the
 * parent knows (the service it started and watched); undefined when no worker wrote a result. The
 * temporary folder goes either way.
 */
export function mergeWorkers(run: WorkersRun, outDir: string, amend: (r: RunResult) => RunResult): MergeOutput | undefined {
  try {
    if (run.dirs.length === 0) return undefined;
    // The problem that stopped the run is its reason already: the verdict says it once.
    const problems = run.problems.filter((p) => p !== run.stopReason);
    return mergeShards(run.dirs, outDir, { names: run.names, amend, problems });
  } finally {
    rmSync(run.root, { recursive: true, force: true });
  }
}

function send(child: ChildProcess, m: ParentMessage): void {
  if (child.connected) child.send(m, () => {});
}

/**
 * The workers' latest progress as one line: counts, users, rates and connections add up; the p95 is the
 * highest worker's (the merged p95 is never above it, so the line does not flatter the service).
 */
export function combined(latest: ReadonlyArray<Progress | undefined>): Progress {
  const ps = latest.filter((p): p is Progress => p !== undefined);
  const first = ps[0]!;
  const sum = (f: (p: Progress) => number | undefined) => ps.reduce((t, p) => t + (f(p) ?? 0), 0);
  const p95s = ps.map((p) => p.p95).filter((v): v is number => v !== null);
  return {
    ...first,
    ...(first.users !== undefined ? { users: sum((p) => p.users) } : {}),
    ...(first.targetRate !== undefined ? { targetRate: sum((p) => p.targetRate) } : {}),
    rps: sum((p) => p.rps),
    p95: p95s.length > 0 ? Math.max(...p95s) : null,
    requests: sum((p) => p.requests),
    failures: sum((p) => p.failures),
    inFlight: sum((p) => p.inFlight),
  };
}
