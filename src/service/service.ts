// The service under test: a command loadgate starts (and always stops), a container (container.ts), or a
// URL that is already running. Readiness is an HTTP poll with backoff; if the service exits first, or the
// timeout passes, the error says which, with the exit code and the last lines of its output.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'undici';
import { statusMatches } from '../plan/http.ts';
import type { ReadinessPlan, ServicePlan } from '../plan/types.ts';
import { openOutput, outputTail } from './output.ts';
import { serviceEnvironment } from './env.ts';
import { readProcStat } from './procfs.ts';
import { portTakenBy, strangerListener } from './port-owner.ts';
import { type RunningService, type ServiceExit, type StartOptions, ServiceError, aborted, exitMessage, within } from './running-service.ts';
import { startContainer } from './container.ts';

export {
  type RunningService,
  type ServiceExit,
  type ServiceWatch,
  type StartOptions,
  type StartedService,
  ServiceError,
  exitMessage,
  imageOf,
  within,
} from './running-service.ts';

/**
 * Starts the service (a URL service only gets a handle). A command is stopped with SIGTERM to its
 * process group, SIGKILL after the grace period; a container with `docker stop`, then `docker rm -f`.
 */
export async function startService(plan: ServicePlan, opts: StartOptions = {}): Promise<RunningService> {
  if (plan.kind === 'url') {
    opts.onStarted?.({ kind: 'url' });
    return {
      baseUrl: plan.baseUrl,
      exited: new Promise(() => {}),
      lastLines: () => [],
      stop: async () => {},
      watch: null,
      describe: () => plan.baseUrl,
    };
  }
  if (plan.kind === 'container') return startContainer(plan, opts);
  const logFile = opts.logFile;
  // A fixed port someone else holds would have readiness answered, and the load measured, by that stranger.
  if (plan.port) {
    const holder = await portTakenBy(plan.port);
    if (holder)
      throw new ServiceError(
        `port ${plan.port} is already in use by ${holder}: stop it, or give the service another port (or {port} in the command for a free one)`,
      );
  }
  const port = plan.port || (await freePort());
  const command = plan.command.replaceAll('{port}', String(port));
  const baseUrl = plan.baseUrl.replaceAll('{port}', String(port));
  const { keep, tail, close: closeLog } = openOutput(logFile);
  // Its own process group (detached), so stopping it also stops what the shell started.
  const child: ChildProcess = spawn(command, {
    shell: true,
    cwd: plan.cwd,
    env: { ...serviceEnvironment(), PORT: String(port), ...plan.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let running = true;
  const exited = new Promise<ServiceExit>((res) => {
    child.on('exit', (code, signal) => {
      running = false;
      res({ code, signal, at: Date.now() });
    });
    child.on('error', (err) => {
      running = false;
      keep(Buffer.from(`failed to start: ${err.message}\n`));
      res({ code: null, signal: null, at: Date.now() });
    });
  });
  // 'close' comes once the process has exited and its output pipes are closed, i.e. once nothing it
  // started holds them either: the whole group is done.
  const outputDone = new Promise<void>((res) => child.on('close', () => res()));
  let stopping: Promise<void> | undefined;
  const pid = child.pid;
  if (pid) liveGroups.add(pid);
  if (pid) opts.onStarted?.({ kind: 'command', pid });
  return {
    baseUrl,
    exited,
    pid,
    watch: pid ? { kind: 'pid', pid } : null,
    // Not the command line itself: it lands in result.json and reports, and may carry a secret.
    describe: () => `command (pid ${pid ?? '-'})`,
    answeredByStranger: () => {
      const who = pid ? strangerListener(port, pid) : null;
      return who
        ? `what answers on port ${port} is not the service loadgate started (pid ${pid}) but ${who}, which held the port first: stop it, or give the service another port`
        : null;
    },
    lastLines: (n = 15) => tail.last(n),
    stop(graceMs = 5000, hurry) {
      stopping ??= (async () => {
        if (pid) {
          if (running) {
            killGroup(pid, 'SIGTERM');
            // The shell (sh -c) dies of SIGTERM at once, while the service it started may still be
            // shutting down: the grace period is for the whole group, not just the shell.
            await within(Promise.race([outputDone, aborted(hurry)]), graceMs);
          }
          // Whatever still runs in the group (or was left behind by a service that exited on its own).
          killGroup(pid, 'SIGKILL');
          liveGroups.delete(pid);
        }
        await exited;
        // The last output, unless something that left the group still holds the pipes.
        await within(outputDone, 1000);
        child.stdout!.off('data', keep);
        child.stderr!.off('data', keep);
        await closeLog();
      })();
      return stopping;
    },
  };
}

// Process groups started and not yet stopped. Should loadgate exit without stopping them (a second
// Ctrl-C, an internal error), they are killed on the way out rather than left running.
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

/** When a process started (clock ticks after boot), to tell it from a later process with the same pid. */
export function processStartTicks(pid: number): string | undefined {
  return readProcStat(pid)?.startTicks;
}

/**
 * Kills a process group that a previous process started (the action's post step), but only if its leader
 * is still the process that was saved: a pid reused since then is left alone. True when the leader was
 * still running (a leader that already exited and was never reaped may leave members behind: they are
 * killed too, quietly).
 */
export function killSavedGroup(pgid: number, startTicks: string): boolean {
  const leader = readProcStat(pgid);
  if (leader?.startTicks !== startTicks) return false;
  killGroup(pgid, 'SIGKILL');
  return leader.state !== 'Z';
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** The first "still waiting" line comes this long into a readiness wait, then one every WAIT_EVERY_MS. */
const WAIT_FIRST_MS = 2000;
const WAIT_EVERY_MS = 5000;

/**
 * Polls GET baseUrl+path until the answer counts as ready, with backoff from 100 ms to 1 s.
 * Rejects with a ServiceError naming what happened: the command exited, the timeout passed
 * (with the last answer or connection error), or the signal aborted the wait. `onWait` hears a line
 * after 2 s and every 5 s after that, with the last answer, so a long wait is never silent.
 */
export async function waitUntilReady(
  svc: RunningService,
  ready: ReadinessPlan,
  signal?: AbortSignal,
  onWait?: (line: string) => void,
): Promise<number> {
  const url = svc.baseUrl + ready.path;
  const t0 = performance.now();
  let nextWaitLine = WAIT_FIRST_MS;
  let last = 'no answer yet';
  let delay = 100;
  let exit: ServiceExit | undefined;
  void svc.exited.then((e) => (exit = e));
  let answered: number | undefined;
  for (;;) {
    if (signal?.aborted) throw new ServiceError('stopped while waiting for the service to become ready');
    if (exit) throw new ServiceError(exitMessage(exit, 'before it became ready', svc.lastLines()));
    try {
      const res = await request(url, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000, ...(signal ? { signal } : {}) });
      await res.body.dump();
      if (statusMatches(ready.okStatus, res.statusCode)) answered = performance.now() - t0;
      else last = `HTTP ${res.statusCode}`;
    } catch (err) {
      if (signal?.aborted) throw new ServiceError('stopped while waiting for the service to become ready');
      const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
      last = e.code ?? e.cause?.code ?? e.message ?? String(err);
      // An untrusted certificate will not become trusted by waiting: say so now, and how to trust it.
      const cert = certificateProblem(e.code ?? e.cause?.code, e.message ?? e.cause?.message);
      if (cert) throw new ServiceError(`${url}: ${cert}`);
    }
    if (answered !== undefined) {
      const stranger = svc.answeredByStranger?.();
      if (stranger) throw new ServiceError(stranger);
      return answered;
    }
    const elapsed = performance.now() - t0;
    if (onWait && elapsed >= nextWaitLine && elapsed < ready.timeoutMs) {
      const refused = last === 'ECONNREFUSED' ? ', nothing listens there yet' : '';
      onWait(
        `Waiting for ${url}: not ready after ${Math.floor(elapsed / 1000)} s of ${Number((ready.timeoutMs / 1000).toFixed(1))} s (last answer: ${last}${refused})`,
      );
      nextWaitLine += WAIT_EVERY_MS;
    }
    if (elapsed >= ready.timeoutMs) {
      if (exit) throw new ServiceError(exitMessage(exit, 'before it became ready', svc.lastLines()));
      throw new ServiceError(
        `${url} was not ready after ${Number((ready.timeoutMs / 1000).toFixed(1))} s (last answer: ${last})${outputTail(svc.lastLines(), "the service's")}`,
      );
    }
    await within(svc.exited, Math.max(0, Math.min(delay, ready.timeoutMs - elapsed)));
    delay = Math.min(1000, delay * 2);
  }
}

/** TLS errors that mean the certificate is not trusted (as Node names them), not that the service is not up yet. */
const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A sentence for a certificate problem: what it is and how to trust the service's CA; null for any other error. */
export function certificateProblem(code: string | undefined, message: string | undefined): string | null {
  if (!code || !CERT_ERRORS.has(code)) return null;
  const what =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'the certificate does not name this host'
      : (message ?? code).split(';')[0]!.replace(/\.$/, '');
  return (
    `the service's TLS certificate is not trusted (${code}: ${what}). If the service uses a private or ` +
    'self-signed CA, give its certificate to loadgate: NODE_EXTRA_CA_CERTS=/path/to/ca.pem (set in the environment ' +
    'before loadgate starts; in a workflow, under env: of the step)'
  );
}
