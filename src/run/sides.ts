// The two services of a comparison, started, readied and always stopped together. Every error names its
// side ("the baseline service ..."), so a reader knows which of two images never became ready.

import { join } from 'node:path';
import type { ReadinessPlan, ServicePlan } from '../plan/types.ts';
import { type RunningService, type StartedService, ServiceError, startService, waitUntilReady } from '../service/service.ts';
import type { Side } from '../metrics/rounds.ts';

export interface SideService {
  side: Side;
  /** "candidate" or "baseline"; for a calibration "instance A" and "instance B". */
  name: string;
  plan: ServicePlan;
  readiness: ReadinessPlan;
  logName: string;
  running?: RunningService;
}

export interface SidesOptions {
  outputDir: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  onServiceStarted?: (s: StartedService) => void;
}

/** Starts and readies each side in turn; on a failure the error names the side (the caller stops them all). */
export async function startSides(sides: readonly SideService[], opts: SidesOptions): Promise<void> {
  for (const s of sides) {
    const sp = s.plan;
    try {
      if (sp.kind === 'container' && sp.build) opts.log(`Building the ${s.name}'s image ${sp.image} (its output goes to ${s.logName})`);
      s.running = await startService(sp, {
        ...(sp.kind !== 'url' ? { logFile: join(opts.outputDir, s.logName) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onStarted: (started) => {
          if (started.kind === 'container' && sp.kind === 'container') {
            opts.log(`Started the ${s.name}: container ${started.name} (image ${sp.image}, id ${started.id.slice(0, 12)})`);
          }
          opts.onServiceStarted?.(started);
        },
      });
    } catch (e) {
      throw named(e, s);
    }
    if (sp.kind === 'command') opts.log(`Started the ${s.name} (pid ${s.running.pid}): ${s.running.baseUrl}`);
  }
  // Readied together: two slow starters cost the slower one's time, not the sum.
  await Promise.all(
    sides.map(async (s) => {
      try {
        const ms = await waitUntilReady(s.running!, s.readiness, opts.signal);
        opts.log(`The ${s.name} is ready at ${s.running!.baseUrl}${s.readiness.path} after ${(ms / 1000).toFixed(1)} s`);
      } catch (e) {
        throw named(e, s);
      }
    }),
  );
}

export async function stopSides(sides: readonly SideService[], graceMs: number): Promise<void> {
  await Promise.all(sides.map((s) => s.running?.stop(graceMs)));
}

function named(e: unknown, s: SideService): unknown {
  if (!(e instanceof ServiceError)) return e;
  return new ServiceError(`the ${s.name} service: ${e.message}`);
}
