// JSON Schema -> random valid values, for request bodies generated from a model's input schema.
//
// The schema is first walked once (checkSupported, schema-check.ts): every construct the generator cannot
// honour is reported up front, with its schema path ("schema #/properties/x/not: ..."), before anything is
// generated. Then each value is built from "nodes" (schema-node.ts): a node is the conjunction of every
// schema that applies at one place, with its constraints combined. Recursion is cut: once a schema is
// nested in itself more than `maxRecursion` times, or past `maxDepth`, the generator takes the smallest way
// out (optional properties left out, minItems, a null or scalar branch).
//
// Supported: type (and type lists), enum, const, properties, required (optional properties included
// 75% of the time), additionalProperties (extras only for dict-like objects: no declared properties
// and an additionalProperties schema or patternProperties), patternProperties, propertyNames,
// min/maxProperties, dependentRequired (and draft-4 `dependencies` lists), minimum/maximum,
// exclusiveMinimum/exclusiveMaximum (draft-4 booleans and draft-6+ numbers), multipleOf, min/maxLength,
// pattern (regex.ts), format (email, date-time, date, time, uuid, uri/url/iri, uri-reference,
// hostname, ipv4, ipv6, duration, byte, password, json-pointer, regex, and pydantic's ipvany*; others
// are plain strings), items (schema or draft-4..2019 tuple array) + additionalItems, prefixItems,
// min/maxItems, uniqueItems, local $ref ($defs, definitions, components/schemas, with siblings),
// allOf (merged), anyOf (one branch), oneOf (one branch, and the value must fail every other branch:
// values are regenerated until it does), OpenAPI nullable / x-nullable / readOnly (left out of
// requests unless required), default / examples / example (10% of the time, when valid).
// Refused with the schema path: not, if/then/else, dependentSchemas, dependencies with schemas,
// contains, unevaluatedItems, $dynamicRef/$recursiveRef, $ref outside the document ("http://...",
// "other.json", "#anchor"), patterns with lookarounds, backreferences, \b or \p{...}.
//
// Values look real where a property name or format suggests it (faker: names, emails, cities, ages,
// prices...: hints.ts, formats.ts) but always within the schema's constraints; the schema wins over the
// hint. Everything random comes from one seed: a mulberry32 stream and a dedicated, seeded Faker
// instance, so the same seed gives the same values.
//
// Each value is checked against the schema before it is returned (validate.ts): a value that does
// not satisfy the schema is never handed out; a schema that cannot be satisfied is an error.

import { faker as englishFaker } from '@faker-js/faker/locale/en';
import type { Faker } from '@faker-js/faker';
import { formatMaker } from './formats.ts';
import { NUMBER_HINTS, STRING_HINTS, normalize, singular } from './hints.ts';
import { mulberry32, randomInt } from './random.ts';
import { RegexUnsupported, compilePattern } from './regex.ts';
import { SchemaError, type Obj, checkSupported, isObj } from './schema-check.ts';
import { type Group, type Node, type Part, SchemaNodes, boundsText } from './schema-node.ts';
import { FORMAT_CHECKS, checkValue, escapePointer } from './validate.ts';

export interface GeneratorOptions {
  seed: number;
  /** The document `$ref`s resolve in (an OpenAPI document, say); default: the schema itself. */
  root?: unknown;
  /** Where the schema sits in `root`, for messages ("#/components/schemas/Input"); default "#". */
  path?: string;
  /** Share of optional properties included (default 0.75). */
  optionalRate?: number;
  /** Share of null where null is one choice among others (default 0.1). */
  nullRate?: number;
  /** Share of values taken from the schema's `default` / `examples` / `example` when valid (default 0.1). */
  exampleRate?: number;
  /** Past this nesting depth the generator takes the smallest way out (default 12). */
  maxDepth?: number;
  /**
   * How many times a recursive schema may nest inside itself before the generator takes the smallest
   * way out (default 2: a tree gets a root, children and grandchildren, then leaves).
   */
  maxRecursion?: number;
  /** Check every value against the schema before returning it (default true). */
  check?: boolean;
}

export interface GenerateOptions extends GeneratorOptions {
  count: number;
}

