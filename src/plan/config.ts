// From a YAML file (and overrides from flags) to one validated Plan.
//
//   service:   url: https://staging.example.com              (a running service)
//              command: node server.ts --port {port}          (or a command to start; {port} = a free port)
//              image: my/model:1, port: 8000                 (or a container; the port inside it)
//              cwd, env, port, ready: {path, timeout, status}, on-exit: stop | continue
//              env-file, args, cmd, entrypoint, cpus, memory, build, pull, engine   (containers)
//   request:   {name, method, path, headers, body | bodies | schema, weight, expect-status}   (or requests: [...])
//              preset: rest-model-service, model: NAME   (a model server's predict path, readiness and schema)
//              schema: auto | FILE | {openapi|metadata|oip|mlflow|file|inline: ...}, generate: 1000, wrap, batch
//   load:      stages: [{duration, users, spawn-rate}]  pacing: 1/s | none           (closed model)
//              stages: [{duration, rate, ramp}]         max-in-flight: 100           (open model)
//   slos:      ["p99 < 100ms", "errors == 0", "peak-rps >= 5"]  (one SLO a line; see src/plan/slo.ts)
//   warm-up, timeout, seed, output, progress-interval

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument } from 'yaml';
import type { BodySource, ContainerPlan, EndpointPlan, LoadPlan, MonitorPlan, OnExit, Plan, PullPolicy, RateStage, ReadinessPlan, ServicePlan, Slo, UserStage } from './types.ts';
import { ConfigError, type Locator, type Path, Reader, describeValue, formatPath } from './reader.ts';
import { splitWords } from './shell-words.ts';
import { SloSyntaxError, parseSloLine, resolveSlo } from './slo.ts';
import { BODY_WRAPS, type BodyWrap, DEFAULT_CORPUS_SIZE, type PresetEndpoint, type SchemaSource, applyPreset, findPreset, readCsvBodies } from '../payload/index.ts';

export { ConfigError } from './reader.ts';

