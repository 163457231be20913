// The service's CPU and memory samples and the monitor commands' values, folded into the run's
// per-second timeline and summarised for the reports. Pure: the sampling itself is src/service/watch.ts.

import type { MonitorPlan } from '../plan/types.ts';
import type { ResourceSample, Watcher } from '../service/watch.ts';
import type { MonitorInfo, ResourceInfo, RunResult, TimelinePoint } from './result.ts';

/** A resource sample older than this is not carried into a second without one. */
const STALE_MS = 3000;

/**
 * Folds the samples into the timeline (point t covers [t-1, t) s after the load started): each second
 * takes the last resource sample taken in it (or carries one forward up to 3 s, for samplers whose
 * ticks drift past a second), and the last value each monitor printed by its end (monitors are
 * stepwise: a replica count holds until it changes). Adds summaries for the reports.
 */
export function attachWatch(
  r: RunResult,
  w: Pick<Watcher, 'resources' | 'monitors' | 'monitorFailures' | 'source' | 'problems'> & { containerVia?: Watcher['containerVia'] },
  monitors: readonly MonitorPlan[],
): RunResult {
  const start = Date.parse(r.startedAt);
  const timeline: TimelinePoint[] = r.timeline.map((p) => ({ ...p }));
  const endOf = (p: TimelinePoint) => start + p.t * 1000;
  let k = 0;
  let last: ResourceSample | undefined;
  for (const p of timeline) {
    while (k < w.resources.length && w.resources[k]!.atMs < endOf(p)) last = w.resources[k++];
    if (last && endOf(p) - last.atMs <= STALE_MS + 1000) {
      if (last.cpuPercent !== undefined) p.cpuPercent = round1(last.cpuPercent);
      if (last.memoryBytes !== undefined) p.memoryBytes = Math.round(last.memoryBytes);
    }
  }
  for (const m of monitors) {
    const samples = w.monitors.filter((s) => s.name === m.name);
    let j = 0;
    let value: number | undefined;
    for (const p of timeline) {
      while (j < samples.length && samples[j]!.atMs < endOf(p)) value = samples[j++]!.value;
      if (value !== undefined) p.monitors = { ...p.monitors, [m.name]: value };
    }
  }
  const out: RunResult = { ...r, timeline };
  const inRun = w.resources.filter((s) => s.atMs >= start && s.atMs <= start + r.durationMs + 1000);
  if (w.source) {
    const cpu = inRun.flatMap((s) => (s.cpuPercent === undefined ? [] : [s.cpuPercent]));
    const mem = inRun.flatMap((s) => (s.memoryBytes === undefined ? [] : [s.memoryBytes]));
    const info: ResourceInfo = { source: w.source, ...(w.containerVia ? { via: w.containerVia } : {}), samples: inRun.length };
    if (cpu.length) {
      info.peakCpuPercent = round1(cpu.reduce((a, b) => Math.max(a, b)));
      info.meanCpuPercent = round1(cpu.reduce((a, b) => a + b, 0) / cpu.length);
    }
    if (mem.length) info.peakMemoryBytes = mem.reduce((a, b) => Math.max(a, b));
    if (w.problems.length) info.problem = w.problems[0]!;
    out.resources = info;
  }
  if (monitors.length) {
    out.monitors = monitors.map((m): MonitorInfo => {
      const values = w.monitors.filter((s) => s.name === m.name).map((s) => s.value);
      const f = w.monitorFailures.get(m.name);
      return {
        name: m.name,
        command: m.command,
        everyMs: m.everyMs,
        samples: values.length,
        failures: f?.count ?? 0,
        ...(f ? { lastError: f.last } : {}),
        ...(values.length
          ? {
              first: values[0]!,
              last: values[values.length - 1]!,
              min: values.reduce((a, b) => Math.min(a, b)),
              max: values.reduce((a, b) => Math.max(a, b)),
            }
          : {}),
      };
    });
  }
  return out;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
