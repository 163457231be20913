// What main leaves for post: the container or the process group it started, so post can remove it if
// main could not (a crash, a cancel that ran out of time and ended in SIGKILL). Behind a two-method store so the logic is testable without the runner.

import * as core from '@actions/core';

export interface StateStore {
  get(name: string): string;
  set(name: string, value: string): void;
}

/** The runner's state: written to GITHUB_STATE by main, read from STATE_<name> by post. */
export const runnerState: StateStore = { get: (n) => core.getState(n), set: (n, v) => core.saveState(n, v) };

export interface SavedContainer {
  /** The engine's CLI (docker, podman). */
  engine: string;
  id: string;
}

const CONTAINER = 'container';

export function saveContainer(store: StateStore, c: SavedContainer): void {
  store.set(CONTAINER, JSON.stringify({ engine: c.engine, id: c.id }));
}

/** The saved container, or undefined when none was saved (or the state is not ours). */
export function savedContainer(store: StateStore): SavedContainer | undefined {
  const text = store.get(CONTAINER);
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<SavedContainer>;
    // Only what a container engine's CLI and id look like: the state file is ours, but stay strict.
    if (typeof v.engine === 'string' && /^[\w./-]+$/.test(v.engine) && typeof v.id === 'string' && /^[\w.-]+$/.test(v.id)) {
      return { engine: v.engine, id: v.id };
    }
  } catch {
    // Not JSON: nothing to clean up.
  }
  return undefined;
}

/** A command service: its process group, and its leader's start time (so a reused pid is never signalled). */
export interface SavedProcessGroup {
  pgid: number;
  /** Field 22 of /proc/<pgid>/stat: clock ticks after boot when the leader started. */
  startTicks: string;
}

const PROCESS_GROUP = 'service-group';

export function saveProcessGroup(store: StateStore, g: SavedProcessGroup): void {
  store.set(PROCESS_GROUP, JSON.stringify({ pgid: g.pgid, startTicks: g.startTicks }));
}

export function savedProcessGroup(store: StateStore): SavedProcessGroup | undefined {
  const text = store.get(PROCESS_GROUP);
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<SavedProcessGroup>;
    if (Number.isInteger(v.pgid) && v.pgid! > 1 && typeof v.startTicks === 'string' && /^\d+$/.test(v.startTicks)) {
      return { pgid: v.pgid!, startTicks: v.startTicks };
    }
  } catch {
    // Not JSON: nothing to clean up.
  }
  return undefined;
}