const TOP_KEYS = ['service', 'request', 'requests', 'load', 'slos', 'monitors', 'warm-up', 'timeout', 'seed', 'output', 'progress-interval'] as const;
const SERVICE_KEYS = [
  'url', 'command', 'image', 'cwd', 'env', 'port', 'ready', 'on-exit',
  'env-file', 'args', 'cmd', 'entrypoint', 'cpus', 'memory', 'build', 'pull', 'engine',
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
const MONITOR_KEYS = ['name', 'command', 'every', 'timeout'];
const READY_KEYS = ['path', 'timeout', 'status'];
const REQUEST_KEYS = [
  'name', 'method', 'path', 'headers', 'body', 'bodies', 'weight', 'expect-status',
  'preset', 'model', 'schema', 'generate', 'wrap', 'batch', 'invalid', 'invalid-status', 'check-response',
];
const SCHEMA_KEYS = ['openapi', 'metadata', 'oip', 'mlflow', 'file', 'inline', 'method', 'path', 'version'];
const LOAD_KEYS = ['stages', 'pacing', 'max-in-flight'];
const USER_STAGE_KEYS = ['name', 'duration', 'users', 'spawn-rate'];
const RATE_STAGE_KEYS = ['name', 'duration', 'rate', 'ramp'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export const DEFAULTS = {
  timeoutMs: 10_000,
  readyTimeoutMs: 60_000,
  seed: 1,
  output: 'loadgate-report',
  progressIntervalMs: 5_000,
  maxInFlight: 1_000,
};

/**
 * A value set outside the file (a CLI flag or an action input), with where it came from. Without an
 * origin it only reshapes what the file says (e.g. drops a key a flag replaces): errors under it
 * still point at the file, or at an override with an origin.
 */
export interface Override {
  path: Path;
  value: unknown;
  origin?: string;
}

export interface RawConfig {
  raw: Record<string, unknown>;
  locate: Locator;
  /** Relative paths in the config (cwd, bodies) resolve against this. */
  baseDir: string;
  file?: string;
  /** The file line of a key path, when the value came from the file. */
  lineOf?: (path: Path) => number | undefined;
}

export function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${line}:${col}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw = doc.toJS() ?? {};
  // The line of a key path: of the key itself in a mapping (a block value starts on the next line),
  // of the item in a list, of the document at the top.
  const lineOf = (path: Path): number | undefined => {
    let node: unknown = doc.contents;
    if (path.length > 0) {
      const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
      const last = path[path.length - 1]!;
      if (isMap(parent)) node = parent.items.find((it) => String(isScalar(it.key) ? it.key.value : it.key) === String(last))?.key;
      else if (isSeq(parent) && typeof last === 'number') node = parent.items[last];
      else node = undefined;
    }
    return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  const locate: Locator = (path) => {
    // The deepest key that exists along the path gives the line.
    for (let n = path.length; n >= 0; n--) {
      const line = lineOf(path.slice(0, n));
      if (line !== undefined) return `${file}:${line} ${formatPath(path)}`;
    }
    return `${file} ${formatPath(path)}`;
  };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${locate([])}: expected a mapping (service:, request:, load:), got ${describeValue(raw)}`);
  return { raw: raw as Record<string, unknown>, locate, baseDir: dirname(resolve(file)), file, lineOf };
}

/** A config with no file: only overrides (e.g. `loadgate run --url ... --rate ...`). */
export function emptyConfig(baseDir = process.cwd()): RawConfig {
  return { raw: {}, locate: (p) => `config ${formatPath(p)}`, baseDir };
}

/** Applies overrides onto the raw config; errors at or under an overridden path name its origin. */
export function applyOverrides(cfg: RawConfig, overrides: readonly Override[]): RawConfig {
  if (overrides.length === 0) return cfg;
  const raw = structuredClone(cfg.raw);
  for (const o of overrides) setIn(raw, o.path, o.value);
  const locate: Locator = (path) => {
    for (let i = overrides.length - 1; i >= 0; i--) {
      const o = overrides[i]!;
      if (o.origin === undefined) continue;
      if (o.path.length <= path.length && o.path.every((p, j) => p === path[j])) return `${o.origin} (${formatPath(path)})`;
    }
    return cfg.locate(path);
  };
  // A value an override set has no line in the file.
  const overridden = (path: Path) => overrides.some((o) => o.path.length <= path.length && o.path.every((p, j) => p === path[j]));
  const lineOf = cfg.lineOf ? (path: Path) => (overridden(path) ? undefined : cfg.lineOf!(path)) : undefined;
  return { ...cfg, raw, locate, ...(lineOf ? { lineOf } : {}) };
}

function setIn(obj: Record<string, unknown>, path: Path, value: unknown): void {
  let cur: Record<string | number, unknown> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = cur[k];
    if (next === null || typeof next !== 'object') cur[k] = typeof path[i + 1] === 'number' ? [] : {};
    cur = cur[k] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

export function buildPlan(cfg: RawConfig): Plan {
  const r = new Reader(cfg.locate);
  const top = r.object(cfg.raw, [], TOP_KEYS);
  const { endpoints, readyPath } = readEndpoints(r, top, cfg.baseDir);
  const service = readService(r, top['service'], cfg.baseDir, readyPath);
  const load = readLoad(r, top['load']);
  const totalMs = load.stages.reduce((t, st) => t + st.durationMs, 0);
  const warmupMs = top['warm-up'] === undefined ? 0 : r.duration(top['warm-up'], ['warm-up'], { allowZero: true });
  if (warmupMs >= totalMs) r.fail(['warm-up'], `the warm-up (${warmupMs / 1000} s) would cover the whole run (${totalMs / 1000} s)`);
  const slos = readSlos(r, top['slos'], cfg, {
    stageNames: load.stages.map((st) => st.name),
    endpointNames: endpoints.map((e) => e.name),
    warmupMs,
  });
  const plan: Plan = {
    service: service.service,
    readiness: service.readiness,
    endpoints,
    load,
    monitors: readMonitors(r, top['monitors']),
    slos,
    warmupMs,
    timeoutMs: top['timeout'] === undefined ? DEFAULTS.timeoutMs : r.duration(top['timeout'], ['timeout']),
    seed: top['seed'] === undefined ? DEFAULTS.seed : r.number(top['seed'], ['seed'], { integer: true, min: 0 }),
    // Paths inside the config (cwd, bodies) are relative to the config file; the output folder, like
    // any tool's output flag, is relative to where loadgate runs.
    outputDir: resolve(top['output'] === undefined ? DEFAULTS.output : r.string(top['output'], ['output'])),
    progressIntervalMs:
      top['progress-interval'] === undefined ? DEFAULTS.progressIntervalMs : r.duration(top['progress-interval'], ['progress-interval']),
    baseDir: cfg.baseDir,
    ...(cfg.file ? { configPath: cfg.file } : {}),
  };
  return plan;
}

/**
 * Monitor commands, sampled while the load runs: `{name, command, every (default 5s), timeout (default:
 * the interval, at most 30 s)}`. A bare string is a command named after its position.
 */
function readMonitors(r: Reader, v: unknown): MonitorPlan[] {
  if (v === undefined || v === null) return [];
  const names = new Set<string>();
  return r.list(v, ['monitors']).map((item, i) => {
    const at: Path = ['monitors', i];
    const o = typeof item === 'string' ? { command: item } : r.object(item, at, MONITOR_KEYS);
    if (o['command'] === undefined) r.fail(at, 'missing command: (a shell command that prints a number)');
    const command = r.string(o['command'], [...at, 'command']);
    const name = o['name'] === undefined ? `monitor ${i + 1}` : r.string(o['name'], [...at, 'name']);
    if (names.has(name)) r.fail([...at, 'name'], `"${name}" names another monitor too: give each its own name`);
    names.add(name);
    const everyMs = o['every'] === undefined ? 5000 : r.duration(o['every'], [...at, 'every']);
    if (everyMs < 200) r.fail([...at, 'every'], `expected at least 200ms between samples, got ${everyMs} ms`);
    const timeoutMs = o['timeout'] === undefined ? Math.min(everyMs, 30_000) : r.duration(o['timeout'], [...at, 'timeout']);
    return { name, command, everyMs, timeoutMs };
  });
}

/**
 * SLOs: a list of lines, or one block of text with a line each (as an action input gives them);
 * blank lines and # comments are skipped. A bad line is named with its file line and what is wrong.
 */
function readSlos(
  r: Reader,
  v: unknown,
  cfg: RawConfig,
  plan: { stageNames: readonly string[]; endpointNames: readonly string[]; warmupMs: number },
): Slo[] {
  if (v === undefined || v === null) return [];
  const items: Array<{ text: string; path: Path; line: number | undefined }> = [];
  if (typeof v === 'string') {
    // A block scalar's content starts on the line after its key.
    const base = cfg.lineOf?.(['slos']);
    v.split('\n').forEach((text, k) => items.push({ text, path: ['slos'], line: base === undefined ? undefined : base + 1 + k }));
  } else {
    r.list(v, ['slos']).forEach((item, i) => {
      if (typeof item !== 'string') r.fail(['slos', i], `expected an SLO line like "p99 < 100ms", got ${describeValue(item)}`);
      items.push({ text: item, path: ['slos', i], line: cfg.lineOf?.(['slos', i]) });
    });
  }
  const slos: Slo[] = [];
  for (const { text, path, line } of items) {
    const t = text.replace(/(^|\s)#.*$/, '').trim();
    if (t === '') continue;
    try {
      const slo = resolveSlo(parseSloLine(t), plan);
      if (cfg.file && line !== undefined) slo.source = { file: cfg.file, line };
      slos.push(slo);
    } catch (e) {
      if (!(e instanceof SloSyntaxError)) throw e;
      const where = typeof v === 'string' && line !== undefined && cfg.file ? `${cfg.file}:${line} slos` : r.locate(path);
      throw new ConfigError(`${where}: "${t}": ${e.message}`);
    }
  }
  return slos;
}

function readService(r: Reader, v: unknown, baseDir: string, presetReadyPath?: string): { service: ServicePlan; readiness: ReadinessPlan } {
  const at: Path = ['service'];
  if (v === undefined) r.fail(at, 'missing: say where the service is, with url: (a running service), image: (a container to run) or command: (a process to start)');
  const s = r.object(v, at, SERVICE_KEYS);
  const hasUrl = s['url'] !== undefined;
  const hasCommand = s['command'] !== undefined;
  const hasImage = s['image'] !== undefined;
  if (!hasUrl && !hasCommand && !hasImage) {
    r.fail(at, 'expected url: (a running service), command: (a process to start) or image: (a container to run), got none of them');
  }
  // A preset knows where its server says it is ready; an explicit ready: wins.
  const readiness = readReadiness(r, s['ready'] ?? presetReadyPath);
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
    r.fail([...at, 'command'], 'cannot tell where the started service listens: put {port} in the command (loadgate picks a free port), or set port: or url:');
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
    r.fail([...at, 'url'], 'url: is a running service; with image: loadgate publishes the container\'s port on 127.0.0.1 itself (leave url: out)');
  }
  if (s['command'] !== undefined) {
    r.fail([...at, 'command'], 'command: starts a process, image: runs a container: use one (to replace the container\'s command, use cmd:)');
  }
  if (s['cwd'] !== undefined) r.fail([...at, 'cwd'], 'only applies with command: (a container has its own working directory; pass -w in args: to change it)');
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
  if (/\s/.test(engine)) r.fail([...at, 'engine'], `expected the engine's command, like docker or podman, got ${describeValue(s['engine'])}`);
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
  if (typeof v === 'boolean' || v === null || !Number.isFinite(cpus)) r.fail(at, `expected CPU cores like 0.5, or millicores like 200m, got ${describeValue(v)}`);
  if (cpus < 0.01) r.fail(at, `must be at least 0.01 cores (10m), got ${describeValue(v)}`);
  return Math.round(cpus * 1000) / 1000;
}

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Bytes from docker's "256m", "1g", "512k" (binary units, any case, optional b), Kubernetes' "256Mi", "1Gi",
 * or a bare number of bytes. docker refuses less than 6 MiB.
 */
function readMemory(r: Reader, v: unknown, at: Path): number {
  const m = typeof v === 'number' ? [String(v), String(v), ''] : typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i|b|ib)?|(b))?\s*$/i.exec(v) : null;
  if (!m) r.fail(at, `expected a size like 256m, 1g or 512Mi, got ${describeValue(v)}`);
  const unit = (m[2] ?? m[3] ?? '').toLowerCase();
  const bytes = Math.floor(Number(m[1]) * MEMORY_UNITS[unit]!);
  if (bytes < 6 * 2 ** 20) r.fail(at, `must be at least 6m (docker's minimum), got ${describeValue(v)}${unit === '' ? ' (a bare number is bytes: write 256m for 256 MiB)' : ''}`);
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
  if (!statSync(df, { throwIfNoEntry: false })?.isFile()) r.fail(dockerfile ? dfPath : ctxPath, `${df} is not a file${dockerfile ? '' : ' (name another with dockerfile:)'}`);
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

function readReadiness(r: Reader, v: unknown): ReadinessPlan {
  const at: Path = ['service', 'ready'];
  // Without a readiness path, any HTTP answer from / (even 404) means the server is up.
  const plan: ReadinessPlan = { path: '/', timeoutMs: DEFAULTS.readyTimeoutMs, okStatus: (s) => s < 500 };
  if (v === undefined) return plan;
  if (typeof v === 'string') return { ...plan, path: readPath(r, v, at), okStatus: (s) => s >= 200 && s < 400 };
  const o = r.object(v, at, READY_KEYS);
  return {
    path: o['path'] === undefined ? '/' : readPath(r, o['path'], [...at, 'path']),
    timeoutMs: o['timeout'] === undefined ? DEFAULTS.readyTimeoutMs : r.duration(o['timeout'], [...at, 'timeout']),
    okStatus: o['status'] === undefined ? (s) => s >= 200 && s < 400 : readStatusSet(r, o['status'], [...at, 'status']),
  };
}

function readPath(r: Reader, v: unknown, path: Path): string {
  const s = r.string(v, path).trim();
  if (!s.startsWith('/')) r.fail(path, `expected a path starting with /, got ${describeValue(v)}`);
  if (/\s/.test(s)) r.fail(path, `a path cannot contain spaces, got ${describeValue(v)}`);
  return s;
}

/** 200, "200-299", or a list of those. */
function readStatusSet(r: Reader, v: unknown, path: Path): (status: number) => boolean {
  const items = Array.isArray(v) ? v : [v];
  const ranges: Array<[number, number]> = items.map((it, i) => {
    const p = Array.isArray(v) ? [...path, i] : path;
    const m = typeof it === 'string' ? /^\s*(\d{3})\s*-\s*(\d{3})\s*$/.exec(it) : null;
    if (m) {
      const lo = Number(m[1]);
      const hi = Number(m[2]);
      if (lo > hi || lo < 100 || hi > 599) r.fail(p, `expected a status range within 100-599, got ${describeValue(it)}`);
      return [lo, hi];
    }
    const n = r.number(it, p, { integer: true, min: 100, max: 599 });
    return [n, n];
  });
  return (s) => ranges.some(([lo, hi]) => s >= lo && s <= hi);
}

function readEndpoints(r: Reader, top: Record<string, unknown>, baseDir: string): { endpoints: EndpointPlan[]; readyPath?: string } {
  if (top['request'] !== undefined && top['requests'] !== undefined) {
    r.fail(['requests'], 'use either request: (one endpoint) or requests: (a list), not both');
  }
  if (top['request'] === undefined && top['requests'] === undefined) {
    r.fail(['request'], 'missing: the endpoint to load-test, e.g. request: {method: POST, path: /predict, body: {...}}');
  }
  const list = top['request'] !== undefined ? [top['request']] : r.list(top['requests'], ['requests'], 1);
  const paths: Path[] = top['request'] !== undefined ? [['request']] : list.map((_, i) => ['requests', i]);
  const read = list.map((v, i) => readEndpoint(r, v, paths[i]!, baseDir));
  const endpoints = read.map((x) => x.endpoint);
  const readyPath = read.find((x) => x.preset)?.preset?.readyPath;
  const names = new Set<string>();
  endpoints.forEach((e, i) => {
    if (names.has(e.name)) r.fail([...paths[i]!, 'name'], `duplicate endpoint name "${e.name}": give each request a distinct name`);
    names.add(e.name);
  });
  return { endpoints, ...(readyPath ? { readyPath } : {}) };
}

function readEndpoint(r: Reader, v: unknown, at: Path, baseDir: string): { endpoint: EndpointPlan; preset?: PresetEndpoint } {
  const o = r.object(v, at, REQUEST_KEYS);
  const preset = readPreset(r, o, at);
  if (o['path'] === undefined && !preset) r.fail([...at, 'path'], 'missing: the path to request, e.g. /api/models/my_model/prediction (or a preset: and model:)');
  const path = o['path'] === undefined ? preset!.path : readPath(r, o['path'], [...at, 'path']);
  const given = (['body', 'bodies', 'schema'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) r.fail([...at, given[1]!], `use one of body:, bodies: or schema:, not ${given.join(' and ')}`);
  const hasBody = given.length > 0 || preset !== undefined;
  const method =
    o['method'] === undefined ? (preset?.method ?? (hasBody ? 'POST' : 'GET')) : r.oneOf(String(o['method']).toUpperCase(), [...at, 'method'], METHODS);
  let body: BodySource = { kind: 'none' };
  if (o['body'] !== undefined) {
    const b = o['body'];
    body = { kind: 'fixed', body: typeof b === 'string' ? b : JSON.stringify(b) };
  } else if (o['bodies'] !== undefined) {
    const file = resolve(baseDir, r.string(o['bodies'], [...at, 'bodies']));
    body = /\.csv$/i.test(file) ? readCsvFile(r, file, [...at, 'bodies']) : readBodiesFile(r, file, [...at, 'bodies']);
  } else if (o['schema'] !== undefined || preset) {
    body = readGenerate(r, o, at, preset, baseDir);
  }
  for (const k of ['generate', 'wrap', 'batch', 'invalid', 'invalid-status', 'check-response'] as const) {
    if (o[k] !== undefined && body.kind !== 'generate') r.fail([...at, k], 'only applies to generated bodies (schema: or a preset:)');
  }
  if (o['invalid-status'] !== undefined && o['invalid'] === undefined) r.fail([...at, 'invalid-status'], 'only applies with invalid: (a share of invalid requests)');
  if (body.kind !== 'none' && (method === 'GET' || method === 'HEAD')) r.fail([...at, 'method'], `${method} requests cannot carry a body`);
  const headers: Record<string, string> = {};
  if (o['headers'] !== undefined) {
    const h = r.object(o['headers'], [...at, 'headers'], Object.keys(o['headers'] as object ?? {}));
    for (const [k, val] of Object.entries(h)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) r.fail([...at, 'headers', k], `"${k}" is not a valid header name`);
      const s = r.string(val, [...at, 'headers', k], { nonEmpty: false });
      if (/[\r\n]/.test(s)) r.fail([...at, 'headers', k], 'a header value cannot contain line breaks');
      headers[k] = s;
    }
  }
  const invalid =
    o['invalid'] === undefined
      ? undefined
      : {
          share: readShare(r, o['invalid'], [...at, 'invalid']),
          okStatus: o['invalid-status'] === undefined ? (st: number) => st >= 400 && st < 500 : readStatusSet(r, o['invalid-status'], [...at, 'invalid-status']),
        };
  const endpoint: EndpointPlan = {
    ...(invalid ? { invalid } : {}),
    ...(o['check-response'] !== undefined && r.boolean(o['check-response'], [...at, 'check-response']) ? { checkOutput: true } : {}),
    name: o['name'] === undefined ? `${method} ${path}` : r.string(o['name'], [...at, 'name']),
    method,
    path,
    headers,
    body,
    weight: o['weight'] === undefined ? 1 : r.number(o['weight'], [...at, 'weight'], { above: 0 }),
    okStatus: o['expect-status'] === undefined ? (s) => s < 400 : readStatusSet(r, o['expect-status'], [...at, 'expect-status']),
  };
  return { endpoint, ...(preset ? { preset } : {}) };
}

/** A share of requests: "10%" or a fraction like 0.1; above 0 and below 100%. */
function readShare(r: Reader, v: unknown, at: Path): number {
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v) : null;
  const share = m ? Number(m[1]) / 100 : r.number(v, at);
  if (!(share > 0 && share < 1)) r.fail(at, `expected a share above 0 and below 100%, like 5% or 0.05, got ${describeValue(v)}`);
  return share;
}

