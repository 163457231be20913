// The monitors: section: commands sampled while the load runs (ready replicas, queue depth), each
// printing a number that is charted beside latency and throughput.

import type { MonitorPlan } from './types.ts';
import type { Path, Reader } from './reader.ts';

const MONITOR_KEYS = ['name', 'command', 'every', 'timeout'];

/**
 * Monitor commands, sampled while the load runs: `{name, command, every (default 5s), timeout (default:
 * the interval, at most 30 s)}`. A bare string is a command named after its position.
 */
export function readMonitors(r: Reader, v: unknown): MonitorPlan[] {
  if (v === undefined || v === null) return [];
  const names = new Set<string>();
  return r.list(v, ['monitors']).map((item, i) => {
    const at: Path = ['monitors', i];
    const o = typeof item === 'string' ? { command: item } : r.object(item, at, MONITOR_KEYS);
    if (o['command'] === undefined) r.fail(at, 'missing command: (a shell command that prints a number)');
    const command = r.string(o['command'], [...at, 'command']);
    const name = o['name'] === undefined ? `monitor ${i + 1}` : r.string(o['name'], [...at, 'name']);
    if (names.has(name)) r.fail([...at, 'name'], `"${name}" names another monitor too: give each its own name`);
    names.add(name);
    const everyMs = o['every'] === undefined ? 5000 : r.duration(o['every'], [...at, 'every']);
    if (everyMs < 200) r.fail([...at, 'every'], `expected at least 200ms between samples, got ${everyMs} ms`);
    const timeoutMs = o['timeout'] === undefined ? Math.min(everyMs, 30_000) : r.duration(o['timeout'], [...at, 'timeout']);
    return { name, command, everyMs, timeoutMs };
  });
}
