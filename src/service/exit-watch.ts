// The service under test dying during the load. A service loadgate started (a command or a container)
// that exits stops the load (on-exit: stop, the default), or the run says so and goes on counting the
// errors (on-exit: continue); a URL service has no exit to see. Afterwards: what the result keeps about
// the service, its kind, and when and how it died if it did.

import type { OnExit, ServicePlan } from '../plan/types.ts';
import { type RunningService, type ServiceExit, exitMessage, within } from './running-service.ts';

/** The service under test, as the run saw it. Absent in results written before it was recorded. */
export interface ServiceRecord {
  kind: ServicePlan['kind'];
  /** e.g. "container loadgate-1a2b3c4d5e (image my/model:1, id 0123456789ab)". */
  description?: string;
  /** What the run does when the service exits during the load: stop early (default) or go on counting errors. */
  onExit?: OnExit;
  /** Set when the service exited on its own during the load. */
  exit?: {
    /** When, in ms since the load started (0: before it started). */
    atMs: number;
    code: number | null;
    signal: string | null;
    /** e.g. "killed by SIGKILL", "out of memory: it reached its 256 MiB memory limit". */
    note?: string;
    /** One sentence: "the service exited with code 3 during the run" (its last output is in the reason, or service.log). */
    summary: string;
  };
}

export interface ExitWatch {
  /** The load is over: an exit from now on is not a death during the load. */
  loadEnded(): void;
  /**
   * What the result keeps about the service. One that died in the load's last moments (its exit still
   * being read, as a container's is) is waited for, up to 3 s, so the record says how it died rather
   * than the result only counting the errors.
   */
  record(loadStartedAt: string): Promise<ServiceRecord>;
}

export interface ExitWatchOptions {
  /** Stops the load, with why (on-exit: stop). */
  stop: (why: string) => void;
  log: (line: string) => void;
  /** The file the service's output goes to, named when the load goes on without it. */
  logName: string;
}

/** Watches a running service from the start of the load to its end (`loadEnded`). */
export function watchExitDuringLoad(plan: ServicePlan, svc: RunningService, opts: ExitWatchOptions): ExitWatch {
  const onExit: OnExit = plan.kind === 'url' ? 'stop' : plan.onExit;
  let loadDone = false;
  let died: ServiceExit | undefined;
  void svc.exited.then((e) => {
    if (loadDone) return;
    died = e;
    if (onExit === 'continue') {
      opts.log(`${capitalize(exitMessage(e, 'during the run'))}; on-exit: continue, so the load goes on (see ${opts.logName})`);
    } else {
      opts.stop(exitMessage(e, 'during the run', svc.lastLines()));
    }
  });
  return {
    loadEnded: () => {
      loadDone = true;
    },
    async record(loadStartedAt) {
      if (!died && svc.exitPending?.())
        await within(
          svc.exited.then((e) => (died = e)),
          3000,
        );
      return {
        kind: plan.kind,
        description: svc.describe(),
        ...(plan.kind !== 'url' ? { onExit } : {}),
        ...(died
          ? {
              exit: {
                atMs: Math.max(0, (died.at ?? Date.now()) - Date.parse(loadStartedAt)),
                code: died.code,
                signal: died.signal,
                ...(died.note ? { note: died.note } : {}),
                summary: exitMessage(died, 'during the run'),
              },
            }
          : {}),
      };
    },
  };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
