// The same container service through podman's docker-compatible CLI (`engine: podman`): boot, readiness,
// resource samples from the container's cgroup, logs, a CPU limit, and removal after a run and after
// SIGTERM. Opt-in (LOADGATE_TEST_PODMAN=1, or LOADGATE_REQUIRE_PODMAN=1 as .ci/run sets, which fails
// instead of skipping when podman is missing): podman's set-up differs between machines (rootless on
// GitHub's runners), and this checks the one .ci/run makes. Podman reads its settings from
// test/fixtures/podman/containers.conf through CONTAINERS_CONF; nothing in /etc is changed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';
import { exampleImage } from './helpers/images.ts';
import { CLI, REPO, type Started, eventually, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const PODMAN = 'podman';
process.env['CONTAINERS_CONF'] = join(REPO, 'test', 'fixtures', 'podman', 'containers.conf');

function podmanSkip(): false | string {
  if (process.env['LOADGATE_REQUIRE_PODMAN']) return false;
  if (!process.env['LOADGATE_TEST_PODMAN'])
    return 'podman tests are opt-in: LOADGATE_TEST_PODMAN=1 (.ci/run installs podman and requires them)';
  return spawnSync(PODMAN, ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'podman is not installed';
}

const skip = podmanSkip();
const clis: Started[] = [];
after(() => {
  for (const cli of clis) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.kill('SIGKILL');
    for (const id of labelled(cli.pid)) spawnSync(PODMAN, ['rm', '-f', id]);
  }
});
after(killChildren);
after(removeTempDirs);

/** Containers (running or not) the loadgate process `pid` started: loadgate labels each with its pid. */
function labelled(pid: number): string[] {
  const r = spawnSync(PODMAN, ['ps', '-aq', '--filter', `label=loadgate.pid=${pid}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

function run(dir: string, stages: unknown[], extra: Record<string, unknown> = {}): Started {
  const config = {
    service: {
      image: exampleImage(PODMAN),
      engine: PODMAN,
      pull: 'never',
      port: 8000,
      cmd: ['--host', '0.0.0.0', '--port', '8000', '--extra-work-ms', '5'],
      ready: { path: '/api/health/ready', timeout: '30s' },
      ...extra,
    },
    request: { preset: 'rest-model-service', model: 'insurance_charges_model' },
    load: { pacing: '10/s', stages },
    'progress-interval': '500ms',
    output: join(dir, 'out'),
  };
  const cli = startNode([CLI, 'run', '--config', writeFile(dir, 'loadgate.yml', JSON.stringify(config))], { timeoutMs: 90_000 });
  clis.push(cli);
  return cli;
}

describe('a container service through podman', { skip }, () => {
  before(() => {
    exampleImage(PODMAN);
  });

  it('boots with CPU and memory limits, is sampled from its cgroup, keeps its output, and is removed', async () => {
    const dir = tempDir('loadgate-podman-');
    const cli = run(dir, [{ duration: '4s', users: 3 }], { cpus: '500m', memory: '256m' });
    const r = await cli.exited;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Started the service: container loadgate-[0-9a-f]{10} \(image /m);
    const result = parseRunResult(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    const total = statsFor(result);
    assert.ok(total.requests >= 60 && total.failures === 0, `${total.requests} requests, ${total.failures} failed`);
    assert.equal(result.resources?.source, 'container');
    assert.equal(result.resources?.via, 'cgroup', "podman's cgroup is found through its PID and named after the container");
    // 3 users x 10/s x 5 ms of work: about 15% of a core (under the 50% limit), sampled.
    assert.ok(result.resources!.samples >= 2, JSON.stringify(result.resources));
    assert.ok(result.resources!.peakCpuPercent! > 5 && result.resources!.peakCpuPercent! <= 55, JSON.stringify(result.resources));
    assert.ok(result.resources!.peakMemoryBytes! > 10 << 20, JSON.stringify(result.resources));
    assert.match(readFileSync(join(dir, 'out', 'service.log'), 'utf8'), /^listening on http:\/\/0\.0\.0\.0:8000$/m);
    assert.deepEqual(labelled(cli.pid), [], 'the container is removed');
  });

  it('SIGTERM mid-run: exit 130 within seconds, reports written, the container removed', async () => {
    const dir = tempDir('loadgate-podman-');
    const cli = run(dir, [{ duration: '60s', users: 2 }]);
    await cli.waitFor(/^Generated \d+ request bodies/m, 60_000);
    await new Promise((res) => setTimeout(res, 1500));
    const t0 = performance.now();
    cli.kill('SIGTERM');
    const r = await cli.exited;
    const ms = performance.now() - t0;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    console.log(`# podman: SIGTERM to exit ${Math.round(ms)} ms`);
    assert.ok(ms < 5000, `took ${Math.round(ms)} ms (the runner allows 7.5 s)`);
    assert.equal(parseRunResult(readFileSync(join(dir, 'out', 'result.json'), 'utf8')).status, 'interrupted');
    assert.ok(await eventually(() => labelled(cli.pid).length === 0, 3000), 'the container is removed');
  });
});
