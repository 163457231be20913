// Byte fixtures for the SSE parser and the per-stream metrics (src/load/sse.ts): every edge case
// issue 12 lists, each also fed split at every byte boundary, since TCP reads cut anywhere (inside
// a UTF-8 sequence, inside a CRLF, inside "[DONE]").
//
// The last suite reads real streams through Node's fetch from test/helpers/stream-server.ts, which
// it also checks: the server must keep the timings it claims, since later accuracy tests of the
// streaming clients compare against them.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, StreamAccumulator, type SseEvent, type StreamMetrics } from '../src/load/sse.ts';
import { startStreamServer, type StreamMode, type StreamServer, type StreamServerOptions } from './helpers/stream-server.ts';

type Seen = Pick<SseEvent, 'kind' | 'at' | 'textLength' | 'completionTokens' | 'promptTokens' | 'message' | 'nonStreaming'>;

/** Feeds `chunks` (chunk i arriving at time i) and returns copies of the events. */
function events(chunks: Buffer[]): Seen[] {
  const out: Seen[] = [];
  const p = new SseParser((e) => {
    const { kind, at, textLength, completionTokens, promptTokens, message, nonStreaming } = e;
    out.push({ kind, at, textLength, completionTokens, promptTokens, message, nonStreaming });
  });
  chunks.forEach((c, i) => p.push(c, i));
  p.end(chunks.length);
  return out;
}

/** The same bytes split in two at every boundary give the same events (times aside). */
function assertSplitsAgree(bytes: Buffer): Seen[] {
  const whole = events([bytes]).map((e) => ({ ...e, at: 0 }));
  for (let k = 1; k < bytes.length; k++) {
    const split = events([bytes.subarray(0, k), bytes.subarray(k)]).map((e) => ({ ...e, at: 0 }));
    assert.deepEqual(split, whole, `split at byte ${k} of ${JSON.stringify(bytes.toString('latin1'))}`);
  }
  const bytewise = events([...bytes].map((b) => Buffer.from([b]))).map((e) => ({ ...e, at: 0 }));
  assert.deepEqual(bytewise, whole, 'one byte per read');
  return whole;
}

function metrics(chunks: Buffer[], times: number[], startedAt = 0, endAt = times.at(-1)!): StreamMetrics {
  const acc = new StreamAccumulator();
  acc.reset(startedAt);
  const p = new SseParser(acc.onEvent);
  chunks.forEach((c, i) => p.push(c, times[i]!));
  p.end(endAt);
  return acc.finish(endAt);
}

