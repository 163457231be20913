// The streaming client on both HTTP paths (H1Slot for http://, UndiciSlot for https:// and when asked
// for), under the engine, over real sockets on 127.0.0.1 against test/helpers/stream-server.ts, which
// records when it received each request and wrote each event. What is checked: the measured TTFT and
// ITL medians against the server's own timings, every SSE edge case of issue 12 and how each failure is
// counted, and per-request objectives (goodput) counted from real streams. Every load is a closed
// model of a few users for about a second.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type EngineOptions, runLoad } from '../src/load/engine.ts';
import { percentileMs } from '../src/metrics/histogram.ts';
import { type RunResult, type Stats, statsFor } from '../src/metrics/result.ts';
import type { EndpointPlan } from '../src/plan/types.ts';
import { closeAllServers, startServer } from './helpers/http.ts';
import { type StreamServer, type StreamServerOptions, startStreamServer } from './helpers/stream-server.ts';
import { startStreamServerProcess } from './helpers/stream-server-process.ts';

after(closeAllServers);

const chat: EndpointPlan = {
  name: 'chat',
  method: 'POST',
  path: '/v1/chat/completions',
  headers: {},
  body: { kind: 'fixed', body: '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}' },
  weight: 1,
  okStatus: [[200, 299]],
  stream: true,
};

type Client = 'auto' | 'undici';

