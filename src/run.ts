// One run, start to finish: boot the service, wait until it is ready, drive the load, judge it against
// the SLOs, write every report, stop the service. Side effects live here; planning, measuring, judging
// and rendering are elsewhere.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type EngineOptions, LoadStop, runLoad } from './load/engine.ts';
import type { Progress } from './metrics/progress.ts';
import type { RunResult } from './metrics/result.ts';
import type { Plan, Slo } from './plan/types.ts';
import { planRecord } from './plan/fingerprint.ts';
import { describeBodies, resolveBodies, resolveLocalBodies } from './run/bodies.ts';
import { REPORT_FILES, type WrittenReports, prepareReportDir, writeReports } from './report/write.ts';
import { executeComparison } from './run/compare.ts';
import { fitFileLimit } from './run/limits.ts';
import { notStartedResult } from './run/not-started.ts';
import { waitForStart } from './run/start-at.ts';
import { abortingSlo, evaluate } from './verdict/evaluate.ts';
import type { Verdict } from './verdict/types.ts';
import type { RunStatusWord } from './run/outcome.ts';
import { watchExitDuringLoad } from './service/exit-watch.ts';
import { startWatching } from './service/watch.ts';
import { type WorkersRun, isWorkersRun, mergeWorkers, runWorkers } from './run/workers.ts';
import { attachWatch } from './metrics/resources.ts';
import { type RunningService, type StartedService, ServiceError, imageOf, startService, waitUntilReady } from './service/service.ts';

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
  /**
   * Awaited once the service is ready and the bodies are made, before start-at and the load: a worker
   * (src/run/worker-child.ts) waits there until every worker is ready, so that they start together.
   */
  beforeLoad?: () => Promise<void>;
}

export interface RunOutput {
  result: RunResult;
  verdict: Verdict;
  reports: WrittenReports;
  resultFile: string;
  /** How it ended, when the result and verdict alone do not say it: a workers' merge that is incomplete (exit 3). */
  status?: RunStatusWord;
}

export const RESULT_FILE = REPORT_FILES.json;
export const SERVICE_LOG = 'service.log';

