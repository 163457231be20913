// The action's post step (runs even when main failed or was cancelled): removes the service container
// main saved in the state, if it is still there. Quick and quiet: one line, never a failure.

import { execFile } from 'node:child_process';
import * as core from '@actions/core';
import { type StateStore, runnerState, savedContainer } from './state.ts';

export async function cleanupAction(store: StateStore = runnerState): Promise<void> {
  const c = savedContainer(store);
  if (!c) return;
  const r = await new Promise<{ err: Error | null; stderr: string }>((res) =>
    // -v: with its anonymous volumes, as the service layer removes it.
    execFile(c.engine, ['rm', '-f', '-v', c.id], { timeout: 20_000 }, (err, _stdout, stderr) => res({ err, stderr: String(stderr) })),
  );
  // main removed it already (the usual case): docker and podman say so in their own words (docker 20.10
  // with exit code 0).
  if (/no such container|no container with name or id/i.test(r.stderr)) core.debug(`container ${c.id} was already removed`);
  else if (!r.err) core.info(`Removed the service container ${c.id.slice(0, 12)}`);
  else core.warning(`Could not remove the service container ${c.id.slice(0, 12)} (${c.engine} rm -f -v): ${r.stderr.trim() || r.err.message}`);
}
