// Model-server presets (src/payload/presets.ts): names and aliases, the predict call and readiness path each
// sets, where each finds its schema, and how instances are wrapped for each server.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRESETS, applyPreset, findPreset, wrapInstances } from '../src/payload/presets.ts';

describe('presets and body wrapping', () => {
  it('finds presets by name and alias', () => {
    assert.equal(findPreset('triton').name, 'open-inference');
    assert.equal(findPreset('MLServer').name, 'open-inference');
    assert.equal(findPreset('rest_model_service').name, 'rest-model-service');
    assert.equal(findPreset('kserve').name, 'kserve-v1');
    assert.throws(() => findPreset('sagemaker'), /unknown preset "sagemaker"; known: rest-model-service/);
  });

  it('sets the predict call, readiness path and schema sources', () => {
    const rms = applyPreset(findPreset('rest-model-service'), 'insurance_charges_model');
    assert.deepEqual(rms, {
      method: 'POST',
      path: '/api/models/insurance_charges_model/prediction',
      readyPath: '/api/health/ready',
      schemaSources: [
        { kind: 'rest-model-service', model: 'insurance_charges_model' },
        { kind: 'openapi', url: '/openapi.json', method: 'POST', path: '/api/models/insurance_charges_model/prediction' },
      ],
      wrap: 'none',
    });
    const oip = applyPreset(findPreset('kserve-v2'), 'resnet');
    assert.equal(oip.path, '/v2/models/resnet/infer');
    assert.equal(oip.readyPath, '/v2/models/resnet/ready');
    assert.deepEqual(oip.schemaSources, [{ kind: 'oip', model: 'resnet' }]);
    assert.equal(applyPreset(findPreset('kserve-v1'), 'm').path, '/v1/models/m:predict');
    assert.equal(applyPreset(findPreset('mlflow'), '').path, '/invocations');
    assert.equal(applyPreset(findPreset('mlflow'), '', 'dataframe_split').wrap, 'dataframe_split');
    assert.throws(() => applyPreset(findPreset('mlflow'), '', 'oip'), /preset mlflow does not take wrap "oip"/);
    assert.equal(applyPreset(findPreset('torchserve'), 'densenet').path, '/predictions/densenet');
    assert.deepEqual(applyPreset(findPreset('bentoml'), 'classify').schemaSources, [
      { kind: 'openapi', url: '/docs.json', method: 'POST', path: '/classify' },
    ]);
    for (const p of PRESETS) assert.ok(p.wraps.includes(p.wrap), `${p.name}: its default wrap is one it takes`);
  });

  it('wraps instances for each server', () => {
    const rows = [
      { a: 1, b: 'x' },
      { a: 2, c: true },
    ];
    assert.deepEqual(wrapInstances('none', [rows[0]]), rows[0]);
    assert.deepEqual(wrapInstances('instances', rows), { instances: rows });
    assert.deepEqual(wrapInstances('dataframe_records', rows), { dataframe_records: rows });
    assert.deepEqual(wrapInstances('dataframe_split', rows), {
      dataframe_split: {
        columns: ['a', 'b', 'c'],
        data: [
          [1, 'x', null],
          [2, null, true],
        ],
      },
    });
    assert.deepEqual(wrapInstances('inputs', rows), { inputs: { a: [1, 2], b: ['x', null], c: [null, true] } });
    assert.deepEqual(wrapInstances('inputs', [[1, 2]]), { inputs: [[1, 2]] });
  });
});
