// JSON Schema -> random valid values, for request bodies generated from a model's input schema.
//
// The schema is first walked once (checkSupported): every construct the generator cannot honour is
// reported up front, with its schema path ("schema #/properties/x/not: ..."), before anything is
// generated. Then each value is built from "nodes": a node is the conjunction of every schema that
// applies at one place ($ref and allOf are flattened into it, anyOf/oneOf are kept as groups and one
// branch is chosen per value), with its constraints combined (type intersection, tightest bounds,
// every pattern, enums filtered by all the other constraints). Nodes are built lazily and cached, so
// recursive schemas cost nothing until used, and recursion is cut: once a schema is nested in itself
// more than `maxRecursion` times, or past `maxDepth`, the generator takes the smallest way out
// (optional properties left out, minItems, a null or scalar branch).
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
// prices...) but always within the schema's constraints; the schema wins over the hint. Everything
// random comes from one seed: a mulberry32 stream and a dedicated, seeded Faker instance, so the same
// seed gives the same values.
//
// Each value is checked against the schema before it is returned (validate.ts): a value that does
// not satisfy the schema is never handed out; a schema that cannot be satisfied is an error.

import { faker as englishFaker } from '@faker-js/faker/locale/en';
import type { Faker } from '@faker-js/faker';
import { mulberry32 } from './random.ts';
import { RegexUnsupported, compilePattern, type PatternGenerator } from './regex.ts';
import { FORMAT_CHECKS, checkValue, escapePointer, jsonEqual, resolvePointer } from './validate.ts';

export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  /** Where in the schema: "#/properties/x/not". */
  readonly schemaPath: string;
  constructor(schemaPath: string, message: string) {
    super(`schema ${schemaPath}: ${message}`);
    this.schemaPath = schemaPath;
  }
}

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

// ---------------------------------------------------------------------------------------------
// Support check

