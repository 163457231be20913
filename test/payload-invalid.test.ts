// Deliberately invalid requests: every one must really be rejected by the schema (checked with ajv,
// an independent validator), and the kinds of breakage must vary.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { INPUT_SCHEMA_JSON } from '../examples/insurance-charges/model.ts';
import { createInvalidGenerator } from '../src/payload/invalid.ts';

function validator(schema: object) {
  const ajv = new Ajv({ strict: false, allErrors: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(schema);
}

describe('invalid request bodies', () => {
  it('for the seed schema: every body is rejected, and each kind of breakage occurs', () => {
    const schema = JSON.parse(INPUT_SCHEMA_JSON);
    const valid = validator(schema);
    const gen = createInvalidGenerator(schema, { seed: 3 });
    const kinds = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = gen.next();
      assert.equal(valid(b.value), false, `accepted: ${JSON.stringify(b.value)} (${b.why})`);
      kinds.add(b.why.replace(/^\w+: /, '').replace(/ \(.*$/, ''));
    }
    assert.deepEqual([...kinds].sort(), ['missing', 'out of range', 'wrong type']);
  });

  it('for a pydantic v2 schema with $defs and nesting', () => {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/schemas/pydantic-v2-customer.json'), 'utf8'));
    const valid = validator(schema);
    const gen = createInvalidGenerator(schema, { seed: 9 });
    for (let i = 0; i < 1000; i++) {
      const b = gen.next();
      assert.equal(valid(b.value), false, `accepted: ${JSON.stringify(b.value)} (${b.why})`);
    }
  });

  it('is seeded, and refuses a schema with nothing to break', () => {
    const schema = JSON.parse(INPUT_SCHEMA_JSON);
    const a = createInvalidGenerator(schema, { seed: 1 });
    const b = createInvalidGenerator(schema, { seed: 1 });
    for (let i = 0; i < 50; i++) assert.deepEqual(a.next(), b.next());
    assert.throws(() => createInvalidGenerator({ type: 'object' }, { seed: 1 }), /nothing to break|no properties or required fields/);
  });
});
