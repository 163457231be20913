// A streaming LLM test server with known timings, for accuracy tests of loadgate's streaming
// clients: the first token T ms after the request arrives, then one event every I ms, N tokens,
// in OpenAI's chat-completion chunk format; and the edge cases a client must survive (a stream
// cut mid-way, an error object mid-stream, no usage chunk, an answer buffered to the end, a JSON
// answer instead of a stream, several tokens per event, pings).
//
// It records what it actually did, per request: when the request arrived and when each event
// was written (performance.now(), the test process's clock), so a test compares a client's
// measurements with the server's real timings, not with the nominal T and I. The schedule is
// absolute (event k due at arrival + T + k * I, so lateness does not accumulate), and each write
// waits on a timer until 2 ms before its due time, then spins to it: Node's timers fire up to
// a millisecond or two late, which would be 5-10% of a 20 ms interval. The spin costs up to
// 2 ms of CPU per event, fine for a few streams, not for load.
//
//   const s = await startStreamServer({ firstTokenMs: 150, intervalMs: 20, tokens: 20 });
//   ... POST s.url + '/v1/chat/completions' ...
//   s.records[0].sends   // when each content event went out
//   await s.close();
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StreamMode =
  /** Role delta at once, N tokens, finish chunk, usage chunk, [DONE]. */
  | 'normal'
  /** The same without the usage chunk. */
  | 'no-usage'
  /** The connection is destroyed after `failAfter` content events: no finish, no [DONE]. */
  | 'cut'
  /** After `failAfter` content events, an error object, then [DONE]. */
  | 'error'
  /** The whole stream written at once when its last event is due (a buffering server or proxy). */
  | 'buffered'
  /** A non-streaming chat.completion JSON answer when the last token is due. */
  | 'json'
  /** As 'normal', every byte written on its own with a pause after it, so that events arrive cut across reads. */
  | 'bytewise'
  /** Role delta, finish chunk, usage of 0 tokens, [DONE]: a stream without generated text. */
  | 'empty'
  /** Events whose data is not JSON, then [DONE]. */
  | 'invalid';

export interface StreamServerOptions {
  /** T: ms from the request's arrival to the first content event. */
  firstTokenMs: number;
  /** I: ms between content events. */
  intervalMs: number;
  /** N: tokens per answer; a request's max_tokens (or max_completion_tokens) overrides it. */
  tokens: number;
  /** Tokens per content event (the last may carry fewer); default 1. */
  tokensPerEvent?: number;
  mode?: StreamMode;
  /** Content events before a 'cut' or 'error'; default half of them. */
  failAfter?: number;
  /** Send a ": ping" comment this often while streaming (0 = never, the default). */
  pingMs?: number;
  /** Spin to each due time (default true); false relies on timers alone. */
  precise?: boolean;
  /** 'bytewise': the pause after each byte, ms (default 1). */
  bytePauseMs?: number;
}

export interface StreamRecord {
  mode: StreamMode;
  /** When the request's headers arrived. */
  receivedAt: number;
  /** When each content event was written (for 'buffered' and 'json', all at the one write). */
  sends: number[];
  /** Tokens in the answer (usage.completion_tokens when sent). */
  tokens: number;
  /** ": ping" comments written. */
  pings: number;
  /** When the response ended (or the connection was destroyed); NaN while streaming. */
  endAt: number;
}

export interface StreamServer {
  url: string;
  /** One per request, in arrival order. */
  records: StreamRecord[];
  close(): Promise<void>;
}

const SPIN_MS = 2;

/** Resolves at `due` (performance.now() time): a timer until shortly before, then a spin. */
function until(due: number, precise: boolean, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const spin = () => {
      if (precise) while (performance.now() < due);
      resolve();
    };
    const wait = due - performance.now() - (precise ? SPIN_MS : 0);
    if (wait <= 0) return spin();
    const t = setTimeout(() => {
      timers.delete(t);
      spin();
    }, wait);
    timers.add(t);
  });
}

