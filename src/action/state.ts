// What main leaves for post: the container it started, so post can remove it if main could not (a crash,
// a cancel that ran out of time). Behind a two-method store so the logic is testable without the runner.

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
