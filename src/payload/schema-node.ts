// The schema as the generator sees it: "nodes". A node is the conjunction of every schema that applies at one
// place ($ref and allOf are flattened into it, anyOf/oneOf are kept as groups and one branch is chosen per
// value), with its constraints combined: type intersection, tightest bounds, every pattern, enums filtered
// by all the other constraints. Nodes are built lazily and cached by the schemas they join, so recursive
// schemas cost nothing until used. Building draws no random numbers: the values come from generate.ts.

import { SchemaError, type Obj, isObj, refTarget } from './schema-check.ts';
import { compilePattern, type PatternGenerator } from './regex.ts';
import { checkValue, escapePointer, jsonEqual } from './validate.ts';

/** One schema that applies at a place; `skip` = its anyOf/oneOf were already resolved into the node. */
export interface Part {
  s: Obj | false;
  path: string;
  skip?: boolean;
}

export interface Group {
  exclusive: boolean;
  path: string;
  branches: Part[];
  /** Per branch, computed on first use: null-only, scalar-only, or possibly nested. */
  kinds?: Array<'null' | 'flat' | 'deep'>;
}

export interface Node {
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
const OBJECT_KEYS = [
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
  'propertyNames',
];

export function intersectTypes(a: Set<string> | null, b: Set<string>): Set<string> {
  if (a === null) return new Set(b);
  const out = new Set<string>();
  const has = (set: Set<string>, t: string) => set.has(t) || (t === 'integer' && set.has('number'));
  for (const t of a) if (has(b, t)) out.add(t);
  for (const t of b) if (has(a, t)) out.add(t);
  // number & integer -> integer
  if (out.has('number') && !(a.has('number') && b.has('number'))) out.delete('number');
  return out;
}

/** Builds and caches the nodes of one schema document. */
export class SchemaNodes {
  private readonly root: unknown;
  private readonly path: string;
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly nodes = new Map<string, Node>();

  /** `root`: the document `$ref`s resolve in; `path`: where the schema sits in it ("#/components/schemas/Input"). */
  constructor(root: unknown, path: string) {
    this.root = root;
    this.path = path;
  }

  /** A schema at `path` as a part (a non-object, non-false schema constrains nothing: `{}`). */
  part(s: unknown, path: string): Part {
    if (s === false) return { s: false, path };
    return { s: isObj(s) ? s : {}, path };
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** Expands $ref and allOf into the list of schemas that must all hold. */
  flatten(parts: Part[], out: Part[] = [], stack = new Set<object>()): Part[] {
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
        s['allOf'].forEach((sub, i) =>
          this.flatten([{ ...this.part(sub, `${p.path}/allOf/${i}`), ...(p.skip ? { skip: true } : {}) }], out, stack),
        );
      }
      out.push(p);
      stack.delete(s);
    }
    return out;
  }

  /** The node for these flattened parts, built on first use. */
  nodeOf(parts: Part[]): Node {
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
      if (typeof s['format'] === 'string' && n.format === null && !['int32', 'int64', 'float', 'double'].includes(s['format']))
        n.format = s['format'];
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
        if (isObj(s[kw]))
          for (const [k, d] of Object.entries(s[kw]))
            if (Array.isArray(d)) n.dependent.set(k, [...(n.dependent.get(k) ?? []), ...(d as string[])]);
      }
      if (isObj(s['additionalProperties']) || (isObj(s['patternProperties']) && Object.keys(s['patternProperties']).length > 0))
        n.dictLike = true;
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
  child(n: Node, name: string): Node | null {
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
  item(n: Node, i: number): Node | null {
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

  /** The node with one branch of each anyOf/oneOf group chosen (`choice[g]` for group g). */
  variant(n: Node, choice: number[]): Node {
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
}

/** Why no value of type `t` can meet the node's constraints, or null. */
function infeasible(n: Node, t: string): string | null {
  switch (t) {
    case 'integer': {
      let a = Math.ceil(n.lo);
      let b = Math.floor(n.hi);
      if (n.loEx && a === n.lo) a++;
      if (n.hiEx && b === n.hi) b--;
      return a > b ? `no integer lies in ${boundsText(n)}` : null;
    }
    case 'number':
      return n.hi < n.lo || (n.hi === n.lo && (n.loEx || n.hiEx)) ? `no number lies in ${boundsText(n)}` : null;
    case 'string':
      return n.minLength > n.maxLength ? `minLength ${n.minLength} is above maxLength ${n.maxLength}` : null;
    case 'array': {
      const hi = Math.min(n.maxItems, n.maxLen);
      return n.minItems > hi ? `no array length fits minItems ${n.minItems} and at most ${hi} items` : null;
    }
    case 'object':
      return n.required.size > n.maxProps || n.minProps > n.maxProps
        ? `more properties are required than maxProperties ${n.maxProps} allows`
        : null;
    default:
      return null;
  }
}

function tupleOf(s: Obj): { prefix: unknown[]; rest: unknown; prefixKw: string; restKw: string } {
  if (Array.isArray(s['prefixItems'])) return { prefix: s['prefixItems'], rest: s['items'], prefixKw: 'prefixItems', restKw: 'items' };
  if (Array.isArray(s['items'])) return { prefix: s['items'], rest: s['additionalItems'], prefixKw: 'items', restKw: 'additionalItems' };
  return { prefix: [], rest: s['items'], prefixKw: 'items', restKw: 'items' };
}

/** The node's number range as an interval: "[0, 10)". */
export function boundsText(n: Node): string {
  return `${n.loEx ? '(' : '['}${n.lo}, ${n.hi}${n.hiEx ? ')' : ']'}`;
}
