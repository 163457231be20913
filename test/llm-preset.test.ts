// The openai preset and its aliases (src/payload/presets.ts, src/plan/endpoints.ts): what each server
// name plans (path, readiness, streaming, the model), the requests as they arrive at a real HTTP server
// (method, path, headers, body), and the API key from an environment variable: sent, refused when the
// variable is unset, and found in no output of the CLI or file it writes.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { ConfigError, buildPlan, readConfigFile } from '../src/plan/config.ts';
import type { Plan } from '../src/plan/types.ts';
import { closeAllServers, startServer } from './helpers/http.ts';
import { CLI, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(async () => {
  await closeAllServers();
  removeTempDirs();
});

const dir = tempDir('loadgate-llm-preset-');
let n = 0;

function planOf(request: string): Plan {
  const file = writeFile(
    dir,
    `c${++n}.yml`,
    `service: {url: "http://127.0.0.1:9"}\nrequest: {${request}}\nload: {stages: [{duration: 1s, users: 1}]}\n`,
  );
  return buildPlan(readConfigFile(file));
}

function errorOf(request: string): string {
  try {
    planOf(request);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail(`no error for ${request}`);
}

const firstBody = (p: Plan) => JSON.parse((p.endpoints[0]!.body as { bodies: string[] }).bodies[0]!) as Record<string, unknown>;

describe('the openai preset and its aliases', () => {
  const servers: Array<[string[], string]> = [
    [['openai', 'openai-compatible', 'OpenAI'], '/health'],
    [['vllm', 'VLLM'], '/health'],
    [['tgi', 'text-generation-inference'], '/health'],
    [['llama-cpp', 'llama.cpp', 'llamacpp', 'llama_cpp', 'llama-server'], '/health'],
    [['sglang'], '/health'],
    [['ollama'], '/api/version'],
  ];
  for (const [names, ready] of servers) {
    it(`${names.join(', ')}: POST /v1/chat/completions streamed, ready at ${ready}`, () => {
      for (const name of names) {
        const p = planOf(`preset: ${name}, model: my-model`);
        const ep = p.endpoints[0]!;
        assert.deepEqual([ep.method, ep.path, ep.stream, p.readiness.path], ['POST', '/v1/chat/completions', true, ready], name);
        assert.deepEqual([ep.okStatus, ep.name], [[[200, 299]], 'POST /v1/chat/completions'], name);
        const body = firstBody(p);
        assert.deepEqual(Object.keys(body), ['model', 'messages', 'max_tokens', 'stream', 'stream_options'], name);
        assert.deepEqual([body['model'], body['stream'], body['stream_options']], ['my-model', true, { include_usage: true }]);
        assert.ok(Number.isInteger(body['max_tokens']));
        const completions = planOf(`preset: ${name}, model: my-model, api: completions`);
        assert.equal(completions.endpoints[0]!.path, '/v1/completions');
        assert.equal(typeof firstBody(completions)['prompt'], 'string');
      }
    });
  }

  it('the model: left out of the body when not given, except for Ollama, which needs it', () => {
    assert.equal(firstBody(planOf('preset: vllm'))['model'], undefined);
    assert.match(errorOf('preset: ollama'), /request\.model: missing: Ollama needs the model's name/);
  });

  it('an explicit readiness, path or name wins over the preset', () => {
    const file = writeFile(
      dir,
      'ready.yml',
      'service: {url: "http://127.0.0.1:9", ready: /v1/models}\nrequest: {preset: tgi, path: /generate/v1/chat/completions, name: chat}\n' +
        'load: {stages: [{duration: 1s, users: 1}]}\n',
    );
    const p = buildPlan(readConfigFile(file));
    assert.deepEqual(
      [p.readiness.path, p.endpoints[0]!.path, p.endpoints[0]!.name],
      ['/v1/models', '/generate/v1/chat/completions', 'chat'],
    );
  });

  it('a longer readiness timeout keeps the preset path (a large model loads for minutes; its / may be 404)', () => {
    const file = writeFile(
      dir,
      'slow.yml',
      'service: {url: "http://127.0.0.1:9", ready: {timeout: 10m}}\nrequest: {preset: vllm}\nload: {stages: [{duration: 1s, users: 1}]}\n',
    );
    const p = buildPlan(readConfigFile(file));
    assert.deepEqual(p.readiness, { path: '/health', timeoutMs: 600_000, okStatus: [[200, 399]] });
  });

  it('extra-body adds fields to every body, but cannot replace what the preset writes', () => {
    const body = firstBody(planOf('preset: vllm, extra-body: {ignore_eos: true, temperature: 0}'));
    assert.deepEqual([body['ignore_eos'], body['temperature']], [true, 0]);
    assert.match(errorOf('preset: vllm, extra-body: {stream: false}'), /extra-body\.stream: the preset writes "stream" itself/);
    assert.match(errorOf('preset: vllm, extra-body: {max_tokens: 3}'), /from prompts: output-tokens/);
  });

  it('keys of schema presets are refused with it, and its own keys without it', () => {
    for (const k of ['body: {a: 1}', 'schema: auto', 'bodies: x.jsonl', 'generate: 5', 'invalid: 5%']) {
      assert.match(errorOf(`preset: openai, ${k}`), /does not apply to preset: openai: its bodies are made from prompts:/, k);
    }
    assert.match(errorOf('path: /p, prompts: x.jsonl'), /request\.prompts: only applies with preset: openai/);
    assert.match(errorOf('preset: rest-model-service, model: m, api-key-env: K'), /request\.api-key-env: only applies with preset: openai/);
    assert.match(errorOf('preset: openai, api: embeddings'), /expected one of chat, completions/);
    assert.match(errorOf('preset: openai, method: GET'), /the openai preset POSTs/);
  });

  it('an unknown preset lists the openai family among the known ones', () => {
    assert.match(errorOf('preset: vllm2, model: m'), /unknown preset "vllm2"; known: .*openai \(openai-compatible, vllm, tgi,/);
  });
});

describe('api-key-env', () => {
  it('the plan keeps the name of the variable, never the key; a missing key is refused before anything starts', () => {
    process.env['LOADGATE_TEST_PLAN_KEY'] = 'sk-plan-5b1d0c';
    const p = planOf('preset: openai, api-key-env: LOADGATE_TEST_PLAN_KEY');
    assert.equal(p.endpoints[0]!.apiKeyEnv, 'LOADGATE_TEST_PLAN_KEY');
    assert.deepEqual(p.endpoints[0]!.headers, {});
    assert.ok(!JSON.stringify(p).includes('sk-plan-5b1d0c'));
    delete process.env['LOADGATE_TEST_PLAN_KEY'];
    assert.match(
      errorOf('preset: openai, api-key-env: LOADGATE_TEST_PLAN_KEY'),
      /request\.api-key-env: the environment variable LOADGATE_TEST_PLAN_KEY is not set \(or empty\)/,
    );
    process.env['LOADGATE_TEST_PLAN_KEY'] = 'two\nlines';
    assert.match(errorOf('preset: openai, api-key-env: LOADGATE_TEST_PLAN_KEY'), /holds characters a header cannot carry/);
    delete process.env['LOADGATE_TEST_PLAN_KEY'];
    assert.match(errorOf('preset: openai, api-key-env: "sk-abc def"'), /is not an environment variable name/);
    process.env['LOADGATE_TEST_PLAN_KEY'] = 'k';
    assert.match(
      errorOf('preset: openai, api-key-env: LOADGATE_TEST_PLAN_KEY, headers: {authorization: Bearer x}'),
      /headers: has an Authorization already/,
    );
    delete process.env['LOADGATE_TEST_PLAN_KEY'];
  });
});

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An OpenAI-compatible stand-in that records every request and streams a short answer in OpenAI's
 * format: chat.completion.chunk deltas for chat, text_completion choices for /v1/completions.
 */
async function recordingServer() {
  const seen: Seen[] = [];
  const chunk = (res: ServerResponse, o: object) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  const srv = await startServer({
    handler: (req, res, body) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/health') return res.end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chat = req.url === '/v1/chat/completions';
      const base = { id: 'x', object: chat ? 'chat.completion.chunk' : 'text_completion', created: 1, model: 'm' };
      const choice = (text: string | null, finish: string | null) =>
        chat
          ? { index: 0, delta: text === null ? {} : { content: text }, finish_reason: finish }
          : { index: 0, text: text ?? '', finish_reason: finish };
      if (chat) chunk(res, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      for (const t of ['In', ' the']) chunk(res, { ...base, choices: [choice(t, null)] });
      chunk(res, { ...base, choices: [choice(null, 'length')] });
      chunk(res, { ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } });
      res.end('data: [DONE]\n\n');
    },
  });
  return { srv, seen };
}

/** Every file under `root`, as text. */
function filesUnder(root: string): Array<[string, string]> {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => {
      const path = join(d.parentPath, d.name);
      return [path, readFileSync(path, 'latin1')];
    });
}

describe('the requests on the wire, through the CLI', () => {
  const KEY = 'sk-loadgate-test-7f3a9c2e1d';

  it('chat: POST /v1/chat/completions, JSON, the bearer key, a streamed body; the key in no output or report', async () => {
    const { srv, seen } = await recordingServer();
    const out = join(tempDir('loadgate-llm-key-'), 'report');
    const r = await runNode(
      [
        CLI,
        'run',
        '--url',
        srv.url,
        '--preset',
        'vllm',
        '--model',
        'served-model',
        '--api-key-env',
        'LOADGATE_TEST_LLM_KEY',
        '--users',
        '1',
        '--duration',
        '1s',
        '--slo',
        'errors == 0',
        '--out',
        out,
      ],
      { env: { LOADGATE_TEST_LLM_KEY: KEY } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const ready = seen.filter((s) => s.path === '/health');
    const sent = seen.filter((s) => s.path !== '/health');
    assert.ok(ready.length >= 1 && ready.every((s) => s.method === 'GET' && s.headers.authorization === undefined));
    assert.ok(sent.length >= 2, `${sent.length} requests`);
    for (const s of sent) {
      assert.deepEqual([s.method, s.path], ['POST', '/v1/chat/completions']);
      assert.equal(s.headers['content-type'], 'application/json');
      assert.equal(s.headers.authorization, `Bearer ${KEY}`);
      const body = JSON.parse(s.body) as Record<string, any>;
      assert.equal(body['model'], 'served-model');
      assert.equal(body['stream'], true);
      assert.deepEqual(body['stream_options'], { include_usage: true });
      assert.ok(Number.isInteger(body['max_tokens']) && body['max_tokens'] >= 1);
      assert.equal(body['messages'][0].role, 'user');
      assert.ok(body['messages'][0].content.length > 0);
    }
    // The prompts are sent in turn: consecutive requests carry different prompts.
    assert.notEqual(sent[0]!.body, sent[1]!.body);
    // Nowhere: not on the console, not in any report (result.json and its plan record, HTML, Markdown, JUnit, CSV).
    const files = filesUnder(out);
    assert.ok(files.some(([p]) => p.endsWith('result.json')) && files.some(([p]) => p.endsWith('report.md')));
    for (const [path, text] of [['stdout', r.stdout], ['stderr', r.stderr], ...files] as Array<[string, string]>) {
      assert.ok(!text.includes(KEY), `the key is in ${path}`);
      assert.ok(!text.includes(KEY.slice(3, 20)), `part of the key is in ${path}`);
    }
    await srv.close();
  });

  it('completions: POST /v1/completions with a prompt, no Authorization without api-key-env', async () => {
    const { srv, seen } = await recordingServer();
    const config = writeFile(
      dir,
      'completions.yml',
      `service: {url: "${srv.url}"}\nrequest: {preset: tgi, api: completions, prompts: {input-tokens: 12, output-tokens: 5, count: 3}}\n` +
        `load: {stages: [{duration: 1s, users: 1}]}\nslos: [errors == 0]\noutput: ${join(dir, 'completions-report')}\n`,
    );
    const r = await runNode([CLI, 'run', '--config', config]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const sent = seen.filter((s) => s.path !== '/health');
    assert.ok(sent.length >= 4);
    for (const s of sent) {
      assert.deepEqual([s.method, s.path, s.headers.authorization], ['POST', '/v1/completions', undefined]);
      const body = JSON.parse(s.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['prompt', 'max_tokens', 'stream', 'stream_options']);
      assert.equal(body['max_tokens'], 5);
    }
    // Three prompts, cycled in order.
    assert.equal(sent[3]!.body, sent[0]!.body);
    assert.match(r.stdout, /3 bodies generated from synthetic prompts of 12 tokens, max_tokens 5 \(preset tgi\), seed 1/);
    await srv.close();
  });

  it('an unset key variable: exit 2 with one line naming it, before any request', async () => {
    const { srv, seen } = await recordingServer();
    for (const value of [undefined, '']) {
      const r = await runNode(
        [CLI, 'run', '--url', srv.url, '--preset', 'openai', '--api-key-env', 'LOADGATE_TEST_LLM_KEY', '--users', '1', '--duration', '1s'],
        { env: { LOADGATE_TEST_LLM_KEY: value } },
      );
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--api-key-env \(request\.api-key-env\): the environment variable LOADGATE_TEST_LLM_KEY is not set/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(seen.length, 0, 'nothing was sent');
    await srv.close();
  });
});