function readPreset(r: Reader, o: Record<string, unknown>, at: Path): PresetEndpoint | undefined {
  if (o['preset'] === undefined) {
    if (o['model'] !== undefined) r.fail([...at, 'model'], 'only applies with a preset: (which says where the model is served)');
    return undefined;
  }
  const name = r.string(o['preset'], [...at, 'preset']);
  let preset;
  try {
    preset = findPreset(name);
  } catch (e) {
    r.fail([...at, 'preset'], (e as Error).message);
  }
  // Servers with one model (MLflow) have paths that do not depend on the name: then it may be left out.
  const needsModel = preset.predictPath('a') !== preset.predictPath('b') || preset.readyPath('a') !== preset.readyPath('b');
  if (o['model'] === undefined && needsModel) r.fail([...at, 'model'], `missing: ${preset.title} needs ${preset.model}`);
  const model = o['model'] === undefined ? '' : r.string(o['model'], [...at, 'model']);
  const wrap = o['wrap'] === undefined ? undefined : r.oneOf(o['wrap'], [...at, 'wrap'], [...BODY_WRAPS, 'oip'] as Array<BodyWrap | 'oip'>);
  try {
    return applyPreset(preset, model, wrap);
  } catch (e) {
    r.fail([...at, 'wrap'], (e as Error).message);
  }
}

