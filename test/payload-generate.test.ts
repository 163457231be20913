// Request bodies from schemas (src/payload/generate.ts and the rooms it stands on: schema-check, schema-node,
// hints, formats): generated values are checked with an independent validator (ajv + ajv-formats) by the
// thousand, for the shapes pydantic v1, pydantic v2 and OpenAPI produce; the same seed gives the same values;
// every unsupported construct is refused with its schema path.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputSchema } from '../examples/insurance-charges/model.ts';
import { operationSchema } from '../src/payload/discover.ts';
import { createGenerator, generateBodies, renderBodies } from '../src/payload/generate.ts';
import { SchemaError } from '../src/payload/schema-check.ts';
import { type Validate, draft2020, draft7, draft7At, fixture } from './helpers/schemas.ts';

/** OpenAPI 3.0 / draft-4 boolean exclusive bounds, rewritten to the draft-6 form ajv understands. */
function toDraft6(doc: unknown): unknown {
  if (Array.isArray(doc)) return doc.map(toDraft6);
  if (typeof doc !== 'object' || doc === null) return doc;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[k] = toDraft6(v);
  for (const [bool, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[bool] === true) {
      out[bool] = out[bound];
      delete out[bound];
    } else if (out[bool] === false) delete out[bool];
  }
  if (out['x-nullable'] === true) out['nullable'] = true;
  return out;
}

/** Generates `count` values and asserts each is valid; returns them. */
function assertAllValid(
  schema: unknown,
  validate: Validate,
  count: number,
  seed: number,
  extra: { root?: unknown; path?: string } = {},
): unknown[] {
  const values = generateBodies(schema, { count, seed, ...extra });
  for (const v of values) {
    if (!validate(v)) assert.fail(`invalid value ${JSON.stringify(v)}:\n${JSON.stringify(validate.errors, null, 1)}`);
  }
  return values;
}

function errorOf(fn: () => unknown): SchemaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SchemaError) return e;
    throw e;
  }
  assert.fail('expected a SchemaError');
}

