// src/run/bodies.ts: endpoints as the config says them -> endpoints as the engine receives them. Schemas
// here are files and inline (no service is started and no request is sent); schemas a service publishes
// are covered end to end in payload-config.test.ts.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildPlan, readConfigFile } from '../src/plan/config.ts';
import type { Plan } from '../src/plan/types.ts';
import { resolveBodies, resolveLocalBodies } from '../src/run/bodies.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const dir = tempDir('loadgate-bodies-');
let fileNo = 0;
const planOf = (text: string): Plan => buildPlan(readConfigFile(writeFile(dir, `c${++fileNo}.yml`, text)));
// Nothing listens here, and nothing may be asked: every schema below is local.
const NO_SERVICE = 'http://127.0.0.1:9';

const API = {
  openapi: '3.0.3',
  paths: {
    '/predict': {
      post: {
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/In' } } } },
        responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Out' } } } } },
      },
    },
  },
  components: {
    schemas: {
      In: {
        type: 'object',
        properties: { age: { type: 'integer', minimum: 18, maximum: 65 } },
        required: ['age'],
        additionalProperties: false,
      },
      Out: { type: 'object', properties: { charges: { type: 'number' } }, required: ['charges'] },
    },
  },
};
const api = writeFile(dir, 'api.json', JSON.stringify(API));

const LOAD = 'load: {stages: [{duration: 1s, rate: 1}]}\n';

describe('resolving bodies before the load', () => {
  const plan = planOf(`service: {url: "${NO_SERVICE}"}
requests:
  - {name: health, path: /health, weight: 3}
  - name: predict
    path: /predict
    schema: ${api}
    generate: 10
    invalid: 20%
    invalid-status: 422
    check-response: true
  - {name: fixed, path: /fixed, body: {age: 30}}
${LOAD}`);

  it('a schema in a file is resolved before the service starts; the rest keep the config order around it', async () => {
    const lines: string[] = [];
    const local = await resolveLocalBodies(plan, (l) => lines.push(l));
    assert.deepEqual([...local.keys()], [1], 'only the generated endpoint has anything to resolve early');
    assert.match(lines[0]!, /^Generated 10 request bodies for "predict" from .*api\.json: POST \/predict in \d+ ms \(mean \d+ bytes\)$/);
    assert.equal(lines[1], 'Mixing in 20% deliberately invalid requests as "predict (invalid)"');
    const endpoints = await resolveBodies(plan, local, NO_SERVICE, (l) => lines.push(l));
    assert.equal(lines.length, 2, 'nothing left to generate once the service is ready');
    assert.deepEqual(
      endpoints.map((e) => [e.name, e.body.kind, e.weight, e.role]),
      [
        ['health', 'none', 3, undefined],
        ['predict', 'list', 0.8, undefined],
        ['predict (invalid)', 'list', 0.2, 'invalid'],
        ['fixed', 'fixed', 1, undefined],
      ],
    );
  });

  it('the generated bodies match the input schema; the invalid companion has its own bodies and statuses', async () => {
    const [, main, invalid] = await resolveBodies(plan, new Map(), NO_SERVICE, () => {});
    assert.ok(main?.body.kind === 'list' && invalid?.body.kind === 'list');
    assert.equal(main.body.bodies.length, 10);
    for (const b of main.body.bodies) {
      const age = (JSON.parse(b) as { age: number }).age;
      assert.ok(Number.isInteger(age) && age >= 18 && age <= 65, b);
    }
    assert.equal(invalid.body.bodies.length, 2, 'the share of the generated count, rounded up');
    assert.match(invalid.body.origin, /^invalid variants of /);
    assert.deepEqual([main.okStatus, invalid.okStatus], [[[200, 399]], [[422, 422]]]);
  });

  it('check-response carries the output schema as data, with the document its $refs resolve in; the companion is not checked', async () => {
    const [, main, invalid] = await resolveBodies(plan, new Map(), NO_SERVICE, () => {});
    assert.deepEqual(main?.responseSchema?.schema, { $ref: '#/components/schemas/Out' });
    assert.deepEqual((main?.responseSchema?.root as typeof API).components, API.components);
    assert.equal(invalid?.responseSchema, undefined);
  });

  it('what the engine receives is plain data: no config-only keys, and it survives JSON unchanged', async () => {
    const endpoints = await resolveBodies(plan, new Map(), NO_SERVICE, () => {});
    for (const ep of endpoints) {
      assert.ok(!('invalid' in ep) && !('checkOutput' in ep), `${ep.name} still carries config-only keys`);
      assert.deepEqual(JSON.parse(JSON.stringify(ep)), ep);
    }
  });
});

describe('a schema that cannot be used is a configuration error naming the request', () => {
  it('check-response with a schema that has no output schema', async () => {
    const plan = planOf(`service: {url: "${NO_SERVICE}"}
request: {name: p, path: /p, schema: {inline: {type: object}}, check-response: true}
${LOAD}`);
    await assert.rejects(
      resolveLocalBodies(plan, () => {}),
      (e: Error) => {
        assert.equal(e.name, 'ConfigError');
        assert.match(
          e.message,
          /:\d+ request\.schema: request "p": check-response: inline schema publishes no output schema to check responses against$/,
        );
        return true;
      },
    );
  });

  it('a schema file that is missing', async () => {
    const plan = planOf(`service: {url: "${NO_SERVICE}"}\nrequest: {name: p, path: /p, schema: missing.json}\n${LOAD}`);
    await assert.rejects(
      resolveLocalBodies(plan, () => {}),
      /request\.schema: request "p": .*missing\.json/,
    );
  });
});

describe('bodies of a shard (shard: i/n)', () => {
  const text = (shard?: string) => `service: {url: "${NO_SERVICE}"}
request:
  name: predict
  path: /predict
  schema: ${api}
  generate: 23
  invalid: 20%
${LOAD}${shard ? `shard: ${shard}\n` : ''}`;
  const bodiesOf = async (plan: Plan) => {
    const eps = (await resolveLocalBodies(plan, () => {})).get(0)!;
    return eps.map((e) => (e.body.kind === 'list' ? e.body.bodies : []));
  };

  it("every shard generates the whole plan's corpus and keeps its part: the parts partition it, the invalid share too", async () => {
    const [whole, wholeInvalid] = await bodiesOf(planOf(text()));
    for (const n of [2, 3, 5]) {
      const parts = await Promise.all(Array.from({ length: n }, (_, i) => bodiesOf(planOf(text(`${i + 1}/${n}`)))));
      assert.deepEqual(parts.flatMap((p) => p[0]!).sort(), [...whole!].sort(), `${n} shards: the valid bodies, each once`);
      for (const [i, p] of parts.entries())
        assert.deepEqual(
          p[0],
          whole!.filter((_, k) => k % n === i),
        );
      const invalid = parts.flatMap((p) => p[1]!);
      assert.ok(
        parts.every((p) => p[1]!.length >= 1),
        'every shard has invalid bodies',
      );
      if (wholeInvalid!.length >= n) assert.deepEqual(invalid.sort(), [...wholeInvalid!].sort());
    }
  });
});
