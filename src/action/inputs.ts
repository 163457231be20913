// The action's inputs, read once: what the run is (a config file and the inputs that override it, as
// config overrides that name their input) and what the action does around it (token, comment, artifact
// name, gate). Mirrors the CLI's flags (src/cli.ts): an input replaces what the file says at the same place.
//
// Pure apart from reading the config file in `planFromInputs`: inputs come in through `get`, so tests
// need no runner. Errors are InputErrors (or ConfigErrors from the plan) whose message names the input.

import { createHash } from 'node:crypto';
import { parseDocument, LineCounter } from 'yaml';
import { type Override, type RawConfig, applyOverrides, buildPlan, emptyConfig, readConfigFile } from '../plan/config.ts';
import type { Plan } from '../plan/types.ts';
import { loadReshape, readyOverrides, requestReshape, serviceOverrides } from '../plan/overrides.ts';
import { SloSyntaxError, parseSloLine } from '../plan/slo.ts';

export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Inputs that shape the run (each becomes config overrides). */
export const RUN_INPUTS = [
  'service-image', 'service-command', 'service-url', 'service-port', 'service-env', 'service-cpus', 'service-memory', 'service-ready',
  'endpoint', 'body', 'preset', 'model', 'schema',
  'stages', 'users', 'rate', 'duration', 'pacing', 'max-in-flight',
  'slos', 'warm-up', 'timeout', 'report-dir',
] as const;
export type RunInput = (typeof RUN_INPUTS)[number];

/** Multi-line inputs: read untrimmed, so line numbers in messages match what the user wrote. */
const MULTILINE: ReadonlySet<string> = new Set(['service-env', 'stages', 'slos', 'body']);

export interface ActionInputs {
  /** The YAML config file, when one is named. */
  config?: string;
  /** The run inputs as given ('' = not set). */
  values: Record<RunInput, string>;
  githubToken: string;
  comment: boolean;
  /** The input, or undefined to derive one per job, matrix leg and attempt. */
  artifactName?: string;
  failOnBreach: boolean;
  /** `toJSON(matrix)` ('null' outside a matrix): tells matrix legs apart in artifact names and comments. */
  matrix: string;
}

/** An input's value, as `core.getInput` gives it; `trim: false` keeps leading blank lines. */
type GetInput = (name: string, opts?: { trim: boolean }) => string;

export function readInputs(get: GetInput): ActionInputs {
  const values = {} as Record<RunInput, string>;
  for (const name of RUN_INPUTS) {
    const v = get(name, { trim: !MULTILINE.has(name) });
    values[name] = v.trim() === '' ? '' : v;
  }
  const config = get('config', { trim: true });
  const artifactName = get('artifact-name', { trim: true });
  if (artifactName && /[":<>|*?\r\n\\/]/.test(artifactName)) {
    throw new InputError(`input "artifact-name": "${artifactName}" holds a character artifact names cannot have (one of " : < > | * ? \\ / or a line break)`);
  }
  return {
    ...(config ? { config } : {}),
    values,
    githubToken: get('github-token', { trim: true }),
    comment: booleanInput(get, 'comment', true),
    ...(artifactName ? { artifactName } : {}),
    failOnBreach: booleanInput(get, 'fail-on-breach', true),
    matrix: get('matrix', { trim: true }) || 'null',
  };
}

function booleanInput(get: GetInput, name: string, dflt: boolean): boolean {
  const v = get(name, { trim: true });
  if (v === '') return dflt;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^(false|no|off)$/i.test(v)) return false;
  throw new InputError(`input "${name}": expected true or false, got "${v}"`);
}

