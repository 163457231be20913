// The HTTP words the config's sections share: a request path (request:, ready:, a schema's operation),
// a method, and a set of statuses (expect-status:, invalid-status:, ready.status) with its matcher.

import { type Path, type Reader, describeValue } from './reader.ts';
import type { StatusSet } from './types.ts';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export function readPath(r: Reader, v: unknown, path: Path): string {
  const s = r.string(v, path).trim();
  if (!s.startsWith('/')) r.fail(path, `expected a path starting with /, got ${describeValue(v)}`);
  if (/\s/.test(s)) r.fail(path, `a path cannot contain spaces, got ${describeValue(v)}`);
  return s;
}

/** 200, "200-299", or a list of those. */
export function readStatusSet(r: Reader, v: unknown, path: Path): StatusSet {
  const items = Array.isArray(v) ? v : [v];
  return items.map((it, i) => {
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
}

export function statusMatches(set: StatusSet, status: number): boolean {
  for (const [low, high] of set) if (status >= low && status <= high) return true;
  return false;
}
