// Container services on a real engine (docker here; podman through the same CLI): boot, readiness, logs,
// limits, builds, and teardown in every way a run can end. Images come from test/helpers/images.ts
// (local files only, never a registry). Every container loadgate starts is named loadgate-<hex> and
// labelled loadgate.pid=<the loadgate process>; the tests find them by those and remove any left over.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flagOverrides } from '../src/cli.ts';
import { applyOverrides, buildPlan, emptyConfig, readConfigFile } from '../src/plan/config.ts';
import type { ContainerPlan } from '../src/plan/types.ts';
import { splitWords } from '../src/plan/shell-words.ts';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';
import { executeRun, type StartedService } from '../src/run.ts';
import { removeContainer, runArgs } from '../src/service/container.ts';
import { busyboxImage, containersNamed, docker, dockerSkip, exampleImage } from './helpers/images.ts';
import { CLI, NODE, REPO, type Finished, type StartOptions, type Started, eventually, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const skip = dockerSkip();
const PREDICT = '/api/models/insurance_charges_model/prediction';
const BODY = { age: 42, sex: 'female', bmi: 31.5, children: 2, smoker: false, region: 'northwest' };

// Whatever a failed test left behind: containers of the CLIs started here, images built here.
const clis: Started[] = [];
const builtImages: string[] = [];
after(() => {
  if (skip) return;
  for (const cli of clis) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.kill('SIGKILL');
    for (const id of byLabel(cli.pid)) docker(['rm', '-f', '-v', id]);
  }
  for (const tag of builtImages) spawnDocker(['rmi', '-f', tag]);
});
after(killChildren);
after(removeTempDirs);

function spawnDocker(args: string[]): void {
  try {
    docker(args);
  } catch {
    // Already gone.
  }
}

/** Containers (running or not) that the loadgate process `pid` started. */
function byLabel(pid: number): string[] {
  return docker(['ps', '-aq', '--filter', `label=loadgate.pid=${pid}`])
    .split('\n')
    .filter(Boolean);
}

function startCli(args: string[], opts: StartOptions = {}): Started {
  const cli = startNode([CLI, ...args], { timeoutMs: 60_000, ...opts });
  clis.push(cli);
  return cli;
}

/** A config file: the service section as given (JSON is YAML), a request and a load. */
function configFile(dir: string, service: Record<string, unknown>, rest: Record<string, unknown> = {}): string {
  const cfg = {
    service,
    request: { path: PREDICT, body: BODY, 'expect-status': 200 },
    load: { pacing: '5/s', stages: [{ duration: '2s', users: 2 }] },
    'progress-interval': '250ms',
    output: join(dir, 'out'),
    ...rest,
  };
  return writeFile(dir, 'loadgate.yml', JSON.stringify(cfg, null, 2));
}

function exampleService(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: exampleImage(), port: 8000, pull: 'never', ready: { path: '/api/health/ready', timeout: '30s' }, ...extra };
}

function containerName(stdout: string): string {
  const m = /^Started the service: container (loadgate-[0-9a-f]{10}) \(image [^,]+, id ([0-9a-f]{12})\)$/m.exec(stdout);
  assert.ok(m, `no "Started the service: container loadgate-..." line in:\n${stdout}`);
  shortIds.set(m[1]!, m[2]!);
  return m[1]!;
}

/** Container name -> the id's first 12 digits (`docker logs -f` and `docker wait` name it by id). */
const shortIds = new Map<string, string>();

/** No container of that name, and no process (docker logs -f, docker wait, ...) that still names it. */
async function assertGone(name: string, cliPid?: number): Promise<void> {
  assert.deepEqual(containersNamed(name), [], `container ${name} still exists`);
  if (cliPid !== undefined) assert.deepEqual(byLabel(cliPid), [], 'a container labelled with the CLI pid still exists');
  const id = shortIds.get(name);
  const naming = () => [...processesNaming(name), ...(id ? processesNaming(id) : [])];
  assert.ok(await eventually(() => naming().length === 0, 3000), `processes still name ${name} or its id: ${naming().join('; ')}`);
}

/** Command lines of live processes that mention `s` (the test process itself aside). */
function processesNaming(s: string): string[] {
  const found: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(s)) found.push(`${p}: ${cmd}`);
    } catch {
      // Ended meanwhile.
    }
  }
  return found;
}

