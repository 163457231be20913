// What a reader must know to trust a run's numbers without the run failing for it, the same in every report
// and in the verdict: answers that did not stream (verdict/stream.ts), and shards on different machines.
//
// A merge whose shards ran on different machines (a matrix of runners of different sizes or images): each
// shard's latencies are its own machine's, and the merged percentiles mix them. Said as a warning in every
// report, not a failure: most matrices run on one runner type, and a mixed one is worth knowing, not refusing.

import { environmentDifferences } from '../metrics/environment.ts';
import type { RunResult } from '../metrics/result.ts';
import { shardLabel } from '../plan/shard.ts';
import { streamWarnings } from './stream.ts';

export function runWarnings(r: RunResult): string[] {
  return [...streamWarnings(r), ...shardMachineWarnings(r)];
}

export function shardMachineWarnings(r: RunResult): string[] {
  const recorded = (r.shardMachines ?? []).filter((m) => m.environment).sort((a, b) => a.index - b.index);
  const first = recorded[0];
  if (!first || recorded.length < 2) return [];
  const seen = new Set<string>();
  for (const m of recorded.slice(1)) {
    const labels = [`shard ${shardLabel(first)}`, `shard ${shardLabel(m)}`] as const;
    for (const d of environmentDifferences(first.environment, m.environment, labels)) seen.add(d);
  }
  return seen.size ? [`The shards ran on different machines, so the merged figures mix them: ${[...seen].join('; ')}`] : [];
}