const UNSUPPORTED: Record<string, string> = {
  not: '"not" is not supported',
  if: '"if"/"then"/"else" are not supported',
  then: '"if"/"then"/"else" are not supported',
  else: '"if"/"then"/"else" are not supported',
  dependentSchemas: '"dependentSchemas" is not supported (dependentRequired is)',
  contains: '"contains" is not supported',
  minContains: '"minContains" is not supported',
  maxContains: '"maxContains" is not supported',
  unevaluatedItems: '"unevaluatedItems" is not supported',
  $dynamicRef: '"$dynamicRef" is not supported',
  $recursiveRef: '"$recursiveRef" is not supported',
};
const TYPES = new Set(['null', 'boolean', 'integer', 'number', 'string', 'array', 'object']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A local "#/..." $ref's target, or a SchemaError saying why not. */
function refTarget(root: unknown, ref: unknown, at: string): { schema: unknown; path: string } {
  if (typeof ref !== 'string') throw new SchemaError(at, '"$ref" must be a string');
  if (!ref.startsWith('#')) {
    throw new SchemaError(at, `"$ref" to ${JSON.stringify(ref)} is not supported: only references inside the document ("#/...") are`);
  }
  if (ref !== '#' && !ref.startsWith('#/')) {
    throw new SchemaError(at, `"$ref" ${JSON.stringify(ref)} is not supported: anchors are not; JSON pointers ("#/...") are`);
  }
  const target = resolvePointer(root, ref);
  if (target === undefined) throw new SchemaError(at, `"$ref" ${JSON.stringify(ref)} points to nothing in the document`);
  if (typeof target !== 'boolean' && !isObj(target)) throw new SchemaError(at, `"$ref" ${JSON.stringify(ref)} does not point to a schema`);
  return { schema: target, path: ref === '#' ? '#' : ref };
}

/** Walks every schema reachable from `schema` and throws a SchemaError for the first unsupported construct. */
export function checkSupported(schema: unknown, root: unknown = schema, path = '#'): void {
  const seen = new Set<unknown>();
  const walk = (s: unknown, at: string): void => {
    if (typeof s === 'boolean') return;
    if (!isObj(s)) throw new SchemaError(at, `expected a schema (an object or a boolean), got ${JSON.stringify(s)}`);
    if (seen.has(s)) return;
    seen.add(s);
    for (const key of Object.keys(s)) {
      const why = UNSUPPORTED[key];
      if (why) throw new SchemaError(`${at}/${key}`, why);
    }
    if (s['$ref'] !== undefined) {
      const t = refTarget(root, s['$ref'], `${at}/$ref`);
      walk(t.schema, t.path);
    }
    if (s['type'] !== undefined) {
      const types = Array.isArray(s['type']) ? s['type'] : [s['type']];
      for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) throw new SchemaError(`${at}/type`, `unknown type ${JSON.stringify(t)}`);
    }
    if (typeof s['pattern'] === 'string') {
      try {
        compilePattern(s['pattern']);
      } catch (e) {
        if (e instanceof RegexUnsupported) throw new SchemaError(`${at}/pattern`, `pattern ${JSON.stringify(s['pattern'])}: ${e.message}`);
        throw e;
      }
    }
    const deps = s['dependencies'];
    if (isObj(deps)) {
      for (const [k, d] of Object.entries(deps)) {
        if (!Array.isArray(d)) throw new SchemaError(`${at}/dependencies/${escapePointer(k)}`, '"dependencies" with a schema is not supported (a list of names is)');
      }
    }
    for (const kw of ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const) {
      const list = s[kw];
      if (list === undefined) continue;
      if (!Array.isArray(list) || (kw !== 'prefixItems' && list.length === 0)) throw new SchemaError(`${at}/${kw}`, `"${kw}" must be a non-empty array of schemas`);
      list.forEach((sub, i) => walk(sub, `${at}/${kw}/${i}`));
    }
    for (const kw of ['properties', 'patternProperties'] as const) {
      const map = s[kw];
      if (map === undefined) continue;
      if (!isObj(map)) throw new SchemaError(`${at}/${kw}`, `"${kw}" must be an object`);
      for (const [k, sub] of Object.entries(map)) {
        if (kw === 'patternProperties') {
          try {
            new RegExp(k, 'u');
          } catch (e) {
            throw new SchemaError(`${at}/${kw}/${escapePointer(k)}`, `not a valid regular expression (${(e as Error).message})`);
          }
        }
        walk(sub, `${at}/${kw}/${escapePointer(k)}`);
      }
    }
    if (Array.isArray(s['items'])) s['items'].forEach((sub, i) => walk(sub, `${at}/items/${i}`));
    else if (s['items'] !== undefined) walk(s['items'], `${at}/items`);
    for (const kw of ['additionalItems', 'additionalProperties', 'propertyNames', 'unevaluatedProperties'] as const) {
      if (s[kw] !== undefined) walk(s[kw], `${at}/${kw}`);
    }
    if (s['required'] !== undefined && (!Array.isArray(s['required']) || s['required'].some((r) => typeof r !== 'string'))) {
      // OpenAPI 2 / odd writers sometimes put `required: true` on a property: say so rather than guess.
      throw new SchemaError(`${at}/required`, '"required" must be an array of property names');
    }
  };
  walk(schema, path);
}

// ---------------------------------------------------------------------------------------------
// Nodes

/** One schema that applies at a place; `skip` = its anyOf/oneOf were already resolved into the node. */
interface Part {
  s: Obj | false;
  path: string;
  skip?: boolean;
}

interface Group {
  exclusive: boolean;
  path: string;
  branches: Part[];
  /** Per branch, computed on first use: null-only, scalar-only, or possibly nested. */
  kinds?: Array<'null' | 'flat' | 'deep'>;
}

interface Node {
  key: string;
  path: string;
  parts: Part[];
  /** Why no value can satisfy this node, if so. */
  never: string | null;
  types: Set<string> | null;
  enumVals: unknown[] | null;
  examples: unknown[];
  groups: Group[];
  readOnly: boolean;
  // numbers
  lo: number;
  hi: number;
  loEx: boolean;
  hiEx: boolean;
  multipleOf: number[];
  // strings
  minLength: number;
  maxLength: number;
  patterns: PatternGenerator[];
  format: string | null;
  // arrays
  minItems: number;
  maxItems: number;
  uniqueItems: boolean;
  prefixLen: number;
  /** Items past this index are forbidden (a tuple closed by items/additionalItems: false). */
  maxLen: number;
  // objects
  propNames: string[];
  required: Set<string>;
  minProps: number;
  maxProps: number;
  dependent: Map<string, string[]>;
  dictLike: boolean;
  /** Lazily built children. */
  kids: Map<string, Node | null>;
  items: Map<number, Node | null>;
  variants: Map<string, Node>;
  /** Kinds implied by keywords when there is no "type". */
  implied: string[];
}

const NUMERIC_KEYS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const STRING_KEYS = ['minLength', 'maxLength', 'pattern', 'format'];
const ARRAY_KEYS = ['items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems'];
const OBJECT_KEYS = ['properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties', 'propertyNames'];