function assertExit(r: Finished, code: number): void {
  assert.equal(r.code, code, `exit code\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
}

function readResult(dir: string) {
  return parseRunResult(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
}

describe('a container service from its image', { skip }, () => {
  before(() => {
    exampleImage();
    busyboxImage();
  });

  it('boots, becomes ready, takes a short load, saves its output, and is removed afterwards', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli(['run', '--config', configFile(dir, exampleService({ env: { GREETING: 'hi there' } }))]);
    const r = await cli.exited;
    assertExit(r, 0);
    const name = containerName(r.stdout);
    assert.match(r.stdout, /^Service ready at http:\/\/127\.0\.0\.1:\d+\/api\/health\/ready after [\d.]+ s$/m);
    const result = readResult(dir);
    assert.equal(result.status, 'completed');
    const total = statsFor(result);
    assert.ok(total.requests >= 15, `${total.requests} requests`);
    assert.equal(total.failures, 0, JSON.stringify(result.failures));
    assert.equal(result.service?.kind, 'container');
    assert.match(result.service?.description ?? '', new RegExp(`^container ${name} \\(image loadgate-test/example:`));
    assert.equal(result.service?.exit, undefined);
    // Where it ran names the image and its digest, as the engine knows it: a repository digest when it has
    // one (podman gives a local build one under localhost/), else the image id (docker's local build).
    const si = result.environment?.serviceImage;
    assert.equal(si?.image, exampleImage());
    const [repoDigests, id] = docker(['image', 'inspect', '--format', '{{json .RepoDigests}}|{{.Id}}', exampleImage()]).trim().split('|');
    const known = (JSON.parse(repoDigests!) as string[] | null) ?? [];
    if (known.length > 0) {
      assert.equal(si?.digestKind, 'repo-digest');
      assert.ok(known.includes(si?.digest ?? ''), `${si?.digest} among ${known.join(', ')}`);
    } else {
      assert.deepEqual(si, { image: exampleImage(), digest: id!.startsWith('sha256:') ? id : `sha256:${id}`, digestKind: 'image-id' });
    }
    assert.match(
      readFileSync(join(dir, 'out', 'report.html'), 'utf8'),
      new RegExp(`<th>Service image</th><td>[^<]*${si!.digest!.slice(-64)}`),
    );
    // CPU and memory sampled each second, into the timeline.
    assert.equal(result.resources?.source, 'container', JSON.stringify(result.resources));
    assert.ok(result.resources!.samples >= 2 && result.resources!.problem === undefined, JSON.stringify(result.resources));
    assert.ok(result.resources!.peakMemoryBytes! > 10 << 20, `a Node service holds more than 10 MiB: ${JSON.stringify(result.resources)}`);
    assert.ok(
      result.timeline.some((p) => p.cpuPercent !== undefined && p.memoryBytes !== undefined),
      'a second of the timeline has both',
    );
    assert.equal(result.resources!.via, 'cgroup', "read from the container's cgroup on this host");
    assert.match(r.stdout, /^Service: CPU peak [\d.]+% of one core .* from its container's cgroup\)\.$/m);
    assert.match(readFileSync(join(dir, 'out', 'service.log'), 'utf8'), /^listening on http:\/\/0\.0\.0\.0:8000$/m);
    for (const f of ['report.html', 'report.md', 'junit.xml', 'loadgate_stats.csv']) assert.ok(existsSync(join(dir, 'out', f)), f);
    assert.match(r.stdout, /^Reports: .* \(report\.html, .*, service\.log\)$/m, 'the service log is listed with the reports');
    await assertGone(name, cli.pid);
  });

  it('tells the run what it started before readiness (the id the action saves), and publishes on 127.0.0.1 only', async () => {
    const dir = tempDir('loadgate-ctr-');
    const plan = buildPlan(
      readConfigFile(configFile(dir, exampleService(), { load: { stages: [{ duration: '500ms', users: 1 }], pacing: '5/s' } })),
    );
    let told: StartedService | undefined;
    let runningThen = '';
    let binding = '';
    await executeRun(plan, {
      onServiceStarted: (s) => {
        told = s;
        if (s.kind === 'container') {
          runningThen = docker(['inspect', '-f', '{{.State.Running}}', s.id]).trim();
          binding = docker(['port', s.id, '8000/tcp']).trim();
        }
      },
    });
    assert.ok(told?.kind === 'container', JSON.stringify(told));
    assert.equal(told.cli, 'docker');
    assert.match(told.id, /^[0-9a-f]{64}$/);
    assert.match(told.name, /^loadgate-[0-9a-f]{10}$/);
    shortIds.set(told.name, told.id.slice(0, 12));
    assert.equal(runningThen, 'true');
    assert.match(binding, /^127\.0\.0\.1:\d+$/, 'published on the loopback address only');
    await assertGone(told.name);
  });

  it('one that never becomes ready: exit 3 naming the URL and the timeout, and it is removed', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, { image: busyboxImage(), port: 8000, pull: 'never', cmd: ['sleep', '300'], ready: { timeout: '1500ms' } }),
    ]);
    const r = await cli.exited;
    assertExit(r, 3);
    assert.match(r.stderr, /^loadgate: http:\/\/127\.0\.0\.1:\d+\/ was not ready after 1\.5 s \(last answer: [^)]+\)$/m);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    await assertGone(containerName(r.stdout), cli.pid);
  });

  it('one that exits at start: its exit code and output at once, exit 3, removed', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, {
        image: busyboxImage(),
        port: 8000,
        pull: 'never',
        cmd: 'sh -c "echo boom >&2; exit 3"',
        ready: { timeout: '30s' },
      }),
    ]);
    const r = await cli.exited;
    assertExit(r, 3);
    assert.match(r.stderr.split('\n')[0]!, /^loadgate: the service exited with code 3 before it became ready; its last output:$/);
    assert.match(r.stderr, /^ {2}boom$/m);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms: the exit should end the wait, not the 30 s timeout`);
    assert.match(readFileSync(join(dir, 'out', 'service.log'), 'utf8'), /boom/);
    await assertGone(containerName(r.stdout), cli.pid);
  });

  it('pull: never with an image that is not here: exit 3 naming it, no container created', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli(['run', '--config', configFile(dir, { image: 'loadgate-test/not-here:nope', port: 8000, pull: 'never' })]);
    const r = await cli.exited;
    assertExit(r, 3);
    assert.equal(
      r.stderr.split('\n')[0],
      'loadgate: image loadgate-test/not-here:nope is not on this machine, and pull: never forbids pulling it (build it first, or set pull: missing)',
    );
    assert.deepEqual(byLabel(cli.pid), []);
  });

  it("removeContainer (for the action's post step): removes a running container by id, and says when it was already gone", async () => {
    const name = `loadgate-test-post-${process.pid}`;
    const id = docker(['run', '-d', '--init', '--name', name, busyboxImage(), 'sleep', '300']).trim();
    try {
      assert.deepEqual(await removeContainer('docker', id), { removed: true, message: `removed ${id}` });
      assert.deepEqual(containersNamed(name), []);
      assert.deepEqual(await removeContainer('docker', id), { removed: false, message: `${id} was already gone` });
    } finally {
      spawnDocker(['rm', '-f', name]);
    }
  });

  it("a limit the engine refuses: exit 3 with the engine's own reason, no container left", async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, { image: busyboxImage(), port: 8000, pull: 'never', cpus: 512, cmd: ['sleep', '300'] }),
    ]);
    const r = await cli.exited;
    assertExit(r, 3);
    assert.match(
      r.stderr.split('\n')[0]!,
      /^loadgate: docker run loadgate-test\/busybox:\w+ failed \(exit 125\): Error response from daemon: Range of CPUs is from 0\.01 to [\d.]+/,
    );
    assert.deepEqual(byLabel(cli.pid), []);
  });

  it('an engine that is not installed: exit 3 saying so', async () => {
    const dir = tempDir('loadgate-ctr-');
    const r = await startCli(['run', '--config', configFile(dir, { image: 'x/y:1', port: 80, engine: 'no-such-engine-here' })]).exited;
    assertExit(r, 3);
    assert.match(r.stderr, /^loadgate: cannot run the container engine "no-such-engine-here": not found on PATH/);
  });
});

