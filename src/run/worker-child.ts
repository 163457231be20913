// One worker of `workers: N` (src/run/workers.ts tells the whole story): `loadgate worker`, started by
// the parent with an IPC channel. It runs its shard of the parent's plan against the service the parent
// started (at its URL), waits at the start line until the parent says go, writes its result to the
// folder it was given and says done. It stops as a run stops (what was measured is written) when the
// parent says stop, on SIGINT, SIGTERM or SIGHUP, or when the channel closes (the parent is gone).

import { LoadStop } from '../load/engine.ts';
import { statsFor } from '../metrics/result.ts';
import { shardPlan } from '../plan/shard.ts';
import type { Plan } from '../plan/types.ts';
import { executeRun } from '../run.ts';
import type { ParentMessage, WorkerMessage } from './workers.ts';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The command: resolves with the exit code (0 once the result is written; the parent reads the result, not the code). */
export async function workerCommand(err: (s: string) => void): Promise<number> {
  const send = process.send?.bind(process);
  if (!send) {
    err('`loadgate worker` is started by a run with workers: N (it talks to it over an IPC channel), not by hand');
    return 2;
  }
  const say = (m: WorkerMessage) => {
    if (process.connected) send(m);
  };
  const stop = new AbortController();
  let go: ((at: number) => void) | undefined;
  const start = new Promise<Extract<ParentMessage, { type: 'start' }>>((resolve) => {
    process.on('message', (m: ParentMessage) => {
      if (m.type === 'start') resolve(m);
      else if (m.type === 'go') go?.(m.at);
      else if (m.type === 'stop' && !stop.signal.aborted)
        stop.abort(m.status === 'aborted' ? new LoadStop('aborted', m.reason) : new Error(m.reason));
    });
  });
  // The parent gone (killed): nobody will read the result, but the load must not go on.
  process.on('disconnect', () => {
    if (!stop.signal.aborted) stop.abort(new Error('the parent process is gone'));
    // Whatever is still pending (a slow report), this process ends soon after.
    setTimeout(() => process.exit(130), 5000).unref();
  });
  // A terminal's Ctrl-C reaches the whole process group: the parent says stop too, both are fine.
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stop.signal.aborted) stop.abort(new Error(`interrupted by ${sig}`));
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);

  const m = await start;
  const { workers: _workers, ...whole } = m.plan as Plan;
  const part = shardPlan(whole, m.index, m.count);
  // The parent started the service and watches it (CPU, memory, monitors, its exit): here it is a URL.
  const plan: Plan = { ...part, service: { kind: 'url', baseUrl: m.baseUrl }, monitors: [], outputDir: m.outDir };
  const out = await executeRun(plan, {
    signal: stop.signal,
    log: (line) => say({ type: 'log', line }),
    onProgress: (progress) => say({ type: 'progress', progress }),
    beforeLoad: () =>
      new Promise<void>((resolve) => {
        if (stop.signal.aborted) return resolve();
        // With start-at, every worker waits for that instant itself (src/run.ts does): no go to wait for.
        if (plan.startAt !== undefined) {
          say({ type: 'ready' });
          return resolve();
        }
        go = (at) => setTimeout(resolve, Math.max(0, at - Date.now()));
        stop.signal.addEventListener('abort', () => resolve(), { once: true });
        say({ type: 'ready' });
      }),
  });
  const s = statsFor(out.result);
  const done: WorkerMessage = {
    type: 'done',
    status: out.result.status,
    requests: s.requests,
    failures: s.failures,
    durationMs: out.result.durationMs,
  };
  // Delivered before the exit (a message still queued would be lost with the process).
  if (process.connected) await new Promise<void>((resolve) => send(done, () => resolve()));
  for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
  return 0;
}
