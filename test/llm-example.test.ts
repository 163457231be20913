// Tests for the example LLM service (examples/llm-chat): the server runs as a real child process
// on a free port, as loadgate users would run it, and is read through fetch and src/load/sse.ts.
// Servers are started with small settings (a few ms of work per token, tens of tokens): the
// machine is shared, and what is tested is order and shape, not speed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SseParser } from '../src/load/sse.ts';
import { CLI, PATH_WITH_NODE, REPO, killChildren, runNode, startNode, type Started } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const DIR = join(REPO, 'examples', 'llm-chat');
const SERVER = join(DIR, 'server.ts');

// The servers must not pick up settings from the developer's shell.
const CLEAN_ENV: Record<string, undefined> = {};
for (const name of [
  'HOST',
  'PORT',
  'WORK_PER_TOKEN_MS',
  'MAX_CONCURRENCY',
  'STARTUP_DELAY_MS',
  'FIRST_TOKEN_DELAY_MS',
  'PREFILL_MS_PER_TOKEN',
  'TOKENS_PER_EVENT',
  'BUFFER',
  'API_KEY',
  'SERVED_MODEL_NAME',
])
  CLEAN_ENV[name] = undefined;

after(() => {
  killChildren();
  removeTempDirs();
});

interface Running {
  proc: Started;
  url: string;
}

async function serve(args: string[] = []): Promise<Running> {
  const proc = startNode([SERVER, '--port', '0', ...args], { env: CLEAN_ENV, timeoutMs: 120_000 });
  const m = await proc.waitFor(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
  return { proc, url: m[1]! };
}

interface Seen {
  kind: string;
  at: number;
  json: Record<string, unknown> | null;
  data: string;
}

/** POSTs `body` and reads the answer as a stream of events, each with its arrival time. */
async function post(url: string, path: string, body: object, headers: Record<string, string> = {}) {
  const events: Seen[] = [];
  const parser = new SseParser((e) => {
    if (e.kind === 'comment') return;
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(e.data) as Record<string, unknown>;
    } catch {
      // [DONE]
    }
    events.push({ kind: e.kind, at: e.at, json, data: e.data });
  });
  const sentAt = performance.now();
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body!) {
    const at = performance.now();
    chunks.push(Buffer.from(chunk));
    parser.push(chunk, at);
  }
  parser.end(performance.now());
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: res.status, contentType: res.headers.get('content-type'), events, text, sentAt };
}

const chat = (content: string, extra: object = {}) => ({ model: 'kjv-trigram', messages: [{ role: 'user', content }], ...extra });
const STREAM = { stream: true, stream_options: { include_usage: true } };

type Choice = { delta?: { role?: string; content?: string }; text?: string; finish_reason: string | null };
const choices = (e: Seen) => (e.json?.['choices'] ?? []) as Choice[];
const contentOf = (events: Seen[]) =>
  events
    .filter((e) => e.kind === 'content')
    .map((e) => choices(e)[0]!.delta?.content ?? choices(e)[0]!.text)
    .join('');