function intersectTypes(a: Set<string> | null, b: Set<string>): Set<string> {
  if (a === null) return new Set(b);
  const out = new Set<string>();
  const has = (set: Set<string>, t: string) => set.has(t) || (t === 'integer' && set.has('number'));
  for (const t of a) if (has(b, t)) out.add(t);
  for (const t of b) if (has(a, t)) out.add(t);
  // number & integer -> integer
  if (out.has('number') && !(a.has('number') && b.has('number'))) out.delete('number');
  return out;
}

function clone<T>(v: T): T {
  return typeof v === 'object' && v !== null ? (JSON.parse(JSON.stringify(v)) as T) : v;
}

/** JSON text with sorted keys: equal values, equal text (for uniqueItems). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function decimalsOf(n: number): number {
  const s = String(n);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Number(e[1]) + (s.split('e')[0]!.split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Realistic values by property name

/** Producers of realistic strings, tried in order until one fits the schema's lengths and patterns. */
type StringHint = Array<(f: Faker, r: () => number) => string>;
const normalized = new Map<string, string>();
const normalize = (name: string): string => {
  let n = normalized.get(name);
  if (n === undefined) {
    n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (normalized.size < 10_000) normalized.set(name, n);
  }
  return n;
};
const sentence = (f: Faker, words: number) => f.lorem.sentence(words);

const STRING_HINTS: Array<[RegExp, StringHint]> = [
  [/^(first|given|fore)name/, [(f) => f.person.firstName()]],
  [/(last|family|sur)name$/, [(f) => f.person.lastName()]],
  [/username|login|handle|nickname/, [(f) => f.internet.username()]],
  [/^(full)?name$|^(customer|person|user|patient|contact|owner|author|client|display)name$/, [(f) => f.person.fullName(), (f) => f.person.firstName()]],
  [/email|mail/, [(f) => f.internet.email()]],
  [/phone|mobile|tel$|telephone/, [(f) => f.phone.number({ style: 'international' }), (f) => f.phone.number()]],
  [/city|town/, [(f) => f.location.city()]],
  [/countrycode/, [(f) => f.location.countryCode(), (f) => f.location.countryCode('alpha-3')]],
  [/country|nation/, [(f) => f.location.country(), (f) => f.location.countryCode(), (f) => f.location.countryCode('alpha-3')]],
  [/statecode/, [(f) => f.location.state({ abbreviated: true })]],
  [/^(state|province|county)$/, [(f) => f.location.state(), (f) => f.location.state({ abbreviated: true })]],
  [/zip|postal|postcode/, [(f) => f.location.zipCode(), (f) => f.location.zipCode('#####')]],
  [/street|address/, [(f) => f.location.streetAddress()]],
  [/company|organi[sz]ation|employer|business/, [(f) => f.company.name()]],
  [/job|occupation|profession/, [(f) => f.person.jobTitle()]],
  [/url|website|homepage|link/, [(f) => f.internet.url()]],
  [/domain|hostname/, [(f) => f.internet.domainName()]],
  [/^ip(v4)?(address)?$|ipaddress/, [(f) => f.internet.ipv4()]],
  [/colou?r/, [(f) => f.color.human(), (f) => f.color.rgb()]],
  [/currency/, [(f) => f.finance.currencyCode()]],
  [/uuid|guid/, [(f) => f.string.uuid()]],
  [/product|item/, [(f) => f.commerce.productName()]],
  [/department|category/, [(f) => f.commerce.department()]],
  [/gender|^sex$/, [(f) => f.person.sex()]],
  [/title|subject|headline|caption/, [(f) => sentence(f, 4).replace(/\.$/, '')]],
  [
    /description|text|comment|review|message|content|body|summary|note|feedback|query|prompt|question|sentence|document|input/,
    [(f, r) => (r() < 0.7 ? f.lorem.sentence() : f.lorem.sentences(2))],
  ],
  [/word|tag|keyword|label|token/, [(f) => f.lorem.word()]],
  [/name$/, [(f) => f.person.fullName(), (f) => f.person.firstName()]],
];

