// The support check for schemas we generate values from: one walk over everything reachable from the
// schema, before anything is generated, that refuses what the generator cannot honour, with its schema
// path ("schema #/properties/x/not: ..."). Refused: not, if/then/else, dependentSchemas, dependencies with
// schemas, contains, unevaluatedItems, $dynamicRef/$recursiveRef, $ref outside the document, and the
// patterns regex.ts cannot generate (lookarounds, backreferences, \b, \p{...}).

import { RegexUnsupported, compilePattern } from './regex.ts';
import { escapePointer, resolvePointer } from './validate.ts';

/** What no value can be generated for, said with where in the schema: refused here, or found while generating. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  /** Where in the schema: "#/properties/x/not". */
  readonly schemaPath: string;
  constructor(schemaPath: string, message: string) {
    super(`schema ${schemaPath}: ${message}`);
    this.schemaPath = schemaPath;
  }
}

/** Keywords refused wherever they appear, and why. */
export const UNSUPPORTED: Record<string, string> = {
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

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A local "#/..." $ref's target, or a SchemaError saying why not. */
export function refTarget(root: unknown, ref: unknown, at: string): { schema: unknown; path: string } {
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
      for (const t of types)
        if (typeof t !== 'string' || !TYPES.has(t)) throw new SchemaError(`${at}/type`, `unknown type ${JSON.stringify(t)}`);
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
        if (!Array.isArray(d))
          throw new SchemaError(
            `${at}/dependencies/${escapePointer(k)}`,
            '"dependencies" with a schema is not supported (a list of names is)',
          );
      }
    }
    for (const kw of ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const) {
      const list = s[kw];
      if (list === undefined) continue;
      if (!Array.isArray(list) || (kw !== 'prefixItems' && list.length === 0))
        throw new SchemaError(`${at}/${kw}`, `"${kw}" must be a non-empty array of schemas`);
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