async function load(
  httpClient: Client,
  server: StreamServerOptions,
  { users = 2, seconds = 1, timeoutMs = 5000, ...rest }: { users?: number; seconds?: number } & Partial<EngineOptions> = {},
): Promise<{ r: RunResult; s: Stats; server: StreamServer }> {
  const srv = await startStreamServer(server);
  try {
    const r = await runLoad({
      baseUrl: srv.url,
      endpoints: [chat],
      load: { model: 'closed', perUserRate: 0, stages: [{ name: 's', durationMs: seconds * 1000, users, spawnRate: 1000 }] },
      timeoutMs,
      seed: 1,
      httpClient,
      ...rest,
    });
    return { r, s: statsFor(r), server: srv };
  } finally {
    await srv.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const failuresOf = (s: Stats) => Object.fromEntries(Object.entries(s.errors).filter(([, n]) => n > 0));

for (const httpClient of ['auto', 'undici'] as const) {
  const name = httpClient === 'auto' ? 'H1Slot' : 'UndiciSlot';

  describe(`streams on ${name}`, () => {
    it("measures TTFT and ITL medians within 2% of the server's own timings", async (t) => {
      // The server in a process of its own (its spin before each write must not hold up the client's
      // reads); first token 400 ms after the request arrives, then one every 40 ms. A 2-core machine at
      // a load average of 8 delays a request's arrival and a read by 1-4 ms together, under 2% of these.
      const server = await startStreamServerProcess({ firstTokenMs: 400, intervalMs: 40, tokens: 16 });
      let r: RunResult;
      let records: Awaited<ReturnType<typeof server.records>>;
      try {
        r = await runLoad({
          baseUrl: server.url,
          endpoints: [chat],
          load: { model: 'closed', perUserRate: 0, stages: [{ name: 's', durationMs: 3000, users: 6, spawnRate: 1000 }] },
          timeoutMs: 5000,
          seed: 1,
          httpClient,
        });
        records = await server.records();
      } finally {
        await server.close();
      }
      const s = statsFor(r);
      const st = s.stream!;
      assert.deepEqual(failuresOf(s), {});
      assert.ok(st.streams >= 12, `${st.streams} streams`);
      assert.equal(st.streams, records.length);
      const serverTtft = median(records.map((x) => x.sends[0]! - x.receivedAt));
      const serverItl = median(records.flatMap((x) => x.sends.slice(1).map((t, k) => t - x.sends[k]!)));
      const ttft = percentileMs(st.ttft, 50)!;
      const itl = percentileMs(st.itl, 50)!;
      const within = (got: number, want: number) => Math.abs(got - want) / want <= 0.02;
      t.diagnostic(
        `${st.streams} streams: TTFT median ${ttft} ms (server ${serverTtft.toFixed(3)}), ITL median ${itl} ms (server ${serverItl.toFixed(3)})`,
      );
      assert.ok(within(ttft, serverTtft), `TTFT median ${ttft} ms, the server's ${serverTtft.toFixed(3)} ms`);
      assert.ok(within(itl, serverItl), `ITL median ${itl} ms, the server's ${serverItl.toFixed(3)} ms`);
      // The role-only first delta (written at once) is not the first token.
      assert.ok(st.ttft.minNonZeroValue >= 400_000, `TTFT min ${st.ttft.minNonZeroValue} µs`);
      assert.equal(st.itl.totalCount, st.streams * 15, 'every gap between 16 tokens, none for role, finish or usage');
      assert.deepEqual([st.outputTokensSum, st.outputChunks.totalCount], [16 * st.streams, 0], 'usage counts tokens');
      assert.deepEqual([st.inputTokensSum, st.inputTokensAnswers], [4 * st.streams, st.streams]);
      // TPOT = (E2E - TTFT) / 15 ≈ 40 ms; E2E is the request's latency.
      assert.ok(Math.abs(st.tpotSumUs / st.tpot.totalCount / 1000 - 40) < 1.5, `TPOT mean ${st.tpotSumUs / st.tpot.totalCount} µs`);
      assert.ok(Math.abs(st.e2eSumUs - s.latencySumUs) / s.latencySumUs < 0.01, `E2E ${st.e2eSumUs} µs, latency ${s.latencySumUs} µs`);
      assert.equal(st.buffered, 0);
    });

    it('several tokens in one event: tokens from usage, a gap per event', async () => {
      const { s } = await load(httpClient, { firstTokenMs: 20, intervalMs: 10, tokens: 10, tokensPerEvent: 3 });
      const st = s.stream!;
      assert.deepEqual(failuresOf(s), {});
      assert.equal(st.outputTokensSum, 10 * st.streams);
      assert.equal(st.itl.totalCount, 3 * st.streams, '4 events, 3 gaps');
      // TPOT per token, not per event: (E2E - TTFT) / 9 ≈ 30 / 9 ms.
      const tpot = st.tpotSumUs / st.tpot.totalCount / 1000;
      assert.ok(tpot > 2.8 && tpot < 5, `TPOT ${tpot} ms`);
    });

    it('events cut across TCP reads, byte by byte', async () => {
      const { s, server } = await load(
        httpClient,
        { firstTokenMs: 0, intervalMs: 0, tokens: 3, mode: 'bytewise' },
        { users: 1, seconds: 0.5 },
      );
      const st = s.stream!;
      assert.deepEqual(failuresOf(s), {});
      assert.ok(st.streams >= 1);
      assert.deepEqual([st.outputTokensSum, st.itl.totalCount], [3 * st.streams, 2 * st.streams]);
      // An event counts when its last byte arrives (the server notes the time a pause after it), not its first.
      const want = median(server.records.map((x) => x.sends[0]! - x.receivedAt));
      const ttft = percentileMs(st.ttft, 50)!;
      assert.ok(Math.abs(ttft - want) < want * 0.1, `TTFT median ${ttft} ms, the server's ${want.toFixed(3)} ms`);
    });

    it('pings (SSE comments) are not tokens', async () => {
      const { s, server } = await load(httpClient, { firstTokenMs: 30, intervalMs: 20, tokens: 8, pingMs: 7 });
      const st = s.stream!;
      assert.ok(server.records.reduce((n, x) => n + x.pings, 0) > 0, 'the server pinged');
      assert.deepEqual(failuresOf(s), {});
      assert.equal(st.itl.totalCount, 7 * st.streams);
      // Pings every 7 ms from the start, the first token at 30 ms: a ping is no first token either.
      assert.ok(st.ttft.minNonZeroValue >= 30_000, `TTFT min ${st.ttft.minNonZeroValue} µs`);
    });

    it('without a usage chunk: output in chunks, never mixed with tokens', async () => {
      const { s } = await load(httpClient, { firstTokenMs: 20, intervalMs: 10, tokens: 6, mode: 'no-usage' });
      const st = s.stream!;
      assert.deepEqual(failuresOf(s), {});
      assert.deepEqual(
        [st.outputChunksSum, st.outputChunks.totalCount, st.outputTokensSum, st.outputTokens.totalCount, st.inputTokensAnswers],
        [6 * st.streams, st.streams, 0, 0, 0],
      );
    });

    it('a non-streaming JSON answer is a success counted apart: TTFT = E2E, no ITL, no TPOT', async () => {
      const { s } = await load(httpClient, { firstTokenMs: 20, intervalMs: 10, tokens: 6, mode: 'json' });
      const st = s.stream!;
      assert.deepEqual(failuresOf(s), {});
      assert.ok(st.streams > 0);
      assert.deepEqual([st.nonStreaming, st.itl.totalCount, st.tpot.totalCount, st.buffered], [st.streams, 0, 0, 0]);
      assert.equal(st.ttftSumUs, st.e2eSumUs);
      assert.equal(st.outputTokensSum, 6 * st.streams);
    });

    it('a stream buffered to its end is counted as buffered', async () => {
      const { s } = await load(httpClient, { firstTokenMs: 20, intervalMs: 10, tokens: 8, mode: 'buffered' });
      const st = s.stream!;
      assert.deepEqual(failuresOf(s), {});
      assert.equal(st.buffered, st.streams);
    });

    it('failures of their own: an error object, a cut stream, no content, data that is not JSON', async () => {
      const cases = [
        ['error', 'stream-error', 'stream-server: injected error'],
        ['cut', 'stream-cut', 'the stream ended before data: [DONE]'],
        ['empty', 'stream-empty', 'data: [DONE] without generated text'],
        ['invalid', 'bad-response', 'stream data that is not JSON'],
      ] as const;
      for (const [mode, kind, message] of cases) {
        const { s, r } = await load(httpClient, { firstTokenMs: 20, intervalMs: 10, tokens: 6, mode }, { seconds: 0.5 });
        assert.ok(s.requests > 0);
        assert.deepEqual(failuresOf(s), { [kind]: s.requests }, mode);
        assert.equal(s.failures, s.requests);
        assert.deepEqual(
          r.failures.map((f) => [f.kind, f.error]),
          [[kind, message]],
          mode,
        );
        assert.ok(r.failures[0]!.sample?.startsWith('data: '), `${mode}: the first bytes are kept`);
        assert.deepEqual([s.stream!.streams, s.stream!.ttft.totalCount], [0, 0], `${mode}: nothing measured of a failed stream`);
        assert.equal(s.latency.totalCount, s.requests, `${mode}: a response, with its latency`);
      }
    });

    it('a body that ends normally before [DONE] is cut too, counted as a response with its latency', async () => {
      const { url } = await startServer({
        handler: (_req, res) => {
          res.setHeader('content-type', 'text/event-stream');
          res.write('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n');
          setTimeout(() => res.end('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'), 20);
        },
      });
      const r = await runLoad({
        baseUrl: url,
        endpoints: [chat],
        load: { model: 'closed', perUserRate: 20, stages: [{ name: 's', durationMs: 300, users: 1, spawnRate: 100 }] },
        timeoutMs: 2000,
        seed: 1,
        httpClient,
      });
      const s = statsFor(r);
      assert.ok(s.requests > 0);
      assert.deepEqual(failuresOf(s), { 'stream-cut': s.requests });
      assert.equal(s.latency.totalCount, s.requests);
      assert.ok(s.latency.minNonZeroValue >= 19_000, 'timed to the end of the body');
    });

    it('a failing status stays a status failure; a timeout mid-stream stays a timeout', async () => {
      const { url } = await startServer({
        handler: (_req, res) => {
          res.statusCode = 503;
          res.end('{"error":{"message":"overloaded"}}');
        },
      });
      const busy = await runLoad({
        baseUrl: url,
        endpoints: [chat],
        load: { model: 'closed', perUserRate: 20, stages: [{ name: 's', durationMs: 300, users: 1, spawnRate: 100 }] },
        timeoutMs: 2000,
        seed: 1,
        httpClient,
      });
      const b = statsFor(busy);
      assert.deepEqual(failuresOf(b), { status: b.requests });
      assert.equal(busy.failures[0]!.sample, '{"error":{"message":"overloaded"}}');
      const { s } = await load(httpClient, { firstTokenMs: 20, intervalMs: 100, tokens: 30 }, { users: 2, seconds: 0.5, timeoutMs: 300 });
      assert.deepEqual(failuresOf(s), { timeout: s.requests });
      assert.equal(s.stream!.streams, 0);
    });

    it('goodput: each request judged by the objective sets, a plain endpoint by its latency alone', async () => {
      const srv = await startStreamServer({ firstTokenMs: 60, intervalMs: 15, tokens: 5 });
      const health: EndpointPlan = { ...chat, name: 'health', method: 'GET', path: '/health', body: { kind: 'none' }, stream: false };
      try {
        const r = await runLoad({
          baseUrl: srv.url,
          endpoints: [chat, health],
          load: { model: 'closed', perUserRate: 0, stages: [{ name: 's', durationMs: 800, users: 2, spawnRate: 100 }] },
          timeoutMs: 2000,
          seed: 1,
          httpClient,
          requestObjectives: [
            { id: 'ttft < 1000ms', objectives: [{ metric: 'ttft', belowMs: 1000, inclusive: false }] },
            { id: 'ttft < 30ms', objectives: [{ metric: 'ttft', belowMs: 30, inclusive: false }] },
            { id: 'itl < 10ms', objectives: [{ metric: 'itl', belowMs: 10, inclusive: false }] },
            {
              id: 'tpot < 100ms, e2e < 2000ms',
              objectives: [
                { metric: 'tpot', belowMs: 100, inclusive: false },
                { metric: 'e2e', belowMs: 2000, inclusive: false },
              ],
            },
          ],
        });
        const c = statsFor(r, { endpoint: 0 });
        const h = statsFor(r, { endpoint: 1 });
        assert.ok(c.requests > 0 && h.requests > 0, `${c.requests} streams, ${h.requests} plain requests`);
        assert.deepEqual(failuresOf(c), {});
        // The stream server answers /health with a stream too, but the endpoint does not stream: only its latency counts.
        assert.deepEqual(c.good, {
          'ttft < 1000ms': c.requests,
          'ttft < 30ms': 0,
          'itl < 10ms': 0,
          'tpot < 100ms, e2e < 2000ms': c.requests,
        });
        assert.equal(h.stream, undefined);
        assert.deepEqual(h.good, {
          'ttft < 1000ms': h.requests,
          'ttft < 30ms': h.requests,
          'itl < 10ms': h.requests,
          'tpot < 100ms, e2e < 2000ms': h.requests,
        });
      } finally {
        await srv.close();
      }
    });
  });
}
