// A container service, through a docker-compatible CLI (docker, or podman's): build or pull the image as
// the plan says, `run -d --init` it under a name of ours with its port published on 127.0.0.1 only,
// follow its logs into the report folder, watch for its exit with `wait`, and always remove it.
//
// Everything goes through execFile/spawn with argument lists (never a shell): image names, paths and
// arguments from the config reach the container CLI exactly as written. Environment values are passed by
// name (`-e NAME`, the value in the CLI's own environment), so they do not show in `ps`.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { ContainerPlan } from '../plan/types.ts';
import { type ContainerCli, codeOf, containerCli, inspectImage, lastLine } from './container-cli.ts';
import { serviceEnvironment } from './env.ts';
import { type LastLines, openOutput } from './output.ts';
import { type RunningService, type ServiceExit, type StartOptions, ServiceError, aborted, exitMessage, within } from './running-service.ts';

/** Every container loadgate starts is named this, then random hex: easy to find, and never someone else's. */
export const CONTAINER_PREFIX = 'loadgate-';

export async function startContainer(plan: ContainerPlan, opts: StartOptions = {}): Promise<RunningService> {
  const cli = containerCli(plan.cli);
  const name = CONTAINER_PREFIX + randomBytes(5).toString('hex');
  const { keep, tail, close: closeLog } = openOutput(opts.logFile);
  const fail = async (message: string): Promise<never> => {
    await closeLog();
    throw new ServiceError(message);
  };

  await prepareImage(plan, cli, keep, tail, opts.signal).catch(async (e: unknown) => fail((e as Error).message));
  if (opts.signal?.aborted) await fail('stopped before the container was started');

  // Registered before `run`, so that a container created by a `run` that then fails (a port or a
  // limit the CLI refuses) or is cut short by an exit is still removed.
  live.set(name, { cli: plan.cli, children: [] });
  const removeNow = async () => {
    await removeContainer(plan.cli, name);
    live.delete(name);
  };
  const started = await cli
    .run(runArgs(plan, name), { timeoutMs: 300_000, env: { ...serviceEnvironment(), ...plan.env } })
    .catch(async (e: unknown) => {
      await removeNow();
      return fail((e as Error).message);
    });
  if (started.code !== 0) {
    await removeNow();
    await fail(`${plan.cli} run ${plan.image} failed${codeOf(started)}: ${lastLine(started.stderr)}`);
  }
  // `run -d` prints the id last (after any warnings the CLI prints to stdout).
  const id = started.stdout.trim().split('\n').pop()!.trim();
  const short = id.slice(0, 12);
  opts.onStarted?.({ kind: 'container', cli: plan.cli, id, name });

  // The container's output, from its start, until it is gone.
  const logs = spawnTracked(name, plan.cli, ['logs', '-f', id]);
  logs.stdout!.on('data', keep);
  logs.stderr!.on('data', keep);
  const logsDone = new Promise<void>((res) => logs.on('close', () => res()));
  logs.on('error', () => {});

  let stopping: Promise<void> | undefined;
  const { exited, pending } = watchExit(cli, name, id, plan, logsDone);
  const svc: RunningService = {
    baseUrl: plan.baseUrl,
    exited,
    exitPending: pending,
    lastLines: (n = 15) => tail.last(n),
    watch: { kind: 'container', cli: plan.cli, id },
    // Asked now, beside the readiness wait: the container's own image (the tag may move later), while it exists.
    image: inspectImage(cli, plan.image, id),
    describe: () => `container ${name} (image ${plan.image}, id ${short})`,
    stop(graceMs = 5000, hurry) {
      stopping ??= (async () => {
        // docker stop: SIGTERM (tini passes it on), SIGKILL after -t seconds. rm -f even if stop failed,
        // and at once on a signal while stopping.
        const stopped = cli
          .run(['stop', '-t', String(Math.max(0, Math.ceil(graceMs / 1000))), id], { timeoutMs: graceMs + 10_000 })
          .catch(() => {});
        await Promise.race([stopped, aborted(hurry)]);
        await removeNow();
        // The last output: `logs -f` ends once the container is gone.
        await within(logsDone, 1000);
        if (logs.exitCode === null && logs.signalCode === null) logs.kill('SIGKILL');
        await within(exited, 1000);
        await closeLog();
      })();
      return stopping;
    },
  };

  // The host port docker (or podman) picked (127.0.0.1::PORT): no race with another process for a free port.
  const port = hostNetwork(plan.args)
    ? { code: 0, stdout: `127.0.0.1:${plan.port}`, stderr: '' }
    : await cli
        .run(['port', id, `${plan.port}/tcp`], { timeoutMs: 30_000 })
        .catch((e: unknown) => ({ code: null, stdout: '', stderr: (e as Error).message }));
  const hostPort = /:(\d+)\s*$/m.exec(port.stdout)?.[1];
  if (port.code !== 0 || !hostPort) {
    // Most often the container already exited (its ports go with it): say that, with its output.
    let exit: ServiceExit | undefined;
    await within(
      exited.then((e) => (exit = e)),
      3000,
    );
    const message = exit
      ? exitMessage(exit, 'before it became ready', svc.lastLines())
      : `cannot find the host port of container ${name} (port ${plan.port}/tcp): ${lastLine(port.stderr) || port.stdout.trim() || 'no answer'}`;
    await svc.stop(0);
    throw new ServiceError(message);
  }
  svc.baseUrl = plan.baseUrl.replace('{port}', hostPort);
  return svc;
}

