// Every setting that can come from outside the config file, declared once: where it lands in the config,
// its CLI flag and its action input, how its text is read, what it excludes and what it needs. The CLI and
// the action only translate their names through this table; the rules that apply it live in overrides.ts,
// and the CLI's usage, action.yml's inputs and the README's tables are written from it (npm run docs).
// A new setting is one row. Two hand-written mappers stood here before, and drifted twice (b2305ca).

import { DEFAULT_CORPUS_SIZE, PRESETS } from '../payload/index.ts';
import { DEFAULTS, type Override } from './config.ts';
import type { Reading } from './setting-values.ts';

/** Which section of the file a setting reshapes before its value lands (the rules are in overrides.ts). */
export type Reshape = 'service' | 'ready' | 'request' | 'request-body' | 'stages';

/** The parts of a run that, without a file, must come from outside: one setting that gives each. */
export type Part = 'service' | 'request' | 'load';

export interface Setting {
  /** Where its value lands in the config. */
  path: Override['path'];
  /** The CLI flag, without its dashes, if the command line has it. */
  flag?: string;
  /** The action input, if the action has it. */
  input?: string;
  /** How its text is read (setting-values.ts). */
  read: Reading;
  /** The value's placeholder in the CLI usage: `--users N`. */
  arg: string;
  /** One line: what it sets, for the usage, action.yml and the README. */
  about: string;
  /** What the plan uses when neither the file nor this setting says (documentation only: the plan has the defaults). */
  default?: string;
  /** Settings it cannot go with (either row may declare the pair). */
  excludes?: readonly string[];
  /** Said after "A and B exclude each other: " when this row declares the pair. */
  why?: string;
  /** What it is, in a word or two, when named beside a setting it excludes: "--users (closed model)". */
  note?: string;
  /** It means nothing alone: one of these must be given with it. */
  needs?: readonly string[];
  /** One of these must be given with it when no file could say it. */
  needsWithoutFile?: readonly string[];
  /** A value for the example in "needs" messages: "(e.g. --duration 30s)". */
  example?: string;
  /** The part of a run it gives, so that a run without a file can say which parts are missing. */
  gives?: Part;
  reshapes?: Reshape;
}

const seconds = (ms: number) => `${ms / 1000}s`;

