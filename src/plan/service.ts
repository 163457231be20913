// The service: section: where the service under test is (a running url:), or how loadgate starts it
// (a command:, or a container from an image:), and when it counts as ready. Files it names (cwd, env
// files, a build context) must exist now, not halfway through a run.
//
//   service:  url: https://staging.example.com              (a running service)
//             command: node server.ts --port {port}          (or a command to start; {port} = a free port)
//             image: my/model:1, port: 8000                 (or a container; the port inside it)
//             cwd, env, port, ready: {path, timeout, status}, on-exit: stop | continue
//             env-file, args, cmd, entrypoint, cpus, memory, build, pull, engine   (containers)

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULTS } from './defaults.ts';
import { readPath, readStatusSet } from './http.ts';
import { type Path, type Reader, describeValue } from './reader.ts';
import { splitWords } from './shell-words.ts';
import type { ContainerPlan, OnExit, PullPolicy, ReadinessPlan, ServicePlan } from './types.ts';

const SERVICE_KEYS = [
  'url',
  'command',
  'image',
  'cwd',
  'env',
  'port',
  'ready',
  'on-exit',
  'env-file',
  'args',
  'cmd',
  'entrypoint',
  'cpus',
  'memory',
  'build',
  'pull',
  'engine',
];
/** Keys that only mean something for a container. */
const CONTAINER_KEYS = ['env-file', 'args', 'cmd', 'entrypoint', 'cpus', 'memory', 'build', 'pull', 'engine'];
const BUILD_KEYS = ['context', 'dockerfile', 'args'];
/** `docker run` flags loadgate sets itself (or that would break how it watches the container). */
const RESERVED_RUN_ARGS: Record<string, string> = {
  '--name': 'loadgate names the container itself (loadgate-...), so it can always remove it',
  '--rm': 'loadgate removes the container itself, after reading its exit code',
  '-d': 'loadgate already runs the container detached',
  '--detach': 'loadgate already runs the container detached',
};
const READY_KEYS = ['path', 'timeout', 'status'];

export function readService(
  r: Reader,
  v: unknown,
  baseDir: string,
  presetReadyPath?: string,
  /** The section's key: service, or baseline (issue 11's second service). */
  key = 'service',
): { service: ServicePlan; readiness: ReadinessPlan } {
  const at: Path = [key];
  if (v === undefined)
    r.fail(
      at,
      'missing: say where the service is, with url: (a running service), image: (a container to run) or command: (a process to start)',
    );
  const s = r.object(v, at, SERVICE_KEYS);
  const hasUrl = s['url'] !== undefined;
  const hasCommand = s['command'] !== undefined;
  const hasImage = s['image'] !== undefined;
  if (!hasUrl && !hasCommand && !hasImage) {
    r.fail(at, 'expected url: (a running service), command: (a process to start) or image: (a container to run), got none of them');
  }
  // A preset knows where its server says it is ready; an explicit ready: wins.
  const readiness = readReadiness(r, s['ready'], [...at, 'ready'], presetReadyPath);
  if (hasImage) return { service: readContainer(r, s, at, baseDir), readiness };
  for (const k of CONTAINER_KEYS) if (s[k] !== undefined) r.fail([...at, k], 'only applies to a container (image:), and there is none');
  if (!hasCommand) {
    for (const k of ['cwd', 'env', 'port', 'on-exit']) {
      if (s[k] !== undefined) r.fail([...at, k], 'only applies with command: or image: (a service loadgate starts), and there is none');
    }
    return { service: { kind: 'url', baseUrl: readUrl(r, s['url'], [...at, 'url']) }, readiness };
  }
  const command = r.string(s['command'], [...at, 'command']);
  const port = s['port'] === undefined ? 0 : r.number(s['port'], [...at, 'port'], { integer: true, min: 1, max: 65535 });
  if (port === 0 && !command.includes('{port}') && !hasUrl) {
    r.fail(
      [...at, 'command'],
      'cannot tell where the started service listens: put {port} in the command (loadgate picks a free port), or set port: or url:',
    );
  }
  const env = readEnv(r, s['env'], [...at, 'env']);
  const cwd = s['cwd'] === undefined ? baseDir : resolve(baseDir, r.string(s['cwd'], [...at, 'cwd']));
  // Else spawning fails with a misleading "spawn /bin/sh ENOENT".
  if (!statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) r.fail([...at, 'cwd'], `${cwd} is not a directory`);
  const baseUrl = hasUrl ? readUrl(r, s['url'], [...at, 'url'], true) : `http://127.0.0.1:${port || '{port}'}`;
  const onExit = readOnExit(r, s['on-exit'], [...at, 'on-exit']);
  return { service: { kind: 'command', command, cwd, env, port, baseUrl, onExit: onExit ?? 'stop' }, readiness };
}

function readEnv(r: Reader, v: unknown, at: Path): Record<string, string> {
  const env: Record<string, string> = {};
  if (v === undefined) return env;
  const e = r.object(v, at, Object.keys((v as object) ?? {}));
  for (const [k, val] of Object.entries(e)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) r.fail([...at, k], `"${k}" is not a valid environment variable name`);
    if (typeof val === 'boolean') env[k] = String(val);
    else env[k] = r.string(val, [...at, k], { nonEmpty: false });
  }
  return env;
}

