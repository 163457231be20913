// A small typed reader over the raw config (YAML document plus overrides from flags or action inputs).
// Every error names where the value came from (file:line and key path, or the flag) and what was
// expected, so a person can fix it without reading our code.

export type Path = ReadonlyArray<string | number>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Says where a value at a key path came from: "loadgate.yml:12 load.stages[1].users" or "--users". */
export type Locator = (path: Path) => string;

export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

export class Reader {
  readonly locate: Locator;
  constructor(locate: Locator) {
    this.locate = locate;
  }

  fail(path: Path, message: string): never {
    throw new ConfigError(`${this.locate(path)}: ${message}`);
  }

  /** A mapping with only the known keys (an unknown key is an error, with a suggestion). */
  object(v: unknown, path: Path, known: readonly string[]): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected a mapping, got ${describeValue(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) {
        const near = closest(k, known);
        this.fail([...path, k], `unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ''}; known keys: ${known.join(', ')}`);
      }
    }
    return o;
  }

  list(v: unknown, path: Path, minItems = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected a list, got ${describeValue(v)}`);
    if (v.length < minItems) this.fail(path, `expected at least ${minItems} item${minItems === 1 ? '' : 's'}, got ${v.length}`);
    return v;
  }

  string(v: unknown, path: Path, opts: { nonEmpty?: boolean } = {}): string {
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describeValue(v)}`);
    if (opts.nonEmpty !== false && v.trim() === '') this.fail(path, 'expected a non-empty string');
    return v;
  }

  number(v: unknown, path: Path, opts: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) this.fail(path, `expected a number, got ${describeValue(v)}`);
    if (opts.integer && !Number.isInteger(n)) this.fail(path, `expected a whole number, got ${n}`);
    if (opts.min !== undefined && n < opts.min) this.fail(path, `must be at least ${opts.min}, got ${n}`);
    if (opts.above !== undefined && n <= opts.above) this.fail(path, `must be greater than ${opts.above}, got ${n}`);
    if (opts.max !== undefined && n > opts.max) this.fail(path, `must be at most ${opts.max}, got ${n}`);
    return n;
  }

  boolean(v: unknown, path: Path): boolean {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.fail(path, `expected true or false, got ${describeValue(v)}`);
  }

  /** "30s", "1m30s", "500ms", "2h", or a bare number of seconds. Returns ms; must be > 0 unless allowZero. */
  duration(v: unknown, path: Path, opts: { allowZero?: boolean } = {}): number {
    const ms = parseDuration(v);
    if (ms === null) this.fail(path, `expected a duration like 30s, 1m30s or 500ms, got ${describeValue(v)}`);
    if (ms < 0 || (ms === 0 && !opts.allowZero)) this.fail(path, `must be a positive duration, got ${describeValue(v)}`);
    return ms;
  }

  oneOf<T extends string>(v: unknown, path: Path, choices: readonly T[]): T {
    const s = typeof v === 'string' ? v.trim() : v;
    if (typeof s !== 'string' || !choices.includes(s as T)) {
      this.fail(path, `expected one of ${choices.join(', ')}, got ${describeValue(v)}`);
    }
    return s as T;
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v * 1000 : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  const sign = s.startsWith('-') ? -1 : 1;
  const body = sign < 0 ? s.slice(1) : s;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === body.length && pos > 0 ? sign * total : null;
}

/**
 * The known key nearest to a mistyped one: the same when case and -_ are ignored, or within an edit
 * distance of about a third of its length (so "ramp" does not suggest "name", but "spwan-rate" finds "spawn-rate").
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestD = Math.min(3, Math.floor(key.length / 3) + 1);
  for (const k of known) {
    const d = norm(k) === norm(key) ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
