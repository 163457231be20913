// The result of a run that never reached the load (the service exited at start, was never ready, a URL
// refused, a port was held, a signal came first): the same RunResult every report reads, with status
// `not-started`, the reason, the planned stages and nothing measured, so every report is still written.

import { RESULT_FORMAT_VERSION, type RunResult } from '../metrics/result.ts';
import type { ServiceRecord } from '../service/exit-watch.ts';
import { stageSpans } from '../load/shapes.ts';
import type { Plan } from '../plan/types.ts';
import { planRecord } from '../plan/fingerprint.ts';
import { VERSION } from '../version.ts';

export function notStartedResult(plan: Plan, reason: string, baseUrl: string, service: ServiceRecord): RunResult {
  const load = plan.load;
  const stages = stageSpans(load.stages).map((sp) => {
    const base = { index: sp.index, startMs: sp.startMs, endMs: sp.endMs };
    if (load.model === 'closed') {
      const st = load.stages[sp.index]!;
      return { ...base, name: st.name, users: st.users, spawnRate: st.spawnRate };
    }
    const st = load.stages[sp.index]!;
    return { ...base, name: st.name, rate: st.rate, ramp: st.ramp };
  });
  return {
    formatVersion: RESULT_FORMAT_VERSION,
    tool: { name: 'loadgate', version: VERSION },
    startedAt: new Date().toISOString(),
    durationMs: 0,
    status: 'not-started',
    reason,
    service,
    target: { baseUrl },
    load: load.model === 'closed' ? { model: 'closed', perUserRate: load.perUserRate } : { model: 'open', maxInFlight: load.maxInFlight },
    timeoutMs: plan.timeoutMs,
    seed: plan.seed,
    stages,
    warmupMs: plan.warmupMs,
    segments: [],
    endpoints: plan.endpoints.map((e) => ({ name: e.name, method: e.method, path: e.path })),
    cells: [],
    failures: [],
    failuresNotItemized: 0,
    timeline: [],
    unsent: 0,
    delayedByCap: 0,
    generatorCpu: 0,
    // A shard that never started is still a part of its plan: the merge names it rather than refusing it.
    plan: planRecord(plan),
  };
}