/** The config file (if any) with the inputs applied, as one validated plan. */
export function planFromInputs(inputs: ActionInputs, baseDir = process.cwd()): Plan {
  if (!inputs.config) {
    // Without a file, say which inputs are missing (not "config service: missing", about a file there is none of).
    const v = inputs.values;
    const missing = [
      ...(!v['service-image'] && !v['service-command'] && !v['service-url'] ? ['service-image, service-command or service-url'] : []),
      ...(v['service-image'] && !v['service-port'] ? ['service-port (the port inside the container)'] : []),
      ...(!v['endpoint'] && !v['preset'] ? ['endpoint (or preset with model)'] : []),
      ...(!v['stages'] && !v['users'] && !v['rate'] ? ['stages (or users or rate, with duration)'] : []),
    ];
    if (missing.length > 0) throw new InputError(`without a config file (input "config"), give ${missing.join('; ')}`);
  }
  let cfg: RawConfig = inputs.config ? readConfigFile(inputs.config) : emptyConfig(baseDir);
  cfg = applyOverrides(cfg, inputOverrides(inputs.values, cfg.raw));
  return buildPlan(cfg);
}

const origin = (name: RunInput) => `input "${name}"`;

/**
 * Inputs become overrides on the raw config, each remembering its input for error messages. Where an
 * input replaces part of a section, the section is first reshaped without an origin (an error in what the
 * file still says then points at the file), then each input's value is set under its name.
 */
export function inputOverrides(values: Readonly<Record<RunInput, string>>, raw: Record<string, unknown>): Override[] {
  const o: Override[] = [];
  const set = (name: RunInput, path: Array<string | number>, value: unknown, where = origin(name)) => o.push({ path, value, origin: where });
  const reshape = (path: Array<string | number>, value: unknown) => o.push({ path, value });
  const given = (name: RunInput) => values[name] !== '';
  const mapping = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

  // ---- service ----
  const kinds = (['service-image', 'service-command', 'service-url'] as const).filter(given);
  if (kinds.length > 1) throw new InputError(`inputs "${kinds[0]}" and "${kinds[1]}" exclude each other: give one place the service comes from`);
  if (given('service-url')) o.push(...serviceOverrides(raw, 'url', values['service-url'], origin('service-url')));
  else if (given('service-command')) o.push(...serviceOverrides(raw, 'command', values['service-command'], origin('service-command')));
  else if (given('service-image')) o.push(...serviceOverrides(raw, 'image', values['service-image'], origin('service-image')));
  if (given('service-port')) set('service-port', ['service', 'port'], values['service-port']);
  if (given('service-env')) set('service-env', ['service', 'env'], parseEnvLines(values['service-env']));
  if (given('service-cpus')) set('service-cpus', ['service', 'cpus'], values['service-cpus']);
  if (given('service-memory')) set('service-memory', ['service', 'memory'], values['service-memory']);
  if (given('service-ready')) o.push(...readyOverrides(raw, { path: [values['service-ready'], origin('service-ready')] }));

  // ---- request ----
  const reqInputs = (['endpoint', 'body', 'preset', 'model', 'schema'] as const).filter(given);
  if (reqInputs.length > 0) {
    if (raw['requests'] !== undefined) {
      throw new InputError(`input "${reqInputs[0]}" applies to a config with one request:, but this one has requests: (edit the file instead)`);
    }
    if (given('body') && given('schema')) throw new InputError('inputs "body" and "schema" exclude each other: a fixed body, or bodies generated from a schema');
    // A body input replaces whatever the file said the body is.
    o.push(requestReshape(raw, given('body') || given('schema')));
    if (given('endpoint')) {
      const { method, path } = parseEndpoint(values['endpoint']);
      if (method) set('endpoint', ['request', 'method'], method);
      set('endpoint', ['request', 'path'], path);
    }
    if (given('body')) set('body', ['request', 'body'], parseBody(values['body']));
    if (given('preset')) set('preset', ['request', 'preset'], values['preset']);
    if (given('model')) set('model', ['request', 'model'], values['model']);
    if (given('schema')) set('schema', ['request', 'schema'], values['schema']);
  }

  // ---- load ----
  const shapes = (['stages', 'users', 'rate'] as const).filter(given);
  if (shapes.length > 1) throw new InputError(`inputs "${shapes[0]}" and "${shapes[1]}" exclude each other: give the stages, or one stage of users or of rate`);
  if ((given('users') || given('rate')) && !given('duration')) throw new InputError(`input "${shapes[0]}" needs input "duration" (e.g. 30s)`);
  if (given('duration') && !given('users') && !given('rate')) throw new InputError('input "duration" needs input "users" or "rate" (the stages input carries its own durations)');
  if (shapes.length === 1) {
    const stages = given('stages') ? parseStages(values['stages']) : undefined;
    const closed = given('users') || (stages !== undefined && mapping(stages[0])['users'] !== undefined);
    // New stages replace the file's, and what only applies to the other model.
    o.push(loadReshape(raw, closed));
    if (stages) set('stages', ['load', 'stages'], stages);
    else if (given('users')) set('users', ['load', 'stages'], [{ duration: values['duration'], users: values['users'] }]);
    else set('rate', ['load', 'stages'], [{ duration: values['duration'], rate: values['rate'] }]);
    if (!stages) set('duration', ['load', 'stages', 0, 'duration'], values['duration']);
  }
  if (given('pacing')) set('pacing', ['load', 'pacing'], values['pacing']);
  if (given('max-in-flight')) set('max-in-flight', ['load', 'max-in-flight'], values['max-in-flight']);

  // ---- SLOs and the rest ----
  if (given('slos')) {
    // Each line is set on its own, so an error the plan finds (an unknown stage) names the input's line.
    reshape(['slos'], []);
    sloLines(values['slos']).forEach(({ text, line }, i) => set('slos', ['slos', i], text, `${origin('slos')} line ${line}`));
  }
  if (given('warm-up')) set('warm-up', ['warm-up'], values['warm-up']);
  if (given('timeout')) set('timeout', ['timeout'], values['timeout']);
  if (given('report-dir')) set('report-dir', ['output'], values['report-dir']);
  return o;
}

