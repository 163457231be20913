// The user's monitor commands: each runs through /bin/sh every N seconds while the load runs, and the
// first number it prints is its value (e.g. `kubectl get deploy X -o jsonpath={.status.readyReplicas}`, to
// see an autoscaler scale out). A slow command is never run twice at once; a failing one is counted.

import { spawn } from 'node:child_process';
import type { MonitorPlan } from '../plan/types.ts';

/** The number a monitor printed: the first number in its output ("3", "3 replicas", "0.75\n"); null if none. */
export function parseMonitorOutput(stdout: string): number | null {
  const m = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i.exec(stdout);
  return m ? Number(m[0]) : null;
}

/** Kills of monitor groups still running, for loadgate's way out. */
const live = new Set<() => void>();
process.on('exit', () => {
  for (const kill of live) kill();
});

/** Runs the monitor now and every `everyMs`; the returned stop waits for a command in progress. */
export function runMonitor(m: MonitorPlan, onValue: (v: number) => void, onFailure: (why: string) => void): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const once = () => {
    if (running || stopped) return; // a slow command is never run twice at once
    running = new Promise<void>((res) => {
      // Its own process group: on a timeout the whole group is killed, not only the shell (whose children
      // would otherwise outlive loadgate).
      const child = spawn('/bin/sh', ['-c', m.command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const cap = 1 << 20;
      child.stdout.setEncoding('utf8').on('data', (d: string) => stdout.length < cap && (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.length < cap && (stderr += d));
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, m.timeoutMs);
      live.add(killGroup);
      const done = (error: string | null) => {
        clearTimeout(timer);
        live.delete(killGroup);
        running = null;
        res();
        if (stopped && error) return; // cut short by the end of the run
        if (error) return onFailure(error.slice(0, 300));
        const v = parseMonitorOutput(stdout);
        if (v === null) onFailure(`printed no number: ${JSON.stringify(stdout.trim().slice(0, 80))}`);
        else onValue(v);
      };
      child.on('error', (e) => done(e.message));
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      child.on('exit', (code, signal) => {
        // Whatever the command left running in its group goes with it; its last output is read (the
        // pipes close), or 500 ms at most if something that left the group holds them.
        killGroup();
        let t: NodeJS.Timeout | undefined;
        void Promise.race([closed, new Promise<void>((r) => (t = setTimeout(r, 500)))]).then(() => {
          clearTimeout(t);
          if (timedOut) done(`timed out after ${m.timeoutMs} ms`);
          else if (code !== 0) done((stderr.trim().split('\n').pop() ?? '') || `exited with ${signal ?? `code ${code}`}`);
          else done(null);
        });
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
