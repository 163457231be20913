// One run, start to finish: boot the service, wait until it is ready, drive the load, judge it against
// the SLOs, write every report, stop the service. Side effects live here; planning, measuring, judging
// and rendering are elsewhere.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoadStop, runLoad } from './load/engine.ts';
import { type Progress } from './metrics/progress.ts';
import type { RunResult, ServiceRecord } from './metrics/result.ts';
import type { Plan } from './plan/types.ts';
import { resolveBodies, resolveLocalBodies } from './run/bodies.ts';
import { REPORT_FILES, type WrittenReports, writeReports } from './report/write.ts';
import { abortingSlo, evaluate } from './verdict/evaluate.ts';
import type { Verdict } from './verdict/types.ts';
import { startWatching } from './service/watch.ts';
import { attachWatch } from './metrics/resources.ts';
import { type RunningService, type ServiceExit, type StartedService, exitMessage, startService, waitUntilReady, within } from './service/service.ts';

export type { StartedService } from './service/service.ts';

export interface RunHooks {
  log?: (line: string) => void;
  onProgress?: (p: Progress) => void;
  /**
   * Called as soon as the service is started, before readiness: e.g. the action saves the container
   * id, so that its post step can remove the container should this process be killed.
   */
  onServiceStarted?: (s: StartedService) => void;
  /** Aborting it stops the run: the load stops, what was measured is written, the service is stopped. */
  signal?: AbortSignal;
}

export interface RunOutput {
  result: RunResult;
  verdict: Verdict;
  reports: WrittenReports;
  resultFile: string;
}

export const RESULT_FILE = REPORT_FILES.json;
export const SERVICE_LOG = 'service.log';

export async function executeRun(plan: Plan, hooks: RunHooks = {}): Promise<RunOutput> {
  const log = hooks.log ?? (() => {});
  mkdirSync(plan.outputDir, { recursive: true });
  // Schemas in files need no service: a bad one stops the run before anything starts.
  const localBodies = await resolveLocalBodies(plan, log);
  let service: RunningService | undefined;
  const sp = plan.service;
  try {
    if (sp.kind === 'container' && sp.build) log(`Building ${sp.image} from ${sp.build.context} (its output goes to ${SERVICE_LOG})`);
    service = await startService(sp, {
      ...(sp.kind !== 'url' ? { logFile: join(plan.outputDir, SERVICE_LOG) } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onStarted: (started) => {
        // Said as soon as it runs: a container that dies at once is still named (and found by it).
        if (started.kind === 'container' && sp.kind === 'container') {
          log(`Started the service: container ${started.name} (image ${sp.image}, id ${started.id.slice(0, 12)})`);
        }
        hooks.onServiceStarted?.(started);
      },
    });
    if (sp.kind === 'command') log(`Started the service (pid ${service.pid}): ${service.baseUrl}`);
    const readyMs = await waitUntilReady(service, plan.readiness, hooks.signal);
    log(`Service ready at ${service.baseUrl}${plan.readiness.path} after ${(readyMs / 1000).toFixed(1)} s`);
    // Schemas the service publishes are read once it is ready (rest_model_service answers 503 before).
    const endpoints = await resolveBodies(plan, localBodies, service.baseUrl, log);

    // The load stops early when asked to, or when the service it measures dies (unless on-exit: continue).
    const stopLoad = new AbortController();
    const onAbort = () => stopLoad.abort(new LoadStop('interrupted', abortReason(hooks.signal)));
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const svc = service;
    const onExit = sp.kind === 'url' ? 'stop' : sp.onExit;
    let loadDone = false;
    let died: ServiceExit | undefined;
    void svc.exited.then((e) => {
      if (loadDone) return;
      died = e;
      if (onExit === 'continue') {
        log(`${capitalize(exitMessage(e, 'during the run'))}; on-exit: continue, so the load goes on (see ${SERVICE_LOG})`);
      } else if (!stopLoad.signal.aborted) {
        stopLoad.abort(new LoadStop('aborted', exitMessage(e, 'during the run', svc.lastLines())));
      }
    });
    // CPU and memory of what loadgate started, and the monitor commands, sampled beside the load.
    const watcher = startWatching(service.watch, plan.monitors);
    let result: RunResult;
    try {
      result = await runLoad({
        baseUrl: service.baseUrl,
        endpoints,
        load: plan.load,
        timeoutMs: plan.timeoutMs,
        seed: plan.seed,
        warmupMs: plan.warmupMs,
        signal: stopLoad.signal,
        progressIntervalMs: plan.progressIntervalMs,
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        ...(plan.slos.some((s) => s.abortOnFail)
          ? {
              abortCheck: (soFar: RunResult, elapsedMs: number) => {
                const o = abortingSlo(soFar, plan.slos, elapsedMs);
                return o ? { by: o.slo.text, reason: `SLO "${o.slo.text}" failed during the run: ${o.sentence}` } : null;
              },
            }
          : {}),
      });
    } finally {
      loadDone = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      await watcher.stop();
    }
    // A service that died in the load's last moments (its exit still being read, as a container's is):
    // wait for how it died, so the result says it rather than only counting the errors.
    if (!died && svc.exitPending?.()) {
      await within(svc.exited.then((e) => (died = e)), 3000);
    }
    result = { ...result, service: serviceRecord(sp, svc, onExit, died, result.startedAt) };
    result = attachWatch(result, watcher, plan.monitors);
    for (const p of watcher.problems) log(`Warning: ${p}`);
    const verdict = evaluate(result, plan.slos);
    const reports = writeReports(plan.outputDir, result, verdict);
    // The service's own output sits beside the reports (written while it ran): listed with them.
    const serviceLog = join(plan.outputDir, SERVICE_LOG);
    if (sp.kind !== 'url' && existsSync(serviceLog)) reports.files.push(serviceLog);
    return { result, verdict, reports, resultFile: join(plan.outputDir, RESULT_FILE) };
  } finally {
    // A cancelled run (the runner sends SIGTERM 7.5 s after SIGINT) gives the service less time to shut
    // down gracefully: what was measured is already written, and the removal must fit in that budget.
    await service?.stop(hooks.signal?.aborted ? 3000 : 5000);
  }
}

/** What the result keeps about the service: its kind, and when and how it died, if it did during the load. */
function serviceRecord(
  sp: Plan['service'],
  svc: RunningService,
  onExit: 'stop' | 'continue',
  died: ServiceExit | undefined,
  loadStartedAt: string,
): ServiceRecord {
  return {
    kind: sp.kind,
    description: svc.describe(),
    ...(sp.kind !== 'url' ? { onExit } : {}),
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
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'interrupted';
}
