// What a setting given outside the file (a CLI flag, an action input) does to the sections of the file it
// replaces: one set of rules for both front ends, which only translate their names into these calls.
// Each reshape carries no origin (an error in what the file still says points at the file); each value
// set carries the flag or input it came from.

import type { Override } from './config.ts';

type Raw = Record<string, unknown>;

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
export function serviceOverrides(raw: Raw, kind: 'url' | 'command' | 'image', value: string, origin: string): Override[] {
  const service = mapping(raw['service']);
  const keepReady = service['ready'] !== undefined ? { ready: service['ready'] } : {};
  const o: Override[] = [];
  if (kind === 'url' || service[kind] === undefined) o.push({ path: ['service'], value: keepReady });
  else if (kind === 'image' && service['build'] !== undefined) {
    o.push({ path: ['service'], value: Object.fromEntries(Object.entries(service).filter(([k]) => k !== 'build')) });
  }
  o.push({ path: ['service', kind], value, origin });
  return o;
}

/** The readiness path or timeout from outside: merged into the file's `ready:` (its short form `ready: /path` expanded first). */
export function readyOverrides(raw: Raw, given: { path?: [string, string]; timeout?: [string, string] }): Override[] {
  const ready = mapping(raw['service'])['ready'];
  const o: Override[] = [];
  if (typeof ready === 'string' && (given.path || given.timeout)) o.push({ path: ['service', 'ready'], value: { path: ready } });
  if (given.path) o.push({ path: ['service', 'ready', 'path'], value: given.path[0], origin: given.path[1] });
  if (given.timeout) o.push({ path: ['service', 'ready', 'timeout'], value: given.timeout[0], origin: given.timeout[1] });
  return o;
}

/** The file's one request, kept for settings given outside it; without its body when a new body replaces it. */
export function requestReshape(raw: Raw, replacesBody: boolean): Override {
  const base = { ...mapping(raw['request']) };
  if (replacesBody) for (const k of ['body', 'bodies', 'schema', 'generate', 'wrap', 'batch']) delete base[k];
  return { path: ['request'], value: base };
}

/** New stages replace the file's, and what only applies to the other model (pacing is closed, max-in-flight open). */
export function loadReshape(raw: Raw, closed: boolean): Override {
  const load = { ...mapping(raw['load']) };
  delete load[closed ? 'max-in-flight' : 'pacing'];
  delete load['stages'];
  return { path: ['load'], value: load };
}
