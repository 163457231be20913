// A run in rounds (issue 11): each round is one RunResult of one side (the candidate or the baseline),
// kept whole, histograms and all, so a later run can compare against them (baseline: {result: FILE}).
// Here: what a round is, its lossless JSON form, and the merge of one side's rounds into one RunResult
// (the candidate's merged rounds are what the absolute SLOs judge).

import { acrossLoads } from './environment.ts';
import { mergeHistograms } from './histogram.ts';
import { mergeStats, parseRunResult, type RunResult, toSerializable } from './result.ts';

export type Side = 'candidate' | 'baseline';

export interface RoundRecord {
  side: Side;
  /** The pair it belongs to (0-based; warm-up rounds come first, with their own numbers). */
  pair: number;
  /** Its place in time among all the rounds of the run (0-based). */
  seq: number;
  warmup: boolean;
  /** Why it is left out of the comparison (the generator could not drive it on time), when it is. */
  excluded?: string;
  result: RunResult;
}

export type SerializedRound = Omit<RoundRecord, 'result'> & { result: ReturnType<typeof toSerializable> };

export function serializeRounds(rounds: readonly RoundRecord[]): SerializedRound[] {
  return rounds.map((r) => ({ ...r, result: toSerializable(r.result) }));
}

export function parseRounds(list: readonly SerializedRound[]): RoundRecord[] {
  return list.map((r) => ({ ...r, result: parseRunResult(JSON.stringify(r.result)) }));
}

/**
 * One side's rounds as one run: cells merged cell by cell (every round ran the same plan, so the same
 * segments and endpoints), durations and counts added, timelines laid end to end, the generator's CPU
 * averaged, the machine's steal over all of them. Its status is the worst of the rounds'.
 */
export function mergeRounds(results: readonly RunResult[]): RunResult {
  const first = results[0];
  if (!first) throw new RangeError('mergeRounds: no rounds');
  if (results.length === 1) return first;
  const cells = first.cells.map((row, si) =>
    row.map((_, ei) => mergeStats(results.map((r) => r.cells[si]?.[ei]).filter((c) => c !== undefined))),
  );
  let offset = 0;
  const timeline = results.flatMap((r) => {
    const shifted = r.timeline.map((p) => ({ ...p, t: p.t + offset }));
    offset += Math.ceil(r.durationMs / 1000);
    return shifted;
  });
  const bad = results.find((r) => r.status !== 'completed');
  const sum = (f: (r: RunResult) => number) => results.reduce((t, r) => t + f(r), 0);
  // Each stage (and segment) ran once per round: its span stretched by the rounds, so rates per stage stay right.
  const n = results.length;
  const generatorCpu = sum((r) => r.generatorCpu) / n;
  const environment = acrossLoads(results, generatorCpu);
  return {
    ...first,
    stages: first.stages.map((s) => ({ ...s, startMs: s.startMs * n, endMs: s.endMs * n })),
    segments: first.segments.map((s) => ({ ...s, startMs: s.startMs * n, endMs: s.endMs * n })),
    warmupMs: first.warmupMs * n,
    durationMs: sum((r) => r.durationMs),
    status: bad?.status ?? 'completed',
    ...(bad?.reason !== undefined ? { reason: bad.reason } : {}),
    cells,
    failures: results.flatMap((r) => r.failures),
    failuresNotItemized: sum((r) => r.failuresNotItemized),
    timeline,
    unsent: sum((r) => r.unsent),
    delayedByCap: sum((r) => r.delayedByCap),
    generatorCpu,
    ...(environment ? { environment } : {}),
    ...mergedHistogram(results, 'sendLag'),
    ...mergedHistogram(results, 'serviceTime'),
  };
}

function mergedHistogram(results: readonly RunResult[], key: 'sendLag' | 'serviceTime'): Partial<RunResult> {
  const hs = results.flatMap((r) => (r[key] ? [r[key]] : []));
  return hs.length > 0 ? { [key]: mergeHistograms(hs) } : {};
}
