// The action's post step (runs even when main failed or was cancelled): removes the service container
// main saved in the state, if it is still there. Quick and quiet: one line, never a failure.

import * as core from '@actions/core';
import { removeContainer } from '../service/container.ts';
import { type StateStore, runnerState, savedContainer } from './state.ts';

export async function cleanupAction(store: StateStore = runnerState): Promise<void> {
  const c = savedContainer(store);
  if (!c) return;
  // The same removal the service layer does (rm -f -v); main removed it already in the usual case.
  const r = await removeContainer(c.engine, c.id, 20_000);
  if (r.removed) core.info(`Removed the service container ${c.id.slice(0, 12)}`);
  else if (/already gone/.test(r.message)) core.debug(`container ${c.id} was already removed`);
  else core.warning(`Could not remove the service container ${c.id.slice(0, 12)}: ${r.message}`);
}
