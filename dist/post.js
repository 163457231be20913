import { j as runnerState, k as savedContainer, i as info, d as debug, w as warning } from './state.js';
import { r as removeContainer } from './container.js';
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
import 'node:assert';
import 'node:net';
import 'node:http';
import 'node:stream';
import 'node:buffer';
import 'node:util';
import 'node:querystring';
import 'node:events';
import 'node:diagnostics_channel';
import 'node:tls';
import 'node:zlib';
import 'node:perf_hooks';
import 'node:util/types';
import 'node:worker_threads';
import 'node:url';
import 'node:async_hooks';
import 'node:console';
import 'node:dns';
import 'string_decoder';
import 'child_process';
import 'timers';
import 'node:child_process';
import 'node:crypto';
import 'node:fs';
import 'node:os';
import 'node:path';

// The action's post step (runs even when main failed or was cancelled): removes the service container
// main saved in the state, if it is still there. Quick and quiet: one line, never a failure.
async function cleanupAction(store = runnerState) {
    const c = savedContainer(store);
    if (!c)
        return;
    // The same removal the service layer does (rm -f -v); main removed it already in the usual case.
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