/**
 * `docker wait` returns the exit code once the container stops (on its own, or because stop() stopped
 * it). Resolves once its last output has been read too, so error messages show it.
 */
function watchExit(
  cli: ContainerCli,
  name: string,
  id: string,
  plan: ContainerPlan,
  logsDone: Promise<void>,
): { exited: Promise<ServiceExit>; pending: () => boolean } {
  const waiter = spawnTracked(name, plan.cli, ['wait', id]);
  let ended = false;
  let told = false;
  let out = '';
  let err = '';
  waiter.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  waiter.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<ServiceExit>((res) => {
    const finish = async (code: number | null) => {
      if (ended) return;
      ended = true;
      const at = Date.now();
      const exitCode = Number.parseInt(out.trim(), 10);
      let exit: ServiceExit;
      if (code !== 0 || !Number.isFinite(exitCode)) {
        exit = { code: null, signal: null, note: `${plan.cli} wait failed: ${lastLine(err) || `exit ${code}`}`, at };
      } else {
        const notes: string[] = [];
        // tini (--init) and docker (or podman) report death by signal N as 128 + N.
        const sig = exitCode > 128 ? Object.entries(constants.signals).find(([, n]) => n === exitCode - 128)?.[0] : undefined;
        if (sig) notes.push(`killed by ${sig}`);
        const oom = await cli.run(['inspect', '-f', '{{.State.OOMKilled}}', id], { timeoutMs: 10_000 }).catch(() => null);
        if (oom?.stdout.trim() === 'true') {
          notes.push(plan.memoryBytes ? `out of memory: it reached its ${fmtLimit(plan.memoryBytes)} memory limit` : 'out of memory');
        }
        exit = { code: exitCode, signal: null, ...(notes.length ? { note: notes.join('; ') } : {}), at };
      }
      await within(logsDone, 2000);
      told = true;
      res(exit);
    };
    waiter.on('close', (code) => void finish(code));
    waiter.on('error', (e) => {
      err += e.message;
      void finish(null);
    });
  });
  return { exited, pending: () => ended && !told };
}

/**
 * Removes a container by id or name, running or not, with its anonymous volumes: for the action's post
 * step, when the main step was killed before it could (it saved the id from onServiceStarted). Never throws.
 */
export async function removeContainer(cli: string, idOrName: string, timeoutMs = 30_000): Promise<{ removed: boolean; message: string }> {
  try {
    const r = await containerCli(cli).run(['rm', '-f', '-v', idOrName], { timeoutMs });
    // docker 20.10 answers 0 for a container that is not there; newer versions and podman answer 1.
    if (/no such container|no container with name or id/i.test(r.stderr))
      return { removed: false, message: `${idOrName} was already gone` };
    if (r.code !== 0) return { removed: false, message: `${cli} rm -f ${idOrName} failed${codeOf(r)}: ${lastLine(r.stderr)}` };
    return { removed: true, message: `removed ${idOrName}` };
  } catch (e) {
    return { removed: false, message: (e as Error).message };
  }
}

