// Deliberately invalid requests, to test a service's error path: each is a valid generated body with one
// thing broken (a required field missing, a value of the wrong type, a value out of range or not in its
// enum), and each is checked to really be invalid against the schema before it is used.

import { createGenerator } from './generate.ts';
import { mulberry32 } from './random.ts';
import { checkValue, resolvePointer } from './validate.ts';

export type Breakage = 'missing-field' | 'wrong-type' | 'out-of-range';

export interface InvalidBody {
  value: unknown;
  /** What was broken, e.g. "age: out of range (70)". */
  why: string;
}

type Obj = Record<string, unknown>;

/** The schema with a top-level $ref followed and allOf parts merged shallowly: enough to see properties. */
function flatten(schema: unknown, root: unknown, depth = 0): Obj {
  if (typeof schema !== 'object' || schema === null || depth > 10) return {};
  let s = schema as Obj;
  if (typeof s['$ref'] === 'string') s = { ...flatten(resolvePointer(root, s['$ref']), root, depth + 1), ...s, $ref: undefined };
  if (Array.isArray(s['allOf'])) {
    for (const part of s['allOf']) {
      const f = flatten(part, root, depth + 1);
      s = {
        ...f,
        ...s,
        properties: { ...((f['properties'] as Obj) ?? {}), ...((s['properties'] as Obj) ?? {}) },
        required: [...((f['required'] as string[]) ?? []), ...((s['required'] as string[]) ?? [])],
      };
    }
  }
  return s;
}

/** A value of another JSON type than the property expects (checked afterwards anyway). */
function wrongTypeFor(prop: Obj): unknown {
  const t = Array.isArray(prop['type']) ? prop['type'][0] : prop['type'];
  const sample = Array.isArray(prop['enum']) ? prop['enum'][0] : prop['const'];
  const kind = t ?? (sample === undefined ? undefined : typeof sample);
  if (kind === 'string') return 12345;
  if (kind === 'integer' || kind === 'number') return 'not a number';
  if (kind === 'boolean') return 'not a boolean';
  if (kind === 'array') return { not: 'a list' };
  if (kind === 'object') return ['not', 'an', 'object'];
  return { unexpected: true };
}

/** A value just outside the property's bounds or enum, when it has any. */
function outOfRangeFor(prop: Obj, rnd: () => number): unknown | undefined {
  if (Array.isArray(prop['enum'])) {
    const first = prop['enum'][0];
    return typeof first === 'number' ? Math.max(...(prop['enum'] as number[])) + 1 : 'not-one-of-the-choices';
  }
  const step = prop['type'] === 'integer' ? 1 + Math.floor(rnd() * 10) : 1 + rnd() * 10;
  for (const [k, sign] of [
    ['maximum', 1],
    ['exclusiveMaximum', 1],
    ['minimum', -1],
    ['exclusiveMinimum', -1],
  ] as const) {
    const b = prop[k];
    if (typeof b === 'number') return b + sign * step;
  }
  if (typeof prop['maxLength'] === 'number') return 'x'.repeat(prop['maxLength'] + 1 + Math.floor(rnd() * 5));
  if (typeof prop['minLength'] === 'number' && prop['minLength'] > 0) return '';
  if (typeof prop['maxItems'] === 'number') return Array.from({ length: prop['maxItems'] + 1 }, () => null);
  return undefined;
}

export interface InvalidGenerator {
  next(): InvalidBody;
}

/**
 * Generates invalid bodies for an object schema. Throws when the schema leaves nothing to break (no
 * required field, no typed or bounded property): such a service has no error path to test from the schema.
 */
export function createInvalidGenerator(schema: unknown, opts: { seed: number; root?: unknown }): InvalidGenerator {
  const root = opts.root ?? schema;
  const top = flatten(schema, root);
  const props = (top['properties'] ?? {}) as Obj;
  const required = ((top['required'] as string[]) ?? []).filter((k) => typeof k === 'string');
  const names = Object.keys(props);
  if (required.length === 0 && names.length === 0) {
    throw new Error('cannot make invalid requests from this schema: it has no properties or required fields to break');
  }
  const valid = createGenerator(schema, { seed: opts.seed, root });
  const rnd = mulberry32(opts.seed ^ 0x5bd1e995);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const breakages: Breakage[] = [...(required.length ? (['missing-field'] as const) : []), 'wrong-type', 'out-of-range'];

  return {
    next() {
      for (let attempt = 0; attempt < 50; attempt++) {
        const base = valid.next();
        if (typeof base !== 'object' || base === null || Array.isArray(base)) break;
        const body = { ...(base as Obj) };
        const how = pick(breakages);
        let why: string;
        if (how === 'missing-field') {
          const k = pick(required);
          delete body[k];
          why = `${k}: missing`;
        } else {
          const k = pick(names.length ? names : required);
          const prop = flatten(props[k] ?? {}, root);
          const v = how === 'wrong-type' ? wrongTypeFor(prop) : outOfRangeFor(prop, rnd);
          if (v === undefined) continue;
          body[k] = v;
          why = `${k}: ${how === 'wrong-type' ? 'wrong type' : 'out of range'} (${JSON.stringify(v).slice(0, 40)})`;
        }
        // Only what the schema really rejects counts as invalid.
        if (checkValue(schema, body, root) !== null) return { value: body, why };
      }
      throw new Error('cannot make invalid requests from this schema: nothing tried was rejected by it');
    },
  };
}
