// A small JSON Schema checker for exactly the keywords the generator supports. The generator uses it
// to keep only the enum values, defaults and examples that satisfy every constraint, to make sure a
// oneOf value matches one branch only, and to check each generated value before it is used (a value
// that fails is a bug or an unsatisfiable schema, and is reported, never sent). CSV replay uses it too.
//
// Semantics follow what validators do (ajv + ajv-formats): draft-4 boolean and draft-6+ numeric
// exclusive bounds, multipleOf by exact division, lengths in code points, patterns with the `u` flag,
// OpenAPI 3.0 `nullable` (and Swagger's `x-nullable`), `$ref` beside other keywords applies both. Unknown formats pass.

import { isIPv4, isIPv6 } from 'node:net';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, unknown>;

const pointerCache = new WeakMap<object, Map<string, unknown>>();

/** A local `$ref` ("#", "#/definitions/X", "#/components/schemas/X") to its target in `root`, or undefined. */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  const cache = typeof root === 'object' && root !== null ? (pointerCache.get(root) ?? new Map<string, unknown>()) : null;
  if (cache?.has(ref)) return cache.get(ref);
  const pointer = ref.slice(1);
  let cur: unknown = root;
  if (pointer !== '') {
    if (!pointer.startsWith('/')) return undefined;
    for (const raw of pointer.slice(1).split('/')) {
      const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) {
        cur = undefined;
        break;
      }
      cur = (cur as Obj)[key];
    }
  }
  if (cache) {
    cache.set(ref, cur);
    pointerCache.set(root as object, cache);
  }
  return cur;
}

export function escapePointer(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key;
}

export function jsonType(v: unknown): 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (t === 'boolean' || t === 'string') return t;
  return 'object';
}