const chat = (delta: object, finish: string | null = null) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]}\n\n`;
const usage = (prompt: number, completion: number) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion}}}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** A vLLM-style chat stream: role-only first delta, three tokens (multi-byte ones too), finish, usage, [DONE]. */
const VLLM = [
  chat({ role: 'assistant', content: '' }),
  chat({ content: 'Café' }),
  chat({ content: ' — ' }),
  chat({ content: ' 🙂' }),
  chat({}, 'stop'),
  usage(7, 3),
  DONE,
];

describe('SseParser', () => {
  test('a vLLM chat stream: the role-only delta and the finish chunk are empty, not content', () => {
    const seen = assertSplitsAgree(Buffer.from(VLLM.join('')));
    assert.deepEqual(
      seen.map((e) => e.kind),
      ['empty', 'content', 'content', 'content', 'empty', 'usage', 'done'],
    );
    assert.deepEqual(
      seen.filter((e) => e.kind === 'content').map((e) => e.textLength),
      ['Café'.length, ' — '.length, ' 🙂'.length],
    );
    assert.deepEqual(
      seen.find((e) => e.kind === 'usage'),
      {
        kind: 'usage',
        at: 0,
        textLength: 0,
        completionTokens: 3,
        promptTokens: 7,
        message: '',
        nonStreaming: false,
      },
    );
  });

  test('an event is timed by the read that completes it, not the one that starts it', () => {
    const bytes = Buffer.from(VLLM.slice(0, 3).join(''));
    const secondStart = Buffer.byteLength(VLLM[0]!) + 10;
    const secondEnd = Buffer.byteLength(VLLM[0]! + VLLM[1]!);
    // read 0: event 1 and the start of event 2; read 1: the rest of event 2 but its blank line; read 2: the rest.
    const seen = events([bytes.subarray(0, secondStart), bytes.subarray(secondStart, secondEnd - 1), bytes.subarray(secondEnd - 1)]);
    assert.deepEqual(
      seen.map((e) => [e.kind, e.at]),
      [
        ['empty', 0],
        ['content', 2],
        ['content', 2],
      ],
    );
  });

  test('several tokens in one event are one content event; usage tells the tokens', () => {
    const bytes = Buffer.from(
      chat({ role: 'assistant' }) + chat({ content: ' In the beginning' }) + chat({ content: ' God' }) + usage(2, 4) + DONE,
    );
    const seen = assertSplitsAgree(bytes);
    assert.deepEqual(
      seen.map((e) => e.kind),
      ['empty', 'content', 'content', 'usage', 'done'],
    );
    const m = metrics([bytes], [5]);
    assert.equal(m.contentEvents, 2);
    assert.equal(m.output, 4);
    assert.equal(m.outputUnit, 'tokens');
  });

  test('comments and pings are reported and change nothing else', () => {
    const bytes = Buffer.from(`: ping\n\n${VLLM[0]}:keep-alive\n${VLLM[1]}: ping - 2026-11-30 14:00:00\n\n${DONE}`);
    const seen = assertSplitsAgree(bytes);
    assert.deepEqual(
      seen.map((e) => e.kind),
      ['comment', 'empty', 'comment', 'content', 'comment', 'done'],
    );
  });

  test('CRLF and lone CR line endings parse like LF, even with a CRLF split across reads', () => {
    const lf = Buffer.from(VLLM.join(''));
    const crlf = Buffer.from(VLLM.join('').replaceAll('\n', '\r\n'));
    const cr = Buffer.from(VLLM.join('').replaceAll('\n', '\r'));
    const expected = events([lf]);
    assert.deepEqual(assertSplitsAgree(crlf), expected);
    assert.deepEqual(assertSplitsAgree(cr), expected);
    // "\r" ending one read and "\n" starting the next is one line end, not a blank line between.
    const mixed = Buffer.from(`data: {"choices":[{"delta":\r\ndata: {"content":"x"}}]}\r\n\r\n`);
    const at = mixed.indexOf('\r\ndata: {"content"') + 1;
    assert.deepEqual(
      events([mixed.subarray(0, at), mixed.subarray(at)]).map((e) => e.kind),
      ['content'],
    );
  });

  test('multi-line data fields join with a newline', () => {
    const bytes = Buffer.from('data: {"choices":[{"delta":\ndata:{"content":"two lines"}}],\ndata: "usage":null}\n\n');
    const seen = assertSplitsAgree(bytes);
    assert.deepEqual(
      seen.map((e) => [e.kind, e.textLength]),
      [['content', 'two lines'.length]],
    );
  });

  test('an error object mid-stream, in the shapes OpenAI, TGI and older vLLM send', () => {
    const openai = Buffer.from(
      `${VLLM.slice(0, 2).join('')}data: {"error":{"message":"CUDA out of memory","type":"server_error","code":500}}\n\n`,
    );
    assert.deepEqual(
      assertSplitsAgree(openai).map((e) => [e.kind, e.message]),
      [
        ['empty', ''],
        ['content', ''],
        ['error', 'CUDA out of memory'],
      ],
    );
    const tgi = Buffer.from('data: {"error":"Input validation error","error_type":"validation"}\n\n');
    assert.deepEqual(
      events([tgi]).map((e) => [e.kind, e.message]),
      [['error', 'Input validation error']],
    );
    const vllm = Buffer.from('data: {"object":"error","message":"too long","type":"BadRequestError","code":400}\n\n');
    assert.deepEqual(
      events([vllm]).map((e) => [e.kind, e.message]),
      [['error', 'too long']],
    );
    const named = Buffer.from('event: error\ndata: {"detail":"overloaded"}\n\n');
    assert.deepEqual(
      events([named]).map((e) => e.kind),
      ['error'],
    );
  });

  test('"usage": null on every chunk (OpenAI with include_usage) is not usage', () => {
    const bytes = Buffer.from('data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\ndata: {"choices":[],"usage":null}\n\n');
    assert.deepEqual(
      events([bytes]).map((e) => [e.kind, e.completionTokens]),
      [
        ['content', -1],
        ['other', -1],
      ],
    );
  });

  test('legacy completions, reasoning text and tool-call deltas are content', () => {
    const bytes = Buffer.from(
      'data: {"object":"text_completion","choices":[{"index":0,"text":" the","finish_reason":null}]}\n\n' +
        'data: {"choices":[{"index":0,"text":"","finish_reason":"length"}]}\n\n' +
        'data: {"choices":[{"delta":{"reasoning_content":"Hmm"}}]}\n\n' +
        'data: {"choices":[{"delta":{"reasoning":"so"}}]}\n\n' +
        'data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\""}}]}}]}\n\n' +
        'data: {"choices":[{"delta":{"tool_calls":[]}}]}\n\n',
    );
    assert.deepEqual(
      assertSplitsAgree(bytes).map((e) => e.kind),
      ['content', 'empty', 'content', 'content', 'content', 'empty'],
    );
  });

  test('data that is not JSON is invalid; an empty data line is not content', () => {
    assert.deepEqual(
      events([Buffer.from('data: {"choices": [\n\ndata:\n\ndata: hello\n\n')]).map((e) => e.kind),
      ['invalid', 'other', 'invalid'],
    );
  });

  test('a non-streaming JSON answer is one content event at its last byte, flagged', () => {
    const body = Buffer.from(
      `\r\n${JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'In the beginning' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
      })}\n`,
    );
    assert.deepEqual(assertSplitsAgree(body), [
      {
        kind: 'content',
        at: 0,
        textLength: 16,
        completionTokens: 3,
        promptTokens: 3,
        message: '',
        nonStreaming: true,
      },
    ]);
    const half = body.length >> 1;
    assert.equal(events([body.subarray(0, half), body.subarray(half)])[0]!.at, 1, 'timed at the read with its last byte');
  });

  test('the start of the body decides: a BOM is dropped, even split across reads', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(VLLM.join(''))]);
    assert.deepEqual(
      assertSplitsAgree(bytes),
      events([Buffer.from(VLLM.join(''))]).map((e) => ({ ...e, at: 0 })),
    );
  });

  test('an event without its blank line at the end of the body is dropped', () => {
    assert.deepEqual(
      events([Buffer.from(`${VLLM[1]!}data: [DONE]\n`)]).map((e) => e.kind),
      ['content'],
    );
  });

  test('keeps no reference to a pushed chunk: h1-slot.ts reuses one read buffer for every read', () => {
    const bytes = Buffer.from(VLLM.join(''));
    const shared = Buffer.alloc(bytes.length);
    const got: string[] = [];
    const p = new SseParser((e) => got.push(`${e.kind}:${e.textLength}:${e.completionTokens}`));
    // Reads of 37 bytes copied into the same buffer, the rest of it overwritten each time.
    for (let i = 0; i < bytes.length; i += 37) {
      const n = bytes.copy(shared, 0, i, Math.min(i + 37, bytes.length));
      shared.fill(0x7b, n);
      p.push(shared, i, 0, n);
    }
    const expected = events([bytes]).map((e) => `${e.kind}:${e.textLength}:${e.completionTokens}`);
    assert.deepEqual(got, expected);
  });

  test('reads a sub-range of a chunk, and a plain Uint8Array', () => {
    const bytes = Buffer.from(`garbage${VLLM[1]}garbage`);
    const got: string[] = [];
    const p = new SseParser((e) => got.push(e.kind));
    p.push(new Uint8Array(bytes), 0, 7, bytes.length - 7);
    assert.deepEqual(got, ['content']);
  });

  test('reset() starts a new body: a half-read line and the mode are forgotten', () => {
    const got: string[] = [];
    const p = new SseParser((e) => got.push(e.kind));
    p.push(Buffer.from('{"choices": ['), 0);
    assert.equal(p.isJson, true);
    p.reset();
    p.push(Buffer.from('data: {"choices":[{"delta":{"con'), 1);
    p.reset();
    p.push(Buffer.from(VLLM[1]! + DONE), 2);
    p.end(3);
    assert.deepEqual(got, ['content', 'done']);
  });
});

describe('StreamAccumulator', () => {
  const stream = (parts: string[]) => parts.map((s) => Buffer.from(s));

  test('TTFT at the first content (not the role delta), ITLs between contents, E2E at [DONE], TPOT from usage', () => {
    // Sent at 100; role at 110, tokens at 150, 170, 200, finish and usage at 200, [DONE] at 205.
    const m = metrics(stream([VLLM[0]!, VLLM[1]!, VLLM[2]!, VLLM[3]! + VLLM[4]! + VLLM[5]!, DONE]), [110, 150, 170, 200, 205], 100, 230);
    assert.equal(m.failure, null);
    assert.equal(m.ttft, 50);
    assert.deepEqual(m.itl, [20, 30]);
    assert.equal(m.lastContent, 100);
    assert.equal(m.e2e, 105);
    assert.equal(m.output, 3);
    assert.equal(m.outputUnit, 'tokens');
    assert.equal(m.promptTokens, 7);
    assert.equal(m.tpot, (105 - 50) / 2);
    assert.equal(m.nonStreaming, false);
  });

  test('no usage chunk: output counts content events, labelled chunks', () => {
    const m = metrics(stream([VLLM[0]!, VLLM[1]!, VLLM[2]! + DONE]), [1, 2, 4]);
    assert.equal(m.failure, null);
    assert.equal(m.output, 2);
    assert.equal(m.outputUnit, 'chunks');
    assert.equal(m.promptTokens, -1);
    assert.equal(m.tpot, 2);
  });

  test('a stream cut before [DONE] is a failure, its timings kept', () => {
    const m = metrics(stream([VLLM[0]!, VLLM[1]!, VLLM[2]!.slice(0, 20)]), [1, 2, 3], 0, 9);
    assert.equal(m.failure, 'cut');
    assert.equal(m.ttft, 2);
    assert.equal(m.e2e, 9);
    assert.equal(m.contentEvents, 1);
    assert.ok(Number.isNaN(m.tpot));
  });

  test('an error object mid-stream is its own failure, even if [DONE] follows', () => {
    const m = metrics(stream([VLLM[1]!, 'data: {"error":{"message":"boom"}}\n\n', DONE]), [1, 2, 3]);
    assert.equal(m.failure, 'error-event');
    assert.equal(m.errorMessage, 'boom');
  });

  test('[DONE] without content is no-content; without [DONE] either it is cut; garbage is invalid', () => {
    assert.equal(metrics(stream([VLLM[0]!, usage(3, 0), DONE]), [1, 2, 3]).failure, 'no-content');
    assert.equal(metrics(stream([': ping\n\n']), [1]).failure, 'cut');
    assert.equal(metrics(stream(['data: oops\n\n', DONE]), [1, 2]).failure, 'invalid');
    assert.equal(metrics(stream(['<html>502 Bad Gateway</html>']), [1]).failure, 'cut');
    assert.equal(metrics(stream(['{"truncated": ']), [1]).failure, 'invalid');
  });

  test('events after [DONE] are ignored', () => {
    const m = metrics(stream([VLLM[1]! + DONE, `${VLLM[2]!}data: {"error":"late"}\n\n`]), [1, 50]);
    assert.equal(m.failure, null);
    assert.equal(m.contentEvents, 1);
    assert.equal(m.e2e, 1);
  });

  test('a JSON answer: TTFT = E2E at its last byte, no ITL, no TPOT, not a failure', () => {
    const body = JSON.stringify({
      choices: [{ message: { role: 'assistant', content: 'Amen.' } }],
      usage: { prompt_tokens: 1, completion_tokens: 2 },
    });
    const m = metrics(stream([body.slice(0, 10), body.slice(10)]), [30, 80], 0, 95);
    assert.equal(m.failure, null);
    assert.equal(m.nonStreaming, true);
    assert.equal(m.ttft, 80);
    assert.equal(m.e2e, 80);
    assert.deepEqual(m.itl, []);
    assert.ok(Number.isNaN(m.tpot));
    assert.equal(m.output, 2);
    const err = metrics(stream(['{"error":{"message":"bad model","code":"model_not_found"}}']), [1]);
    assert.equal(err.failure, 'error-event');
    assert.equal(err.errorMessage, 'bad model');
  });

  test('reset() clears everything, the ITL array included', () => {
    const acc = new StreamAccumulator();
    const p = new SseParser(acc.onEvent);
    acc.reset(0);
    p.push(Buffer.from(VLLM.join('')), 1);
    p.push(Buffer.from(VLLM[1]!), 2);
    acc.finish(3);
    p.reset();
    acc.reset(10);
    p.push(Buffer.from(VLLM[1]! + DONE), 12);
    const m = acc.finish(13);
    assert.deepEqual([m.failure, m.ttft, m.itl.length, m.output, m.outputUnit, m.promptTokens], [null, 2, 0, 1, 'chunks', -1]);
  });
});

describe('over a socket: fetch, SseParser and StreamAccumulator against the stream test server', () => {
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const gaps = (xs: readonly number[]) => xs.slice(1).map((x, i) => x - xs[i]!);
  const servers: StreamServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  async function server(opts: StreamServerOptions): Promise<StreamServer> {
    const s = await startStreamServer(opts);
    servers.push(s);
    return s;
  }

  /** One streamed chat request through fetch; the metrics are copied out of the accumulator. */
  async function stream(url: string, body: object = {}): Promise<StreamMetrics & { itl: number[]; sentAt: number }> {
    const acc = new StreamAccumulator();
    const parser = new SseParser(acc.onEvent);
    const sentAt = performance.now();
    acc.reset(sentAt);
    try {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'stream-test',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
          ...body,
        }),
      });
      for await (const chunk of res.body!) parser.push(chunk, performance.now());
    } catch {
      // a cut connection: the stream simply ends here, which the accumulator judges
    }
    const end = performance.now();
    parser.end(end);
    const m = acc.finish(end);
    return { ...m, itl: [...m.itl], sentAt };
  }

  test('over fetch, the parser and accumulator time the stream the server sent (TTFT and ITL near T and I)', async () => {
    // The 2% accuracy of loadgate's own clients is test/stream-client.test.ts's, with the server in a
    // process of its own. Here server and client share one event loop, so on a loaded machine each
    // delays the other by milliseconds: this checks what the pure parser makes of real socket reads
    // (the right origin, every token, gaps of the right size), not 2%.
    const T = 200;
    const I = 20;
    const s = await server({ firstTokenMs: T, intervalMs: I, tokens: 25 });
    const ms = [];
    for (let i = 0; i < 3; i++) ms.push(await stream(s.url));
    for (const m of ms) assert.deepEqual([m.failure, m.output, m.outputUnit, m.contentEvents, m.promptTokens], [null, 25, 'tokens', 25, 4]);
    const rs = s.records;
    assert.deepEqual(
      rs.map((r) => r.sends.length),
      [25, 25, 25],
    );
    const serverTtft = median(rs.map((r) => r.sends[0]! - r.receivedAt));
    const serverItl = median(rs.flatMap((r) => gaps(r.sends)));
    // fetch tells no send time, so the client's TTFT is taken from the server's arrival time (one clock).
    const clientTtft = median(ms.map((m, i) => m.sentAt + m.ttft - rs[i]!.receivedAt));
    const clientItl = median(ms.flatMap((m) => m.itl));
    assert.ok(clientTtft >= serverTtft - 1 && clientTtft <= serverTtft + 0.25 * T, `client TTFT ${clientTtft} ms, server ${serverTtft}`);
    assert.ok(Math.abs(clientItl - serverItl) <= 0.25 * I, `client ITL median ${clientItl} ms, server ${serverItl}`);
  });

  const quick = { firstTokenMs: 20, intervalMs: 5, tokens: 6 };
  const cases: Array<[StreamMode, (m: StreamMetrics, s: StreamServer) => void]> = [
    ['no-usage', (m) => assert.deepEqual([m.failure, m.output, m.outputUnit], [null, 6, 'chunks'])],
    [
      'cut',
      (m, s) => {
        assert.equal(m.failure, 'cut');
        assert.equal(s.records[0]!.sends.length, 3);
        // Not always all 3: when the connection breaks, fetch's body stream drops the chunks its
        // reader has not taken yet (WHATWG streams discard their queue on error).
        assert.ok(m.contentEvents <= 3);
      },
    ],
    ['error', (m) => assert.deepEqual([m.failure, m.errorMessage, m.contentEvents], ['error-event', 'stream-server: injected error', 3])],
    [
      'buffered',
      (m) => {
        assert.deepEqual([m.failure, m.contentEvents, m.output], [null, 6, 6]);
        // Everything came in one write: TTFT is (nearly) the whole answer, and the gaps vanish.
        assert.ok(m.e2e - m.ttft < 5, `TTFT ${m.ttft} ms vs E2E ${m.e2e}`);
        assert.ok(m.ttft >= 20 + 5 * 5 - 1, `TTFT ${m.ttft} ms, the last token was due at 45`);
      },
    ],
    [
      'json',
      (m) => {
        assert.deepEqual([m.failure, m.nonStreaming, m.contentEvents, m.output, m.itl.length], [null, true, 1, 6, 0]);
        assert.equal(m.ttft, m.e2e);
      },
    ],
  ];
  for (const [mode, check] of cases) {
    test(`mode ${mode}`, async () => {
      const s = await server({ ...quick, mode });
      check(await stream(s.url), s);
    });
  }

  test('several tokens per event, pings, and max_tokens from the request', async () => {
    const s = await server({ ...quick, tokensPerEvent: 3, pingMs: 4 });
    const m = await stream(s.url, { max_tokens: 7 });
    assert.deepEqual([m.failure, m.contentEvents, m.output, m.outputUnit], [null, 3, 7, 'tokens']);
    assert.ok(s.records[0]!.pings > 0, 'the server sent no ping');
    assert.equal(m.comments, s.records[0]!.pings);
  });
});
