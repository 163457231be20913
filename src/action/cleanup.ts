// The action's post step (runs even when main failed or was cancelled): removes the service container
// main saved in the state, if it is still there. Quick and quiet: one line, never a failure.

import { execFile } from 'node:child_process';
import * as core from '@actions/core';
import { type StateStore, runnerState, savedContainer } from './state.ts';

export async function cleanupAction(store: StateStore = runnerState): Promise<void> {
  const c = savedContainer(store);
  if (!c) return;
  const r = await new Promise<{ err: Error | null; stderr: string }>((res) =>
    execFile(c.engine, ['rm', '-f', c.id], { timeout: 20_000 }, (err, _stdout, stderr) => res({ err, stderr: String(stderr) })),
  );
  if (!r.err) core.info(`Removed the service container ${c.id.slice(0, 12)}`);
  // main removed it already (the usual case).
  else if (/no such container/i.test(r.stderr)) core.debug(`container ${c.id} was already removed`);
  else core.warning(`Could not remove the service container ${c.id.slice(0, 12)} (${c.engine} rm -f): ${r.stderr.trim() || r.err.message}`);
}