/** "POST /predict", or "/predict" (the method then follows from the body). */
export function parseEndpoint(text: string): { method?: string; path: string } {
  const m = /^\s*(?:([A-Za-z]+)\s+)?(\/\S*)\s*$/.exec(text);
  if (!m) throw new InputError(`input "endpoint": expected "METHOD /path" like "POST /predict", got "${text.trim()}"`);
  return { ...(m[1] ? { method: m[1].toUpperCase() } : {}), path: m[2]! };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InputError(`input "body": not valid JSON (${(e as Error).message})`);
  }
}

/** KEY=value lines; blank lines and # comments are skipped. */
function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, k) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (eq < 0 || key === '') throw new InputError(`input "service-env" line ${k + 1}: expected KEY=value, got "${line.trim()}"`);
    env[key] = line.slice(eq + 1);
  });
  return env;
}

/** The stages input: a YAML list, shaped like the config's load.stages. */
function parseStages(text: string): unknown[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line } = lineCounter.linePos(e.pos[0]);
    throw new InputError(`input "stages" line ${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const v: unknown = doc.toJS();
  if (!Array.isArray(v) || v.length === 0) {
    throw new InputError('input "stages": expected a YAML list of stages, like "- {duration: 30s, users: 5}" or "[{duration: 30s, rate: 10}]"');
  }
  return v;
}

/** SLO lines with their line numbers, checked for syntax (stage and endpoint names are checked with the plan). */
function sloLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  text.split('\n').forEach((raw, k) => {
    const t = raw.replace(/(^|\s)#.*$/, '').trim();
    if (t === '') return;
    try {
      parseSloLine(t);
    } catch (e) {
      if (!(e instanceof SloSyntaxError)) throw e;
      throw new InputError(`input "slos" line ${k + 1}: "${t}": ${e.message}`);
    }
    out.push({ text: t, line: k + 1 });
  });
  return out;
}

/** Tells matrix legs apart: a short hash of `toJSON(matrix)`, or '' outside a matrix. */
export function matrixKey(matrix: string): string {
  const m = matrix.trim();
  if (m === '' || m === 'null' || m === '{}') return '';
  let canonical = m;
  try {
    canonical = JSON.stringify(JSON.parse(m));
  } catch {
    // Not JSON (set by hand): hash it as written.
  }
  return createHash('sha256').update(canonical).digest('hex').slice(0, 8);
}
