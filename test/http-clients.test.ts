// Both HTTP clients, H1Slot (src/load/h1-slot.ts, the default for http://) and UndiciSlot
// (src/load/undici-slot.ts, https:// or when asked for), under the engine. Same server, same plan:
// the same counts and the same error classification.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runLoad } from '../src/load/engine.ts';
import { statsFor } from '../src/metrics/result.ts';
import type { EndpointPlan, LoadPlan } from '../src/plan/types.ts';
import { closeAllServers, closedPort, startServer } from './helpers/http.ts';

after(closeAllServers);

const endpoint: EndpointPlan = {
  name: 'predict',
  method: 'POST',
  path: '/predict',
  headers: { 'x-api-key': 'k' },
  body: { kind: 'fixed', body: '{"age":42}' },
  weight: 1,
  okStatus: [[200, 399]],
};
const open = (seconds: number, rate: number): LoadPlan => ({
  model: 'open',
  maxInFlight: 100,
  stages: [{ name: 's0', durationMs: seconds * 1000, rate, ramp: false }],
});

for (const httpClient of ['auto', 'undici'] as const) {
  describe(`the engine on ${httpClient === 'auto' ? 'H1Slot' : 'UndiciSlot'}`, () => {
    it('sends every planned request with its headers and body; a chunked answer, a 503 with a sample', async () => {
      const seen: string[] = [];
      let n = 0;
      const { url } = await startServer({
        handler: (req, res, body) => {
          seen.push(`${req.method} ${req.url} ${req.headers['x-api-key']} ${req.headers['content-type']} ${body}`);
          if (n++ % 4 === 3) {
            res.statusCode = 503;
            res.end('busy');
          } else {
            res.write('{"charges"'); // no content-length: chunked
            res.end(':1.5}');
          }
        },
      });
      const r = await runLoad({ baseUrl: url, endpoints: [endpoint], load: open(1, 40), timeoutMs: 2000, seed: 1, httpClient });
      const s = statsFor(r);
      assert.equal(s.requests, 40);
      assert.equal(s.errors.status, 10);
      assert.equal(s.bytes, 30 * 15 + 10 * 4);
      assert.equal(r.failures[0]!.sample, 'busy');
      assert.ok(
        seen.every((x) => x === 'POST /predict k application/json {"age":42}'),
        seen[0],
      );
    });

    it("sends a configured Host header instead of the URL's (a virtual host behind an ingress)", async () => {
      const hosts = new Set<string | undefined>();
      const { url } = await startServer({ handler: (req, res) => res.end(void hosts.add(req.headers.host)) });
      const withHost = { ...endpoint, headers: { Host: 'insurance.models.example.com' } };
      const r = await runLoad({ baseUrl: url, endpoints: [withHost], load: open(0.5, 20), timeoutMs: 2000, seed: 1, httpClient });
      assert.equal(statsFor(r).requests, 10);
      assert.deepEqual([...hosts], ['insurance.models.example.com']);
    });

    it('classifies resets, garbage and refused connections the same way', async () => {
      const reset = (await startServer({ handler: (req) => req.socket.resetAndDestroy() })).url;
      const garbage = (await startServer({ handler: (req) => req.socket.end('HELLO THERE\r\n\r\n') })).url;
      const refused = `http://127.0.0.1:${await closedPort()}`;
      const run = (url: string) =>
        runLoad({ baseUrl: url, endpoints: [endpoint], load: open(0.5, 20), timeoutMs: 2000, seed: 1, httpClient });
      assert.equal(statsFor(await run(reset)).errors.reset, 10);
      assert.equal(statsFor(await run(garbage)).errors['bad-response'], 10);
      assert.equal(statsFor(await run(refused)).errors.refused, 10);
    });
  });
}