describe('generateBodies: valid values', () => {
  it("the seed post's pydantic v1 schema (allOf-$ref enums, definitions): 5000 values, all valid, all realistic", () => {
    const values = assertAllValid(inputSchema, draft7(inputSchema), 5000, 1) as Array<Record<string, unknown>>;
    // Every field is required; every enum value and the ends of the ranges come up.
    const sexes = new Set(values.map((v) => v['sex']));
    const regions = new Set(values.map((v) => v['region']));
    assert.deepEqual([...sexes].sort(), ['female', 'male']);
    assert.equal(regions.size, 4);
    const ages = values.map((v) => v['age'] as number);
    assert.ok(ages.every((a) => Number.isInteger(a) && a >= 18 && a <= 65));
    assert.ok(Math.min(...ages) <= 19 && Math.max(...ages) >= 64, 'ages span the allowed range');
    // bmi: hint range within [15, 50], one decimal like real data
    assert.ok(values.every((v) => String(v['bmi']).split('.')[1] === undefined || String(v['bmi']).split('.')[1]!.length <= 1));
    assert.ok(values.some((v) => v['smoker'] === true) && values.some((v) => v['smoker'] === false));
  });

  it('a pydantic v2 style schema ($defs, Optional as anyOf-null, const, prefixItems, discriminated oneOf): 3000 values', () => {
    const schema = fixture('pydantic-v2-customer.json');
    const values = assertAllValid(schema, draft2020(schema), 3000, 2) as Array<Record<string, unknown>>;
    // Optional fields are sometimes absent, sometimes null, mostly a value.
    const emails = values.map((v) => v['email']);
    assert.ok(emails.some((e) => e === undefined) && emails.some((e) => e === null) && emails.some((e) => typeof e === 'string'));
    assert.ok(emails.filter((e) => typeof e === 'string').every((e) => /@/.test(e as string)));
    // Both payment kinds, each with its own fields.
    const kinds = new Set(values.map((v) => (v['payment'] as Record<string, unknown>)['kind']));
    assert.deepEqual([...kinds].sort(), ['bank', 'card']);
    assert.ok(values.every((v) => v['version'] === 2));
    // Realistic names and cities where the property names say so.
    const names = values.map((v) => v['name'] as string);
    assert.ok(
      names.filter((n) => /^[A-Z][a-z'-]+ [A-Z]/.test(n)).length > names.length * 0.8,
      `names look like names: ${names.slice(0, 5).join(', ')}`,
    );
    const dependents = values.flatMap((v) => (v['dependents'] as Array<Record<string, unknown>> | undefined) ?? []);
    assert.ok(dependents.length > 100);
    assert.ok(dependents.every((d) => (d['age'] as number) <= 25));
  });

  it('nested objects and arrays (matrices, draft-07 tuples, a recursive tree, dicts, unique patterned codes): 2000 values', () => {
    const schema = fixture('nested-arrays.json');
    const values = assertAllValid(schema, draft7(schema), 2000, 3) as Array<Record<string, unknown>>;
    // The recursive tree is bounded: at most a few levels.
    const depth = (n: Record<string, unknown>): number =>
      1 + Math.max(0, ...((n['children'] as Array<Record<string, unknown>>) ?? []).map(depth));
    const depths = values.map((v) => depth(v['tree'] as Record<string, unknown>));
    assert.ok(Math.max(...depths) <= 6, `tree depth ${Math.max(...depths)}`);
    assert.ok(Math.max(...depths) >= 2);
    assert.ok(values.every((v) => (v['point'] as unknown[]).length === 3));
  });

  it('combinators: allOf merges, oneOf matches exactly one branch, anyOf, type arrays, enum intersections: 3000 values', () => {
    const schema = fixture('combinators.json');
    const values = assertAllValid(schema, draft2020(schema), 3000, 4) as Array<Record<string, unknown>>;
    assert.deepEqual([...new Set(values.map((v) => v['bounded']))].sort(), [12, 15, 18]);
    assert.deepEqual([...new Set(values.map((v) => v['enumMeet']))].sort(), ['black', 'green']);
    const shapes = new Set(values.map((v) => (v['shape'] as Record<string, unknown>)['shape']));
    assert.equal(shapes.size, 2);
    const either = values.map((v) => typeof v['either']);
    assert.ok(['string', 'number', 'boolean'].every((t) => either.includes(t as 'string')));
  });

  it('OpenAPI 3.0 components: $ref into the document, nullable, draft-4 boolean exclusive bounds, readOnly left out', () => {
    const doc = fixture('openapi-3.0.json');
    const op = operationSchema(doc, 'POST', '/v1/models/fraud/score', 'openapi-3.0.json');
    assert.equal(op.path, '#/components/requestBodies/ScoreRequest/content/application~1json; charset=utf-8/schema');
    const validate = draft7At(toDraft6(doc), '#/components/schemas/ScoreRequest');
    const values = assertAllValid(op.schema, validate, 2000, 5, { root: op.root, path: op.path }) as Array<Record<string, unknown>>;
    assert.ok(
      values.every((v) => !('request_id' in v)),
      'readOnly properties are not sent',
    );
    assert.ok(
      values.some((v) => v['customer'] === null),
      'nullable object is sometimes null',
    );
    assert.ok(values.every((v) => (v['amount'] as number) > 0 && (v['amount'] as number) < 1e6));
    assert.ok(values.every((v) => v['quantity'] === undefined || ((v['quantity'] as number) >= 1 && (v['quantity'] as number) < 10)));
  });

  it('Swagger 2 body parameters with x-nullable and boolean exclusive bounds', () => {
    const doc = fixture('swagger-2.json');
    const op = operationSchema(doc, 'post', '/api/predict', 'swagger-2.json');
    const validate = draft7At(toDraft6(doc), '#/definitions/Input', { formats: false });
    const values = assertAllValid(op.schema, validate, 1000, 6, { root: op.root }) as Array<Record<string, unknown>>;
    assert.ok(values.every((v) => (v['x'] as number) < 1));
    assert.ok(values.some((v) => v['comment'] === null));
    // nullable beside an enum without null: null is not generated (OpenAPI 3.0.3: the enum must list it).
    assert.ok(values.every((v) => v['label'] === 'a' || v['label'] === 'b'));
  });

  it('formats: email, date-time, date, time, uuid, uri, ipv4, ipv6, hostname, duration, byte, with lengths', () => {
    const formats = [
      'email',
      'date-time',
      'date',
      'time',
      'uuid',
      'uri',
      'uri-reference',
      'ipv4',
      'ipv6',
      'hostname',
      'duration',
      'byte',
      'json-pointer',
    ];
    const schema = {
      type: 'object',
      properties: Object.fromEntries(formats.map((f) => [f.replace(/-/g, '_'), { type: 'string', format: f }])),
      required: formats.map((f) => f.replace(/-/g, '_')),
    };
    assertAllValid(schema, draft7(schema), 1000, 7);
    const short = { type: 'string', format: 'email', maxLength: 24 };
    assertAllValid(short, draft7(short), 300, 8);
  });

  it('numbers: multipleOf with decimals, exclusive bounds in both forms, narrow ranges, integers with float bounds', () => {
    const schemas = [
      { type: 'number', multipleOf: 0.01, minimum: 0, maximum: 1 },
      { type: 'number', multipleOf: 0.1, exclusiveMinimum: 0, exclusiveMaximum: 1 },
      { type: 'number', exclusiveMinimum: 0.5, exclusiveMaximum: 0.50001 },
      { type: 'integer', minimum: 0.5, maximum: 2.5 },
      { type: 'integer', exclusiveMinimum: 9, exclusiveMaximum: 11 },
      { type: 'integer', multipleOf: 7, minimum: 1000000 },
      { type: 'number', maximum: -1000 },
      { type: 'number', minimum: 1e12 },
      { type: 'integer', format: 'int32' },
    ];
    for (const s of schemas) assertAllValid(s, draft7(s), 300, 9);
    assert.deepEqual(
      [...new Set(generateBodies({ type: 'integer', exclusiveMinimum: 9, exclusiveMaximum: 11 }, { count: 50, seed: 1 }))],
      [10],
    );
  });

  it('strings: lengths, patterns with lengths, and a property name only where it fits', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 6 },
        city: { type: 'string', minLength: 3, maxLength: 40 },
        country: { type: 'string', pattern: '^[A-Z]{2}$' },
        code: { type: 'string', pattern: '^[a-z]+$', minLength: 12, maxLength: 14 },
        free: { type: 'string', minLength: 50, maxLength: 60 },
        email: { type: 'string' },
        description: { type: 'string' },
      },
      required: ['name', 'city', 'country', 'code', 'free', 'email', 'description'],
    };
    const values = assertAllValid(schema, draft7(schema), 1000, 10) as Array<Record<string, string>>;
    assert.ok(
      values.every((v) => /@/.test(v['email']!)),
      'an "email" property holds emails even without a format',
    );
    assert.ok(values.filter((v) => /^[A-Z]{2}$/.test(v['country']!)).length === values.length);
  });

  it('defaults and examples are used sometimes, and only when valid', () => {
    const schema = { type: 'integer', minimum: 0, maximum: 1000, default: 500, examples: [7, 5000] };
    const values = generateBodies(schema, { count: 2000, seed: 11 }) as number[];
    assert.ok(values.includes(500) && values.includes(7));
    assert.ok(!values.includes(5000), 'an invalid example is never used');
    const counts = values.filter((v) => v === 500 || v === 7).length;
    assert.ok(counts > 50 && counts < 600, `examples used ${counts} times in 2000`);
  });

  it('boolean schemas, required names without properties, dicts with patternProperties and propertyNames', () => {
    const schema = {
      type: 'object',
      properties: { always: true, never: false },
      required: ['always', 'extra'],
      additionalProperties: { type: 'integer', minimum: 0, maximum: 9 },
      propertyNames: { pattern: '^[a-z]+$', maxLength: 10 },
    };
    const values = assertAllValid(schema, draft7(schema), 500, 12) as Array<Record<string, unknown>>;
    assert.ok(values.every((v) => !('never' in v)));
    assert.ok(values.every((v) => Number.isInteger(v['extra'])));
  });

  it('recursion through anyOf-null (pydantic v2 self-reference) ends', () => {
    const schema = {
      $defs: {
        Node: {
          type: 'object',
          properties: { value: { type: 'integer' }, next: { anyOf: [{ $ref: '#/$defs/Node' }, { type: 'null' }] } },
          required: ['value', 'next'],
        },
      },
      $ref: '#/$defs/Node',
    };
    assertAllValid(schema, draft2020(schema), 500, 13);
  });

  it('renderBodies is JSON text', () => {
    assert.deepEqual(renderBodies([{ a: 1 }, [true], 'x']), ['{"a":1}', '[true]', '"x"']);
  });
});

