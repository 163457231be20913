// What the service's CPU and memory samplers hand the watcher (watch.ts): time-stamped samples, kept
// apart from the samplers themselves (sample-process.ts, sample-container.ts) so both can share them.

/** Where resource samples come from: a process group's /proc files, or a container's cgroup or CLI stats. */
export type ResourceSource = 'proc' | 'container';

/** How a container is sampled, once known: its cgroup files, or the container CLI's stats command. */
export type ContainerVia = 'cgroup' | 'engine stats';

export interface ResourceSample {
  /** Wall clock, ms since the epoch. */
  atMs: number;
  /** Share of one core, in percent (200 = two cores busy). */
  cpuPercent?: number;
  memoryBytes?: number;
}

/** At the stop, a last sample covers the time since the previous one, when that is at least this long. */
export const MIN_FINAL_MS = 250;