describe('a container that dies or a run that is stopped', { skip }, () => {
  before(() => exampleImage());

  it('killed mid-run: the run stops early (aborted, exit 3), says how and when, writes every report', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, exampleService(), { load: { pacing: '5/s', stages: [{ duration: '30s', users: 2 }] } }),
    ]);
    await cli.waitFor(/^\[\d+s\/30s\] /m, 30_000);
    const name = containerName(cli.stdout);
    const killedAt = performance.now();
    docker(['kill', name]);
    const r = await cli.exited;
    assertExit(r, 3);
    assert.ok(performance.now() - killedAt < 10_000, 'stops soon after the container died');
    const result = readResult(dir);
    assert.equal(result.status, 'aborted');
    assert.match(result.reason ?? '', /^the service exited with code 137 \(killed by SIGKILL\) during the run/);
    assert.equal(result.service?.exit?.code, 137);
    assert.ok(result.service!.exit!.atMs > 0 && result.service!.exit!.atMs < result.durationMs + 1000, JSON.stringify(result.service));
    assert.ok(statsFor(result).requests > 0, 'what was measured is kept');
    assert.match(r.stderr, /^loadgate: the service exited with code 137 \(killed by SIGKILL\) during the run/m);
    assert.ok(existsSync(join(dir, 'out', 'report.html')));
    await assertGone(name, cli.pid);
  });

  it('dying as the load ends, while its exit is still being read: the result still says how, and the verdict fails', async () => {
    // The engine's exit details (inspect) take 1.5 s here, through a wrapper: a container that stops in
    // the load's last second is then known to have ended before those details, so the run must wait for
    // them rather than finish as if nothing happened.
    const dir = tempDir('loadgate-ctr-');
    const engine = writeFile(dir, 'slow-inspect', `#!/bin/sh\nif [ "$1" = inspect ]; then sleep 1.5; fi\nexec docker "$@"\n`);
    chmodSync(engine, 0o755);
    mkdirSync(join(dir, 'ctl'));
    const service = {
      image: busyboxImage(),
      engine,
      port: 8000,
      pull: 'never',
      args: ['-v', `${join(dir, 'ctl')}:/ctl`],
      // Serves until the test says stop, then exits with 7.
      cmd: ['sh', '-c', 'httpd -f -p 8000 -h /www & while [ ! -e /ctl/stop ]; do sleep 0.05; done; exit 7'],
      ready: { path: '/', timeout: '30s' },
    };
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, service, {
        request: { path: '/', 'expect-status': 200 },
        load: { pacing: '20/s', stages: [{ duration: '4s', users: 2 }] },
      }),
    ]);
    await cli.waitFor(/^Service ready at /m, 30_000);
    await new Promise((res) => setTimeout(res, 3300));
    writeFile(join(dir, 'ctl'), 'stop', '');
    const r = await cli.exited;
    assertExit(r, 3);
    const result = readResult(dir);
    assert.equal(result.service?.exit?.code, 7, `how it died is kept: ${JSON.stringify(result.service)} (status ${result.status})`);
    assert.match(r.stdout + r.stderr, /the service exited with code 7 during the run, [\d.]+ s into the load, as the load was ending/);
    await assertGone(containerName(r.stdout), cli.pid);
  });

  it('killed mid-run with on-exit: continue: the load runs to its end, counting the errors, and the verdict fails', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, exampleService({ 'on-exit': 'continue' }), { load: { pacing: '5/s', stages: [{ duration: '4s', users: 2 }] } }),
    ]);
    await cli.waitFor(/^\[\d+s\/4s\] /m, 30_000);
    const name = containerName(cli.stdout);
    docker(['kill', name]);
    const r = await cli.exited;
    assertExit(r, 3);
    assert.match(
      r.stdout,
      /^The service exited with code 137 \(killed by SIGKILL\) during the run; on-exit: continue, so the load goes on/m,
    );
    const result = readResult(dir);
    assert.equal(result.status, 'completed');
    assert.ok(result.durationMs >= 3900, `ran ${result.durationMs} ms of 4000`);
    const total = statsFor(result);
    assert.ok(total.failures > 0 && total.requests > total.failures, `${total.failures} of ${total.requests} failed`);
    assert.equal(result.service?.onExit, 'continue');
    assert.equal(result.service?.exit?.code, 137);
    assert.match(
      r.stdout,
      /^Problem: the service exited with code 137 \(killed by SIGKILL\) during the run, [\d.]+ s into the load \(on-exit: continue/m,
    );
    await assertGone(name, cli.pid);
  });

  it('out of memory under its limit: the reason says so', async () => {
    const dir = tempDir('loadgate-ctr-');
    // httpd answers at once; 2 s later the shell reads 60 MB into a variable, past the 16 MiB limit.
    const cmd = ['sh', '-c', 'httpd -p 8000 -h /www; sleep 2; a=$(head -c 60000000 /dev/zero | tr "\\0" x); echo survived'];
    const service = { image: busyboxImage(), port: 8000, pull: 'never', memory: '16m', cmd, ready: '/index.html' };
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, service, { request: { path: '/index.html' }, load: { pacing: '5/s', stages: [{ duration: '30s', users: 1 }] } }),
    ]);
    const r = await cli.exited;
    assertExit(r, 3);
    const result = readResult(dir);
    assert.equal(result.status, 'aborted');
    assert.match(
      result.reason ?? '',
      /^the service exited with code 137 \(killed by SIGKILL; out of memory: it reached its 16 MiB memory limit\) during the run/,
    );
    assert.equal(result.service?.exit?.note, 'killed by SIGKILL; out of memory: it reached its 16 MiB memory limit');
    await assertGone(containerName(r.stdout), cli.pid);
  });

  it('SIGINT while waiting for readiness: exit 130, removed', async () => {
    const dir = tempDir('loadgate-ctr-');
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, { image: busyboxImage(), port: 8000, pull: 'never', cmd: ['sleep', '300'], ready: { timeout: '60s' } }),
    ]);
    await cli.waitFor(/^Started the service: container/m, 30_000);
    await new Promise((res) => setTimeout(res, 500));
    cli.kill('SIGINT');
    const r = await cli.exited;
    assertExit(r, 130);
    assert.match(readResult(dir).reason ?? '', /^interrupted by SIGINT while waiting for the service to become ready/);
    await assertGone(containerName(r.stdout), cli.pid);
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const)
    it(`${signal} to the CLI mid-run: exit 130 within seconds, reports written, no container and no container CLI left`, async () => {
      const dir = tempDir('loadgate-ctr-');
      const cli = startCli([
        'run',
        '--config',
        configFile(dir, exampleService(), { load: { pacing: '5/s', stages: [{ duration: '30s', users: 2 }] } }),
      ]);
      await cli.waitFor(/^\[\d+s\/30s\] /m, 30_000);
      const name = containerName(cli.stdout);
      // The check below would see them: `docker logs -f <id>` and `docker wait <id>` run now.
      assert.equal(
        processesNaming(shortIds.get(name)!).filter((p) => / (logs -f|wait) /.test(p)).length,
        2,
        processesNaming(shortIds.get(name)!).join('\n'),
      );
      const sentAt = performance.now();
      cli.kill(signal);
      const r = await cli.exited;
      const ms = performance.now() - sentAt;
      assertExit(r, 130);
      console.log(`# ${signal} to exit: ${Math.round(ms)} ms`);
      assert.ok(ms < 5_000, `took ${ms} ms (the runner's budget is 7.5 s)`);
      const result = readResult(dir);
      assert.equal(result.status, 'interrupted');
      assert.ok(statsFor(result).requests > 0);
      assert.ok(existsSync(join(dir, 'out', 'report.html')));
      await assertGone(name, cli.pid);
    });

  it("one signal and a container that ignores SIGTERM: removed within the runner's 7.5 s budget", async () => {
    const dir = tempDir('loadgate-ctr-');
    const service = {
      image: busyboxImage(),
      port: 8000,
      pull: 'never',
      cmd: ['sh', '-c', 'trap "" TERM; exec httpd -f -p 8000 -h /www'],
      ready: '/index.html',
    };
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, service, { request: { path: '/index.html' }, load: { pacing: '5/s', stages: [{ duration: '30s', users: 1 }] } }),
    ]);
    await cli.waitFor(/^\[\d+s\/30s\] /m, 30_000);
    const name = containerName(cli.stdout);
    const sentAt = performance.now();
    cli.kill('SIGINT');
    const r = await cli.exited;
    const ms = performance.now() - sentAt;
    assertExit(r, 130);
    console.log(`# SIGINT to exit with a container ignoring SIGTERM: ${Math.round(ms)} ms`);
    assert.ok(ms < 6_000, `took ${ms} ms`);
    assert.equal(readResult(dir).status, 'interrupted');
    await assertGone(name, cli.pid);
  });

  it('a second signal while the container is slow to stop: exits at once and still removes it', async () => {
    const dir = tempDir('loadgate-ctr-');
    // The shell ignores SIGTERM and so does httpd (ignored signals are inherited): docker stop would wait its -t.
    const service = {
      image: busyboxImage(),
      port: 8000,
      pull: 'never',
      cmd: ['sh', '-c', 'trap "" TERM; exec httpd -f -p 8000 -h /www'],
      ready: '/index.html',
    };
    const cli = startCli([
      'run',
      '--config',
      configFile(dir, service, { request: { path: '/index.html' }, load: { pacing: '5/s', stages: [{ duration: '30s', users: 1 }] } }),
    ]);
    await cli.waitFor(/^\[\d+s\/30s\] /m, 30_000);
    const name = containerName(cli.stdout);
    cli.kill('SIGINT');
    await cli.waitFor(/SIGINT: stopping the load/);
    await new Promise((res) => setTimeout(res, 500)); // now in docker stop's grace period
    const sentAt = performance.now();
    cli.kill('SIGINT');
    const r = await cli.exited;
    assert.equal(r.code, 130);
    assert.ok(performance.now() - sentAt < 3_000, 'the second signal does not wait for the grace period');
    assert.match(r.stderr, /SIGINT again: exiting now/);
    await assertGone(name, cli.pid);
  });
});

