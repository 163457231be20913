// The user's monitor commands: each runs through /bin/sh every N seconds while the load runs, and the
// first number it prints is its value (e.g. `kubectl get deploy X -o jsonpath={.status.readyReplicas}`, to
// see an autoscaler scale out). A slow command is never run twice at once; a failing one is counted.

import { execFile } from 'node:child_process';
import type { MonitorPlan } from '../plan/types.ts';

/** The number a monitor printed: the first number in its output ("3", "3 replicas", "0.75\n"); null if none. */
export function parseMonitorOutput(stdout: string): number | null {
  const m = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i.exec(stdout);
  return m ? Number(m[0]) : null;
}

/** Runs the monitor now and every `everyMs`; the returned stop waits for a command in progress. */
export function runMonitor(m: MonitorPlan, onValue: (v: number) => void, onFailure: (why: string) => void): () => Promise<void> {
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
