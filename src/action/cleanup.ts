// The action's post step (runs even when main failed or was cancelled): removes the service container, or
// kills the service's process group, that main saved in the state, if it is still there. Main removes
// them itself in the usual case; this is for a main that was killed (a cancel ends in SIGKILL), whose
// detached service would otherwise outlive it. Quick and quiet: a line at most, never a failure.

import * as core from '@actions/core';
import { removeContainer } from '../service/container.ts';
import { killSavedGroup } from '../service/service.ts';
import { type StateStore, runnerState, savedContainer, savedProcessGroup } from './state.ts';

export async function cleanupAction(store: StateStore = runnerState): Promise<void> {
  const g = savedProcessGroup(store);
  // Only if the group's leader is still the process main started (not a pid reused since).
  if (g && killSavedGroup(g.pgid, g.startTicks)) core.info(`Stopped the service's processes (process group ${g.pgid})`);
  const c = savedContainer(store);
  if (!c) return;
  // The same removal the service layer does (rm -f -v).
  const r = await removeContainer(c.engine, c.id, 20_000);
  if (r.removed) core.info(`Removed the service container ${c.id.slice(0, 12)}`);
  else if (/already gone/.test(r.message)) core.debug(`container ${c.id} was already removed`);
  else core.warning(`Could not remove the service container ${c.id.slice(0, 12)}: ${r.message}`);
}