/** [lo, hi, decimals for a "number"] by property name. */
const NUMBER_HINTS: Array<[RegExp, number, number, number]> = [
  [/^age$|ageyears|^age[^a-z]?/, 18, 90, 0],
  [/year/, 1950, 2030, 0],
  [/month/, 1, 12, 0],
  [/^day$|dayofmonth/, 1, 28, 0],
  [/hour/, 0, 23, 0],
  [/minute|second/, 0, 59, 0],
  [/children|kids|dependents|count$|quantity|qty|^num|^n[a-z]/, 0, 10, 0],
  [/price|cost|amount|charge|fee|total|balance|payment|revenue|spend/, 1, 1000, 2],
  [/salary|income|wage|earnings/, 20000, 200000, 2],
  [/bmi/, 16, 40, 1],
  [/weight|mass/, 40, 120, 1],
  [/height/, 150, 200, 1],
  [/temp/, -10, 40, 1],
  [/^lat(itude)?$/, -90, 90, 6],
  [/^(lon|lng|long|longitude)$/, -180, 180, 6],
  [/percent|pct/, 0, 100, 1],
  [/prob|ratio|fraction|confidence|share|rate$/, 0, 1, 3],
  [/rating|stars/, 1, 5, 1],
  [/score/, 0, 100, 1],
  [/duration|seconds|millis|ms$/, 1, 600, 1],
  [/id$/, 1, 100000, 0],
];

function singular(name: string | undefined): string | undefined {
  if (!name) return name;
  if (/(ss|x|ch|sh)es$/.test(name)) return name.slice(0, -2);
  if (/ies$/.test(name)) return `${name.slice(0, -3)}y`;
  if (/[^s]s$/.test(name)) return name.slice(0, -1);
  return name;
}

const DATE_FROM = Date.UTC(2015, 0, 1);
const DATE_SPAN = Date.UTC(2027, 0, 1) - DATE_FROM;
const BIRTH_FROM = Date.UTC(1940, 0, 1);
const BIRTH_SPAN = Date.UTC(2006, 0, 1) - BIRTH_FROM;

