import { execFile } from 'node:child_process';
import { j as runnerState, k as savedContainer, d as debug, i as info, w as warning } from './state.js';
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
import './_commonjsHelpers.js';
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

// The action's post step (runs even when main failed or was cancelled): removes the service container
// main saved in the state, if it is still there. Quick and quiet: one line, never a failure.
async function cleanupAction(store = runnerState) {
    const c = savedContainer(store);
    if (!c)
        return;
    const r = await new Promise((res) => 
    // -v: with its anonymous volumes, as the service layer removes it.
    execFile(c.engine, ['rm', '-f', '-v', c.id], { timeout: 20_000 }, (err, _stdout, stderr) => res({ err, stderr: String(stderr) })));
    // main removed it already (the usual case): docker and podman say so in their own words (docker 20.10
    // with exit code 0).
    if (/no such container|no container with name or id/i.test(r.stderr))
        debug(`container ${c.id} was already removed`);
    else if (!r.err)
        info(`Removed the service container ${c.id.slice(0, 12)}`);
    else
        warning(`Could not remove the service container ${c.id.slice(0, 12)} (${c.engine} rm -f -v): ${r.stderr.trim() || r.err.message}`);
}

// The GitHub Action's post step: removes the service container if main left it running (src/action/cleanup.ts).
void cleanupAction().then(() => process.exit(), () => process.exit());
