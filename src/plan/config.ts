// From a YAML file (and overrides from flags or action inputs) to one validated Plan. Here: reading the
// file (keeping each key's line, for messages), applying the overrides, and putting the plan together.
// Each section is read in a file of its own: service.ts, endpoints.ts, load.ts, monitors.ts, slo.ts.
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
//   monitors:  [{name, command, every, timeout}]  (commands that print a number, sampled during the load)
//   baseline:  image | command | url (a second service to compare with), or result: FILE   (see compare.ts)
//   compare:   rounds, warm-up-rounds, round, order, mode, min-effect, max-rounds, max-time, calibrate
//   warm-up, timeout, seed, output, progress-interval, shard: i/n (this machine's part of the load: shard.ts)
//   start-at: 2026-11-30T18:00:00Z | epoch s or ms (the load starts then, once ready: shards start together)
//   allow-incomplete: true (a merge of the shards judges what was measured if one is missing, late or failed)
//   workers: N (N shard processes on this machine, merged: src/run/workers.ts)

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument } from 'yaml';
import { DEFAULTS } from './defaults.ts';
import { readEndpoints } from './endpoints.ts';
import { readLoad } from './load.ts';
import { readMonitors } from './monitors.ts';
import { ConfigError, type Locator, type Path, Reader, describeValue, formatPath } from './reader.ts';
import { readCompare } from './compare.ts';
import type { RegressionObjective } from './regression.ts';
import { readService } from './service.ts';
import { parseShard, shardPlan } from './shard.ts';
import { readSlos, requestObjectiveSets } from './slo.ts';
import type { Plan } from './types.ts';

export { ConfigError } from './reader.ts';
export { DEFAULTS } from './defaults.ts';

const TOP_KEYS = [
  'service',
  'baseline',
  'compare',
  'request',
  'requests',
  'load',
  'slos',
  'monitors',
  'warm-up',
  'timeout',
  'seed',
  'output',
  'progress-interval',
  'shard',
  'start-at',
  'allow-incomplete',
  'workers',
] as const;

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

/** How many nodes aliases may expand to in a config: far more than a real config uses, far less than a bomb. */
const MAX_ALIAS_COUNT = 1000;

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
  let raw: unknown;
  try {
    // An alias bomb (aliases of aliases, a billion-laughs document) stops here, not in an out-of-memory crash.
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    throw new ConfigError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]} (at most ${MAX_ALIAS_COUNT} alias expansions)`);
  }
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
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${locate([])}: expected a mapping (service:, request:, load:), got ${describeValue(raw)}`);
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
  // Before the endpoints: prompts made now from the plan's seed (src/plan/endpoints.ts).
  const seed = top['seed'] === undefined ? DEFAULTS.seed : r.number(top['seed'], ['seed'], { integer: true, min: 0 });
  const { endpoints, readyPath } = readEndpoints(r, top, cfg.baseDir, seed);
  const service = readService(r, top['service'], cfg.baseDir, readyPath);
  const load = readLoad(r, top['load']);
  const totalMs = load.stages.reduce((t, st) => t + st.durationMs, 0);
  const warmupMs = top['warm-up'] === undefined ? 0 : r.duration(top['warm-up'], ['warm-up'], { allowZero: true });
  if (warmupMs >= totalMs) r.fail(['warm-up'], `the warm-up (${warmupMs / 1000} s) would cover the whole run (${totalMs / 1000} s)`);
  const objectives: RegressionObjective[] = [];
  const slos = readSlos(
    r,
    top['slos'],
    cfg,
    {
      stageNames: load.stages.map((st) => st.name),
      endpointNames: endpoints.map((e) => e.name),
      warmupMs,
      streaming: endpoints.map((e) => e.stream === true),
    },
    objectives,
  );
  // Goodput and attainment SLOs: the recorder counts, per set, the requests that met every objective.
  const requestObjectives = requestObjectiveSets(slos);
  const compare = readCompare(r, top, {
    baseDir: cfg.baseDir,
    ...(readyPath !== undefined ? { presetReadyPath: readyPath } : {}),
    serviceRaw: top['service'],
    load,
    warmupMs,
    objectives,
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
    seed,
    // Paths inside the config (cwd, bodies) are relative to the config file; the output folder, like
    // any tool's output flag, is relative to where loadgate runs.
    outputDir: resolve(top['output'] === undefined ? DEFAULTS.output : r.string(top['output'], ['output'])),
    progressIntervalMs:
      top['progress-interval'] === undefined ? DEFAULTS.progressIntervalMs : r.duration(top['progress-interval'], ['progress-interval']),
    baseDir: cfg.baseDir,
    ...(cfg.file ? { configPath: cfg.file } : {}),
    ...(compare ? { compare } : {}),
    ...(top['allow-incomplete'] !== undefined && r.boolean(top['allow-incomplete'], ['allow-incomplete']) ? { allowIncomplete: true } : {}),
    ...(requestObjectives.length ? { requestObjectives } : {}),
    ...workersOf(r, top, compare !== undefined),
  };
  if (top['start-at'] !== undefined) {
    if (plan.compare) r.fail(['start-at'], 'a run in rounds against a baseline (baseline:, compare:) cannot wait for a shared start');
    const lengthMs = load.stages.reduce((t, st) => t + st.durationMs, 0);
    plan.startAt = readStartAt(r, top['start-at'], lengthMs, Date.now());
  }
  // Each worker is a shard: a body list too short to split is refused now, before anything starts.
  if (plan.workers) shardPlan(plan, 0, plan.workers);
  if (top['shard'] === undefined) return plan;
  // A comparison judges two sides on one machine; a shard is part of one side's load on many.
  if (plan.compare)
    r.fail(
      ['shard'],
      'a run in rounds against a baseline (baseline:, compare:) cannot be sharded: each side must take the whole load on one machine',
    );
  const shard =
    parseShard(r.string(top['shard'], ['shard'])) ??
    r.fail(['shard'], `expected i/n with 1 <= i <= n (this machine's part of n), e.g. 1/4`);
  return shardPlan(plan, shard.index, shard.count);
}

