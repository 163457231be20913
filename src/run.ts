// One run, start to finish: boot the service, wait until it is ready, drive the load, judge it against
// the SLOs, write every report, stop the service. Side effects live here; planning, measuring, judging
// and rendering are elsewhere.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoadStop, type Progress, runLoad } from './load/engine.ts';
import type { RunResult } from './metrics/result.ts';
import type { Plan } from './plan/types.ts';
import { REPORT_FILES, type WrittenReports, writeReports } from './report/write.ts';
import { abortingSlo, evaluate } from './verdict/evaluate.ts';
import type { Verdict } from './verdict/types.ts';
import { type RunningService, exitMessage, startService, waitUntilReady } from './service/service.ts';

export interface RunHooks {
  log?: (line: string) => void;
  onProgress?: (p: Progress) => void;
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
  let service: RunningService | undefined;
  try {
    service = await startService(plan.service, plan.service.kind === 'command' ? join(plan.outputDir, SERVICE_LOG) : undefined);
    if (plan.service.kind === 'command') log(`Started the service (pid ${service.pid}): ${service.baseUrl}`);
    const readyMs = await waitUntilReady(service, plan.readiness, hooks.signal);
    log(`Service ready at ${service.baseUrl}${plan.readiness.path} after ${(readyMs / 1000).toFixed(1)} s`);

    // The load stops early when asked to, or when the service it measures dies.
    const stopLoad = new AbortController();
    const onAbort = () => stopLoad.abort(new LoadStop('interrupted', abortReason(hooks.signal)));
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const svc = service;
    void svc.exited.then((e) => {
      if (!stopLoad.signal.aborted) stopLoad.abort(new LoadStop('aborted', exitMessage(e, svc, 'during the run')));
    });
    let result: RunResult;
    try {
      result = await runLoad({
        baseUrl: service.baseUrl,
        endpoints: plan.endpoints,
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
      hooks.signal?.removeEventListener('abort', onAbort);
    }
    const verdict = evaluate(result, plan.slos);
    const reports = writeReports(plan.outputDir, result, verdict);
    return { result, verdict, reports, resultFile: join(plan.outputDir, RESULT_FILE) };
  } finally {
    await service?.stop();
  }
}

function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'interrupted';
}