// ---------------------------------------------------------------------------------------------
// The generator

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
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly nodes = new Map<string, Node>();
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
    this.top = this.nodeOf(this.flatten([this.part(schema, this.path)]));
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
    throw new SchemaError(this.path, `generated values keep failing the schema (${problem}): this combination of keywords is not supported`);
  }

  // ---- building nodes ----

  private part(s: unknown, path: string): Part {
    if (s === false) return { s: false, path };
    return { s: isObj(s) ? s : {}, path };
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** Expands $ref and allOf into the list of schemas that must all hold. */
  private flatten(parts: Part[], out: Part[] = [], stack = new Set<object>()): Part[] {
    for (const p of parts) {
      if (p.s === false) {
        out.push(p);
        continue;
      }
      const s = p.s;
      if (stack.has(s)) throw new SchemaError(p.path, 'the schema includes itself through $ref/allOf with nothing in between');
      stack.add(s);
      if (s['$ref'] !== undefined) {
        const t = refTarget(this.root, s['$ref'], `${p.path}/$ref`);
        this.flatten([{ ...this.part(t.schema, t.path), ...(p.skip ? { skip: true } : {}) }], out, stack);
      }
      if (Array.isArray(s['allOf'])) {
        s['allOf'].forEach((sub, i) => this.flatten([{ ...this.part(sub, `${p.path}/allOf/${i}`), ...(p.skip ? { skip: true } : {}) }], out, stack));
      }
      out.push(p);
      stack.delete(s);
    }
    return out;
  }

  private nodeOf(parts: Part[]): Node {
    const key = parts.map((p) => (p.s === false ? 'F' : `${p.skip ? 's' : ''}${this.idOf(p.s)}`)).join(',');
    let node = this.nodes.get(key);
    if (!node) {
      node = this.build(key, parts);
      this.nodes.set(key, node);
    }
    return node;
  }

  private build(key: string, parts: Part[]): Node {
    const n: Node = {
      key,
      path: parts.length ? parts[parts.length - 1]!.path : this.path,
      parts,
      never: null,
      types: null,
      enumVals: null,
      examples: [],
      groups: [],
      readOnly: false,
      lo: -Infinity,
      hi: Infinity,
      loEx: false,
      hiEx: false,
      multipleOf: [],
      minLength: 0,
      maxLength: Infinity,
      patterns: [],
      format: null,
      minItems: 0,
      maxItems: Infinity,
      uniqueItems: false,
      prefixLen: 0,
      maxLen: Infinity,
      propNames: [],
      required: new Set(),
      minProps: 0,
      maxProps: Infinity,
      dependent: new Map(),
      dictLike: false,
      kids: new Map(),
      items: new Map(),
      variants: new Map(),
      implied: [],
    };
    const candidates: unknown[] = [];
    const implied = new Set<string>();
    for (const p of parts) {
      if (p.s === false) {
        n.never = 'no value is allowed here (false schema)';
        n.path = p.path;
        continue;
      }
      const s = p.s;
      if (s['type'] !== undefined) {
        const t = new Set(Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string]);
        if (s['nullable'] === true || s['x-nullable'] === true) t.add('null');
        n.types = intersectTypes(n.types, t);
      }
      for (const kw of ['const', 'enum'] as const) {
        if (s[kw] === undefined) continue;
        const vals = kw === 'const' ? [s[kw]] : Array.isArray(s[kw]) ? (s[kw] as unknown[]) : [];
        n.enumVals = n.enumVals === null ? [...vals] : n.enumVals.filter((v) => vals.some((w) => jsonEqual(v, w)));
      }
      if (s['default'] !== undefined) candidates.push(s['default']);
      if (Array.isArray(s['examples'])) candidates.push(...s['examples']);
      if (s['example'] !== undefined) candidates.push(s['example']);
      if (s['readOnly'] === true) n.readOnly = true;
      if (!p.skip) {
        for (const kw of ['anyOf', 'oneOf'] as const) {
          if (Array.isArray(s[kw])) {
            n.groups.push({
              exclusive: kw === 'oneOf',
              path: `${p.path}/${kw}`,
              branches: (s[kw] as unknown[]).map((b, i) => this.part(b, `${p.path}/${kw}/${i}`)),
            });
          }
        }
      }
      // numbers
      const tighten = (v: unknown, lower: boolean, ex: boolean) => {
        if (typeof v !== 'number') return;
        if (lower && (v > n.lo || (v === n.lo && ex))) [n.lo, n.loEx] = [v, ex];
        if (!lower && (v < n.hi || (v === n.hi && ex))) [n.hi, n.hiEx] = [v, ex];
      };
      tighten(s['minimum'], true, s['exclusiveMinimum'] === true);
      tighten(s['maximum'], false, s['exclusiveMaximum'] === true);
      if (typeof s['exclusiveMinimum'] === 'number') tighten(s['exclusiveMinimum'], true, true);
      if (typeof s['exclusiveMaximum'] === 'number') tighten(s['exclusiveMaximum'], false, true);
      if (s['format'] === 'int32') [tighten(-(2 ** 31), true, false), tighten(2 ** 31 - 1, false, false)];
      if (s['format'] === 'int64') [tighten(Number.MIN_SAFE_INTEGER, true, false), tighten(Number.MAX_SAFE_INTEGER, false, false)];
      if (typeof s['multipleOf'] === 'number' && s['multipleOf'] > 0) n.multipleOf.push(s['multipleOf']);
      // strings
      if (typeof s['minLength'] === 'number') n.minLength = Math.max(n.minLength, s['minLength']);
      if (typeof s['maxLength'] === 'number') n.maxLength = Math.min(n.maxLength, s['maxLength']);
      if (typeof s['pattern'] === 'string') n.patterns.push(compilePattern(s['pattern']));
      if (typeof s['format'] === 'string' && n.format === null && !['int32', 'int64', 'float', 'double'].includes(s['format'])) n.format = s['format'];
      // arrays
      if (typeof s['minItems'] === 'number') n.minItems = Math.max(n.minItems, s['minItems']);
      if (typeof s['maxItems'] === 'number') n.maxItems = Math.min(n.maxItems, s['maxItems']);
      if (s['uniqueItems'] === true) n.uniqueItems = true;
      const { prefix, rest } = tupleOf(s);
      n.prefixLen = Math.max(n.prefixLen, prefix.length);
      if (rest === false) n.maxLen = Math.min(n.maxLen, prefix.length);
      // objects
      if (isObj(s['properties'])) for (const k of Object.keys(s['properties'])) if (!n.propNames.includes(k)) n.propNames.push(k);
      if (Array.isArray(s['required'])) for (const k of s['required'] as string[]) n.required.add(k);
      if (typeof s['minProperties'] === 'number') n.minProps = Math.max(n.minProps, s['minProperties']);
      if (typeof s['maxProperties'] === 'number') n.maxProps = Math.min(n.maxProps, s['maxProperties']);
      for (const kw of ['dependentRequired', 'dependencies'] as const) {
        if (isObj(s[kw])) for (const [k, d] of Object.entries(s[kw])) if (Array.isArray(d)) n.dependent.set(k, [...(n.dependent.get(k) ?? []), ...(d as string[])]);
      }
      if (isObj(s['additionalProperties']) || (isObj(s['patternProperties']) && Object.keys(s['patternProperties']).length > 0)) n.dictLike = true;
      // kinds implied by keywords, for schemas without "type"
      const keys = Object.keys(s);
      if (keys.some((k) => NUMERIC_KEYS.includes(k))) implied.add('number');
      if (keys.some((k) => STRING_KEYS.includes(k))) implied.add('string');
      if (keys.some((k) => ARRAY_KEYS.includes(k))) implied.add('array');
      if (keys.some((k) => OBJECT_KEYS.includes(k))) implied.add('object');
    }
    for (const r of n.required) if (!n.propNames.includes(r)) n.propNames.push(r);
    if (n.propNames.length > 0) n.dictLike = false;
    n.implied = [...implied];
    if (n.never) return n;
    if (n.types !== null && n.types.size === 0) {
      n.never = 'no value has all the types these schemas ask for (their "type"s do not intersect)';
      return n;
    }
    // Types whose constraints cannot be met are dropped (an impossible range rules out numbers only).
    if (n.types !== null && n.enumVals === null) {
      const reasons: string[] = [];
      const ok = [...n.types].filter((t) => {
        const why = infeasible(n, t);
        if (why) reasons.push(why);
        return !why;
      });
      if (ok.length === 0) {
        n.never = reasons[0]!;
        return n;
      }
      n.types = new Set(ok);
    } else if (n.types === null) {
      n.implied = n.implied.filter((t) => !infeasible(n, t));
      // Keywords for other kinds do not constrain these.
      if (implied.size > 0 && n.implied.length === 0) n.implied = ['boolean', 'null'];
    }
    const valid = (v: unknown) => parts.every((p) => checkValue(p.s, v, this.root) === null);
    if (n.enumVals !== null) {
      n.enumVals = n.enumVals.filter(valid);
      if (n.enumVals.length === 0) n.never = 'no value of "enum"/"const" satisfies the other constraints here';
    }
    if (n.groups.length === 0) n.examples = candidates.filter(valid);
    return n;
  }

  /** The node for property `name` of an object node; null when the name is not allowed. */
  private child(n: Node, name: string): Node | null {
    if (n.kids.has(name)) return n.kids.get(name)!;
    const parts: Part[] = [];
    let allowed = true;
    for (const p of n.parts) {
      if (p.s === false) continue;
      const s = p.s;
      const props = isObj(s['properties']) ? s['properties'] : {};
      const declared = Object.hasOwn(props, name);
      if (declared) parts.push(this.part(props[name], `${p.path}/properties/${escapePointer(name)}`));
      let matched = false;
      if (isObj(s['patternProperties'])) {
        for (const [pat, sub] of Object.entries(s['patternProperties'])) {
          if (new RegExp(pat, 'u').test(name)) {
            matched = true;
            parts.push(this.part(sub, `${p.path}/patternProperties/${escapePointer(pat)}`));
          }
        }
      }
      if (!declared && !matched) {
        const ap = s['additionalProperties'] ?? s['unevaluatedProperties'];
        if (ap === false) allowed = false;
        else if (isObj(ap)) parts.push(this.part(ap, `${p.path}/additionalProperties`));
      }
      if (s['propertyNames'] !== undefined && checkValue(s['propertyNames'], name, this.root) !== null) allowed = false;
    }
    const node = allowed ? this.nodeOf(this.flatten(parts)) : null;
    n.kids.set(name, node);
    return node;
  }

  /** The node for array position `i`; null when the array cannot be that long. */
  private item(n: Node, i: number): Node | null {
    const k = Math.min(i, n.prefixLen);
    if (n.items.has(k)) return n.items.get(k)!;
    const parts: Part[] = [];
    let allowed = true;
    for (const p of n.parts) {
      if (p.s === false) continue;
      const { prefix, rest, prefixKw, restKw } = tupleOf(p.s);
      const sub = k < prefix.length ? prefix[k] : rest;
      const path = k < prefix.length ? `${p.path}/${prefixKw}/${k}` : `${p.path}/${restKw}`;
      if (sub === false) allowed = false;
      else if (isObj(sub)) parts.push(this.part(sub, path));
    }
    const node = allowed ? this.nodeOf(this.flatten(parts)) : null;
    n.items.set(k, node);
    return node;
  }

  private variant(n: Node, choice: number[]): Node {
    const key = choice.join(',');
    let v = n.variants.get(key);
    if (!v) {
      // The base parts are already flattened; only the chosen branches need it.
      const parts = n.parts.map((p) => (p.s === false ? p : { ...p, skip: true }));
      const chosen = n.groups.map((g, gi) => g.branches[choice[gi]!]!);
      v = this.nodeOf([...parts, ...this.flatten(chosen)]);
      n.variants.set(key, v);
    }
    return v;
  }

  // ---- generating ----

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }
  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private gen(n: Node, depth: number, name: string | undefined): unknown {
    if (n.never) throw new SchemaError(n.path, n.never);
    if (depth > this.hardDepth) {
      throw new SchemaError(n.path, `nesting deeper than ${this.hardDepth} levels: the schema is recursive and its required parts never end`);
    }
    if (n.groups.length > 0) return this.genAlternatives(n, depth, name);
    const nesting = this.active.get(n) ?? 0;
    const minimal = depth >= this.maxDepth || nesting > this.maxRecursion;
    if (!minimal && n.examples.length > 0 && this.rand() < this.exampleRate) return clone(this.pick(n.examples));
    if (n.enumVals !== null) {
      const nonNull = n.enumVals.filter((v) => v !== null);
      if (nonNull.length > 0 && nonNull.length < n.enumVals.length && (minimal || this.rand() >= this.nullRate)) return clone(this.pick(nonNull));
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
      const v = this.variant(n, choice);
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
      const node = this.nodeOf(this.flatten([b]));
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
    const m = n.multipleOf.length ? n.multipleOf.reduce((a, b) => (Number.isInteger(a) && Number.isInteger(b) ? lcm(a, b) : Math.max(a, b))) : 0;
    const fits = (v: number) =>
      Number.isFinite(v) && (n.loEx ? v > n.lo : v >= n.lo) && (n.hiEx ? v < n.hi : v <= n.hi) && (loEx ? v > lo : v >= lo) && (hiEx ? v < hi : v <= hi) &&
      n.multipleOf.every((k) => v / k === parseInt(String(v / k), 10)) && (!integer || Number.isInteger(v));
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
      throw new SchemaError(n.path, `no ${integer ? 'integer' : 'number'} that is a multiple of ${n.multipleOf.join(' and ')} lies in ${range(n)}`);
    }
    if (integer) {
      let a = Math.ceil(lo);
      let b = Math.floor(hi);
      if (loEx && a === lo) a++;
      if (hiEx && b === hi) b--;
      if (a > b) throw new SchemaError(n.path, `no integer lies in ${range(n)}`);
      return this.int(a, b);
    }
    if (hi < lo || (hi === lo && (loEx || hiEx))) throw new SchemaError(n.path, `no number lies in ${range(n)}`);
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = lo + this.rand() * (hi - lo);
      const rounded = Number(raw.toFixed(decimals));
      if (fits(rounded)) return rounded;
      if (fits(raw)) return raw;
      if (attempt === 10) decimals = 10;
    }
    const mid = lo + (hi - lo) / 2;
    if (fits(mid)) return mid;
    throw new SchemaError(n.path, `no number found in ${range(n)}`);
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
      const make = this.formatMaker(n.format, norm);
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

  private formatMaker(format: string, norm: string): (() => string) | null {
    const f = this.faker;
    const r = this.rand;
    const two = (x: number) => String(x).padStart(2, '0');
    const when = () => {
      const birth = /birth|dob|born/.test(norm);
      return new Date((birth ? BIRTH_FROM : DATE_FROM) + Math.floor(r() * (birth ? BIRTH_SPAN : DATE_SPAN)));
    };
    switch (format) {
      case 'email':
      case 'idn-email':
        return () => f.internet.email().toLowerCase();
      case 'date-time':
      case 'iso-date-time':
        return () => `${when().toISOString().slice(0, 19)}Z`;
      case 'date':
        return () => when().toISOString().slice(0, 10);
      case 'time':
      case 'iso-time':
        return () => `${two(this.int(0, 23))}:${two(this.int(0, 59))}:${two(this.int(0, 59))}Z`;
      case 'uuid':
        return () => f.string.uuid();
      case 'uri':
      case 'url':
      case 'iri':
      case 'uri-template':
        return () => f.internet.url();
      case 'uri-reference':
      case 'iri-reference':
        return () => `/${f.lorem.slug(2)}`;
      case 'hostname':
      case 'idn-hostname':
        return () => f.internet.domainName();
      case 'ipv4':
      case 'ipvanyaddress':
        return () => f.internet.ipv4();
      case 'ipv6':
        return () => f.internet.ipv6();
      case 'ipvanyinterface':
      case 'ipv4interface':
        return () => `${f.internet.ipv4()}/${this.int(8, 32)}`;
      case 'ipvanynetwork':
      case 'ipv4network':
        return () => `10.${this.int(0, 255)}.${this.int(0, 255)}.0/24`;
      case 'duration':
        return () => `P${this.int(0, 30)}DT${this.int(0, 23)}H${this.int(0, 59)}M`;
      case 'byte':
        return () => Buffer.from(f.lorem.words(3)).toString('base64');
      case 'password':
        return () => f.internet.password({ length: this.int(10, 16) });
      case 'json-pointer':
        return () => `/${f.lorem.word()}/${this.int(0, 9)}`;
      case 'regex':
        return () => `^${f.lorem.word()}[0-9]+$`;
      case 'color':
        return () => f.color.rgb();
      default:
        return null; // unknown formats are annotations: a plain string
    }
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
      const node = this.item(n, i);
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
      const kid = this.child(n, name);
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
          const kid = this.child(n, d);
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
      const kid = this.child(n, key);
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
      const node = this.nodeOf(this.flatten(namesParts.map((p) => this.part(p.s['propertyNames'], `${p.path}/propertyNames`))));
      const k = this.gen(node, 0, 'key');
      return typeof k === 'string' ? k : null;
    }
    const patterns = n.parts.flatMap((p) => (p.s !== false && isObj(p.s['patternProperties']) ? Object.keys(p.s['patternProperties']) : []));
    const open = n.parts.some((p) => p.s !== false && isObj(p.s['additionalProperties']));
    if (patterns.length > 0 && (!open || this.rand() < 0.5)) {
      const pat = this.pick(patterns);
      try {
        return compilePattern(pat).generate(this.rand, 1, 40);
      } catch (e) {
        if (e instanceof RegexUnsupported) throw new SchemaError(`${n.path}/patternProperties/${escapePointer(pat)}`, `cannot generate names for pattern ${JSON.stringify(pat)}: ${e.message}`);
        throw e;
      }
    }
    return this.faker.lorem.word();
  }
}