describe('on-exit: continue for a command service', () => {
  it('the load goes on after the command exits; the result keeps when and how; the verdict fails', async () => {
    const dir = tempDir('loadgate-cmd-');
    const command = `${NODE} ${join(REPO, 'test', 'helpers', 'server.ts')} --port {port} --exit-after-ms 800 --exit-code 4`;
    const r = await startCli([
      'run',
      '--config',
      configFile(
        dir,
        { command, 'on-exit': 'continue' },
        { request: { path: '/p' }, load: { pacing: '5/s', stages: [{ duration: '2s', users: 1 }] } },
      ),
    ]).exited;
    assertExit(r, 3);
    const result = readResult(dir);
    assert.equal(result.status, 'completed');
    assert.ok(result.durationMs >= 1900);
    assert.ok(statsFor(result).failures > 0);
    assert.equal(result.service?.kind, 'command');
    assert.match(result.service?.description ?? '', /^command \(pid \d+\)$/);
    assert.deepEqual(result.service?.exit && [result.service.exit.code, result.service.exit.summary], [
      4,
      'the service exited with code 4 during the run',
    ]);
    assert.ok(result.service!.exit!.atMs > 0 && result.service!.exit!.atMs < 1500, `died at ${result.service!.exit!.atMs} ms`);
    assert.match(readFileSync(join(dir, 'out', 'service.log'), 'utf8'), /exiting on purpose with code 4/);
  });
});