/** In table order: overrides are made, and the usage and docs list them, in this order. */
export const SETTINGS = {
  'service-url': {
    path: ['service', 'url'],
    flag: 'url',
    input: 'service-url',
    read: 'text',
    arg: 'URL',
    gives: 'service',
    reshapes: 'service',
    about: 'a service that is already running (a deployed staging service), e.g. https://staging.example.com: nothing is started',
  },
  'service-command': {
    path: ['service', 'command'],
    flag: 'command',
    input: 'service-command',
    read: 'text',
    arg: 'CMD',
    gives: 'service',
    reshapes: 'service',
    excludes: ['service-url'],
    why: 'test a running service, or start one',
    about:
      'a command that starts the service, run through the shell, e.g. "python -m uvicorn app:app --port {port}"; ' +
      '{port} becomes a free port',
  },
  'service-image': {
    path: ['service', 'image'],
    flag: 'image',
    input: 'service-image',
    read: 'text',
    arg: 'IMAGE',
    gives: 'service',
    reshapes: 'service',
    excludes: ['service-url', 'service-command'],
    why: 'the service is a running one, a command to start or an image to run',
    needsWithoutFile: ['service-port'],
    about: 'a container image to run as the service (removed at the end)',
  },
  'service-port': {
    path: ['service', 'port'],
    flag: 'port',
    input: 'service-port',
    read: 'text',
    arg: 'N',
    about: 'the port the service listens on: inside the container for an image, or for a command that cannot take {port}',
  },
  'service-env': {
    path: ['service', 'env'],
    input: 'service-env',
    read: 'env',
    arg: 'KEY=value',
    about: 'environment variables for the service, one KEY=value a line',
  },
  'service-cpus': {
    path: ['service', 'cpus'],
    input: 'service-cpus',
    read: 'text',
    arg: 'N',
    about: 'CPU limit for the service container, e.g. 2 or 500m',
  },
  'service-memory': {
    path: ['service', 'memory'],
    input: 'service-memory',
    read: 'text',
    arg: 'SIZE',
    about: 'memory limit for the service container, e.g. 2g',
  },
  'ready-path': {
    path: ['service', 'ready', 'path'],
    flag: 'ready-path',
    input: 'service-ready',
    read: 'text',
    arg: 'PATH',
    reshapes: 'ready',
    default: '/',
    about: 'the path that answers 2xx once the service is ready, e.g. /health (a preset knows its own)',
  },
  'ready-timeout': {
    path: ['service', 'ready', 'timeout'],
    flag: 'ready-timeout',
    read: 'text',
    arg: 'D',
    reshapes: 'ready',
    default: seconds(DEFAULTS.readyTimeoutMs),
    about: 'how long the service has to become ready',
  },
  endpoint: {
    path: ['request', 'path'],
    input: 'endpoint',
    read: 'endpoint',
    arg: 'METHOD /path',
    gives: 'request',
    reshapes: 'request',
    about: 'the request to load-test, as "METHOD /path", e.g. "POST /predict" (or use preset and model)',
  },
  path: {
    path: ['request', 'path'],
    flag: 'path',
    read: 'text',
    arg: 'PATH',
    gives: 'request',
    reshapes: 'request',
    about: 'the request path',
  },
  method: {
    path: ['request', 'method'],
    flag: 'method',
    read: 'text',
    arg: 'METHOD',
    reshapes: 'request',
    about: 'the request method (default POST with a body, else GET)',
  },
  body: {
    path: ['request', 'body'],
    flag: 'body',
    input: 'body',
    read: 'json',
    arg: 'JSON',
    reshapes: 'request-body',
    about: 'a fixed JSON request body',
  },
  bodies: {
    path: ['request', 'bodies'],
    flag: 'bodies',
    read: 'file',
    arg: 'FILE',
    reshapes: 'request-body',
    excludes: ['body'],
    about: 'a JSONL or CSV file of request bodies',
  },
  schema: {
    path: ['request', 'schema'],
    flag: 'schema',
    input: 'schema',
    read: 'file',
    arg: 'FILE|auto',
    reshapes: 'request-body',
    excludes: ['body', 'bodies'],
    why: 'bodies are given, or generated from a schema',
    about:
      "where the bodies' JSON Schema comes from: auto (the preset's server) or a file (JSON Schema, OpenAPI, MLflow MLmodel); " +
      'valid random bodies are generated from it',
  },
  preset: {
    path: ['request', 'preset'],
    flag: 'preset',
    input: 'preset',
    read: 'text',
    arg: 'NAME',
    gives: 'request',
    reshapes: 'request',
    about: `the model server, which knows the predict path, readiness and schema: ${PRESETS.map((p) => p.name).join(', ')}`,
  },
  model: {
    path: ['request', 'model'],
    flag: 'model',
    input: 'model',
    read: 'text',
    arg: 'NAME',
    reshapes: 'request',
    about: "the model's name on the preset's server",
  },
  prompts: {
    path: ['request', 'prompts'],
    flag: 'prompts',
    input: 'prompts',
    read: 'file',
    arg: 'FILE',
    reshapes: 'request-body',
    about:
      'with preset openai (or vllm, tgi, llama-cpp, ollama, sglang): the prompts, a JSONL file of {"messages": [...]} or {"prompt": "..."} a line, or a CSV file with a prompt column; default synthetic prompts',
  },
  'api-key-env': {
    path: ['request', 'api-key-env'],
    flag: 'api-key-env',
    input: 'api-key-env',
    read: 'text',
    arg: 'NAME',
    reshapes: 'request',
    about: 'with preset openai: the environment variable that holds the API key, sent as "Authorization: Bearer ..." and shown nowhere',
  },
  generate: {
    path: ['request', 'generate'],
    flag: 'generate',
    read: 'text',
    arg: 'N',
    reshapes: 'request',
    default: String(DEFAULT_CORPUS_SIZE),
    about: 'how many bodies to generate before the load',
  },
  users: {
    path: ['load', 'stages', 0, 'users'],
    flag: 'users',
    input: 'users',
    read: 'text',
    arg: 'N',
    gives: 'load',
    reshapes: 'stages',
    note: 'closed model',
    needs: ['duration'],
    about: 'one stage of this many users (closed model)',
  },
  'spawn-rate': {
    path: ['load', 'stages', 0, 'spawn-rate'],
    flag: 'spawn-rate',
    read: 'text',
    arg: 'R',
    reshapes: 'stages',
    default: 'all at once',
    needs: ['users'],
    about: 'users started per second',
  },
  rate: {
    path: ['load', 'stages', 0, 'rate'],
    flag: 'rate',
    input: 'rate',
    read: 'text',
    arg: 'R',
    gives: 'load',
    reshapes: 'stages',
    note: 'open model',
    needs: ['duration'],
    excludes: ['users'],
    about: 'one stage at this many requests per second (open model)',
  },
  duration: {
    path: ['load', 'stages', 0, 'duration'],
    flag: 'duration',
    input: 'duration',
    read: 'text',
    arg: 'D',
    reshapes: 'stages',
    needs: ['users', 'rate'],
    example: '30s',
    about: 'how long the one stage of users or rate lasts, e.g. 30s or 2m',
  },
  stages: {
    path: ['load', 'stages'],
    input: 'stages',
    read: 'stages',
    arg: 'YAML',
    gives: 'load',
    reshapes: 'stages',
    excludes: ['users', 'rate'],
    why: 'give the stages, or one stage of users or of rate',
    about:
      "the load, as a YAML list shaped like the config's load.stages: users stages (closed model) or rate stages (open model), " +
      'e.g. "- {duration: 30s, users: 5, spawn-rate: 1}" or "- {duration: 1m, rate: 50}"',
  },
  pacing: {
    path: ['load', 'pacing'],
    flag: 'pacing',
    input: 'pacing',
    read: 'text',
    arg: 'P',
    default: 'none',
    about: "requests per second per user with users stages, e.g. 1/s (locust's constant_throughput(1)) or 30/m, or none for no wait",
  },
  'max-in-flight': {
    path: ['load', 'max-in-flight'],
    flag: 'max-in-flight',
    input: 'max-in-flight',
    read: 'text',
    arg: 'N',
    default: String(DEFAULTS.maxInFlight),
    about: 'with rate stages, at most this many requests in flight at once',
  },
  slos: {
    path: ['slos'],
    flag: 'slo',
    input: 'slos',
    read: 'list',
    arg: 'LINE',
    about: 'service level objectives (replacing the file\'s), e.g. "p99 < 100ms", "errors == 0" or "error-rate < 0.1% in stage 2"',
  },
  'baseline-image': {
    path: ['baseline', 'image'],
    flag: 'baseline-image',
    input: 'baseline-image',
    read: 'text',
    arg: 'IMAGE',
    excludes: ['baseline-command', 'baseline-url', 'baseline-result'],
    why: 'the baseline is one service, or a stored result',
    about:
      "the base's image, to compare with in the same job (e.g. built from the pull request's base); " +
      "it runs with the service's port, env and limits unless baseline: says otherwise",
  },
  'baseline-command': {
    path: ['baseline', 'command'],
    flag: 'baseline-command',
    input: 'baseline-command',
    read: 'text',
    arg: 'CMD',
    excludes: ['baseline-url', 'baseline-result'],
    about: "a command that starts the base's service ({port} becomes a free port), to compare with in the same job",
  },
  'baseline-url': {
    path: ['baseline', 'url'],
    flag: 'baseline-url',
    input: 'baseline-url',
    read: 'text',
    arg: 'URL',
    excludes: ['baseline-result'],
    about: 'a running base service to compare with',
  },
  'baseline-result': {
    path: ['baseline', 'result'],
    flag: 'baseline-result',
    input: 'baseline-result',
    read: 'text',
    arg: 'FILE',
    about: "a stored result.json with rounds (e.g. the main branch's artifact) to compare with: across runs and machines, less reliable",
  },
  'compare-rounds': {
    path: ['compare', 'rounds'],
    flag: 'rounds',
    input: 'rounds',
    read: 'text',
    arg: 'N',
    default: '10',
    about: 'measured rounds per side (at least 6), after a warm-up round each',
  },
  'round-length': {
    path: ['compare', 'round'],
    flag: 'round',
    input: 'round',
    read: 'text',
    arg: 'D',
    default: "the stages' total",
    about: 'how long each round lasts: the stages, scaled to this length',
  },
  'compare-max-rounds': {
    path: ['compare', 'max-rounds'],
    flag: 'max-rounds',
    input: 'max-rounds',
    read: 'text',
    arg: 'N',
    default: 'the rounds',
    about: 'while the comparison is inconclusive, add rounds up to this many (judged at fixed checkpoints)',
  },
  'min-effect': {
    path: ['compare', 'min-effect'],
    flag: 'min-effect',
    input: 'min-effect',
    read: 'text',
    arg: 'P',
    default: '5%',
    about: 'the smallest change that counts as a regression, for metrics without a regression line',
  },
  'compare-mode': {
    path: ['compare', 'mode'],
    flag: 'compare-mode',
    input: 'compare-mode',
    read: 'text',
    arg: 'M',
    default: 'interleaved',
    about: 'interleaved (one side at a time, in random order per pair) or parallel (both take the same load at once)',
  },
  calibrate: {
    path: ['compare', 'calibrate'],
    flag: 'calibrate',
    input: 'calibrate',
    read: 'text',
    arg: 'true',
    about: "A/A: run the baseline (or the service) against a second instance of itself, to measure each metric's noise floor",
  },
  'fail-on-inconclusive': {
    path: ['compare', 'fail-on-inconclusive'],
    flag: 'fail-on-inconclusive',
    input: 'fail-on-inconclusive',
    read: 'text',
    arg: 'true',
    default: 'false',
    about: 'fail when the comparison can show neither a regression nor the same',
  },
  'warm-up': {
    path: ['warm-up'],
    flag: 'warm-up',
    input: 'warm-up',
    read: 'text',
    arg: 'D',
    about: 'leave the first part of the run out of the SLOs, e.g. 10s',
  },
  timeout: {
    path: ['timeout'],
    flag: 'timeout',
    input: 'timeout',
    read: 'text',
    arg: 'D',
    default: seconds(DEFAULTS.timeoutMs),
    about: 'per-request timeout',
  },
  seed: {
    path: ['seed'],
    flag: 'seed',
    read: 'text',
    arg: 'N',
    default: String(DEFAULTS.seed),
    about: 'random seed (generated bodies, the request mix)',
  },
  output: {
    path: ['output'],
    flag: 'out',
    input: 'report-dir',
    read: 'text',
    arg: 'DIR',
    default: DEFAULTS.output,
    about: 'the folder for the reports (HTML, CSV, JSON, JUnit, Markdown)',
  },
  shard: {
    path: ['shard'],
    flag: 'shard',
    input: 'shard',
    read: 'text',
    arg: 'I/N',
    about: "run only this machine's part of the load, e.g. 2/4 of four CI matrix jobs; `loadgate merge` joins the parts into one result",
  },
  'start-at': {
    path: ['start-at'],
    flag: 'start-at',
    input: 'start-at',
    read: 'text',
    arg: 'TIME',
    default: 'as soon as the service is ready',
    about:
      'start the load at this instant, once the service is ready, so that shards load it together: ISO 8601 with its zone ' +
      '(e.g. 2026-11-30T18:00:00Z) or epoch seconds or ms, at most 1 h ahead; a shard that starts more than 1 s after it is named late by the merge',
  },
  'allow-incomplete': {
    path: ['allow-incomplete'],
    flag: 'allow-incomplete',
    input: 'allow-incomplete',
    read: 'text',
    arg: 'true',
    default: 'false',
    about:
      'when shards are merged, judge what was measured even if a shard is missing, started late, stopped early or failed ' +
      '(else the merged run fails as incomplete, exit 3)',
  },
  workers: {
    path: ['workers'],
    flag: 'workers',
    input: 'workers',
    read: 'text',
    arg: 'N',
    default: '1',
    excludes: ['shard'],
    why: 'a shard runs in one process',
    about:
      'run the load as N shard processes on this machine (for loads above one core), sharing one service, merged into one result and verdict',
  },
  'progress-interval': {
    path: ['progress-interval'],
    flag: 'progress-interval',
    read: 'text',
    arg: 'D',
    default: seconds(DEFAULTS.progressIntervalMs),
    about: 'how often a progress line is printed',
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** Which front end names a setting: the CLI by its flag, the action by its input. */
export type Side = 'flag' | 'input';

type NamesOn<S extends Side> = {
  [K in SettingName]: (typeof SETTINGS)[K] extends { [P in S]: infer N extends string } ? N : never;
}[SettingName];
/** The CLI flags that are settings. */
export type SettingFlag = NamesOn<'flag'>;
/** The action inputs that are settings. */
export type SettingInput = NamesOn<'input'>;

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function setting(name: SettingName): Setting {
  return SETTINGS[name];
}

/** Its name on one side (the flag or the input), if that side has it. */
export function nameOn(side: Side, name: SettingName): string | undefined {
  return setting(name)[side];
}

/** The settings a side has, in table order. */
export function settingsOn(side: Side): SettingName[] {
  return SETTING_NAMES.filter((n) => nameOn(side, n) !== undefined);
}

/** The setting a side calls `name`. */
export function settingNamed(side: Side, name: string): SettingName | undefined {
  return SETTING_NAMES.find((n) => nameOn(side, n) === name);
}

/** The settings it excludes, whichever row declared the pair, in table order. */
export function excludedBy(name: SettingName): SettingName[] {
  const own: readonly string[] = setting(name).excludes ?? [];
  const declares = (n: SettingName) => (setting(n).excludes ?? []).some((x: string) => x === name);
  return SETTING_NAMES.filter((n) => n !== name && (own.includes(n) || declares(n)));
}

/** A list as a sentence says it: "a", "a or b", "a, b or c". */
export function listOf(items: readonly string[], conjunction: 'and' | 'or'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** What a side's docs say of a setting: its line, what it needs and excludes (as that side names them), its default. */
export function describeSetting(name: SettingName, side: Side, opts: { withDefault: boolean }): string {
  const s = setting(name);
  const term = (n: SettingName) => (side === 'flag' ? `--${nameOn(side, n)}` : nameOn(side, n)!);
  const onSide = (ns: readonly string[] | undefined) =>
    (ns ?? []).filter((n) => nameOn(side, n as SettingName) !== undefined).map((n) => term(n as SettingName));
  const needs = onSide(s.needs);
  const needsWithoutFile = onSide(s.needsWithoutFile);
  const excludes = onSide(excludedBy(name));
  return [
    s.about,
    ...(s.read === 'list' ? [side === 'flag' ? 'repeat the flag for several' : 'one a line'] : []),
    ...(needs.length > 0 ? [`needs ${listOf(needs, 'or')}`] : []),
    ...(needsWithoutFile.length > 0 ? [`needs ${listOf(needsWithoutFile, 'or')} without a config file`] : []),
    ...(excludes.length > 0 ? [`excludes ${listOf(excludes, 'and')}`] : []),
    ...(opts.withDefault && s.default !== undefined ? [`default ${s.default}`] : []),
  ].join('; ');
}