/** `count` random values valid against `schema`; the same seed gives the same values. */
export function generateBodies(schema: unknown, opts: GenerateOptions): unknown[] {
  const gen = createGenerator(schema, opts);
  const out: unknown[] = [];
  for (let i = 0; i < opts.count; i++) out.push(gen.next());
  return out;
}

/** JSON text of each value (what the engine sends). */
export function renderBodies(values: readonly unknown[]): string[] {
  return values.map((v) => JSON.stringify(v));
}

export interface ValueGenerator {
  next(): unknown;
}

/** Checks the schema (throws SchemaError for what is not supported) and returns a seeded value source. */
export function createGenerator(schema: unknown, opts: GeneratorOptions): ValueGenerator {
  return new SchemaGenerator(schema, opts);
}

class SchemaGenerator implements ValueGenerator {
  private readonly root: unknown;
  private readonly schema: unknown;
  private readonly path: string;
  private readonly rand: () => number;
  private readonly faker: Faker;
  private readonly optionalRate: number;
  private readonly nullRate: number;
  private readonly exampleRate: number;
  private readonly maxDepth: number;
  private readonly hardDepth: number;
  private readonly maxRecursion: number;
  /** Nodes being generated right now, with how many times each is on the stack. */
  private readonly active = new Map<Node, number>();
  private readonly checkEach: boolean;
  private readonly nodes: SchemaNodes;
  private readonly top: Node;

  constructor(schema: unknown, opts: GeneratorOptions) {
    this.schema = schema;
    this.root = opts.root ?? schema;
    this.path = opts.path ?? '#';
    checkSupported(schema, this.root, this.path);
    this.rand = mulberry32(opts.seed ^ 0x5bd1e995);
    const FakerClass = englishFaker.constructor as typeof Faker;
    this.faker = new FakerClass({ locale: englishFaker.rawDefinitions });
    this.faker.seed(opts.seed >>> 0);
    this.faker.setDefaultRefDate(Date.UTC(2026, 0, 1));
    this.optionalRate = opts.optionalRate ?? 0.75;
    this.nullRate = opts.nullRate ?? 0.1;
    this.exampleRate = opts.exampleRate ?? 0.1;
    this.maxDepth = opts.maxDepth ?? 12;
    this.hardDepth = this.maxDepth + 64;
    this.maxRecursion = opts.maxRecursion ?? 2;
    this.checkEach = opts.check ?? true;
    this.nodes = new SchemaNodes(this.root, this.path);
    this.top = this.nodes.nodeOf(this.nodes.flatten([this.nodes.part(schema, this.path)]));
  }