describe('building the image, and limits', { skip }, () => {
  it('builds from a Dockerfile and context (classic builder, build args), tags it with image:, runs it', async () => {
    const dir = tempDir('loadgate-ctr-');
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx);
    writeFile(
      ctx,
      'Dockerfile.test',
      `FROM ${busyboxImage()}\nARG GREETING=none\nRUN echo "$GREETING" > /www/greeting.txt\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    );
    const tag = `loadgate-test/built-${process.pid}:1`;
    builtImages.push(tag);
    const service = {
      image: tag,
      port: 8080,
      build: { context: 'ctx', dockerfile: 'Dockerfile.test', args: { GREETING: 'hello from a build arg' } },
      ready: '/greeting.txt',
    };
    const cli = startCli(['run', '--config', configFile(dir, service, { request: { path: '/greeting.txt', 'expect-status': 200 } })]);
    const r = await cli.exited;
    assertExit(r, 0);
    assert.match(r.stdout, /^Building loadgate-test\/built-\d+:1 from .*ctx/m);
    const result = readResult(dir);
    assert.equal(statsFor(result).failures, 0);
    assert.ok(statsFor(result).requests > 0);
    const log = readFileSync(join(dir, 'out', 'service.log'), 'utf8');
    assert.match(log, /^Step 1\/4 : FROM loadgate-test\/busybox:/m, 'the build output is in service.log');
    assert.equal(docker(['run', '--rm', tag, 'cat', '/www/greeting.txt']).trim(), 'hello from a build arg');
    await assertGone(containerName(r.stdout), cli.pid);
  });

  it('a CPU limit visibly lowers throughput, side by side with no limit', async () => {
    // A closed model with no wait: each user sends back to back, so req/s follows the service's CPU.
    // 2 ms of CPU work per prediction: a tenth of a core allows ~40 req/s, a free core a few hundred.
    // Why 0.1 and not the seed's 0.2: on a shared 2-core machine the unlimited run gets only part of a core
    // (measured with 0.2: ratio 0.23 alone, 0.35-0.46 while other test suites ran), and the ratio must
    // hold there too. The work is wall-clock time (the server spins until N ms passed), so a throttled
    // request finishes with less CPU: the limited rate is a little above the quota's arithmetic.
    const rates: Record<string, number> = {};
    const cpu: Record<string, number> = {};
    for (const [label, extra] of [
      ['unlimited', {}],
      ['cpus 100m', { cpus: '100m' }],
    ] as const) {
      const dir = tempDir('loadgate-ctr-');
      const service = exampleService({ cmd: ['--host', '0.0.0.0', '--port', '8000', '--extra-work-ms', '2'], ...extra });
      const cli = startCli([
        'run',
        '--config',
        configFile(dir, service, { load: { pacing: 'none', stages: [{ duration: '3s', users: 4 }] }, 'warm-up': '1s' }),
      ]);
      const r = await cli.exited;
      assertExit(r, 0);
      const result = readResult(dir);
      const kept = statsFor(result, { excludeWarmup: true });
      assert.equal(kept.failures, 0);
      rates[label] = kept.requests / ((result.durationMs - 1000) / 1000);
      cpu[label] = result.resources?.peakCpuPercent ?? Number.NaN;
      await assertGone(containerName(r.stdout), cli.pid);
    }
    const ratio = rates['cpus 100m']! / rates['unlimited']!;
    console.log(
      `# req/s: unlimited ${rates['unlimited']!.toFixed(0)}, cpus 100m ${rates['cpus 100m']!.toFixed(0)}, ratio ${ratio.toFixed(2)}`,
    );
    assert.ok(ratio < 0.6, `limited ${rates['cpus 100m']} req/s vs unlimited ${rates['unlimited']} req/s: ratio ${ratio}`);
    // The samples see the limit too: a tenth of a core at most (a sample spans about a second of
    // 100 ms quota periods), well under what the same service used unlimited.
    console.log(`# peak CPU: unlimited ${cpu['unlimited']}%, cpus 100m ${cpu['cpus 100m']}%`);
    assert.ok(cpu['cpus 100m']! <= 15, `limited peak CPU ${cpu['cpus 100m']}%`);
    assert.ok(cpu['unlimited']! > 2 * cpu['cpus 100m']!, `unlimited ${cpu['unlimited']}% vs limited ${cpu['cpus 100m']}%`);
  });
});