/** Deep equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Obj)[k], (b as Obj)[k]));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2}|60)(\.\d+)?(z|[+-]\d{2}(:?\d{2})?)$/i;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= (mo === 2 && leap ? 29 : DAYS[mo]!);
}
function validTime(s: string): boolean {
  const m = TIME.exec(s);
  return !!m && Number(m[1]) <= 23 && Number(m[2]) <= 59 && (Number(m[3]) <= 59 || m[3] === '60');
}

/** Format checks (the formats the generator produces); unknown formats pass, as in JSON Schema. */
export const FORMAT_CHECKS: Record<string, (s: string) => boolean> = {
  date: validDate,
  time: validTime,
  'date-time': (s) => {
    const [d, t, ...rest] = s.split(/t/i);
    return rest.length === 0 && t !== undefined && validDate(d!) && validTime(t);
  },
  email: (s) =>
    /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(
      s,
    ),
  hostname: (s) => /^(?=.{1,253}\.?$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([-0-9a-z]{0,61}[0-9a-z])?)*\.?$/i.test(s),
  ipv4: (s) => isIPv4(s),
  ipv6: (s) => isIPv6(s),
  uuid: (s) => /^(urn:uuid:)?[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(s),
  uri: (s) => /^[a-z][a-z0-9+.-]*:[^\s]*$/i.test(s),
  url: (s) => /^(https?|ftp):\/\/[^\s/$.?#][^\s]*$/i.test(s),
  'uri-reference': (s) => !/\s/.test(s),
  duration: (s) => /^P(?!$)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)$/.test(s),
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
};
const NUMBER_FORMATS: Record<string, (n: number) => boolean> = {
  int32: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1,
  int64: (n) => Number.isInteger(n),
};

const regexCache = new Map<string, RegExp | null>();
function regexOf(p: string): RegExp | null {
  let re = regexCache.get(p);
  if (re === undefined) {
    try {
      re = new RegExp(p, 'u');
    } catch {
      try {
        re = new RegExp(p);
      } catch {
        re = null;
      }
    }
    regexCache.set(p, re);
  }
  return re;
}

function typeMatches(t: string, vt: string): boolean {
  if (t === vt) return true;
  // JSON has one number type: 2.0 is an integer for JSON Schema, and every integer is a number.
  return t === 'number' && vt === 'integer';
}

/**
 * Checks `value` against `schema`; returns null when valid, else the first problem, with the path in
 * the value ("/address/city: ...").
 */
export function checkValue(schema: unknown, value: unknown, root: unknown = schema): string | null {
  return check(schema, value, root, '', 0);
}

function check(schema: unknown, v: unknown, root: unknown, at: string, depth: number): string | null {
  if (schema === true || schema === undefined) return null;
  if (schema === false) return `${at || '/'}: no value is allowed here`;
  if (typeof schema !== 'object' || schema === null) return null;
  if (depth > 200) return `${at}: schema nesting too deep`;
  const s = schema as Obj;
  const here = at || '/';
  if (typeof s['$ref'] === 'string') {
    const target = resolvePointer(root, s['$ref']);
    if (target === undefined) return `${here}: unresolvable $ref ${s['$ref']}`;
    const e = check(target, v, root, at, depth + 1);
    if (e) return e;
  }
  const vt = jsonType(v);
  const nullable = s['nullable'] === true || s['x-nullable'] === true;
  if (s['type'] !== undefined) {
    const types = Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string];
    const ok = types.some((t) => typeMatches(t, vt)) || (v === null && nullable);
    if (!ok) return `${here}: ${JSON.stringify(v)} is not of type ${types.join(' or ')}`;
  }
  if (s['const'] !== undefined && !jsonEqual(s['const'], v)) return `${here}: must equal ${JSON.stringify(s['const'])}`;
  if (Array.isArray(s['enum']) && !s['enum'].some((e) => jsonEqual(e, v)) && !(v === null && nullable)) {
    return `${here}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s['enum'])}`;
  }
  if (typeof v === 'number') {
    const e = checkNumber(s, v, here);
    if (e) return e;
  } else if (typeof v === 'string') {
    const len = [...v].length;
    if (typeof s['minLength'] === 'number' && len < s['minLength']) return `${here}: shorter than ${s['minLength']} characters`;
    if (typeof s['maxLength'] === 'number' && len > s['maxLength']) return `${here}: longer than ${s['maxLength']} characters`;
    if (typeof s['pattern'] === 'string') {
      const re = regexOf(s['pattern']);
      if (re && !re.test(v)) return `${here}: ${JSON.stringify(v)} does not match pattern ${s['pattern']}`;
    }
    if (typeof s['format'] === 'string') {
      const f = FORMAT_CHECKS[s['format']];
      if (f && !f(v)) return `${here}: ${JSON.stringify(v)} is not a valid ${s['format']}`;
    }
  } else if (Array.isArray(v)) {
    const e = checkArray(s, v, root, at, depth);
    if (e) return e;
  } else if (vt === 'object') {
    const e = checkObject(s, v as Obj, root, at, depth);
    if (e) return e;
  }
  if (Array.isArray(s['allOf'])) {
    for (const sub of s['allOf']) {
      const e = check(sub, v, root, at, depth + 1);
      if (e) return e;
    }
  }
  if (Array.isArray(s['anyOf']) && !s['anyOf'].some((sub) => check(sub, v, root, at, depth + 1) === null)) {
    return `${here}: matches none of anyOf`;
  }
  if (Array.isArray(s['oneOf'])) {
    const n = s['oneOf'].filter((sub) => check(sub, v, root, at, depth + 1) === null).length;
    if (n !== 1) return `${here}: matches ${n} branches of oneOf, not exactly one`;
  }
  return null;
}

