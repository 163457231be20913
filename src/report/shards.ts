// Where each shard of a merged run ran (result.plan.shards and result.shardMachines), one line each, for
// every report: a merged verdict says what the whole load did, and these lines say which machine carried
// which part, how late it started and how busy its generator was, so a slow part can be traced to a runner.

import { fmtPct } from '../format.ts';
import type { RunResult } from '../metrics/result.ts';
import { shardLabel } from '../plan/shard.ts';

/** One line per shard of a merge of several, in shard order; none for a single run. */
export function shardLines(r: RunResult): string[] {
  const shards = r.plan?.shards ?? [];
  if (shards.length < 2) return [];
  return shards.map((s) => {
    const m = r.shardMachines?.find((x) => x.index === s.index);
    const e = m?.environment;
    const where = e
      ? [e.runner?.name, e.runner?.os && `${e.runner.os} ${e.runner.arch ?? ''}`.trim(), `${e.cpuModel} × ${e.cpuCount}`]
          .filter(Boolean)
          .join(', ')
      : 'machine not recorded';
    const parts = [
      `shard ${shardLabel(s)} (${s.from})`,
      `${s.status}, load ${secs(s.durationMs)}, started +${secs(s.startOffsetMs)}`,
      `on ${where}`,
      `generator CPU ${fmtPct(m?.generatorCpu ?? 0)}`,
      ...(m?.generator?.scheduleErrorP99Ms !== undefined ? [`schedule error p99 ${m.generator.scheduleErrorP99Ms} ms`] : []),
      ...(e?.cpuStealPercent !== undefined ? [`CPU steal ${e.cpuStealPercent}%`] : []),
      `target ${s.target}`,
    ];
    return parts.join('; ');
  });
}

/** A merge whose per-second percentiles are estimates (a shard's result had no per-second histograms): said once. */
export function estimatedNote(r: RunResult): string | undefined {
  const est = r.plan?.estimated ?? [];
  if (!est.includes('p50')) return undefined;
  return (
    "The per-second percentiles over time are estimates (the shards' request-weighted mean): a shard's result.json has " +
    'no per-second histograms (written by an older loadgate). The totals, the percentiles over the run and per stage, and the per-second request counts are exact.'
  );
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
