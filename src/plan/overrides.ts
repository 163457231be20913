// What settings given outside the file (CLI flags, action inputs) do to the config: one set of rules for
// both front ends, driven by the table in settings.ts. A front end only says which side it is (its names
// are flags or inputs) and which error it throws; the checks (what excludes what, what needs what), the
// reshaping of the file's sections and the wording of every message are here, once.
// Each reshape carries no origin (an error in what the file still says points at the file); each value
// set carries the flag or input it came from.

import type { Override } from './config.ts';
import { type GivenValue, settingValues } from './setting-values.ts';
import { type Part, type Reshape, type SettingName, type Side, SETTING_NAMES } from './settings.ts';
import { excludedBy, listOf, nameOn, setting, settingsOn } from './settings.ts';

type Raw = Record<string, unknown>;

/** A front end: the side its names are on, and the error a bad combination or value throws. */
export interface FrontEnd {
  side: Side;
  error: new (message: string) => Error;
}

/** The settings a front end was given, by their table names. */
export type Given = Partial<Record<SettingName, GivenValue>>;

/** The settings given, from a lookup by the side's own names (undefined = not given). */
export function givenOn(side: Side, lookup: (name: string) => GivenValue | undefined): Given {
  const given: Given = {};
  for (const n of settingsOn(side)) {
    const v = lookup(nameOn(side, n)!);
    if (v !== undefined) given[n] = v;
  }
  return given;
}

/**
 * The overrides the given settings make on the raw config, in table order: before the first value of a
 * section that a setting replaces, the section is reshaped (without an origin), then each setting's
 * values are set under its name.
 */
export function settingOverrides(given: Given, raw: Raw, fe: FrontEnd): Override[] {
  const names = SETTING_NAMES.filter((n) => given[n] !== undefined);
  checkCombination(names, fe);
  const read = (n: SettingName) => settingValues(setting(n).read, setting(n).path, given[n]!, named(fe.side, n), (m) => fail(fe, m));
  const values = new Map(names.map((n) => [n, read(n)]));
  const o: Override[] = [];
  const reshaped = new Set<Reshape>();
  for (const n of names) {
    const r = setting(n).reshapes;
    // The request's two reshapes are one: the file's one request, without its body if a body is given.
    const key = r === 'request-body' ? 'request' : r;
    if (r !== undefined && key !== undefined && !reshaped.has(key)) {
      reshaped.add(key);
      o.push(...reshapeFor(r, n, names, raw, [...values.values()].flat(), fe));
    }
    o.push(...values.get(n)!);
  }
  return o;
}

/** Without a config file: the message naming what is missing for a run (one setting of each part), or undefined. */
export function missingWithoutFile(given: Given, side: Side): string | undefined {
  const has = (n: string) => given[n as SettingName] !== undefined;
  const all = settingsOn(side);
  const missing: string[] = [];
  const parts = new Set<Part>();
  for (const n of all) {
    const s = setting(n);
    if (s.gives !== undefined && !parts.has(s.gives)) {
      parts.add(s.gives);
      const alternatives = all.filter((m) => setting(m).gives === s.gives);
      if (!alternatives.some(has)) missing.push(alternativesText(alternatives, side));
    }
    const needs = onSide(side, s.needsWithoutFile);
    if (has(n) && needs.length > 0 && !needs.some(has)) missing.push(`${terms(side, needs, 'or')} (for ${term(side, n)})`);
  }
  if (missing.length === 0) return undefined;
  return `without ${side === 'flag' ? '--config' : 'a config file (input "config")'}, give ${missing.join('; ')}`;
}

/** "--url or --command, or --image with --port": alternatives with what each needs, those needing the same together. */
function alternativesText(names: SettingName[], side: Side): string {
  const needsOf = (n: SettingName) => onSide(side, [...(setting(n).needs ?? []), ...(setting(n).needsWithoutFile ?? [])]);
  const runs: Array<{ names: SettingName[]; needs: SettingName[] }> = [];
  for (const n of names) {
    const needs = needsOf(n);
    const last = runs[runs.length - 1];
    if (last && last.needs.join() === needs.join()) last.names.push(n);
    else runs.push({ names: [n], needs });
  }
  return runs.map((r) => terms(side, r.names, 'or') + (r.needs.length > 0 ? ` with ${terms(side, r.needs, 'or')}` : '')).join(', or ');
}

/** Settings given together that exclude each other, or one given without what it needs. */
function checkCombination(names: SettingName[], fe: FrontEnd): void {
  const given = (n: string) => names.includes(n as SettingName);
  for (const n of names) {
    for (const other of excludedBy(n)) {
      // Each pair once, named in table order, with the reason its declaring row gives.
      if (!given(other) || SETTING_NAMES.indexOf(other) > SETTING_NAMES.indexOf(n)) continue;
      const why = (setting(n).excludes ?? []).some((x: string) => x === other) ? setting(n).why : setting(other).why;
      fail(fe, `${bothNamed(fe.side, other, n)} exclude each other${why ? `: ${why}` : ''}`);
    }
  }
  for (const n of names) {
    const needs = onSide(fe.side, setting(n).needs);
    if (needs.length === 0 || needs.some(given)) continue;
    const example = needs.length === 1 ? setting(needs[0]!).example : undefined;
    const written = fe.side === 'flag' ? `${term(fe.side, needs[0]!)} ${example}` : example;
    const eg = example === undefined ? '' : ` (e.g. ${written})`;
    fail(fe, `${named(fe.side, n)} needs ${anyNamed(fe.side, needs)}${eg}`);
  }
}

