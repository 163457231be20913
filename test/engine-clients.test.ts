// The engine on both HTTP clients: h1.ts (the default for http://) and undici (https://, or when
// asked for). Same server, same plan: the same counts and the same error classification.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { runLoad } from '../src/load/engine.ts';
import { statsFor } from '../src/metrics/result.ts';
import type { EndpointPlan, LoadPlan } from '../src/plan/types.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function listen(srv: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  const sockets = new Set<Socket>();
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

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
  describe(`engine on ${httpClient === 'auto' ? 'h1.ts' : 'undici'}`, () => {
    it('sends every planned request with its headers and body; a chunked answer, a 503 with a sample', async () => {
      const seen: string[] = [];
      let n = 0;
      const url = await listen(
        createServer((req, res) => {
          let body = '';
          req.on('data', (d) => (body += d));
          req.on('end', () => {
            seen.push(`${req.method} ${req.url} ${req.headers['x-api-key']} ${req.headers['content-type']} ${body}`);
            if (n++ % 4 === 3) {
              res.statusCode = 503;
              res.end('busy');
            } else {
              res.write('{"charges"'); // no content-length: chunked
              res.end(':1.5}');
            }
          });
        }),
      );
      const r = await runLoad({ baseUrl: url, endpoints: [endpoint], load: open(1, 40), timeoutMs: 2000, seed: 1, httpClient });
      const s = statsFor(r);
      assert.equal(s.requests, 40);
      assert.equal(s.errors.status, 10);
      assert.equal(s.bytes, 30 * 15 + 10 * 4);
      assert.equal(r.failures[0]!.sample, 'busy');
      assert.ok(seen.every((x) => x === 'POST /predict k application/json {"age":42}'), seen[0]);
    });

    it('sends a configured Host header instead of the URL\'s (a virtual host behind an ingress)', async () => {
      const hosts = new Set<string | undefined>();
      const url = await listen(createServer((req, res) => res.end(void hosts.add(req.headers.host))));
      const withHost = { ...endpoint, headers: { Host: 'insurance.models.example.com' } };
      const r = await runLoad({ baseUrl: url, endpoints: [withHost], load: open(0.5, 20), timeoutMs: 2000, seed: 1, httpClient });
      assert.equal(statsFor(r).requests, 10);
      assert.deepEqual([...hosts], ['insurance.models.example.com']);
    });

    it('classifies resets, garbage and refused connections the same way', async () => {
      const reset = await listen(createTcpServer((s) => s.once('data', () => s.resetAndDestroy())));
      const garbage = await listen(createTcpServer((s) => s.once('data', () => s.end('HELLO THERE\r\n\r\n'))));
      const probe = createTcpServer();
      const refused = await new Promise<string>((r) => probe.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(probe.address() as { port: number }).port}`)));
      await new Promise<void>((r) => probe.close(() => r()));
      const run = (url: string) => runLoad({ baseUrl: url, endpoints: [endpoint], load: open(0.5, 20), timeoutMs: 2000, seed: 1, httpClient });
      assert.equal(statsFor(await run(reset)).errors.reset, 10);
      assert.equal(statsFor(await run(garbage)).errors['bad-response'], 10);
      assert.equal(statsFor(await run(refused)).errors.refused, 10);
    });
  });
}
