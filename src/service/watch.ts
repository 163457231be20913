// Watching the service while the load runs: its CPU and memory every second, and the user's monitor
// commands every N seconds (e.g. `kubectl get deploy X -o jsonpath={.status.readyReplicas}` to see an
// autoscaler scale out, as the seed did by hand with `kubectl top`).
//
//   command service:   its process group in /proc (sample-process.ts)
//   container service: its cgroup's files, or `docker stats` where those cannot be read (sample-container.ts)
//   URL service:       nothing to watch (monitor commands still run: monitors.ts)
//
// The samplers only collect time-stamped samples; `attachWatch` (pure, src/metrics/resources.ts) folds them
// into the RunResult's per-second timeline afterwards, so the engine's hot path never sees them. A sampler
// that fails says so once in `problems`; it never stops the run.

import type { MonitorPlan } from '../plan/types.ts';
import { runMonitor } from './monitors.ts';
import type { ContainerVia, ResourceSample, ResourceSource } from './resource-sample.ts';
import type { ServiceWatch } from './running-service.ts';
import { sampleContainer } from './sample-container.ts';
import { sampleProcessGroup } from './sample-process.ts';

export type { ContainerVia, ResourceSample, ResourceSource } from './resource-sample.ts';

export interface MonitorSample {
  atMs: number;
  name: string;
  value: number;
}

export interface Watcher {
  readonly resources: ResourceSample[];
  readonly monitors: MonitorSample[];
  /** Per monitor: failed samples and the last reason. */
  readonly monitorFailures: Map<string, { count: number; last: string }>;
  /** Why resources could not be sampled, once each. */
  readonly problems: string[];
  readonly source: ResourceSource | null;
  /** How a container is sampled, once known. */
  readonly containerVia: ContainerVia | undefined;
  /** Stops every sampler and waits for its children to end. */
  stop(): Promise<void>;
}

/** Samples above this many are dropped (a 10 h run at 1/s): memory stays bounded. */
const MAX_SAMPLES = 36_000;

export function startWatching(target: ServiceWatch, monitors: readonly MonitorPlan[], opts: { intervalMs?: number } = {}): Watcher {
  const intervalMs = opts.intervalMs ?? 1000;
  const resources: ResourceSample[] = [];
  const monitorSamples: MonitorSample[] = [];
  const monitorFailures = new Map<string, { count: number; last: string }>();
  const problems: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  const push = <T>(list: T[], s: T) => {
    if (list.length < MAX_SAMPLES) list.push(s);
  };
  let source: ResourceSource | null = null;
  let via: Watcher['containerVia'];
  if (target?.kind === 'pid') {
    source = 'proc';
    stops.push(
      sampleProcessGroup(
        target.pid,
        intervalMs,
        (s) => push(resources, s),
        (p) => problems.push(p),
      ),
    );
  } else if (target?.kind === 'container') {
    source = 'container';
    stops.push(
      sampleContainer(
        target.cli,
        target.id,
        intervalMs,
        (s) => push(resources, s),
        (p) => problems.push(p),
        (v) => (via = v),
      ),
    );
  }
  for (const m of monitors) {
    stops.push(
      runMonitor(
        m,
        (value) => push(monitorSamples, { atMs: Date.now(), name: m.name, value }),
        (why) => {
          const f = monitorFailures.get(m.name) ?? { count: 0, last: '' };
          f.count++;
          f.last = why;
          monitorFailures.set(m.name, f);
        },
      ),
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    resources,
    monitors: monitorSamples,
    monitorFailures,
    problems,
    source,
    get containerVia() {
      return via;
    },
    stop: () => (stopping ??= Promise.all(stops.map((s) => s())).then(() => {})),
  };
}
