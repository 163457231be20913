// Container images for tests, built from local files only (no registry is reachable, and tests never
// pull): `FROM scratch` plus a root filesystem assembled here.
//
//   exampleImage(): the example model service (examples/insurance-charges) on this Node 24 binary and the
//                   shared libraries it links, listening on 0.0.0.0:8000; a real model-service container.
//   busyboxImage(): busybox-static with its applets (sh, sleep, httpd, ...), for containers that exit at
//                   start, never become ready, or serve a file.
//
// Images are tagged by a hash of what went into them and built once per machine; a second call (or a
// second test file) reuses the tag. `dockerSkip()` is the `skip` option for tests that need the engine:
// false when `docker info` answers, and always false when LOADGATE_REQUIRE_DOCKER is set (.ci/run sets
// it), so a broken engine set-up fails the tests instead of skipping them.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './process.ts';

export const DOCKER = process.env['LOADGATE_TEST_DOCKER'] ?? 'docker';
const BUSYBOX = '/usr/bin/busybox';

let engineUp: boolean | undefined;
/** Whether a container engine answers `docker info` (checked once per test process). */
function dockerAvailable(): boolean {
  engineUp ??= spawnSync(DOCKER, ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  return engineUp;
}

/** The `skip` option for node:test: false when the engine is there or required (then a missing engine fails). */
export function dockerSkip(): false | string {
  if (process.env['LOADGATE_REQUIRE_DOCKER'] || dockerAvailable()) return false;
  return 'no container engine answers `docker info` (.ci/run starts dockerd and sets LOADGATE_REQUIRE_DOCKER=1)';
}

/** Runs the docker CLI; throws with its stderr when it fails. */
export function docker(args: string[], timeoutMs = 120_000): string {
  return execFileSync(DOCKER, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** Ids of containers (running or not) whose name starts with `prefix`: what a test left behind. */
export function containersNamed(prefix: string): string[] {
  const out = docker(['ps', '-aq', '--filter', `name=^/${prefix}`]);
  return out.split('\n').filter(Boolean);
}

/** Tags already built (or found) in this test process, per container CLI: the hashing and ldd run once. */
const built = new Map<string, string>();
function once(key: string, make: () => string): string {
  let tag = built.get(key);
  if (tag === undefined) built.set(key, (tag = make()));
  return tag;
}

export function exampleImage(cli = DOCKER): string {
  return once(`example ${cli}`, () => buildExample(cli));
}

export function busyboxImage(cli = DOCKER): string {
  return once(`busybox ${cli}`, () => buildBusybox(cli));
}

function buildExample(cli: string): string {
  const node = realpathSync(process.execPath);
  const app = join(REPO, 'examples', 'insurance-charges');
  const appFiles = ['server.ts', 'model.ts', 'openapi.ts', 'model.json'];
  const libs = sharedLibraries(node);
  const tag = `loadgate-test/example:${hashOf([node, String(statSync(node).size), ...libs, ...appFiles.map((f) => readFileSync(join(app, f), 'utf8'))])}`;
  return buildOnce(cli, tag, (root) => {
    copyInto(root, node, '/usr/local/bin/node');
    for (const lib of libs) copyInto(root, lib, lib);
    for (const f of appFiles) copyInto(root, join(app, f), `/app/${f}`);
    mkdirSync(join(root, 'tmp'), { recursive: true });
    return [
      'FROM scratch',
      'COPY rootfs/ /',
      'WORKDIR /app',
      'EXPOSE 8000',
      'ENTRYPOINT ["/usr/local/bin/node", "/app/server.ts"]',
      'CMD ["--host", "0.0.0.0", "--port", "8000"]',
    ];
  });
}

function buildBusybox(cli: string): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static (.ci/run does)`);
  const tag = `loadgate-test/busybox:${hashOf([String(statSync(BUSYBOX).size)])}`;
  return buildOnce(cli, tag, (root) => {
    copyInto(root, BUSYBOX, '/bin/busybox');
    const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
      .split('\n')
      .filter((a) => a && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
    for (const d of ['tmp', 'www']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'www', 'index.html'), 'ok\n');
    return ['FROM scratch', 'COPY rootfs/ /', 'CMD ["/bin/sh"]'];
  });
}

/** Builds `tag` with `cli` (docker or podman) from a context made by `fill` (which returns the Dockerfile's lines), unless it exists. */
function buildOnce(cli: string, tag: string, fill: (rootfs: string) => string[]): string {
  if (spawnSync(cli, ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0) return tag;
  const ctx = join(tmpdir(), `loadgate-image-${process.pid}-${Date.now()}`);
  const root = join(ctx, 'rootfs');
  mkdirSync(root, { recursive: true });
  try {
    const dockerfile = fill(root);
    writeFileSync(join(ctx, 'Dockerfile'), `${dockerfile.join('\n')}\n`);
    // The classic builder: there is no buildx on this machine kind.
    execFileSync(cli, ['build', '-q', '-t', tag, ctx], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return tag;
}

/** The shared libraries a dynamically linked binary loads, as absolute paths (from ldd). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs].sort();
}

function copyInto(root: string, from: string, to: string): void {
  const dest = join(root, to);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(realpathSync(from), dest);
  chmodSync(dest, 0o755);
}

function hashOf(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
}