function readOnExit(r: Reader, v: unknown, at: Path): OnExit | undefined {
  return v === undefined ? undefined : r.oneOf(v, at, ['stop', 'continue'] as OnExit[]);
}

/**
 * A container service: image (built first with build:), the port inside it, limits and extra
 * arguments. Files it names (env files, build context, Dockerfile) must exist now, not halfway
 * through a run.
 */
function readContainer(r: Reader, s: Record<string, unknown>, at: Path, baseDir: string): ContainerPlan {
  if (s['url'] !== undefined) {
    r.fail(
      [...at, 'url'],
      "url: is a running service; with image: loadgate publishes the container's port on 127.0.0.1 itself (leave url: out)",
    );
  }
  if (s['command'] !== undefined) {
    r.fail(
      [...at, 'command'],
      "command: starts a process, image: runs a container: use one (to replace the container's command, use cmd:)",
    );
  }
  if (s['cwd'] !== undefined)
    r.fail([...at, 'cwd'], 'only applies with command: (a container has its own working directory; pass -w in args: to change it)');
  const image = r.string(s['image'], [...at, 'image']).trim();
  if (/\s/.test(image)) r.fail([...at, 'image'], `expected an image reference like my/model:1.2, got ${describeValue(s['image'])}`);
  if (s['port'] === undefined) r.fail([...at, 'port'], 'missing: the port the service listens on inside the container, e.g. port: 8000');
  const port = r.number(s['port'], [...at, 'port'], { integer: true, min: 1, max: 65535 });
  const envFiles = s['env-file'] === undefined ? [] : readFiles(r, s['env-file'], [...at, 'env-file'], baseDir);
  const args = s['args'] === undefined ? [] : readWords(r, s['args'], [...at, 'args']);
  args.forEach((a) => {
    const flag = a.split('=')[0]!;
    if (RESERVED_RUN_ARGS[flag]) r.fail([...at, 'args'], `${flag} cannot be used here: ${RESERVED_RUN_ARGS[flag]}`);
  });
  const engine = s['engine'] === undefined ? 'docker' : r.string(s['engine'], [...at, 'engine']).trim();
  if (/\s/.test(engine))
    r.fail([...at, 'engine'], `expected the engine's command, like docker or podman, got ${describeValue(s['engine'])}`);
  const build = s['build'] === undefined ? undefined : readBuild(r, s['build'], [...at, 'build'], baseDir);
  if (build && s['pull'] !== undefined) r.fail([...at, 'pull'], 'only applies without build: (a built image is never pulled)');
  const onExit = readOnExit(r, s['on-exit'], [...at, 'on-exit']);
  return {
    kind: 'container',
    cli: engine,
    image,
    port,
    env: readEnv(r, s['env'], [...at, 'env']),
    envFiles,
    args,
    ...(s['cmd'] !== undefined ? { cmd: readWords(r, s['cmd'], [...at, 'cmd']) } : {}),
    ...(s['entrypoint'] !== undefined ? { entrypoint: r.string(s['entrypoint'], [...at, 'entrypoint']) } : {}),
    ...(s['cpus'] !== undefined ? { cpus: readCpus(r, s['cpus'], [...at, 'cpus']) } : {}),
    ...(s['memory'] !== undefined ? { memoryBytes: readMemory(r, s['memory'], [...at, 'memory']) } : {}),
    ...(build ? { build } : {}),
    pull: s['pull'] === undefined ? 'missing' : r.oneOf(s['pull'], [...at, 'pull'], ['missing', 'always', 'never'] as PullPolicy[]),
    onExit: onExit ?? 'stop',
    baseUrl: 'http://127.0.0.1:{port}',
  };
}

/** A list of words, or one string split the way a shell would (quotes kept together, nothing expanded). */
function readWords(r: Reader, v: unknown, at: Path): string[] {
  if (typeof v === 'string') {
    try {
      return splitWords(v);
    } catch (e) {
      r.fail(at, `${(e as Error).message} in ${describeValue(v)}`);
    }
  }
  if (!Array.isArray(v)) r.fail(at, `expected a list of arguments or one string of them, got ${describeValue(v)}`);
  return v.map((w, i) => {
    if (typeof w === 'number' || typeof w === 'boolean') return String(w);
    return r.string(w, [...at, i], { nonEmpty: false });
  });
}

/** One file or a list of files, relative to the config file; each must exist. */
function readFiles(r: Reader, v: unknown, at: Path, baseDir: string): string[] {
  const items = Array.isArray(v) ? v : [v];
  return items.map((it, i) => {
    const p = Array.isArray(v) ? [...at, i] : at;
    const file = resolve(baseDir, r.string(it, p));
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) r.fail(p, `${file} is not a file`);
    return file;
  });
}

