// Open Inference Protocol bodies (src/payload/oip.ts): tensors shaped and typed by the model's metadata, and
// metadata that is not OIP refused with what is wrong.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OipModelMetadata, createOipGenerator, parseOipMetadata } from '../src/payload/oip.ts';

describe('Open Inference Protocol bodies', () => {
  const meta: OipModelMetadata = parseOipMetadata(
    {
      name: 'm',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [-1, 4] },
        { name: 'mask', datatype: 'BOOL', shape: [-1, 4] },
        { name: 'ids', datatype: 'INT64', shape: [-1] },
        { name: 'pixels', datatype: 'UINT8', shape: [2, -1, 3] },
        { name: 'text', datatype: 'BYTES', shape: [1] },
        { name: 'half', datatype: 'FP16', shape: [3] },
      ],
      outputs: [{ name: 'out', datatype: 'FP32', shape: [-1, 1] }],
    },
    'test',
  );

  it("replaces -1 dims by 1..4 (the same size per dimension across inputs) and fills data to the shape's product", () => {
    const gen = createOipGenerator(meta, { seed: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const { inputs } = gen.next();
      assert.equal(inputs.length, 6);
      const batch = inputs[0]!.shape[0]!;
      seen.add(batch);
      assert.ok(batch >= 1 && batch <= 4);
      assert.deepEqual(inputs[0]!.shape, [batch, 4]);
      assert.deepEqual(inputs[1]!.shape, [batch, 4]);
      assert.deepEqual(inputs[2]!.shape, [batch]);
      for (const t of inputs)
        assert.equal(
          t.data.length,
          t.shape.reduce((a, b) => a * b, 1),
        );
      assert.ok(inputs[0]!.data.every((x) => typeof x === 'number' && x >= -1 && x <= 1));
      assert.ok(inputs[1]!.data.every((x) => typeof x === 'boolean'));
      assert.ok(inputs[2]!.data.every((x) => Number.isInteger(x)));
      assert.ok(inputs[3]!.data.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255));
      assert.ok(typeof inputs[4]!.data[0] === 'string');
    }
    assert.equal(seen.size, 4);
  });

  it('refuses metadata that is not OIP, saying what is wrong', () => {
    assert.throws(
      () => parseOipMetadata({ name: 'm', inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1] }] }, 'GET u'),
      /GET u: not Open Inference Protocol model metadata: inputs\[0\]\.datatype "FLOAT" is not one of BOOL, UINT8/,
    );
    assert.throws(
      () => parseOipMetadata({ name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, -2] }] }, 'GET u'),
      /inputs\[0\]\.shape must be a list of sizes/,
    );
    assert.throws(() => parseOipMetadata({ models: [] }, 'GET u'), /"name" is missing/);
  });
});