/** Bodies generated from a schema before the load: where the schema is (found after the service is ready), how many. */
function readGenerate(r: Reader, o: Record<string, unknown>, at: Path, preset: PresetEndpoint | undefined, baseDir: string): BodySource {
  const v = o['schema'];
  let sources: SchemaSource[];
  if (v === undefined || v === 'auto') {
    if (!preset) r.fail([...at, 'schema'], 'auto needs a preset: (which knows where its server publishes the schema)');
    if (preset.schemaSources.length === 0) {
      r.fail([...at, 'schema'], 'this model server publishes no input schema: give one with schema: FILE or schema: {inline: {...}}');
    }
    sources = preset.schemaSources;
  } else if (typeof v === 'string') {
    sources = [{ kind: 'file', file: resolve(baseDir, v) }];
  } else {
    const sa: Path = [...at, 'schema'];
    const so = r.object(v, sa, SCHEMA_KEYS);
    const kinds = ['openapi', 'metadata', 'oip', 'mlflow', 'file', 'inline'].filter((k) => so[k] !== undefined);
    if (kinds.length !== 1) r.fail(sa, `expected exactly one of openapi:, metadata:, oip:, mlflow:, file: or inline:, got ${kinds.length ? kinds.join(', ') : 'none'}`);
    const k = kinds[0]!;
    const op = {
      ...(so['method'] !== undefined ? { method: r.oneOf(String(so['method']).toUpperCase(), [...sa, 'method'], METHODS) } : {}),
      ...(so['path'] !== undefined ? { path: readPath(r, so['path'], [...sa, 'path']) } : {}),
    };
    for (const extra of ['method', 'path'] as const) {
      if (so[extra] !== undefined && k !== 'openapi' && k !== 'file') r.fail([...sa, extra], `only applies to openapi: and file: sources`);
    }
    if (so['version'] !== undefined && k !== 'oip') r.fail([...sa, 'version'], 'only applies to oip: sources');
    switch (k) {
      case 'openapi':
        sources = [{ kind: 'openapi', url: so['openapi'] === true ? '/openapi.json' : r.string(so['openapi'], [...sa, 'openapi']), ...op }];
        break;
      case 'metadata':
        sources = [{ kind: 'rest-model-service', model: r.string(so['metadata'], [...sa, 'metadata']) }];
        break;
      case 'oip':
        sources = [{ kind: 'oip', model: r.string(so['oip'], [...sa, 'oip']), ...(so['version'] !== undefined ? { version: r.string(so['version'], [...sa, 'version']) } : {}) }];
        break;
      case 'mlflow':
        sources = [{ kind: 'mlflow-signature', file: resolve(baseDir, r.string(so['mlflow'], [...sa, 'mlflow'])) }];
        break;
      case 'file':
        sources = [{ kind: 'file', file: resolve(baseDir, r.string(so['file'], [...sa, 'file'])), ...op }];
        break;
      default: {
        const inline = so['inline'];
        if (inline === null || typeof inline !== 'object') r.fail([...sa, 'inline'], `expected a JSON Schema mapping, got ${describeValue(inline)}`);
        sources = [{ kind: 'inline', schema: inline }];
      }
    }
  }
  const wrap = preset?.wrap ?? (o['wrap'] === undefined ? 'none' : r.oneOf(o['wrap'], [...at, 'wrap'], [...BODY_WRAPS] as BodyWrap[]));
  return {
    kind: 'generate',
    sources,
    count: o['generate'] === undefined ? DEFAULT_CORPUS_SIZE : r.number(o['generate'], [...at, 'generate'], { integer: true, min: 1, max: 1_000_000 }),
    wrap,
    batch: o['batch'] === undefined ? 1 : r.number(o['batch'], [...at, 'batch'], { integer: true, min: 1, max: 10_000 }),
    where: r.locate([...at, 'schema']),
  };
}