export async function executeRun(plan: Plan, hooks: RunHooks = {}): Promise<RunOutput> {
  // With a baseline (or compare:), the run is in rounds: src/run/compare.ts tells that story.
  if (plan.compare) return executeComparison(plan, plan.compare, hooks);
  const log = hooks.log ?? (() => {});
  // A folder that cannot be written is bad input, said before anything starts.
  prepareReportDir(plan.outputDir);
  // The plan must fit the open-file limit (raised to the hard one if need be): refused before anything starts.
  // With workers the connections are the workers', each checking its own share in its own process.
  const raised = plan.workers ? undefined : fitFileLimit(plan.load);
  if (raised) log(raised);
  // Schemas in files need no service: a bad one stops the run before anything starts.
  const localBodies = await resolveLocalBodies(plan, log);
  let service: RunningService | undefined;
  const sp = plan.service;
  /** The service never reached the load: every report is still written, saying why, with nothing measured. */
  let phase = 'starting the service';
  const notStarted = (e: ServiceError): RunOutput => {
    const reason = hooks.signal?.aborted ? `${abortReason(hooks.signal)} while ${phase}, before the load started` : e.message;
    const record = { kind: sp.kind, ...(service ? { description: service.describe() } : {}) };
    const result = notStartedResult(plan, reason, service?.baseUrl ?? sp.baseUrl, record);
    return report(result);
  };
  const report = (result: RunResult): RunOutput => {
    // A shard carries part of the load: the whole plan's SLOs are judged on the merge (`loadgate merge`), not here
    // (nor do they stop a shard early: a part's throughput is not the plan's).
    const verdict = evaluate(result, plan.shard ? [] : plan.slos);
    const reports = withServiceLog(writeReports(plan.outputDir, result, verdict));
    return { result, verdict, reports, resultFile: join(plan.outputDir, RESULT_FILE) };
  };
  /** The service's own output sits beside the reports (written while it ran): listed with them. */
  const withServiceLog = (reports: WrittenReports): WrittenReports => {
    const serviceLog = join(plan.outputDir, SERVICE_LOG);
    if (sp.kind !== 'url' && existsSync(serviceLog)) reports.files.push(serviceLog);
    return reports;
  };
  try {
    if (sp.kind === 'container' && sp.build) log(`Building ${sp.image} from ${sp.build.context} (its output goes to ${SERVICE_LOG})`);
    const started = await startOrNot(() =>
      startService(sp, {
        ...(sp.kind !== 'url' ? { logFile: join(plan.outputDir, SERVICE_LOG) } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onStarted: (started) => {
          // Said as soon as it runs: a container that dies at once is still named (and found by it).
          if (started.kind === 'container' && sp.kind === 'container') {
            log(`Started the service: container ${started.name} (image ${sp.image}, id ${started.id.slice(0, 12)})`);
          }
          hooks.onServiceStarted?.(started);
        },
      }),
    );
    if (started instanceof ServiceError) return notStarted(started);
    service = started;
    if (sp.kind === 'command') log(`Started the service (pid ${service.pid}): ${service.baseUrl}`);
    let readyMs: number;
    phase = 'waiting for the service to become ready';
    try {
      readyMs = await waitUntilReady(service, plan.readiness, hooks.signal, log);
    } catch (e) {
      if (e instanceof ServiceError) return notStarted(e);
      throw e;
    }
    log(`Service ready at ${service.baseUrl}${plan.readiness.path} after ${(readyMs / 1000).toFixed(1)} s`);
    // Schemas the service publishes are read once it is ready (rest_model_service answers 503 before).
    // With workers, each worker makes its own from the plan (src/run/worker-child.ts).
    const endpoints = plan.workers ? [] : await resolveBodies(plan, localBodies, service.baseUrl, log);
    // A worker waits here until every worker is ready, so that they start together (src/run/worker-child.ts).
    await hooks.beforeLoad?.();
    // With workers, each worker waits for start-at itself (src/run/workers.ts).
    if (plan.startAt !== undefined && !plan.workers) {
      phase = `waiting for start-at ${new Date(plan.startAt).toISOString()}`;
      if (!(await waitForStart(plan.startAt, hooks.signal, log))) return notStarted(new ServiceError(`${phase}: interrupted`));
    }

    // The load stops early when asked to, or when the service it measures dies (unless on-exit: continue).
    const stopLoad = new AbortController();
    // Asked to stop from outside (a signal, the runner's cancel): the engine calls it interrupted, with its reason.
    const onAbort = () => stopLoad.abort(hooks.signal?.reason);
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const exits = watchExitDuringLoad(sp, service, {
      stop: (why) => stopLoad.abort(new LoadStop('aborted', why)),
      log,
      logName: SERVICE_LOG,
    });
    // CPU and memory of what loadgate started, and the monitor commands, sampled beside the load.
    const watcher = startWatching(service.watch, plan.monitors);
    let loaded: RunResult | WorkersRun;
    try {
      if (plan.workers) {
        // workers: N, the load as N shards in child processes sharing this service (src/run/workers.ts).
        const progress = hooks.onProgress ? { onProgress: hooks.onProgress } : {};
        loaded = await runWorkers(plan, plan.workers, service.baseUrl, { signal: stopLoad.signal, log, ...progress });
      } else {
        loaded = await runLoad({
          baseUrl: service.baseUrl,
          endpoints,
          load: plan.load,
          timeoutMs: plan.timeoutMs,
          seed: plan.seed,
          warmupMs: plan.warmupMs,
          signal: stopLoad.signal,
          progressIntervalMs: plan.progressIntervalMs,
          ...(plan.requestObjectives ? { requestObjectives: plan.requestObjectives } : {}),
          ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
          ...(plan.slos.some((s) => s.abortOnFail) && !plan.shard ? { abortCheck: sloAbortCheck(plan.slos) } : {}),
        });
      }
    } finally {
      exits.loadEnded();
      hooks.signal?.removeEventListener('abort', onAbort);
      await watcher.stop();
    }
    // What the service did and how it was watched, added to the load's result (or to the workers' merge).
    const record = await exits.record(loaded.startedAt);
    const serviceImage = await imageOf(sp, service);
    const withService = (r: RunResult): RunResult => {
      let out: RunResult = { ...r, service: record };
      if (serviceImage && out.environment) out = { ...out, environment: { ...out.environment, serviceImage } };
      return attachWatch(out, watcher, plan.monitors);
    };
    for (const p of watcher.problems) log(`Warning: ${p}`);
    if (isWorkersRun(loaded)) {
      const merged = mergeWorkers(loaded, plan.outputDir, withService);
      if (!merged) return report(withService(notStartedResult(plan, loaded.problems.join('; '), service.baseUrl, record)));
      return {
        result: merged.result,
        verdict: merged.verdict,
        reports: withServiceLog(merged.reports),
        resultFile: join(plan.outputDir, RESULT_FILE),
        ...(merged.status === 'not-measured' ? { status: merged.status } : {}),
      };
    }
    return report(
      withService({
        ...loaded,
        requestBodies: describeBodies(endpoints),
        plan: planRecord(plan),
        // The measured duration on the wall clock the start was read from: when the load ended, for the merge.
        endedAt: new Date(Date.parse(loaded.startedAt) + loaded.durationMs).toISOString(),
      }),
    );
  } finally {
    // A cancelled run (the runner sends SIGTERM 7.5 s after SIGINT) gives the service less time to shut
    // down gracefully: what was measured is already written, and the removal must fit in that budget.
    // A signal while it is being stopped cuts its grace period short.
    const hurry = new AbortController();
    if (!hooks.signal?.aborted) hooks.signal?.addEventListener('abort', () => hurry.abort(), { once: true });
    await service?.stop(hooks.signal?.aborted ? 3000 : 5000, hurry.signal);
  }
}

/** The service, or the ServiceError that says why it could not start (the run then reports that). */
async function startOrNot(start: () => Promise<RunningService>): Promise<RunningService | ServiceError> {
  try {
    return await start();
  } catch (e) {
    if (e instanceof ServiceError) return e;
    throw e;
  }
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'interrupted';
}

/** Stops the load as soon as an abort-on-fail SLO fails on the data so far. */
function sloAbortCheck(slos: readonly Slo[]): NonNullable<EngineOptions['abortCheck']> {
  return (soFar, elapsedMs) => {
    const o = abortingSlo(soFar, slos, elapsedMs);
    return o ? { by: o.slo.text, reason: `SLO "${o.slo.text}" failed during the run: ${o.sentence}` } : null;
  };
}