describe('generateBodies: determinism', () => {
  it('the same seed gives the same values; another seed, others', () => {
    for (const schema of [inputSchema, fixture('pydantic-v2-customer.json'), fixture('nested-arrays.json'), fixture('combinators.json')]) {
      const a = generateBodies(schema, { count: 200, seed: 42 });
      const b = generateBodies(schema, { count: 200, seed: 42 });
      const c = generateBodies(schema, { count: 200, seed: 43 });
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.ok(new Set(renderBodies(a)).size > 150, 'values vary within a run');
    }
  });

  it('does not touch the shared faker instance', async () => {
    const { faker } = await import('@faker-js/faker/locale/en');
    faker.seed(99);
    const expected = faker.person.firstName();
    faker.seed(99);
    generateBodies(fixture('pydantic-v2-customer.json'), { count: 20, seed: 1 });
    assert.equal(faker.person.firstName(), expected);
  });
});

describe('generateBodies: errors name the schema path', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not', { type: 'object', properties: { x: { not: { type: 'string' } } } }, /^schema #\/properties\/x\/not: "not" is not supported$/],
    ['if/then/else', { if: { type: 'string' }, then: { minLength: 2 } }, /^schema #\/if: "if"\/"then"\/"else" are not supported$/],
    [
      '$ref to a URL',
      { properties: { a: { $ref: 'https://example.com/s.json#/A' } } },
      /^schema #\/properties\/a\/\$ref: "\$ref" to "https:\/\/example.com\/s.json#\/A" is not supported/,
    ],
    ['$ref to another file', { items: { $ref: 'other.json' } }, /^schema #\/items\/\$ref: "\$ref" to "other.json" is not supported/],
    [
      '$ref to an anchor',
      { $defs: { A: { $anchor: 'a', type: 'string' } }, $ref: '#a' },
      /^schema #\/\$ref: "\$ref" "#a" is not supported: anchors are not/,
    ],
    [
      '$ref to nothing',
      { properties: { a: { $ref: '#/definitions/Missing' } } },
      /^schema #\/properties\/a\/\$ref: "\$ref" "#\/definitions\/Missing" points to nothing/,
    ],
    ['dependentSchemas', { dependentSchemas: { a: { required: ['b'] } } }, /^schema #\/dependentSchemas: /],
    [
      'dependencies with a schema',
      { dependencies: { a: { required: ['b'] } } },
      /^schema #\/dependencies\/a: "dependencies" with a schema is not supported/,
    ],
    ['contains', { type: 'array', contains: { const: 1 } }, /^schema #\/contains: "contains" is not supported$/],
    ['unevaluatedItems', { type: 'array', unevaluatedItems: false }, /^schema #\/unevaluatedItems: /],
    ['$dynamicRef', { $dynamicRef: '#meta' }, /^schema #\/\$dynamicRef: /],
    [
      'lookahead pattern',
      { properties: { p: { type: 'string', pattern: '^(?=.*\\d)\\w+$' } } },
      /^schema #\/properties\/p\/pattern: pattern "\^\(\?=\.\*\\\\d\)\\\\w\+\$": lookahead and lookbehind assertions are not supported$/,
    ],
    ['backreference pattern', { pattern: '(a)\\1' }, /^schema #\/pattern: .*backreferences are not supported/],
    ['word boundary pattern', { pattern: '\\bword\\b' }, /^schema #\/pattern: .*word boundaries/],
    ['unknown type', { type: 'float' }, /^schema #\/type: unknown type "float"$/],
    [
      'required as a boolean',
      { properties: { a: { type: 'string', required: true } } },
      /^schema #\/properties\/a\/required: "required" must be an array/,
    ],
    [
      'deep path through $defs',
      { $defs: { A: { properties: { b: { not: {} } } } }, $ref: '#/$defs/A' },
      /^schema #\/\$defs\/A\/properties\/b\/not: "not" is not supported$/,
    ],
  ];
  for (const [name, schema, re] of cases) {
    it(`unsupported: ${name}`, () => {
      const e = errorOf(() => generateBodies(schema, { count: 1, seed: 1 }));
      assert.match(e.message, re);
    });
  }

  it('an unsupported construct is refused up front, even in a branch that might never be chosen', () => {
    const schema = { anyOf: [{ type: 'integer' }, { type: 'string', not: { const: '' } }] };
    assert.match(errorOf(() => createGenerator(schema, { seed: 1 })).message, /^schema #\/anyOf\/1\/not: /);
  });

  const impossible: Array<[string, unknown, RegExp]> = [
    ['empty integer range', { type: 'integer', minimum: 5, maximum: 4 }, /^schema #: no integer lies in \[5, 4\]$/],
    [
      'exclusive range with no integer',
      { properties: { n: { type: 'integer', exclusiveMinimum: 1, exclusiveMaximum: 2 } }, required: ['n'] },
      /^schema #\/properties\/n: no integer lies in \(1, 2\)$/,
    ],
    ['types that do not meet', { allOf: [{ type: 'string' }, { type: 'integer' }] }, /^schema #: no value has all the types/],
    ['enum filtered empty', { type: 'string', enum: ['a', 'bb'], minLength: 3 }, /^schema #: no value of "enum"\/"const" satisfies/],
    ['lengths', { type: 'string', minLength: 5, maxLength: 2 }, /^schema #: minLength 5 is above maxLength 2$/],
    [
      'required but forbidden',
      { type: 'object', properties: { a: {} }, required: ['b'], additionalProperties: false },
      /^schema #: required property "b" is not allowed here/,
    ],
    [
      'oneOf that cannot be told apart',
      { oneOf: [{ type: 'integer' }, { type: 'integer', minimum: 0 }, { type: 'integer', maximum: 0 }] },
      /^schema #\/oneOf: could not generate a value matching exactly one "oneOf" branch/,
    ],
    [
      'endless required recursion',
      { $defs: { N: { type: 'object', properties: { n: { $ref: '#/$defs/N' } }, required: ['n'] } }, $ref: '#/$defs/N' },
      /nesting deeper than \d+ levels: the schema is recursive/,
    ],
    [
      '$ref cycle with nothing in between',
      { $defs: { A: { $ref: '#/$defs/B' }, B: { $ref: '#/$defs/A' } }, $ref: '#/$defs/A' },
      /includes itself through \$ref\/allOf/,
    ],
    [
      'pattern and lengths that cannot meet',
      { type: 'string', pattern: '^[a-z]{3}$', minLength: 5 },
      /^schema #: could not generate a string that fits length 5\.\.any, pattern "\^\[a-z\]\{3\}\$"$/,
    ],
  ];
  for (const [name, schema, re] of impossible) {
    it(`unsatisfiable: ${name}`, () => {
      assert.match(errorOf(() => generateBodies(schema, { count: 3, seed: 1 })).message, re);
    });
  }

  it('an impossible optional property is left out, an impossible type among others is not chosen', () => {
    const schema = {
      type: 'object',
      properties: {
        ok: { type: 'integer' },
        bad: { type: 'integer', minimum: 3, maximum: 1 },
        either: { type: ['integer', 'string'], minimum: 3, maximum: 1 },
      },
      required: ['either'],
    };
    const values = generateBodies(schema, { count: 100, seed: 1 }) as Array<Record<string, unknown>>;
    assert.ok(values.every((v) => !('bad' in v) && typeof v['either'] === 'string'));
  });
});