/** A CSV file of recorded requests: a header row of field names, a row per body. */
function readCsvFile(r: Reader, file: string, at: Path): BodySource {
  try {
    const bodies = readCsvBodies(file);
    if (bodies.length === 0) r.fail(at, `${file} holds no rows after its header`);
    return { kind: 'list', bodies, origin: file };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    r.fail(at, (e as Error).message);
  }
}

/** A JSONL file: one JSON body per non-empty line, each checked now so a bad line is named before the run. */
function readBodiesFile(r: Reader, file: string, at: Path): BodySource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    r.fail(at, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const bodies: string[] = [];
  text.split('\n').forEach((line, i) => {
    const s = line.trim();
    if (s === '') return;
    try {
      JSON.parse(s);
    } catch (err) {
      r.fail(at, `${file}:${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    bodies.push(s);
  });
  if (bodies.length === 0) r.fail(at, `${file} holds no request bodies (expected one JSON value per line)`);
  return { kind: 'list', bodies, origin: file };
}

function readLoad(r: Reader, v: unknown): LoadPlan {
  const at: Path = ['load'];
  if (v === undefined) r.fail(at, 'missing: the load to apply, e.g. load: {stages: [{duration: 30s, users: 5, spawn-rate: 1}]}');
  const o = r.object(v, at, LOAD_KEYS);
  if (o['stages'] === undefined) r.fail([...at, 'stages'], 'missing: a list of stages, e.g. [{duration: 30s, users: 5}] or [{duration: 30s, rate: 10}]');
  const stages = r.list(o['stages'], [...at, 'stages'], 1);
  // The model follows from the stages: users -> closed, rate -> open. Mixing them is an error.
  const kinds = stages.map((s, i) => {
    // Only the model is decided here; each model's reader then checks its own keys.
    const st = r.object(s, [...at, 'stages', i], Object.keys((s ?? {}) as object));
    const hasUsers = st['users'] !== undefined;
    const hasRate = st['rate'] !== undefined;
    if (hasUsers === hasRate) {
      r.fail([...at, 'stages', i], hasUsers ? 'a stage has either users: (closed model) or rate: (open model), not both' : 'expected users: (closed model) or rate: (open model)');
    }
    return hasUsers ? 'closed' : 'open';
  });
  const model = kinds[0]!;
  kinds.forEach((k, i) => {
    if (k !== model) r.fail([...at, 'stages', i], `this stage uses ${k === 'closed' ? 'users' : 'rate'} but the first uses ${model === 'closed' ? 'users' : 'rate'}: all stages must use the same model`);
  });
  if (model === 'closed') {
    if (o['max-in-flight'] !== undefined) r.fail([...at, 'max-in-flight'], 'only applies to rate stages (open model); with users, in-flight requests equal users');
    return {
      model: 'closed',
      perUserRate: o['pacing'] === undefined ? 0 : readPacing(r, o['pacing'], [...at, 'pacing']),
      stages: stages.map((s, i) => readUserStage(r, s, [...at, 'stages', i])),
    };
  }
  if (o['pacing'] !== undefined) r.fail([...at, 'pacing'], 'only applies to user stages (closed model); rate stages set the pace themselves');
  return {
    model: 'open',
    maxInFlight: o['max-in-flight'] === undefined ? DEFAULTS.maxInFlight : r.number(o['max-in-flight'], [...at, 'max-in-flight'], { integer: true, min: 1 }),
    stages: stages.map((s, i) => readRateStage(r, s, [...at, 'stages', i])),
  };
}

/** "1/s" (per user), "30/m", "none" (no wait), or a bare number per second. */
function readPacing(r: Reader, v: unknown, at: Path): number {
  // From a flag or an action input a bare number arrives as a string.
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) v = Number(v);
  if (v === 'none' || v === 0) return 0;
  if (typeof v === 'number') return r.number(v, at, { above: 0 });
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)\s*$/.exec(v) : null;
  if (!m) r.fail(at, `expected requests per user like 1/s or 30/m, or none, got ${describeValue(v)}`);
  const per = { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
  const rate = Number(m[1]) / per;
  if (rate <= 0) r.fail(at, 'must be above 0 (use none for no wait)');
  return rate;
}

function readUserStage(r: Reader, v: unknown, at: Path): UserStage {
  const o = r.object(v, at, USER_STAGE_KEYS);
  if (o['duration'] === undefined) r.fail([...at, 'duration'], 'missing: how long the stage lasts, e.g. 30s');
  const users = r.number(o['users'], [...at, 'users'], { integer: true, min: 0, max: 100_000 });
  return {
    name: o['name'] === undefined ? `${users} user${users === 1 ? '' : 's'}` : r.string(o['name'], [...at, 'name']),
    durationMs: r.duration(o['duration'], [...at, 'duration']),
    users,
    // locust's default spawn rate is 1 user/s; users would then ramp slowly, so default to all at once.
    spawnRate: o['spawn-rate'] === undefined ? Math.max(1, users) * 1000 : r.number(o['spawn-rate'], [...at, 'spawn-rate'], { above: 0 }),
  };
}

function readRateStage(r: Reader, v: unknown, at: Path): RateStage {
  const o = r.object(v, at, RATE_STAGE_KEYS);
  if (o['duration'] === undefined) r.fail([...at, 'duration'], 'missing: how long the stage lasts, e.g. 30s');
  const rate = r.number(o['rate'], [...at, 'rate'], { min: 0, max: 10_000_000 });
  const ramp = o['ramp'] === undefined ? false : r.boolean(o['ramp'], [...at, 'ramp']);
  return {
    name: o['name'] === undefined ? `${ramp ? 'ramp to ' : ''}${rate}/s` : r.string(o['name'], [...at, 'name']),
    durationMs: r.duration(o['duration'], [...at, 'duration']),
    rate,
    ramp,
  };
}