const WORDS = [' In', ' the', ' beginning', ' wörd', ' 🙂', ' and', ' the', ' earth', '.'];
const head = '{"id":"chatcmpl-test","object":"chat.completion.chunk","created":1,"model":"stream-test","choices":[';
const chunk = (delta: string, finish: string | null = null) =>
  `data: ${head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;

export async function startStreamServer(opts: StreamServerOptions): Promise<StreamServer> {
  const records: StreamRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const mode = opts.mode ?? 'normal';
  const precise = opts.precise ?? true;
  const perEvent = opts.tokensPerEvent ?? 1;

  async function serve(body: string, res: ServerResponse, record: StreamRecord): Promise<void> {
    let tokens = opts.tokens;
    try {
      const b = JSON.parse(body) as { max_tokens?: number; max_completion_tokens?: number };
      tokens = b.max_completion_tokens ?? b.max_tokens ?? tokens;
    } catch {
      // not JSON: the defaults
    }
    record.tokens = tokens;
    const events = Math.ceil(tokens / perEvent);
    const failAfter = opts.failAfter ?? Math.floor(events / 2);
    const due = (k: number) => record.receivedAt + opts.firstTokenMs + k * opts.intervalMs;
    const text = (k: number) => {
      let s = '';
      for (let t = k * perEvent; t < Math.min(tokens, (k + 1) * perEvent); t++) s += WORDS[t % WORDS.length];
      return s;
    };
    const usage = `data: ${head}],"usage":{"prompt_tokens":4,"completion_tokens":${tokens},"total_tokens":${tokens + 4}}}\n\n`;

    if (mode === 'json' || mode === 'buffered') {
      await until(due(events - 1), precise, timers);
      let all = '';
      for (let k = 0; k < events; k++) all += text(k);
      let out: string;
      if (mode === 'json') {
        out = JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          created: 1,
          model: 'stream-test',
          choices: [{ index: 0, message: { role: 'assistant', content: all }, logprobs: null, finish_reason: 'length' }],
          usage: { prompt_tokens: 4, completion_tokens: tokens, total_tokens: tokens + 4 },
        });
      } else {
        out = chunk('{"role":"assistant","content":""}');
        for (let k = 0; k < events; k++) out += chunk(`{"content":${JSON.stringify(text(k))}}`);
        out += `${chunk('{}', 'length') + usage}data: [DONE]\n\n`;
      }
      res.writeHead(200, { 'content-type': mode === 'json' ? 'application/json' : 'text/event-stream' });
      const at = performance.now();
      res.end(out);
      for (let k = 0; k < events; k++) record.sends.push(at);
      record.endAt = at;
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (mode === 'empty' || mode === 'invalid') {
      const events =
        mode === 'empty'
          ? [
              chunk('{"role":"assistant","content":""}'),
              chunk('{}', 'length'),
              usage.replace(`"completion_tokens":${tokens}`, '"completion_tokens":0'),
            ]
          : ['data: this is not JSON\n\n', 'data: {"choices": [\n\n'];
      for (const e of events) res.write(e);
      record.tokens = 0;
      await until(due(0), precise, timers);
      res.end('data: [DONE]\n\n');
      record.endAt = performance.now();
      return;
    }
    const pause = opts.bytePauseMs ?? 1;
    // 'bytewise': each byte a write of its own (a chunk of its own), and a pause, so that reads cut events anywhere.
    const put = async (s: string): Promise<void> => {
      if (mode !== 'bytewise') {
        res.write(s);
        return;
      }
      for (const b of Buffer.from(s)) {
        if (res.destroyed) return;
        res.write(Buffer.from([b]));
        await new Promise((r) => setTimeout(r, pause));
      }
    };
    // The role comes at once, before any token: a first byte that is not a first token.
    await put(chunk('{"role":"assistant","content":""}'));
    let ping: NodeJS.Timeout | undefined;
    if (opts.pingMs) {
      ping = setInterval(() => {
        res.write(': ping\n\n');
        record.pings++;
      }, opts.pingMs);
      timers.add(ping);
    }
    try {
      for (let k = 0; k < events; k++) {
        if ((mode === 'cut' || mode === 'error') && k === failAfter) break;
        await until(due(k), precise, timers);
        if (res.destroyed) return;
        await put(chunk(`{"content":${JSON.stringify(text(k))}}`));
        record.sends.push(performance.now());
      }
    } finally {
      if (ping) {
        clearInterval(ping);
        timers.delete(ping);
      }
    }
    if (mode === 'cut') {
      await until(due(failAfter), precise, timers);
      res.socket?.destroy();
      record.endAt = performance.now();
      return;
    }
    if (mode === 'error') {
      await until(due(failAfter), precise, timers);
      res.write('data: {"error":{"message":"stream-server: injected error","type":"server_error","param":null,"code":500}}\n\n');
    } else {
      await put(chunk('{}', 'length'));
      if (mode === 'normal' || mode === 'bytewise') await put(usage);
    }
    if (mode === 'bytewise') {
      await put('data: [DONE]\n\n');
      res.end();
    } else res.end('data: [DONE]\n\n');
    record.endAt = performance.now();
  }

  const server = createServer((req, res) => {
    const record: StreamRecord = { mode, receivedAt: performance.now(), sends: [], tokens: 0, pings: 0, endAt: NaN };
    records.push(record);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (s: string) => {
      body += s;
    });
    req.on('end', () => {
      serve(body, res, record).catch((error: unknown) => {
        res.destroy(error as Error);
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