/** How far ahead a start-at may be: further is a mistake (a wrong date or zone), not a plan. */
export const START_AT_MAX_AHEAD_MS = 3_600_000;

/**
 * start-at: an ISO 8601 time with its zone, or epoch seconds or milliseconds (a number below 1e11 is
 * seconds: that is the year 5138, or 1973 in ms). Refused when more than an hour ahead, or further in the
 * past than the run lasts (every part would start late: the time was computed for another run).
 */
export function readStartAt(r: Reader, v: unknown, lengthMs: number, nowMs: number): number {
  const path = ['start-at'];
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : undefined;
  let ms: number | undefined;
  if (text !== undefined && /^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    ms = n < 1e11 ? n * 1000 : n;
  } else if (text !== undefined && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    ms = Date.parse(text);
  }
  if (ms === undefined || !Number.isFinite(ms))
    r.fail(
      path,
      `expected an ISO 8601 time with its zone (e.g. 2026-11-30T18:00:00Z) or epoch seconds or milliseconds, got ${describeValue(v)}`,
    );
  const at = new Date(ms).toISOString();
  if (ms - nowMs > START_AT_MAX_AHEAD_MS)
    r.fail(path, `${at} is ${fmtAgo(ms - nowMs)} from now: at most 1 h ahead (a wrong date, zone or unit?)`);
  if (nowMs - ms > lengthMs)
    r.fail(
      path,
      `${at} was ${fmtAgo(nowMs - ms)} ago, longer than the run lasts (${fmtAgo(lengthMs)}): every part would start late; compute it again for this run`,
    );
  return ms;
}

function fmtAgo(ms: number): string {
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

/** `workers: N`: N > 1 runs the load as N shards in child processes of this machine (src/run/workers.ts). */
function workersOf(r: Reader, top: Record<string, unknown>, comparing: boolean): { workers?: number } {
  if (top['workers'] === undefined) return {};
  const n = r.number(top['workers'], ['workers'], { integer: true, min: 1, max: 64 });
  if (n === 1) return {};
  // A shard split again would need shards of shards; a comparison measures each side in one process.
  if (top['shard'] !== undefined) r.fail(['workers'], 'workers and shard exclude each other: a shard runs in one process (for now)');
  if (comparing)
    r.fail(['workers'], 'a run in rounds against a baseline (baseline:, compare:) runs in one process: workers cannot split it');
  return { workers: n };
}