/** Cores: 0.5, "0.5", or Kubernetes' millicores "200m". docker refuses less than 0.01. */
function readCpus(r: Reader, v: unknown, at: Path): number {
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*m\s*$/.exec(v) : null;
  const cpus = m ? Number(m[1]) / 1000 : typeof v === 'string' && !/^\s*\d+(\.\d+)?\s*$/.test(v) ? NaN : Number(v);
  if (typeof v === 'boolean' || v === null || !Number.isFinite(cpus))
    r.fail(at, `expected CPU cores like 0.5, or millicores like 200m, got ${describeValue(v)}`);
  if (cpus < 0.01) r.fail(at, `must be at least 0.01 cores (10m), got ${describeValue(v)}`);
  return Math.round(cpus * 1000) / 1000;
}

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Bytes from docker's "256m", "1g", "512k" (binary units, any case, optional b), Kubernetes' "256Mi", "1Gi",
 * or a bare number of bytes. docker refuses less than 6 MiB.
 */
function readMemory(r: Reader, v: unknown, at: Path): number {
  const m =
    typeof v === 'number'
      ? [String(v), String(v), '']
      : typeof v === 'string'
        ? /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i|b|ib)?|(b))?\s*$/i.exec(v)
        : null;
  if (!m) r.fail(at, `expected a size like 256m, 1g or 512Mi, got ${describeValue(v)}`);
  const unit = (m[2] ?? m[3] ?? '').toLowerCase();
  const bytes = Math.floor(Number(m[1]) * MEMORY_UNITS[unit]!);
  if (bytes < 6 * 2 ** 20)
    r.fail(
      at,
      `must be at least 6m (docker's minimum), got ${describeValue(v)}${unit === '' ? ' (a bare number is bytes: write 256m for 256 MiB)' : ''}`,
    );
  return bytes;
}

/** build: CONTEXT, or {context, dockerfile, args}. The Dockerfile is relative to the context, as in compose files. */
function readBuild(r: Reader, v: unknown, at: Path, baseDir: string): NonNullable<ContainerPlan['build']> {
  const o = typeof v === 'string' ? { context: v } : r.object(v, at, BUILD_KEYS);
  const ctxPath: Path = typeof v === 'string' ? at : [...at, 'context'];
  if (o['context'] === undefined) r.fail(ctxPath, 'missing: the build context, a folder (relative to the config file)');
  const context = resolve(baseDir, r.string(o['context'], ctxPath));
  if (!statSync(context, { throwIfNoEntry: false })?.isDirectory()) r.fail(ctxPath, `${context} is not a directory`);
  const dfPath: Path = [...at, 'dockerfile'];
  const dockerfile = o['dockerfile'] === undefined ? undefined : resolve(context, r.string(o['dockerfile'], dfPath));
  const df = dockerfile ?? resolve(context, 'Dockerfile');
  if (!statSync(df, { throwIfNoEntry: false })?.isFile())
    r.fail(dockerfile ? dfPath : ctxPath, `${df} is not a file${dockerfile ? '' : ' (name another with dockerfile:)'}`);
  const args: Record<string, string> = {};
  if (o['args'] !== undefined) {
    const a = r.object(o['args'], [...at, 'args'], Object.keys((o['args'] as object) ?? {}));
    for (const [k, val] of Object.entries(a)) {
      args[k] = typeof val === 'boolean' ? String(val) : r.string(val, [...at, 'args', k], { nonEmpty: false });
    }
  }
  return { context, ...(dockerfile ? { dockerfile } : {}), args };
}

function readUrl(r: Reader, v: unknown, path: Path, allowPortPlaceholder = false): string {
  const s = r.string(v, path).trim();
  let u: URL;
  try {
    u = new URL(allowPortPlaceholder ? s.replace('{port}', '1') : s);
  } catch {
    r.fail(path, `expected an http(s) URL like http://127.0.0.1:8000, got ${describeValue(v)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') r.fail(path, `expected an http or https URL, got ${describeValue(v)}`);
  if (u.search || u.hash) r.fail(path, 'the service URL takes no query or fragment: put those in request.path');
  return s.replace(/\/+$/, '');
}

function readReadiness(r: Reader, v: unknown, at: Path, presetPath?: string): ReadinessPlan {
  // Without a readiness path, any HTTP answer from / (even 404) means the server is up.
  const plan: ReadinessPlan = { path: '/', timeoutMs: DEFAULTS.readyTimeoutMs, okStatus: [[200, 499]] };
  if (v === undefined) return presetPath === undefined ? plan : { ...plan, path: presetPath, okStatus: [[200, 399]] };
  if (typeof v === 'string') return { ...plan, path: readPath(r, v, at), okStatus: [[200, 399]] };
  const o = r.object(v, at, READY_KEYS);
  return {
    // ready: {timeout: 10m} (or --ready-timeout) keeps a preset's path: a model server loading a large
    // model needs the longer wait, and its / may answer 404 for ever.
    path: o['path'] === undefined ? (presetPath ?? '/') : readPath(r, o['path'], [...at, 'path']),
    timeoutMs: o['timeout'] === undefined ? DEFAULTS.readyTimeoutMs : r.duration(o['timeout'], [...at, 'timeout']),
    okStatus: o['status'] === undefined ? [[200, 399]] : readStatusSet(r, o['status'], [...at, 'status']),
  };
}