  next(): unknown {
    let problem = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const v = this.gen(this.top, 0, undefined);
      if (!this.checkEach) return v;
      const err = checkValue(this.schema, v, this.root);
      if (err === null) return v;
      problem = err;
    }
    throw new SchemaError(
      this.path,
      `generated values keep failing the schema (${problem}): this combination of keywords is not supported`,
    );
  }

  private int(lo: number, hi: number): number {
    return randomInt(this.rand, lo, hi);
  }
  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private gen(n: Node, depth: number, name: string | undefined): unknown {
    if (n.never) throw new SchemaError(n.path, n.never);
    if (depth > this.hardDepth) {
      throw new SchemaError(
        n.path,
        `nesting deeper than ${this.hardDepth} levels: the schema is recursive and its required parts never end`,
      );
    }
    if (n.groups.length > 0) return this.genAlternatives(n, depth, name);
    const nesting = this.active.get(n) ?? 0;
    const minimal = depth >= this.maxDepth || nesting > this.maxRecursion;
    if (!minimal && n.examples.length > 0 && this.rand() < this.exampleRate) return clone(this.pick(n.examples));
    if (n.enumVals !== null) {
      const nonNull = n.enumVals.filter((v) => v !== null);
      if (nonNull.length > 0 && nonNull.length < n.enumVals.length && (minimal || this.rand() >= this.nullRate))
        return clone(this.pick(nonNull));
      return clone(this.pick(n.enumVals));
    }
    const type = this.pickType(n, minimal);
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return this.rand() < 0.5;
      case 'integer':
        return this.genNumber(n, name, true);
      case 'number':
        return this.genNumber(n, name, false);
      case 'string':
        return this.genString(n, name);
    }
    this.active.set(n, nesting + 1);
    try {
      return type === 'array' ? this.genArray(n, depth, name, minimal) : this.genObject(n, depth, minimal);
    } finally {
      if (nesting === 0) this.active.delete(n);
      else this.active.set(n, nesting);
    }
  }

  private pickType(n: Node, minimal: boolean): string {
    let types = n.types ? [...n.types] : n.implied.length > 0 ? n.implied : ['string', 'integer', 'boolean'];
    if (types.includes('null') && types.length > 1) {
      if (minimal || this.rand() < this.nullRate) return 'null';
      types = types.filter((t) => t !== 'null');
    }
    if (minimal) {
      const flat = types.filter((t) => t !== 'object' && t !== 'array');
      if (flat.length > 0) types = flat;
    }
    return this.pick(types);
  }

  private genAlternatives(n: Node, depth: number, name: string | undefined): unknown {
    const minimal = depth >= this.maxDepth;
    const bad = n.groups.map(() => new Set<number>());
    let lastProblem = '';
    for (let attempt = 0; attempt < 25; attempt++) {
      const choice = n.groups.map((g, gi) => this.chooseBranch(g, bad[gi]!, minimal));
      if (choice.some((c) => c < 0)) break;
      const v = this.nodes.variant(n, choice);
      if (v.never) {
        // With one group the branch is impossible here; with several, another combination may work.
        if (n.groups.length === 1) bad[0]!.add(choice[0]!);
        lastProblem = v.never;
        continue;
      }
      const value = this.gen(v, depth + 1, name);
      let clash = false;
      n.groups.forEach((g, gi) => {
        if (!g.exclusive || clash) return;
        g.branches.forEach((b, bi) => {
          if (bi !== choice[gi] && !clash && checkValue(b.s, value, this.root) === null) {
            clash = true;
            lastProblem = `the value also matches ${g.path}/${bi}`;
          }
        });
      });
      if (!clash) return value;
    }
    const g = n.groups.find((x) => x.exclusive) ?? n.groups[0]!;
    throw new SchemaError(
      g.path,
      g.exclusive
        ? `could not generate a value matching exactly one "oneOf" branch (${lastProblem}); make the branches distinguishable (e.g. a "const" discriminator property)`
        : `no branch can be satisfied (${lastProblem})`,
    );
  }

  private chooseBranch(g: Group, bad: Set<number>, minimal: boolean): number {
    const ok = g.branches.map((_, i) => i).filter((i) => !bad.has(i));
    if (ok.length === 0) return -1;
    // What each branch can be: only null (Optional's second half), only scalars, or more.
    g.kinds ??= g.branches.map((b) => {
      if (b.s === false) return 'deep';
      const node = this.nodes.nodeOf(this.nodes.flatten([b]));
      const types = node.enumVals ? ['scalar'] : node.types ? [...node.types] : node.implied;
      if (types.length === 1 && types[0] === 'null') return 'null';
      return types.length > 0 && types.every((t) => t !== 'object' && t !== 'array') ? 'flat' : 'deep';
    });
    const kinds = g.kinds;
    const nulls = ok.filter((i) => kinds[i] === 'null');
    const others = ok.filter((i) => kinds[i] !== 'null');
    if (minimal) {
      if (nulls.length > 0) return this.pick(nulls);
      const flat = others.filter((i) => kinds[i] === 'flat');
      if (flat.length > 0) return this.pick(flat);
    }
    if (nulls.length > 0 && others.length > 0) return this.rand() < this.nullRate ? this.pick(nulls) : this.pick(others);
    return this.pick(ok);
  }

  private genNumber(n: Node, name: string | undefined, integer: boolean): number {
    let lo = n.lo;
    let hi = n.hi;
    let loEx = n.loEx;
    let hiEx = n.hiEx;
    const hint = name ? NUMBER_HINTS.find(([re]) => re.test(normalize(name))) : undefined;
    let decimals = hint ? hint[3] : 2;
    // Open ends get a realistic span: from the hint, else 0..100 (integers) or 0..1000.
    const span = integer ? 100 : 1000;
    if (lo === -Infinity && hi === Infinity) [lo, hi] = [0, span];
    else if (lo === -Infinity) lo = hi - span;
    else if (hi === Infinity) hi = lo + span;
    if (hint) {
      // The hint's range only narrows the schema's, never widens it.
      const hlo = Math.max(lo, hint[1]);
      const hhi = Math.min(hi, hint[2]);
      if (hlo < hhi || (hlo === hhi && !(hlo === lo && loEx) && !(hhi === hi && hiEx))) {
        if (hlo > lo) loEx = false;
        if (hhi < hi) hiEx = false;
        [lo, hi] = [hlo, hhi];
      }
    }
    const m = n.multipleOf.length
      ? n.multipleOf.reduce((a, b) => (Number.isInteger(a) && Number.isInteger(b) ? lcm(a, b) : Math.max(a, b)))
      : 0;
    const fits = (v: number) =>
      Number.isFinite(v) &&
      (n.loEx ? v > n.lo : v >= n.lo) &&
      (n.hiEx ? v < n.hi : v <= n.hi) &&
      (loEx ? v > lo : v >= lo) &&
      (hiEx ? v < hi : v <= hi) &&
      n.multipleOf.every((k) => v / k === parseInt(String(v / k), 10)) &&
      (!integer || Number.isInteger(v));
    if (m > 0) {
      const kLo = Math.ceil(lo / m);
      const kHi = Math.floor(hi / m);
      const dm = Math.max(decimalsOf(m), ...n.multipleOf.map(decimalsOf));
      for (let attempt = 0; attempt < 60 && kLo <= kHi; attempt++) {
        const k = attempt < 50 ? this.int(kLo, kHi) : kLo + (attempt - 50);
        const v = Number((k * m).toFixed(Math.min(dm, 20)));
        if (fits(v)) return v;
      }
      // The realistic range may hold no multiple: search the schema's own range from its low end.
      const k0 = Math.ceil((Number.isFinite(n.lo) ? n.lo : lo) / m);
      for (let k = k0; k < k0 + 1000; k++) {
        const v = Number((k * m).toFixed(Math.min(dm, 20)));
        if (fits(v)) return v;
      }
      throw new SchemaError(
        n.path,
        `no ${integer ? 'integer' : 'number'} that is a multiple of ${n.multipleOf.join(' and ')} lies in ${boundsText(n)}`,
      );
    }
    if (integer) {
      let a = Math.ceil(lo);
      let b = Math.floor(hi);
      if (loEx && a === lo) a++;
      if (hiEx && b === hi) b--;
      if (a > b) throw new SchemaError(n.path, `no integer lies in ${boundsText(n)}`);
      return this.int(a, b);
    }
    if (hi < lo || (hi === lo && (loEx || hiEx))) throw new SchemaError(n.path, `no number lies in ${boundsText(n)}`);
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = lo + this.rand() * (hi - lo);
      const rounded = Number(raw.toFixed(decimals));
      if (fits(rounded)) return rounded;
      if (fits(raw)) return raw;
      if (attempt === 10) decimals = 10;
    }
    const mid = lo + (hi - lo) / 2;
    if (fits(mid)) return mid;
    throw new SchemaError(n.path, `no number found in ${boundsText(n)}`);
  }

  private genString(n: Node, name: string | undefined): string {
    const min = n.minLength;
    const max = n.maxLength;
    if (min > max) throw new SchemaError(n.path, `minLength ${min} is above maxLength ${max}`);
    const fits = (s: string) => {
      const len = s.length === [...s].length ? s.length : [...s].length;
      return len >= min && len <= max && n.patterns.every((p) => p.test(s));
    };
    const norm = name ? normalize(name) : '';
    if (n.format !== null) {
      const make = formatMaker(n.format, norm, this.faker, this.rand);
      if (make) {
        const check = FORMAT_CHECKS[n.format];
        for (let attempt = 0; attempt < 30; attempt++) {
          const s = make();
          if (fits(s) && (!check || check(s))) return s;
        }
        throw new SchemaError(n.path, `no "${n.format}" string found that also fits ${stringLimits(n)}`);
      }
    }
    const hints = norm ? STRING_HINTS.find(([re]) => re.test(norm))?.[1] : undefined;
    if (hints) {
      for (const hint of hints) {
        const s = hint(this.faker, this.rand);
        if (fits(s)) return s;
      }
    }
    if (n.patterns.length > 0) {
      const [first, ...others] = n.patterns;
      for (let attempt = 0; attempt < 20; attempt++) {
        const s = first!.generate(this.rand, min, Number.isFinite(max) ? max : Math.max(min, 0) + 256);
        if (s !== null && others.every((p) => p.test(s))) return s;
      }
      throw new SchemaError(n.path, `could not generate a string that fits ${stringLimits(n)}`);
    }
    if (hints && Number.isFinite(max)) {
      // A realistic value cut to the maximum length (at a word end if it can) reads better than lorem.
      let s = hints[0]!(this.faker, this.rand).slice(0, max + 1);
      const cut = s.lastIndexOf(' ', max);
      s = (cut >= min && cut > 0 ? s.slice(0, cut) : s.slice(0, max)).replace(/[\s,;:]+$/, '');
      if (fits(s)) return s;
    }
    const words = this.faker.lorem.words({ min: 1, max: 3 });
    if (fits(words)) return words;
    // Exact length from lorem text: any length in [min, min(max, min + 40)].
    const len = this.int(min, Math.min(max, Math.max(min, 1) + 40));
    let s = '';
    while (s.length < len) s += (s ? ' ' : '') + this.faker.lorem.word();
    s = s.slice(0, len);
    if (s.endsWith(' ')) s = `${s.slice(0, -1)}a`;
    return s;
  }

  private genArray(n: Node, depth: number, name: string | undefined, minimal: boolean): unknown[] {
    const lo = n.minItems;
    const hi = Math.min(n.maxItems, n.maxLen);
    if (lo > hi) throw new SchemaError(n.path, `no array length fits minItems ${lo} and at most ${hi} items`);
    let len: number;
    if (minimal) len = lo;
    else if (n.prefixLen > 0) len = Math.max(lo, Math.min(n.prefixLen, hi));
    else len = this.int(Math.max(lo, Math.min(1, hi)), Math.min(hi, Math.max(lo, 1) + 3));
    const out: unknown[] = [];
    const seen = new Set<string>();
    const itemName = singular(name);
    for (let i = 0; i < len; i++) {
      const node = this.nodes.item(n, i);
      if (node === null) throw new SchemaError(n.path, `items past ${i} are not allowed, but ${lo} are required`);
      let v: unknown;
      let ok = false;
      for (let attempt = 0; attempt < (n.uniqueItems ? 30 : 1); attempt++) {
        v = this.gen(node, depth + 1, itemName);
        if (!n.uniqueItems) {
          ok = true;
          break;
        }
        const key = canonical(v);
        if (!seen.has(key)) {
          seen.add(key);
          ok = true;
          break;
        }
      }
      if (!ok) {
        if (i >= lo) break; // shorter is fine
        throw new SchemaError(n.path, `could not generate ${lo} distinct items (uniqueItems)`);
      }
      out.push(v);
    }
    return out;
  }

  private genObject(n: Node, depth: number, minimal: boolean): Record<string, unknown> {
    const chosen = new Set<string>();
    const optional: string[] = [];
    for (const name of n.propNames) {
      const kid = this.nodes.child(n, name);
      const required = n.required.has(name);
      if (kid === null || kid.never) {
        if (required) {
          if (kid) throw new SchemaError(kid.path, kid.never!);
          throw new SchemaError(n.path, `required property "${name}" is not allowed here (additionalProperties: false or propertyNames)`);
        }
        continue;
      }
      if (required) chosen.add(name);
      else if (!kid.readOnly) {
        optional.push(name);
        if (!minimal && this.rand() < this.optionalRate) chosen.add(name);
      }
    }
    // dependentRequired: a present property brings the ones it needs (the set grows while iterated).
    if (n.dependent.size > 0) {
      for (const c of chosen) {
        for (const d of n.dependent.get(c) ?? []) {
          if (chosen.has(d)) continue;
          const kid = this.nodes.child(n, d);
          if (kid === null || kid.never) throw new SchemaError(n.path, `"${c}" requires "${d}", which cannot be generated here`);
          chosen.add(d);
        }
      }
    }
    while (chosen.size < n.minProps) {
      const spare = optional.filter((o) => !chosen.has(o));
      if (spare.length === 0) break;
      chosen.add(this.pick(spare));
    }
    while (chosen.size > n.maxProps) {
      const needed = new Set([...chosen].flatMap((c) => n.dependent.get(c) ?? []));
      const droppable = [...chosen].filter((c) => !n.required.has(c) && !needed.has(c));
      if (droppable.length === 0) throw new SchemaError(n.path, `more properties are required than maxProperties ${n.maxProps} allows`);
      chosen.delete(this.pick(droppable));
    }
    const out: Record<string, unknown> = {};
    for (const name of n.propNames) if (chosen.has(name)) out[name] = this.gen(n.kids.get(name)!, depth + 1, name);
    // Dict-like objects (additionalProperties: {schema}, patternProperties) get a few entries.
    let extra = 0;
    if (n.dictLike && !minimal) extra = this.int(1, 3);
    extra = Math.max(extra, n.minProps - chosen.size);
    extra = Math.min(extra, n.maxProps - chosen.size);
    for (let i = 0, tries = 0; i < extra && tries < extra * 20; tries++) {
      const key = this.genKey(n);
      if (key === null || Object.hasOwn(out, key)) continue;
      const kid = this.nodes.child(n, key);
      if (kid === null || kid.never) continue;
      out[key] = this.gen(kid, depth + 1, key);
      i++;
    }
    if (Object.keys(out).length < n.minProps) throw new SchemaError(n.path, `could not reach minProperties ${n.minProps}`);
    return out;
  }

  /** A key for an extra property: from propertyNames, a patternProperties pattern, or a word. */
  private genKey(n: Node): string | null {
    const namesParts = n.parts.filter((p): p is Part & { s: Obj } => p.s !== false && p.s['propertyNames'] !== undefined);
    if (namesParts.length > 0) {
      const node = this.nodes.nodeOf(
        this.nodes.flatten(namesParts.map((p) => this.nodes.part(p.s['propertyNames'], `${p.path}/propertyNames`))),
      );
      const k = this.gen(node, 0, 'key');
      return typeof k === 'string' ? k : null;
    }
    const patterns = n.parts.flatMap((p) =>
      p.s !== false && isObj(p.s['patternProperties']) ? Object.keys(p.s['patternProperties']) : [],
    );
    const open = n.parts.some((p) => p.s !== false && isObj(p.s['additionalProperties']));
    if (patterns.length > 0 && (!open || this.rand() < 0.5)) {
      const pat = this.pick(patterns);
      try {
        return compilePattern(pat).generate(this.rand, 1, 40);
      } catch (e) {
        if (e instanceof RegexUnsupported)
          throw new SchemaError(
            `${n.path}/patternProperties/${escapePointer(pat)}`,
            `cannot generate names for pattern ${JSON.stringify(pat)}: ${e.message}`,
          );
        throw e;
      }
    }
    return this.faker.lorem.word();
  }
}

function clone<T>(v: T): T {
  return typeof v === 'object' && v !== null ? (JSON.parse(JSON.stringify(v)) as T) : v;
}

/** JSON text with sorted keys: equal values, equal text (for uniqueItems). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

function decimalsOf(n: number): number {
  const s = String(n);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Number(e[1]) + (s.split('e')[0]!.split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

function stringLimits(n: Node): string {
  const parts = [`length ${n.minLength}..${Number.isFinite(n.maxLength) ? n.maxLength : 'any'}`];
  for (const p of n.patterns) parts.push(`pattern ${JSON.stringify(p.source)}`);
  if (n.format) parts.push(`format ${n.format}`);
  return parts.join(', ');
}
