// A run in rounds (issue 11): the candidate (service:) against a baseline in the same job, against a stored
// result, or against a second instance of itself (A/A calibration); or alone, to record rounds for later.
//
//   start both -> ready both -> resolve the bodies once (the same for both sides) -> warm-up pair(s) ->
//   measured pairs, each AB or BA (random by the seed, or alternating), each round the same load ->
//   at each checkpoint: judge; inconclusive and within the budget: more pairs -> verdict -> reports -> stop both
//
// Each round is one runLoad against one side (in parallel mode, two at once: a duet). A side that dies
// ends the rounds: the reports are written from what was measured, naming the side, and both are stopped.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type EngineOptions, LoadStop, runLoad } from '../load/engine.ts';
import { type Environment, STEAL_WARN_PERCENT, acrossLoads, environmentDifferences, sameImageWarning } from '../metrics/environment.ts';
import { percentileMs } from '../metrics/histogram.ts';
import { attachWatch } from '../metrics/resources.ts';
import { type RunResult, statsFor } from '../metrics/result.ts';
import { type RoundRecord, type Side, mergeRounds } from '../metrics/rounds.ts';
import type { ComparePlan, EndpointPlan, Plan, ServicePlan } from '../plan/types.ts';
import { REPORT_FILES, type WrittenReports, writeReports } from '../report/write.ts';
import { type RunningService, ServiceError, type StartedService, imageOf } from '../service/service.ts';
import { watchExitDuringLoad } from '../service/exit-watch.ts';
import { startWatching } from '../service/watch.ts';
import { type CompareVerdict, checkpoints, judgeComparison } from '../verdict/compare.ts';
import { evaluate } from '../verdict/evaluate.ts';
import { roundProblem } from '../verdict/round-values.ts';
import type { Verdict } from '../verdict/types.ts';
import { describeBodies, resolveBodies, resolveLocalBodies } from './bodies.ts';
import { notStartedResult } from './not-started.ts';
import { readStoredBaseline } from './history.ts';
import { type SideService, startSides, stopSides } from './sides.ts';

export interface CompareHooks {
  log?: (line: string) => void;
  onServiceStarted?: (s: StartedService) => void;
  signal?: AbortSignal;
}

export interface CompareOutput {
  result: RunResult;
  verdict: Verdict;
  reports: WrittenReports;
  resultFile: string;
  rounds: RoundRecord[];
}

export const BASELINE_LOG = 'baseline.log';

/** The order of the two sides in pair `k`: random from the seed (the same seed, the same order), or alternating. */
export function pairOrder(order: ComparePlan['order'], seed: number, k: number): [Side, Side] {
  const first = order === 'alternate' ? k % 2 === 0 : hash(seed, k) < 0.5;
  return first ? ['candidate', 'baseline'] : ['baseline', 'candidate'];
}

