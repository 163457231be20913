import { h as runnerState, l as savedProcessGroup, i as info, m as savedContainer, d as debug, w as warning } from './state.js';
import { n as killSavedGroup, o as removeContainer } from './service.js';
import 'os';
import 'crypto';
import 'fs';
import 'path';
import 'http';
import 'https';
import 'net';
import 'tls';
import 'events';
import 'assert';
import 'util';
import 'string_decoder';
import 'child_process';
import 'timers';
import 'node:child_process';
import 'node:net';
import 'node:assert';
import 'node:http';
import 'node:stream';
import 'node:querystring';
import 'node:events';
import 'node:diagnostics_channel';
import 'node:util';
import 'node:zlib';
import 'node:perf_hooks';
import 'node:util/types';
import 'node:worker_threads';
import 'node:crypto';
import 'node:sqlite';
import 'node:buffer';
import 'node:tls';
import 'node:stream/web';
import 'node:async_hooks';
import 'node:url';
import 'node:console';
import 'node:fs/promises';
import 'node:path';
import 'node:timers';
import 'node:dns';
import 'node:fs';
import 'node:os';

// The action's post step (runs even when main failed or was cancelled): removes the service container, or
// kills the service's process group, that main saved in the state, if it is still there. Main removes
// them itself in the usual case; this is for a main that was killed (a cancel ends in SIGKILL), whose
// detached service would otherwise outlive it. Quick and quiet: a line at most, never a failure.
async function cleanupAction(store = runnerState) {
    const g = savedProcessGroup(store);
    // Only if the group's leader is still the process main started (not a pid reused since).
    if (g && killSavedGroup(g.pgid, g.startTicks))
        info(`Stopped the service's processes (process group ${g.pgid})`);
    const c = savedContainer(store);
    if (!c)
        return;
    // The same removal the service layer does (rm -f -v).
    const r = await removeContainer(c.engine, c.id, 20_000);
    if (r.removed)
        info(`Removed the service container ${c.id.slice(0, 12)}`);
    else if (/already gone/.test(r.message))
        debug(`container ${c.id} was already removed`);
    else
        warning(`Could not remove the service container ${c.id.slice(0, 12)}: ${r.message}`);
}

// The GitHub Action's post step: removes the service container if main left it running (src/action/cleanup.ts).
void cleanupAction().then(() => process.exit(), () => process.exit());
