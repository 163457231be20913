// src/load/requests.ts: what the engine prepares from the plan's data before the load (the status
// matcher, the response check, the bodies, the weighted pick). No sockets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareRequests } from '../src/load/requests.ts';
import type { EndpointPlan } from '../src/plan/types.ts';

function endpoint(over: Partial<EndpointPlan> = {}): EndpointPlan {
  return {
    name: 'p',
    method: 'POST',
    path: '/p',
    headers: {},
    body: { kind: 'fixed', body: '{}' },
    weight: 1,
    okStatus: [[200, 399]],
    ...over,
  };
}

describe('prepared requests', () => {
  it('match statuses against the set: one range, several ranges and single codes', () => {
    const [one, several] = prepareRequests(
      [
        endpoint(),
        endpoint({
          okStatus: [
            [200, 200],
            [204, 204],
            [400, 404],
          ],
        }),
      ],
      1,
    ).endpoints;
    const statuses = [199, 200, 204, 302, 399, 400, 403, 404, 405, 500];
    assert.deepEqual(statuses.filter(one!.ok), [200, 204, 302, 399]);
    assert.deepEqual(statuses.filter(several!.ok), [200, 204, 400, 403, 404]);
  });

  it('check responses against the output schema, its $refs resolved in its document; no schema, no check', () => {
    const root = { definitions: { Out: { type: 'object', properties: { charges: { type: 'number' } }, required: ['charges'] } } };
    const [checked, unchecked] = prepareRequests(
      [endpoint({ responseSchema: { schema: { $ref: '#/definitions/Out' }, root } }), endpoint()],
      1,
    ).endpoints;
    const check = checked!.check!;
    assert.equal(check('{"charges": 1.5}'), null);
    assert.equal(check('not json'), 'the response is not JSON');
    assert.match(check('{"charges": "high"}') ?? '', /^the response does not match the output schema: \/charges: /);
    assert.match(check('{}') ?? '', /^the response does not match the output schema: .*charges/);
    assert.equal(unchecked!.check, undefined);
  });

  it('cycle a list of bodies in order, send a fixed one every time, and none for none', () => {
    const { endpoints } = prepareRequests(
      [
        endpoint({ body: { kind: 'list', bodies: ['a', 'b'], origin: 'test' } }),
        endpoint(),
        endpoint({ method: 'GET', body: { kind: 'none' } }),
      ],
      1,
    );
    const [list, fixed, none] = endpoints;
    assert.deepEqual(
      [1, 2, 3].map(() => list!.nextBody()!.toString()),
      ['a', 'b', 'a'],
    );
    assert.equal(fixed!.nextBody(), fixed!.nextBody(), 'the same Buffer each time');
    assert.equal(none!.nextBody(), null);
    assert.deepEqual(none!.headers, [], 'no content-type without a body');
    assert.deepEqual(fixed!.headers, ['content-type', 'application/json']);
  });
});