/** A uniform number in [0, 1) from (seed, k): mulberry32's mix. */
function hash(seed: number, k: number): number {
  let t = (seed * 0x9e3779b1 + k * 0x85ebca6b + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export async function executeComparison(plan: Plan, cp: ComparePlan, hooks: CompareHooks = {}): Promise<CompareOutput> {
  const log = hooks.log ?? (() => {});
  mkdirSync(plan.outputDir, { recursive: true });
  const localBodies = await resolveLocalBodies(plan, log);
  const calibration = cp.against === 'calibration';
  const stored = cp.against === 'history' ? readStoredBaseline(cp.resultFile!) : undefined;
  const candidate: SideService = {
    side: 'candidate',
    name: calibration ? 'service (instance A)' : 'candidate',
    plan: calibration ? cp.baseline!.service : plan.service,
    readiness: calibration ? cp.baseline!.readiness : plan.readiness,
    logName: 'service.log',
  };
  const sides: SideService[] = [candidate];
  if (cp.baseline && (cp.against === 'baseline' || calibration)) {
    sides.push({
      side: 'baseline',
      name: calibration ? 'service (instance B)' : 'baseline',
      plan: cp.baseline.service,
      readiness: cp.baseline.readiness,
      logName: BASELINE_LOG,
    });
  }
  const rounds: RoundRecord[] = [];
  const problems: string[] = [];
  try {
    await startSides(sides, {
      outputDir: plan.outputDir,
      log,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(hooks.onServiceStarted ? { onServiceStarted: hooks.onServiceStarted } : {}),
    });
    // The same bodies for both sides, resolved once (from the candidate when the service publishes its schema).
    const endpoints = await resolveBodies(plan, localBodies, candidate.running!.baseUrl, log);
    const looks = cp.against === 'none' ? [cp.rounds] : checkpoints(cp);
    const t0 = performance.now();
    const total = cp.warmupRounds + cp.rounds;
    let seq = 0;
    let judged: CompareVerdict | undefined;
    pairs: for (let k = 0; ; k++) {
      const warmup = k < cp.warmupRounds;
      const measured = k - cp.warmupRounds; // this pair's index among the measured ones
      const order: Side[] = sides.length === 1 ? ['candidate'] : pairOrder(cp.order, plan.seed, k);
      const running = order.map((s) => sides.find((x) => x.side === s)!);
      const label = warmup
        ? `warm-up ${k + 1}/${cp.warmupRounds}`
        : `pair ${measured + 1}/${Math.max(total - cp.warmupRounds, measured + 1)}`;
      const batches = cp.mode === 'parallel' ? [running] : running.map((s) => [s]);
      for (const batch of batches) {
        const results = await Promise.all(batch.map((s) => driveRound(plan, cp, s, endpoints, hooks.signal, log)));
        for (const [i, s] of batch.entries()) {
          const res = results[i]!;
          const problem = roundProblem(res);
          const excluded = !warmup && problem ? problem : undefined;
          rounds.push({ side: s.side, pair: k, seq: seq++, warmup, ...(excluded ? { excluded } : {}), result: res });
          log(`Round ${label}, ${s.name}: ${roundLine(res)}${excluded ? ` (left out: ${excluded})` : ''}`);
          if (res.service?.exit) {
            problems.push(`the ${s.name} service died during ${label}: ${res.service.exit.summary}`);
          } else if (res.status === 'aborted' && !res.abortedBy) {
            problems.push(`the ${s.name} round ${label} was aborted: ${res.reason ?? 'no reason given'}`);
          }
        }
        if (problems.length > 0 || hooks.signal?.aborted) break pairs;
        // A side that died between its rounds (the other side's turn) is caught before the next round.
        for (const s of sides) {
          if (await exitedNow(s)) {
            problems.push(`the ${s.name} service exited between rounds (${label}); see ${s.logName}`);
            break pairs;
          }
        }
      }
      if (warmup) continue;
      const done = measured + 1;
      if (!looks.includes(done)) continue;
      if (cp.against === 'none') break;
      judged = judgeComparison(withStored(rounds, stored), cp, {
        against: againstOf(cp),
        looks: looks.length,
        closed: plan.load.model === 'closed',
      });
      const over = performance.now() - t0 > cp.maxTimeMs;
      if (judged.outcome !== 'inconclusive' || done >= cp.maxRounds || over) {
        if (judged.outcome === 'inconclusive' && done < cp.maxRounds)
          log(`Inconclusive after ${done} pairs, and the time budget (max-time) is spent: stopping`);
        break;
      }
      log(`Inconclusive after ${done} pairs: adding rounds, up to ${cp.maxRounds} (checkpoints ${looks.join(', ')})`);
    }
  } catch (e) {
    // A side that could not start or become ready: the run never reached its rounds; finish() writes
    // every report saying so (status not-started), as a single run does.
    if (!(e instanceof ServiceError)) throw e;
    problems.push(e.message);
  } finally {
    await stopSides(sides, hooks.signal?.aborted ? 3000 : 5000);
  }
  return await finish(plan, cp, rounds, stored, problems, sides, hooks);
}

function againstOf(cp: ComparePlan): CompareVerdict['against'] {
  return cp.against === 'history' ? 'history' : cp.against === 'calibration' ? 'calibration' : 'baseline';
}

function withStored(rounds: readonly RoundRecord[], stored: ReturnType<typeof readStoredBaseline> | undefined): RoundRecord[] {
  return stored ? [...rounds, ...stored.rounds] : [...rounds];
}

/** True when the service has exited (a resolved `exited`), looked at without waiting. */
async function exitedNow(s: SideService): Promise<boolean> {
  if (!s.running || s.plan.kind === 'url') return false;
  if (s.running.exitPending?.()) return true;
  return Promise.race([s.running.exited.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}

/** One round against one side: its load, its exit watched, its CPU sampled. */
async function driveRound(
  plan: Plan,
  cp: ComparePlan,
  s: SideService,
  endpoints: EndpointPlan[],
  signal: AbortSignal | undefined,
  log: (l: string) => void,
): Promise<RunResult> {
  const svc = s.running!;
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const exits = watchExitDuringLoad(s.plan, svc, { stop: (why) => stop.abort(new LoadStop('aborted', why)), log, logName: s.logName });
  const watcher = startWatching(svc.watch, s.side === 'candidate' ? plan.monitors : []);
  const opts: EngineOptions = {
    baseUrl: svc.baseUrl,
    endpoints,
    load: cp.roundLoad,
    timeoutMs: plan.timeoutMs,
    seed: plan.seed,
    warmupMs: cp.roundWarmupMs,
    signal: stop.signal,
    ...(plan.requestObjectives ? { requestObjectives: plan.requestObjectives } : {}),
  };
  let result: RunResult;
  try {
    result = await runLoad(opts);
  } finally {
    exits.loadEnded();
    signal?.removeEventListener('abort', onAbort);
    await watcher.stop();
  }
  result = { ...result, service: await exits.record(result.startedAt), requestBodies: describeBodies(endpoints) };
  return attachWatch(result, watcher, s.side === 'candidate' ? plan.monitors : []);
}

function roundLine(r: RunResult): string {
  const s = statsFor(r, { excludeWarmup: true });
  const ms = (p: number) => {
    const v = percentileMs(s.latency, p);
    return v === null ? '-' : `${v.toFixed(v < 10 ? 2 : 1)} ms`;
  };
  return `${s.requests} requests, p50 ${ms(50)}, p99 ${ms(99)}, ${s.failures} failed, generator ${Math.round(r.generatorCpu * 100)}% of a core`;
}

/** The candidate's merged rounds judged on the absolute SLOs, the comparison beside it, every report written. */
async function finish(
  plan: Plan,
  cp: ComparePlan,
  rounds: RoundRecord[],
  stored: ReturnType<typeof readStoredBaseline> | undefined,
  problems: string[],
  sides: readonly SideService[],
  hooks: CompareHooks,
): Promise<CompareOutput> {
  const own = rounds.filter((r) => r.side === 'candidate');
  const measured = own.filter((r) => !r.warmup);
  // Without a candidate round (its side died first), the report still says what was measured.
  const basis = measured.length > 0 ? measured : own.length > 0 ? own : rounds;
  if (basis.length === 0) {
    const reason = problems[0] ?? 'stopped before the first round';
    const result = notStartedResult(plan, reason, sides[0]?.running?.baseUrl ?? plan.service.baseUrl, { kind: plan.service.kind });
    if (hooks.signal?.aborted) result.status = 'interrupted';
    const verdict = evaluate(result, plan.slos);
    verdict.problems.push(...problems.slice(1));
    const reports = writeReports(plan.outputDir, result, verdict);
    for (const s of sides)
      if (s.plan.kind !== 'url' && existsSync(join(plan.outputDir, s.logName))) reports.files.push(join(plan.outputDir, s.logName));
    return { result, verdict, reports, resultFile: join(plan.outputDir, REPORT_FILES.json), rounds };
  }
  const result = mergeRounds(basis.map((r) => r.result));
  // The run's own record, as a single run's: the candidate's rounds (steal over all of them) and its image.
  const env = await withServiceImage(result.environment, sides[0]?.plan, sides[0]?.running);
  if (env) result.environment = env;
  const verdict = evaluate(result, plan.slos);
  const interrupted = hooks.signal?.aborted === true;
  if (interrupted) result.status = 'interrupted';
  if (cp.against !== 'none') {
    const warnings: string[] = [];
    let baseEnv: Partial<Environment> | undefined;
    if (stored) {
      baseEnv = stored.environment;
      warnings.push(
        'compared with a stored result: across runs and machines, which no pairing cancels; a same-job baseline is more reliable',
      );
      warnings.push(...environmentDifferences(env, baseEnv));
      const theirs = stored.rounds[0]?.result;
      if (theirs && (theirs.load.model !== plan.load.model || Math.abs(theirs.durationMs - cp.roundMs) > cp.roundMs * 0.2)) {
        warnings.push(
          `the stored rounds ran another load (${theirs.load.model} model, ${Math.round(theirs.durationMs / 100) / 10} s rounds)`,
        );
      }
    } else {
      // Both sides on this machine, their rounds interleaved: only the machine's steal (both alike) and an
      // image that is the candidate's under another name can mislead (src/metrics/environment.ts says why).
      const theirs = rounds.filter((r) => r.side === 'baseline' && !r.warmup).map((r) => r.result);
      baseEnv = await withServiceImage(acrossLoads(theirs, mean(theirs.map((r) => r.generatorCpu))), sides[1]?.plan, sides[1]?.running);
      const all = rounds.filter((r) => !r.warmup).map((r) => r.result);
      const steal = acrossLoads(all, 0)?.cpuStealPercent;
      if (steal !== undefined && steal > STEAL_WARN_PERCENT) {
        warnings.push(
          `the machine had ${steal}% of its CPU stolen by the hypervisor during the rounds: both sides alike, but the intervals are wider`,
        );
      }
      const same = cp.against === 'baseline' ? sameImageWarning(env, baseEnv) : undefined;
      if (same) warnings.push(same);
    }
    const left = rounds.filter((r) => r.excluded);
    if (left.length > 0) warnings.push(`${left.length} round(s) left out: the load generator could not drive them on time`);
    if (problems.length > 0 || interrupted) warnings.push('the rounds stopped early: the comparison covers only the rounds measured');
    const looks = checkpoints(cp).length;
    const comparison = judgeComparison(withStored(rounds, stored), cp, {
      against: againstOf(cp),
      looks,
      closed: plan.load.model === 'closed',
      warnings,
      environments: { ...(env ? { candidate: env } : {}), ...(baseEnv ? { baseline: baseEnv } : {}) },
      ...(stored?.startedAt ? { baselineStartedAt: stored.startedAt } : {}),
    });
    verdict.comparison = comparison;
    if (comparison.fails) verdict.pass = false;
  }
  if (problems.length > 0) {
    verdict.problems.push(...problems);
    verdict.pass = false;
    // A side died or a round was cut: the comparison did not measure what was planned (exit 3, not a breach).
    if (!interrupted) {
      result.status = 'aborted';
      result.reason = problems[0]!;
    }
  }
  const reports = writeReports(plan.outputDir, result, verdict, { rounds: { rounds } });
  for (const s of sides) if (s.plan.kind !== 'url') reports.files.push(join(plan.outputDir, s.logName));
  return { result, verdict, reports, resultFile: join(plan.outputDir, REPORT_FILES.json), rounds };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A record with the service's image and digest added, for a container service (imageOf). */
export async function withServiceImage(
  e: Environment | undefined,
  plan: ServicePlan | undefined,
  running: RunningService | undefined,
): Promise<Environment | undefined> {
  const serviceImage = await imageOf(plan, running);
  return e && serviceImage ? { ...e, serviceImage } : e;
}