/** Build (classic builder), or make sure the image is there as the pull policy says. */
async function prepareImage(
  plan: ContainerPlan,
  cli: ContainerCli,
  output: (b: Buffer) => void,
  tail: LastLines,
  signal?: AbortSignal,
): Promise<void> {
  const stopped = () => signal?.aborted === true;
  if (plan.build) {
    const b = plan.build;
    const args = [
      'build',
      '-t',
      plan.image,
      ...(b.dockerfile ? ['-f', b.dockerfile] : []),
      ...Object.entries(b.args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      b.context,
    ];
    output(Buffer.from(`$ ${plan.cli} ${args.join(' ')}\n`));
    // No buildx on many machines: the classic builder works everywhere (podman ignores the variable).
    const r = await cli.run(args, { signal, env: { ...serviceEnvironment(), DOCKER_BUILDKIT: '0' }, output });
    if (stopped()) throw new Error(`stopped while building ${plan.image}`);
    if (r.code !== 0) {
      throw new Error(
        `building ${plan.image} from ${b.context} failed${codeOf(r)}; the build's last output:\n  ${tail.last(10).join('\n  ')}`,
      );
    }
    return;
  }
  const present = async () => {
    const r = await cli.run(['image', 'inspect', plan.image], { timeoutMs: 60_000 });
    if (r.code === 0) return true;
    // Absent (docker: "No such image", podman: "image not known"), or the engine did not answer at all: say which.
    if (/no such image|image not known|not found/i.test(r.stderr)) return false;
    throw new Error(
      `cannot ask ${plan.cli} whether image ${plan.image} is on this machine${codeOf(r)}: ${lastLine(r.stderr) || 'no answer'}`,
    );
  };
  if (plan.pull === 'never') {
    if (!(await present())) {
      throw new Error(
        `image ${plan.image} is not on this machine, and pull: never forbids pulling it (build it first, or set pull: missing)`,
      );
    }
    return;
  }
  if (plan.pull === 'missing' && (await present())) return;
  output(Buffer.from(`$ ${plan.cli} pull ${plan.image}\n`));
  const r = await cli.run(['pull', plan.image], { signal, output });
  if (stopped()) throw new Error(`stopped while pulling ${plan.image}`);
  if (r.code !== 0) throw new Error(`pulling ${plan.image} failed${codeOf(r)}: ${lastLine(r.stderr)}`);
}

/** `run -d --init`: tini as PID 1 passes SIGTERM on (a shell or busybox PID 1 would ignore it until -t runs out). */
export function runArgs(plan: ContainerPlan, name: string): string[] {
  return [
    'run',
    '-d',
    '--init',
    '--name',
    name,
    '--label',
    `loadgate.pid=${process.pid}`,
    // On the host's network the service's port is the host's: nothing to publish.
    ...(hostNetwork(plan.args) ? [] : ['-p', `127.0.0.1::${plan.port}`]),
    ...plan.envFiles.flatMap((f) => ['--env-file', f]),
    ...Object.entries(plan.env).flatMap(([k, v]) => ['-e', byValue(k) ? `${k}=${v}` : k]),
    ...(plan.cpus !== undefined ? ['--cpus', String(plan.cpus)] : []),
    // Swap as large as the limit means no swap: a Kubernetes pod's memory limit, which is what users mirror.
    ...(plan.memoryBytes !== undefined ? ['--memory', String(plan.memoryBytes), '--memory-swap', String(plan.memoryBytes)] : []),
    ...(plan.entrypoint !== undefined ? ['--entrypoint', plan.entrypoint] : []),
    ...plan.args,
    plan.image,
    ...(plan.cmd ?? []),
  ];
}

/**
 * Variables that steer the container CLI itself (where it finds its config, helpers and daemon) go on the
 * command line as NAME=VALUE: set in the CLI's own environment, they would change what the CLI does.
 */
function byValue(name: string): boolean {
  return /^(PATH|HOME|TMPDIR|USER|SHELL|XDG_.*|LD_.*|DOCKER_.*|CONTAINER_.*|CONTAINERS_.*|BUILDKIT_.*|HTTPS?_PROXY|NO_PROXY)$/i.test(name);
}

/** `--network host` / `--net=host` in the extra arguments. */
export function hostNetwork(args: readonly string[]): boolean {
  return args.some((a, i) => /^--net(work)?=host$/.test(a) || (/^--net(work)?$/.test(a) && args[i + 1] === 'host'));
}

// Containers started and not yet removed, with the CLI children that follow them. Should loadgate exit
// without stopping them (a second Ctrl-C, an internal error), they are removed on the way out: 'exit'
// handlers must be synchronous, hence execFileSync (~0.1 s a container).
const live = new Map<string, { cli: string; children: ChildProcess[] }>();
process.on('exit', () => {
  for (const [name, c] of live) {
    for (const child of c.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try {
      execFileSync(c.cli, ['rm', '-f', '-v', name], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // Nothing more can be done on the way out; the action's post step tries again.
    }
  }
});

/** A long-lived CLI child (logs -f, wait) for a container, killed with it on the way out. */
function spawnTracked(name: string, cli: string, args: string[]): ChildProcess {
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.get(name)?.children.push(child);
  return child;
}

/**
 * A memory limit as the user would write it ("16 MiB", "1.5 GiB"): not format.ts's fmtBytes, which gives a
 * measured size its precision ("16.0 MiB"). Docker's minimum is 6 MiB, so the bytes case is for completeness.
 */
function fmtLimit(n: number): string {
  for (const [u, f] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (n >= f) return `${Math.round((n / f) * 10) / 10} ${u}`;
  return `${n} bytes`;
}
