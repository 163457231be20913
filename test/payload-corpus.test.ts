// Pre-generation (src/payload/corpus.ts): the bodies generated before the load, where they came from and
// what they cost, batches wrapped for presets that take several instances, and MLflow signatures.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { inputSchema } from '../examples/insurance-charges/model.ts';
import { buildCorpus } from '../src/payload/corpus.ts';
import { mlflowSignatureSchema } from '../src/payload/discover.ts';
import { generateBodies } from '../src/payload/generate.ts';
import { FIXTURES, draft7 } from './helpers/schemas.ts';

describe('buildCorpus (pre-generation)', () => {
  it('returns the bodies, where they came from, and their cost', () => {
    const c = buildCorpus({ kind: 'schema', schema: inputSchema, root: inputSchema, path: '#', origin: 'metadata' }, { seed: 1 });
    assert.equal(c.bodies.length, 1000);
    assert.equal(c.origin, 'generated from metadata');
    assert.equal(c.stats.count, 1000);
    assert.ok(c.stats.ms > 0 && c.stats.bodiesPerSecond > 1000);
    const validate = draft7(inputSchema);
    assert.ok(c.bodies.every((b) => validate(JSON.parse(b))));
  });

  it('wraps batches for presets that take several instances', () => {
    const c = buildCorpus(
      { kind: 'schema', schema: inputSchema, root: inputSchema, path: '#', origin: 'x' },
      { seed: 1, count: 10, wrap: 'dataframe_records', batch: 3 },
    );
    for (const b of c.bodies) assert.equal((JSON.parse(b) as { dataframe_records: unknown[] }).dataframe_records.length, 3);
    assert.throws(
      () => buildCorpus({ kind: 'schema', schema: inputSchema, root: inputSchema, path: '#', origin: 'x' }, { seed: 1, batch: 2 }),
      /a batch of 2 needs a wrapping/,
    );
  });

  it('MLflow signatures become a record schema', () => {
    const doc = parseYaml(readFileSync(new URL('MLmodel', FIXTURES), 'utf8'));
    const { schema } = mlflowSignatureSchema(doc, 'MLmodel');
    const c = buildCorpus(
      { kind: 'schema', schema, root: schema, path: '#', origin: 'MLmodel' },
      { seed: 1, count: 200, wrap: 'dataframe_split', batch: 2 },
    );
    const body = JSON.parse(c.bodies[0]!) as { dataframe_split: { columns: string[]; data: unknown[][] } };
    assert.ok(body.dataframe_split.columns.includes('age'));
    const validate = draft7(schema);
    for (let i = 0; i < 200; i++) {
      const values = generateBodies(schema, { count: 1, seed: i })[0] as Record<string, unknown>;
      assert.ok(validate(values));
      assert.ok(Number.isInteger(values['children']) && Math.abs(values['children'] as number) < 2 ** 31);
    }
    assert.throws(
      () =>
        mlflowSignatureSchema(
          { signature: { inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]' } },
          'MLmodel',
        ),
      /MLmodel: signature.inputs\[0\] is a tensor spec/,
    );
  });
});