function checkNumber(s: Obj, v: number, here: string): string | null {
  const min = s['minimum'];
  const max = s['maximum'];
  const exMin = s['exclusiveMinimum'];
  const exMax = s['exclusiveMaximum'];
  if (typeof min === 'number' && (exMin === true ? v <= min : v < min))
    return `${here}: ${v} is below ${exMin === true ? 'exclusive ' : ''}minimum ${min}`;
  if (typeof max === 'number' && (exMax === true ? v >= max : v > max))
    return `${here}: ${v} is above ${exMax === true ? 'exclusive ' : ''}maximum ${max}`;
  if (typeof exMin === 'number' && v <= exMin) return `${here}: ${v} is not above exclusiveMinimum ${exMin}`;
  if (typeof exMax === 'number' && v >= exMax) return `${here}: ${v} is not below exclusiveMaximum ${exMax}`;
  const m = s['multipleOf'];
  if (typeof m === 'number' && m > 0) {
    const q = v / m;
    if (q !== parseInt(String(q), 10)) return `${here}: ${v} is not a multiple of ${m}`;
  }
  if (typeof s['format'] === 'string') {
    const f = NUMBER_FORMATS[s['format']];
    if (f && !f(v)) return `${here}: ${v} is not a valid ${s['format']}`;
  }
  return null;
}

function checkArray(s: Obj, v: unknown[], root: unknown, at: string, depth: number): string | null {
  const here = at || '/';
  if (typeof s['minItems'] === 'number' && v.length < s['minItems']) return `${here}: fewer than ${s['minItems']} items`;
  if (typeof s['maxItems'] === 'number' && v.length > s['maxItems']) return `${here}: more than ${s['maxItems']} items`;
  const prefix = Array.isArray(s['prefixItems'])
    ? (s['prefixItems'] as unknown[])
    : Array.isArray(s['items'])
      ? (s['items'] as unknown[])
      : [];
  const rest = Array.isArray(s['prefixItems']) ? s['items'] : Array.isArray(s['items']) ? s['additionalItems'] : s['items'];
  for (let i = 0; i < v.length; i++) {
    const sub = i < prefix.length ? prefix[i] : rest;
    const e = check(sub, v[i], root, `${at}/${i}`, depth + 1);
    if (e) return e;
  }
  if (s['uniqueItems'] === true) {
    for (let i = 0; i < v.length; i++) {
      for (let j = i + 1; j < v.length; j++) if (jsonEqual(v[i], v[j])) return `${here}: items ${i} and ${j} are equal (uniqueItems)`;
    }
  }
  return null;
}

function checkObject(s: Obj, v: Obj, root: unknown, at: string, depth: number): string | null {
  const here = at || '/';
  const keys = Object.keys(v);
  if (Array.isArray(s['required'])) {
    for (const k of s['required'] as string[]) if (!Object.hasOwn(v, k)) return `${here}: missing required property "${k}"`;
  }
  if (typeof s['minProperties'] === 'number' && keys.length < s['minProperties'])
    return `${here}: fewer than ${s['minProperties']} properties`;
  if (typeof s['maxProperties'] === 'number' && keys.length > s['maxProperties'])
    return `${here}: more than ${s['maxProperties']} properties`;
  const props = (s['properties'] ?? {}) as Obj;
  const patterns = Object.entries((s['patternProperties'] ?? {}) as Obj);
  const deps = { ...((s['dependentRequired'] ?? {}) as Obj), ...((s['dependencies'] ?? {}) as Obj) };
  for (const k of keys) {
    const sub = `${at}/${escapePointer(k)}`;
    if (s['propertyNames'] !== undefined) {
      const e = check(s['propertyNames'], k, root, sub, depth + 1);
      if (e) return `${here}: property name ${JSON.stringify(k)} is not allowed (${e})`;
    }
    let covered = false;
    if (Object.hasOwn(props, k)) {
      covered = true;
      const e = check(props[k], v[k], root, sub, depth + 1);
      if (e) return e;
    }
    for (const [p, ps] of patterns) {
      if (regexOf(p)?.test(k)) {
        covered = true;
        const e = check(ps, v[k], root, sub, depth + 1);
        if (e) return e;
      }
    }
    if (!covered && s['additionalProperties'] !== undefined) {
      if (s['additionalProperties'] === false) return `${here}: property "${k}" is not allowed (additionalProperties: false)`;
      const e = check(s['additionalProperties'], v[k], root, sub, depth + 1);
      if (e) return e;
    }
    const dep = deps[k];
    if (Array.isArray(dep)) {
      for (const d of dep as string[]) if (!Object.hasOwn(v, d)) return `${here}: "${k}" requires "${d}"`;
    }
  }
  return null;
}