describe('examples/llm-chat', () => {
  let main: Running;
  before(async () => {
    main = await serve();
  });

  test('train.ts reproduces the committed model.json byte for byte', async () => {
    const out = join(tempDir(), 'model.json');
    const r = await runNode([join(DIR, 'train.ts'), '--out', out], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(join(DIR, 'model.json'))), 'model.json differs from what train.ts writes');
  });

  test('a streamed chat: role-only first delta, content, finish, usage chunk, [DONE]', async () => {
    const r = await post(
      main.url,
      '/v1/chat/completions',
      chat('Who made the heaven and the earth?', { ...STREAM, seed: 7, max_tokens: 30 }),
    );
    assert.equal(r.status, 200);
    assert.match(r.contentType ?? '', /^text\/event-stream/);
    const kinds = r.events.map((e) => e.kind);
    assert.equal(kinds[0], 'empty');
    assert.deepEqual(choices(r.events[0]!)[0]!.delta, { role: 'assistant', content: '' });
    const n = kinds.filter((k) => k === 'content').length;
    assert.ok(n >= 1);
    // Every chunk but the usage one says "usage": null, as OpenAI's do with include_usage.
    assert.deepEqual(kinds, ['empty', ...Array<string>(n).fill('content'), 'empty', 'usage', 'done']);
    assert.ok(r.events.slice(0, -2).every((e) => e.json!['usage'] === null && e.json!['object'] === 'chat.completion.chunk'));
    const finish = choices(r.events.at(-3)!)[0]!;
    assert.deepEqual(finish.delta, {});
    assert.ok(finish.finish_reason === 'stop' || finish.finish_reason === 'length');
    const usage = r.events.at(-2)!.json!;
    assert.deepEqual(usage['choices'], []);
    // "Who made the heaven and the earth?" is 8 of the model's tokens; one token per content event.
    assert.deepEqual(usage['usage'], { prompt_tokens: 8, completion_tokens: n, total_tokens: 8 + n });
    assert.ok(r.text.endsWith('data: [DONE]\n\n'));
    assert.equal(new Set(r.events.slice(0, -1).map((e) => e.json!['id'])).size, 1, 'one id per stream');
  });

  test('a streamed text completion continues the prompt; no usage chunk unless asked', async () => {
    const r = await post(main.url, '/v1/completions', { prompt: 'And God said', stream: true, seed: 1, max_tokens: 12, ignore_eos: true });
    const kinds = r.events.map((e) => e.kind);
    assert.deepEqual(kinds, [...Array<string>(12).fill('content'), 'empty', 'done']);
    assert.equal(r.events[0]!.json!['object'], 'text_completion');
    assert.equal(choices(r.events.at(-2)!)[0]!.finish_reason, 'length');
  });

  test('non-streaming answers: chat.completion and text_completion with usage', async () => {
    const r = await post(main.url, '/v1/chat/completions', chat('Amen', { seed: 3, max_tokens: 20 }));
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as Record<string, any>;
    assert.equal(body['object'], 'chat.completion');
    assert.equal(body['choices'][0].message.role, 'assistant');
    const text = body['choices'][0].message.content as string;
    assert.ok(text.length > 0);
    assert.equal(body['usage'].prompt_tokens, 1);
    assert.equal(body['usage'].completion_tokens, text.match(/\p{L}+(?:['’]\p{L}*)*|\p{N}+|[^\s\p{L}\p{N}]/gu)!.length);
    const c = JSON.parse((await post(main.url, '/v1/completions', { prompt: ['In the beginning'], max_tokens: 5, ignore_eos: true })).text);
    assert.equal(c.object, 'text_completion');
    assert.equal(c.usage.completion_tokens, 5);
  });

  test('max_tokens and max_completion_tokens are honoured; ignore_eos runs to them', async () => {
    for (const limit of [{ max_tokens: 40 }, { max_completion_tokens: 40, max_tokens: 5 }]) {
      const r = await post(main.url, '/v1/chat/completions', chat('Say on', { ...STREAM, ...limit, ignore_eos: true, seed: 11 }));
      const usage = r.events.at(-2)!.json!['usage'] as { completion_tokens: number };
      assert.equal(usage.completion_tokens, 40);
      assert.equal(r.events.filter((e) => e.kind === 'content').length, 40);
      assert.equal(choices(r.events.at(-3)!)[0]!.finish_reason, 'length');
    }
    // Without ignore_eos the model ends its verse: fewer tokens, finish_reason stop.
    const r = await post(main.url, '/v1/chat/completions', chat('Say on', { max_tokens: 2000, seed: 11 }));
    const body = JSON.parse(r.text);
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.ok(body.usage.completion_tokens < 2000);
  });

  test('the same seed gives the same text; another seed another text', async () => {
    const once = async (seed: number) =>
      contentOf(
        (await post(main.url, '/v1/chat/completions', chat('Speak', { ...STREAM, seed, max_tokens: 40, ignore_eos: true }))).events,
      );
    const [a, b, c] = [await once(42), await once(42), await once(43)];
    assert.equal(a, b);
    assert.notEqual(a, c);
    const greedy = async () =>
      JSON.parse((await post(main.url, '/v1/chat/completions', chat('Speak', { temperature: 0, max_tokens: 10 }))).text).choices[0].message
        .content;
    assert.equal(await greedy(), await greedy(), 'temperature 0 needs no seed');
  });

  test('OpenAI errors: 400 with an error object, 404 for an unknown model or path', async () => {
    const cases: Array<[string, object, number, string | null]> = [
      ['/v1/chat/completions', { messages: [] }, 400, 'messages'],
      ['/v1/chat/completions', chat('x', { max_tokens: 0 }), 400, 'max_tokens'],
      ['/v1/chat/completions', chat('x', { temperature: 3 }), 400, 'temperature'],
      ['/v1/chat/completions', chat('x', { stream_options: { include_usage: true } }), 400, 'stream_options'],
      ['/v1/chat/completions', chat('x', { n: 2 }), 400, 'n'],
      ['/v1/chat/completions', chat('x', { max_tokens: 2048 }), 400, null],
      ['/v1/chat/completions', { ...chat('x'), model: 'gpt-4o' }, 404, 'model'],
      ['/v1/completions', { prompt: 42 }, 400, 'prompt'],
      ['/v1/embeddings', { input: 'x' }, 404, null],
    ];
    for (const [path, body, status, param] of cases) {
      const r = await post(main.url, path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.text}`);
      const error = JSON.parse(r.text).error;
      assert.equal(typeof error.message, 'string');
      assert.equal(error.param, param, r.text);
    }
    const bad = await fetch(`${main.url}/v1/chat/completions`, { method: 'POST', body: '{"messages": [' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  });

  test('readiness: /health and the API answer 503 until the start-up delay has passed', async () => {
    const s = await serve(['--startup-delay-ms', '400']);
    const early = await fetch(`${s.url}/health`);
    assert.equal(early.status, 503);
    assert.equal((await fetch(`${s.url}/v1/models`)).status, 503);
    assert.equal((await post(s.url, '/v1/chat/completions', chat('x'))).status, 503);
    await new Promise((r) => setTimeout(r, 450));
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    assert.equal(models.data[0]?.id, 'kjv-trigram');
    s.proc.kill();
    assert.equal((await s.proc.exited).code, 0);
  });

  test("--max-concurrency 1 queues: the second request's first token comes after the first finishes", async () => {
    const body = chat('Go', { ...STREAM, max_tokens: 25, ignore_eos: true, seed: 5 });
    const timesOf = (r: Awaited<ReturnType<typeof post>>) => {
      const content = r.events.filter((e) => e.kind === 'content');
      return { first: content[0]!.at, last: content.at(-1)!.at };
    };
    const queued = await serve(['--max-concurrency', '1', '--work-per-token-ms', '2']);
    const [a, b] = (
      await Promise.all([post(queued.url, '/v1/chat/completions', body), post(queued.url, '/v1/chat/completions', body)])
    ).map(timesOf);
    const [first, second] = a!.first < b!.first ? [a!, b!] : [b!, a!];
    assert.ok(second.first > first.last, `second's first token at ${second.first}, first's last at ${first.last}`);
    // With room for both they interleave: the limit is what queued them.
    const both = await serve(['--max-concurrency', '2', '--work-per-token-ms', '2']);
    const [c, d] = (await Promise.all([post(both.url, '/v1/chat/completions', body), post(both.url, '/v1/chat/completions', body)])).map(
      timesOf,
    );
    assert.ok(c!.first < d!.last && d!.first < c!.last, 'two slots: the streams overlap');
    queued.proc.kill();
    both.proc.kill();
  });

  test('--buffer sends the whole stream at the end: TTFT is the whole answer', async () => {
    const body = chat('Go', { ...STREAM, max_tokens: 20, ignore_eos: true, seed: 5 });
    const spread = async (args: string[]) => {
      const s = await serve(['--work-per-token-ms', '3', ...args]);
      const r = await post(s.url, '/v1/chat/completions', body);
      s.proc.kill();
      const content = r.events.filter((e) => e.kind === 'content');
      assert.equal(content.length, 20);
      assert.equal(r.events.at(-1)!.kind, 'done');
      return content.at(-1)!.at - content[0]!.at;
    };
    assert.ok((await spread([])) >= 19 * 3 * 0.9, 'streamed: the tokens arrive over time');
    assert.ok((await spread(['--buffer'])) < 5, 'buffered: the tokens arrive together');
  });

  test('--api-key: /v1 needs the bearer key, /health does not', async () => {
    const s = await serve(['--api-key', 'sekrit']);
    const none = await post(s.url, '/v1/chat/completions', chat('x'));
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.text).error.code, 'invalid_api_key');
    assert.equal((await post(s.url, '/v1/chat/completions', chat('x'), { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await fetch(`${s.url}/v1/models`)).status, 401);
    assert.equal((await post(s.url, '/v1/chat/completions', chat('x', { max_tokens: 3 }), { authorization: 'Bearer sekrit' })).status, 200);
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
    s.proc.kill();
  });

  test('a bad setting exits 2 with one line on stderr', async () => {
    for (const args of [['--max-concurrency', '0'], ['--work-per-token-ms', 'fast'], ['--bogus']]) {
      const r = await runNode([SERVER, ...args], { env: CLEAN_ENV });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^server\.ts: .+\(see --help\)\n$/);
    }
    const env = await runNode([SERVER, '--port', '0'], { env: { ...CLEAN_ENV, BUFFER: 'yes' } });
    assert.equal(env.code, 2);
  });
});

// loadgate's CLI against the example, as `npm run example:llm` runs it (shorter: one stage of 2 users
// for 3 s): the openai preset, synthetic prompts, the service started and stopped by loadgate.
describe('loadgate run against the example LLM service', () => {
  const CONFIG = join(DIR, 'loadgate.yml');
  const env = { ...CLEAN_ENV, PATH: PATH_WITH_NODE };

  /** Requests and failures over the whole run, from result.json. */
  function totals(out: string): { requests: number; failures: number } {
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
      cells: Array<Array<{ requests: number; failures: number }>>;
    };
    const cells = result.cells.flat();
    return { requests: cells.reduce((n, c) => n + c.requests, 0), failures: cells.reduce((n, c) => n + c.failures, 0) };
  }

  test('the example config: exit 0, every SLO met, no errors', async () => {
    const out = join(tempDir(), 'report');
    const r = await runNode([CLI, 'run', '--config', CONFIG, '--users', '2', '--duration', '3s', '--out', out], { env, timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const slo of ['errors == 0', 'p99 ttft < 300ms', 'p95 itl < 50ms', 'mean tpot < 30ms', 'output-tps >= 100', 'attainment >= 99%']) {
      assert.ok(r.stdout.includes(`[pass] ${slo}`), `${slo}: ${r.stdout}`);
    }
    assert.match(
      r.stdout,
      /200 bodies generated from synthetic prompts of 40±10 in \[8, 80\] tokens, max_tokens 64±16 in \[16, 128\] \(preset openai, model kjv-trigram\), seed 1/,
    );
    const t = totals(out);
    // Two users, ~64 tokens at ~4 ms each: a few requests a second each.
    assert.ok(t.requests >= 4, `${t.requests} requests`);
    assert.equal(t.failures, 0);
  });

  test('six users for four decoding slots: the queued wait a whole answer, TTFT breached, exit 1, every report', async () => {
    const out = join(tempDir(), 'report');
    const r = await runNode([CLI, 'run', '--config', CONFIG, '--users', '6', '--duration', '4s', '--out', out], { env, timeoutMs: 90_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[FAIL\] p99 ttft < 300ms +observed/);
    assert.match(r.stdout, /\[FAIL\] attainment >= 99% for ttft < 300ms, tpot < 50ms/);
    assert.match(r.stdout, /\[pass\] errors == 0/);
    const written = readdirSync(out);
    for (const f of ['result.json', 'report.md', 'report.html', 'junit.xml', 'loadgate_stats.csv', 'stream_stats.csv'])
      assert.ok(written.includes(f), f);
    assert.match(readFileSync(join(out, 'junit.xml'), 'utf8'), /p99 ttft &lt; 300ms[\s\S]*?<failure/);
  });

  test('a server with an API key: the key from api-key-env is accepted, and written nowhere', async () => {
    const key = 'sk-example-e2e-41c9b7';
    const config = writeFile(
      tempDir(),
      'keyed.yml',
      readFileSync(CONFIG, 'utf8')
        .replace('--first-token-delay-ms 10', '--first-token-delay-ms 10 --api-key "$LOADGATE_TEST_EXAMPLE_KEY"')
        .replace('# api-key-env: LLM_API_KEY ', 'api-key-env: LOADGATE_TEST_EXAMPLE_KEY')
        .replace('command: node server.ts', `cwd: ${DIR}\n  command: node server.ts`),
    );
    assert.match(readFileSync(config, 'utf8'), /^ {2}api-key-env: LOADGATE_TEST_EXAMPLE_KEY/m);
    const out = join(tempDir(), 'report');
    const r = await runNode([CLI, 'run', '--config', config, '--users', '2', '--duration', '2s', '--out', out], {
      env: { ...env, LOADGATE_TEST_EXAMPLE_KEY: key },
      timeoutMs: 90_000,
    });
    // Without the key every request would be a 401: errors == 0 fails, exit 1.
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(totals(out).failures, 0);
    for (const name of readdirSync(out, { recursive: true }) as string[]) {
      const path = join(out, name);
      if (!name.includes('.')) continue;
      assert.ok(!readFileSync(path, 'latin1').includes(key), `the key is in ${name}`);
    }
    assert.ok(!r.stdout.includes(key) && !r.stderr.includes(key), 'the key is on the console');
    // Unset, loadgate refuses before starting the service.
    const unset = await runNode([CLI, 'run', '--config', config, '--out', out], { env, timeoutMs: 30_000 });
    assert.equal(unset.code, 2, unset.stderr);
    assert.match(unset.stderr, /keyed\.yml:\d+ request\.api-key-env: the environment variable LOADGATE_TEST_EXAMPLE_KEY is not set/);
    assert.doesNotMatch(unset.stdout, /Started the service/);
  });
});