/** Why no value of type `t` can meet the node's constraints, or null. */
function infeasible(n: Node, t: string): string | null {
  switch (t) {
    case 'integer': {
      let a = Math.ceil(n.lo);
      let b = Math.floor(n.hi);
      if (n.loEx && a === n.lo) a++;
      if (n.hiEx && b === n.hi) b--;
      return a > b ? `no integer lies in ${range(n)}` : null;
    }
    case 'number':
      return n.hi < n.lo || (n.hi === n.lo && (n.loEx || n.hiEx)) ? `no number lies in ${range(n)}` : null;
    case 'string':
      return n.minLength > n.maxLength ? `minLength ${n.minLength} is above maxLength ${n.maxLength}` : null;
    case 'array': {
      const hi = Math.min(n.maxItems, n.maxLen);
      return n.minItems > hi ? `no array length fits minItems ${n.minItems} and at most ${hi} items` : null;
    }
    case 'object':
      return n.required.size > n.maxProps || n.minProps > n.maxProps ? `more properties are required than maxProperties ${n.maxProps} allows` : null;
    default:
      return null;
  }
}

function tupleOf(s: Obj): { prefix: unknown[]; rest: unknown; prefixKw: string; restKw: string } {
  if (Array.isArray(s['prefixItems'])) return { prefix: s['prefixItems'], rest: s['items'], prefixKw: 'prefixItems', restKw: 'items' };
  if (Array.isArray(s['items'])) return { prefix: s['items'], rest: s['additionalItems'], prefixKw: 'items', restKw: 'additionalItems' };
  return { prefix: [], rest: s['items'], prefixKw: 'items', restKw: 'items' };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

function range(n: Node): string {
  return `${n.loEx ? '(' : '['}${n.lo}, ${n.hi}${n.hiEx ? ')' : ']'}`;
}

function stringLimits(n: Node): string {
  const parts = [`length ${n.minLength}..${Number.isFinite(n.maxLength) ? n.maxLength : 'any'}`];
  for (const p of n.patterns) parts.push(`pattern ${JSON.stringify(p.source)}`);
  if (n.format) parts.push(`format ${n.format}`);
  return parts.join(', ');
}