describe('container config: keys, defaults, and errors naming the YAML path', () => {
  const dir = tempDir('loadgate-ctr-config-');
  let n = 0;
  const planOf = (service: string) =>
    buildPlan(
      readConfigFile(
        writeFile(dir, `c${++n}.yml`, `service:\n${service}\nrequest: {path: /p}\nload: {stages: [{duration: 1s, users: 1}]}\n`),
      ),
    );
  const errorOf = (service: string): string => {
    try {
      planOf(service);
    } catch (e) {
      assert.equal((e as Error).name, 'ConfigError', String(e));
      return (e as Error).message;
    }
    assert.fail('the config was accepted');
  };
  writeFile(dir, 'app.env', 'A=1\n');
  writeFile(dir, 'more.env', 'B=2\n');

  it('reads every key: limits in docker and Kubernetes units, args split like a shell, files relative to the config', () => {
    writeFile(dir, 'Dockerfile', 'FROM scratch\n');
    const plan = planOf(`  image: my/model:1.2
  port: 8000
  env: {MODEL: small, DEBUG: true}
  env-file: [app.env, more.env]
  args: --network host -v "/a b:/c"
  cmd: [--workers, 2]
  entrypoint: /bin/serve
  cpus: 200m
  memory: 1Gi
  build: {context: ., args: {V: 1}}
  engine: podman
  on-exit: continue`);
    assert.deepEqual(plan.service, {
      kind: 'container',
      cli: 'podman',
      image: 'my/model:1.2',
      port: 8000,
      env: { MODEL: 'small', DEBUG: 'true' },
      envFiles: [join(dir, 'app.env'), join(dir, 'more.env')],
      args: ['--network', 'host', '-v', '/a b:/c'],
      cmd: ['--workers', '2'],
      entrypoint: '/bin/serve',
      cpus: 0.2,
      memoryBytes: 2 ** 30,
      build: { context: dir, args: { V: '1' } },
      pull: 'missing',
      onExit: 'continue',
      baseUrl: 'http://127.0.0.1:{port}',
    } satisfies ContainerPlan);
  });

  it('defaults: docker, pull missing, stop on exit; docker-style sizes; a command service keeps on-exit too', () => {
    const plan = planOf('  image: m:1\n  port: 80\n  memory: 256m\n  cpus: 0.5\n  env-file: app.env');
    const s = plan.service as ContainerPlan;
    assert.deepEqual(
      [s.cli, s.pull, s.onExit, s.memoryBytes, s.cpus, s.envFiles],
      ['docker', 'missing', 'stop', 256 * 2 ** 20, 0.5, [join(dir, 'app.env')]],
    );
    const cmd = planOf('  command: "node s.ts --port {port}"\n  on-exit: continue');
    assert.equal(cmd.service.kind === 'command' && cmd.service.onExit, 'continue');
  });

  it('runs `docker run -d --init` with its own name, loopback-only publishing, env by name only, limits, then image and cmd', () => {
    const s = planOf(
      '  image: m:1\n  port: 8000\n  env: {TOKEN: secret}\n  cpus: 0.2\n  memory: 256m\n  args: [--shm-size, 1g]\n  cmd: [serve, --fast]',
    ).service as ContainerPlan;
    const args = runArgs(s, 'loadgate-0123456789');
    assert.deepEqual(args.slice(0, 5), ['run', '-d', '--init', '--name', 'loadgate-0123456789']);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after('-p'), '127.0.0.1::8000');
    assert.equal(after('-e'), 'TOKEN', 'the value stays out of the command line');
    assert.ok(!args.some((a) => a.includes('secret')));
    assert.equal(after('--cpus'), '0.2');
    assert.equal(after('--memory'), String(256 * 2 ** 20));
    assert.deepEqual(args.slice(-5), ['--shm-size', '1g', 'm:1', 'serve', '--fast']);
  });

  it('variables that would steer the container CLI itself go by value; --network host publishes nothing', () => {
    const s = planOf('  image: m:1\n  port: 8000\n  env: {PATH: /opt/bin, DOCKER_HOST: x, TOKEN: t}\n  args: --network host')
      .service as ContainerPlan;
    const args = runArgs(s, 'loadgate-0123456789');
    const env = args.flatMap((a, i) => (args[i - 1] === '-e' ? [a] : []));
    assert.deepEqual(env, ['PATH=/opt/bin', 'DOCKER_HOST=x', 'TOKEN']);
    assert.ok(!args.includes('-p'));
  });

  it("--image and --port: a container from flags, or another image for the file's container (keeping its settings)", () => {
    const withFlags = (flags: Parameters<typeof flagOverrides>[0], text?: string) => {
      const cfg = text === undefined ? emptyConfig(dir) : readConfigFile(writeFile(dir, `f${++n}.yml`, text));
      return buildPlan(applyOverrides(cfg, flagOverrides(flags, cfg.raw)));
    };
    const bare = withFlags({ image: 'm:2', port: '8080', path: '/p', users: '1', duration: '1s' }).service as ContainerPlan;
    assert.deepEqual([bare.kind, bare.image, bare.port, bare.pull], ['container', 'm:2', 8080, 'missing']);
    const file =
      'service: {image: m:1, port: 8000, cpus: 0.5, build: ., ready: /ready}\nrequest: {path: /p}\nload: {stages: [{duration: 1s, users: 1}]}\n';
    const other = withFlags({ image: 'm:3' }, file);
    assert.deepEqual(
      other.service.kind === 'container' && [other.service.image, other.service.port, other.service.cpus, other.service.build],
      ['m:3', 8000, 0.5, undefined],
    );
    assert.equal(other.readiness.path, '/ready');
    const fromUrl = withFlags(
      { image: 'm:4', port: '80' },
      'service: {url: "http://x:1", ready: /r}\nrequest: {path: /p}\nload: {stages: [{duration: 1s, users: 1}]}\n',
    );
    assert.deepEqual([fromUrl.service.kind, fromUrl.readiness.path], ['container', '/r']);
    assert.throws(() => withFlags({ image: 'm:1', url: 'http://x:1' }), /--url and --image exclude each other/);
    assert.throws(
      () => withFlags({ image: 'm:1', path: '/p', users: '1', duration: '1s' }),
      /service\.port: missing: the port the service listens on inside the container/,
    );
  });

  it('splits args: and cmd: strings like a shell, without expanding anything', () => {
    assert.deepEqual(splitWords(`  -e A=1  --label 'x y' "a \\"q\\" $HOME" b\\ c '' ~`), [
      '-e',
      'A=1',
      '--label',
      'x y',
      'a "q" $HOME',
      'b c',
      '',
      '~',
    ]);
    assert.deepEqual(splitWords(''), []);
    assert.throws(() => splitWords('"open'), /unterminated double quote/);
  });

  const cases: Array<[string, string, RegExp]> = [
    [
      'image and url together',
      '  image: m:1\n  port: 80\n  url: http://127.0.0.1:8000',
      /service\.url: url: is a running service; with image: loadgate publishes the container's port/,
    ],
    [
      'image and command together',
      '  image: m:1\n  port: 80\n  command: serve',
      /service\.command: command: starts a process, image: runs a container: use one \(to replace the container's command, use cmd:\)/,
    ],
    ['no port', '  image: m:1', /service\.port: missing: the port the service listens on inside the container, e.g\. port: 8000/],
    [
      'bad cpus',
      '  image: m:1\n  port: 80\n  cpus: lots',
      /service\.cpus: expected CPU cores like 0\.5, or millicores like 200m, got "lots"/,
    ],
    ['cpus too small', '  image: m:1\n  port: 80\n  cpus: 0', /service\.cpus: must be at least 0\.01 cores \(10m\), got 0/],
    [
      'bad memory',
      '  image: m:1\n  port: 80\n  memory: 2 GB please',
      /service\.memory: expected a size like 256m, 1g or 512Mi, got "2 GB please"/,
    ],
    [
      'memory as a bare number',
      '  image: m:1\n  port: 80\n  memory: 256',
      /service\.memory: must be at least 6m \(docker's minimum\), got 256 \(a bare number is bytes: write 256m for 256 MiB\)/,
    ],
    ['bad pull', '  image: m:1\n  port: 80\n  pull: sometimes', /service\.pull: expected one of missing, always, never, got "sometimes"/],
    ['missing env file', '  image: m:1\n  port: 80\n  env-file: [app.env, nope.env]', /service\.env-file\[1\]: .*nope\.env is not a file/],
    [
      'a reserved run flag',
      '  image: m:1\n  port: 80\n  args: --rm --cpus 1',
      /service\.args: --rm cannot be used here: loadgate removes the container itself/,
    ],
    ['--name=... too', '  image: m:1\n  port: 80\n  args: [--name=x]', /service\.args: --name cannot be used here/],
    ['an unterminated quote', `  image: m:1\n  port: 80\n  args: "-v 'a"`, /service\.args: unterminated single quote in "-v 'a"/],
    [
      'cmd as a mapping',
      '  image: m:1\n  port: 80\n  cmd: {a: 1}',
      /service\.cmd: expected a list of arguments or one string of them, got a mapping/,
    ],
    [
      'a build context that is not there',
      '  image: m:1\n  port: 80\n  build: no-such-dir',
      /service\.build: .*no-such-dir is not a directory/,
    ],
    [
      'a build without a Dockerfile',
      '  image: m:1\n  port: 80\n  build: {context: ., dockerfile: Nope.df}',
      /service\.build\.dockerfile: .*Nope\.df is not a file/,
    ],
    [
      'build with pull',
      '  image: m:1\n  port: 80\n  build: .\n  pull: always',
      /service\.pull: only applies without build: \(a built image is never pulled\)/,
    ],
    [
      'a container key on a command',
      '  command: "serve --port {port}"\n  cpus: 1',
      /service\.cpus: only applies to a container \(image:\), and there is none/,
    ],
    ['cwd with an image', '  image: m:1\n  port: 80\n  cwd: .', /service\.cwd: only applies with command:/],
    ['bad on-exit', '  image: m:1\n  port: 80\n  on-exit: maybe', /service\.on-exit: expected one of stop, continue, got "maybe"/],
    [
      'on-exit for a URL',
      '  url: http://127.0.0.1:8000\n  on-exit: continue',
      /service\.on-exit: only applies with command: or image: \(a service loadgate starts\)/,
    ],
    ['a typo', '  image: m:1\n  port: 80\n  cpu: 1', /service\.cpu: unknown key "cpu" \(did you mean "cpus"\?\)/],
    [
      'snake case',
      '  image: m:1\n  port: 80\n  env_file: app.env',
      /service\.env_file: unknown key "env_file" \(did you mean "env-file"\?\)/,
    ],
    [
      'an image with spaces',
      '  image: my model\n  port: 80',
      /service\.image: expected an image reference like my\/model:1\.2, got "my model"/,
    ],
  ];
  for (const [what, service, says] of cases) {
    it(what, () => {
      const msg = errorOf(service);
      assert.match(msg, /^\/.*\.yml:\d+ service/, msg);
      assert.match(msg, says);
    });
  }

  it('service: with none of url, command, image', () => {
    assert.match(
      errorOf('  port: 80'),
      /service: expected url: \(a running service\), command: \(a process to start\) or image: \(a container to run\), got none of them/,
    );
  });
});