/** The reshape `r` before the first of its settings (`first`) lands; `values` are all the values being set. */
function reshapeFor(r: Reshape, first: SettingName, names: SettingName[], raw: Raw, values: Override[], fe: FrontEnd): Override[] {
  switch (r) {
    case 'service':
      return serviceReshape(raw, setting(first).path.at(-1) as 'url' | 'command' | 'image');
    case 'ready':
      return readyReshape(raw);
    case 'request':
    case 'request-body':
      if (raw['requests'] !== undefined) {
        const what = `${named(fe.side, first)} applies to a config with one request:`;
        fail(fe, `${what}, but this one has requests: (edit the file instead)`);
      }
      return [
        requestReshape(
          raw,
          names.some((n) => setting(n).reshapes === 'request-body'),
        ),
      ];
    case 'stages':
      return [loadReshape(raw, firstStageHasUsers(values))];
  }
}

function fail(fe: FrontEnd, message: string): never {
  throw new fe.error(message);
}

/** As a list names it: `--users`, `users`. */
function term(side: Side, n: SettingName): string {
  return side === 'flag' ? `--${nameOn(side, n)}` : nameOn(side, n)!;
}

/** `--users or --rate`, `users or rate`. */
function terms(side: Side, ns: SettingName[], conjunction: 'and' | 'or'): string {
  return listOf(
    ns.map((n) => term(side, n)),
    conjunction,
  );
}

/** The settings of a list (a row's needs) that the side has. */
function onSide(side: Side, ns: readonly string[] | undefined): SettingName[] {
  return (ns ?? []).filter((n) => nameOn(side, n as SettingName) !== undefined) as SettingName[];
}

/** As a message names it: `--users`, `input "users"`. */
function named(side: Side, n: SettingName): string {
  return side === 'flag' ? term(side, n) : `input "${nameOn(side, n)}"`;
}

/** `--users (closed model) and --rate (open model)`, `inputs "users" (closed model) and "rate" (open model)`. */
function bothNamed(side: Side, a: SettingName, b: SettingName): string {
  const note = (n: SettingName) => (setting(n).note ? ` (${setting(n).note})` : '');
  const one = (n: SettingName) => (side === 'flag' ? term(side, n) : `"${nameOn(side, n)}"`) + note(n);
  return `${side === 'flag' ? '' : 'inputs '}${one(a)} and ${one(b)}`;
}

/** `--users or --rate`, `input "users" or "rate"`. */
function anyNamed(side: Side, ns: SettingName[]): string {
  return side === 'flag'
    ? terms(side, ns, 'or')
    : `input ${listOf(
        ns.map((n) => `"${nameOn(side, n)}"`),
        'or',
      )}`;
}

/** Whether the stages being set start with users (closed model) rather than rate. */
function firstStageHasUsers(values: Override[]): boolean {
  for (const v of values) {
    const p = v.path;
    if (p[0] !== 'load' || p[1] !== 'stages') continue;
    if (p.length === 4 && p[2] === 0 && p[3] === 'users') return true;
    if (p.length === 2 && Array.isArray(v.value)) return mapping(v.value[0])['users'] !== undefined;
  }
  return false;
}

function mapping(v: unknown): Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
}

/**
 * A service from outside the file: a running `url`, a `command` to start, or an `image` to run.
 * - url: nothing the file says of a command or container applies; its readiness stays.
 * - command: the file's command settings stay when it starts a command too (its url: belongs to it).
 * - image: the file's container settings (port, env, limits) stay when it runs an image too, except
 *   `build:`, which would build the file's Dockerfile and tag it as the image given here.
 * Anything else in the file's service is replaced, keeping its readiness.
 */
export function serviceReshape(raw: Raw, kind: 'url' | 'command' | 'image'): Override[] {
  const service = mapping(raw['service']);
  const keepReady = service['ready'] !== undefined ? { ready: service['ready'] } : {};
  if (kind === 'url' || service[kind] === undefined) return [{ path: ['service'], value: keepReady }];
  if (kind === 'image' && service['build'] !== undefined) {
    return [{ path: ['service'], value: Object.fromEntries(Object.entries(service).filter(([k]) => k !== 'build')) }];
  }
  return [];
}

/** A readiness path or timeout from outside merges into the file's `ready:`, its short form `ready: /path` expanded. */
export function readyReshape(raw: Raw): Override[] {
  const ready = mapping(raw['service'])['ready'];
  return typeof ready === 'string' ? [{ path: ['service', 'ready'], value: { path: ready } }] : [];
}

/** The file's one request, kept for settings given outside it; without its body when a new body replaces it. */
export function requestReshape(raw: Raw, replacesBody: boolean): Override {
  const base = { ...mapping(raw['request']) };
  if (replacesBody) for (const k of ['body', 'bodies', 'schema', 'generate', 'wrap', 'batch', 'prompts']) delete base[k];
  return { path: ['request'], value: base };
}

/** New stages replace the file's, and what only applies to the other model (pacing is closed, max-in-flight open). */
export function loadReshape(raw: Raw, closed: boolean): Override {
  const load = { ...mapping(raw['load']) };
  delete load[closed ? 'max-in-flight' : 'pacing'];
  delete load['stages'];
  return { path: ['load'], value: load };
}
