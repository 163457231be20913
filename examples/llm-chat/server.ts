// Example LLM service for loadgate: the trigram model of model.ts behind an OpenAI-compatible API
// (chat and text completions, streamed as server-sent events the way vLLM and OpenAI stream them),
// with knobs that make it cost and behave like a bigger model: CPU per token, a prefill cost, a
// concurrency limit that queues the rest (so queueing shows in time to first token), a slow start,
// an answer buffered to the end, an API key. Run with --help for the options.
//
// Scheduling: each admitted request decodes one token (or --tokens-per-event tokens), writes its
// event and yields to the event loop, so the admitted requests take turns like the sequences of a
// continuously batched server; with W ms of work per token and A requests decoding, each gets a
// token about every A * W ms. Prefill is one block of CPU, so it stalls the others' tokens, as
// prefill does on a server without chunked prefill.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BOUNDARY, Decoder, MAX_MODEL_LEN, MODEL_ID, loadModel, mulberry32, tokenText, tokenize, type Sampling } from './model.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_MS = 86_400_000; // also keeps setTimeout below its 2^31-1 ms limit

const USAGE = `usage: node examples/llm-chat/server.ts [options]
  --host HOST                  address to listen on (env HOST, default 127.0.0.1)
  --port PORT                  port, 0 picks a free one (env PORT, default 8000)
  --work-per-token-ms N        extra CPU per generated token, in ms, decimals allowed (env WORK_PER_TOKEN_MS, default 0)
  --max-concurrency N          requests decoded at once; the rest wait in order (env MAX_CONCURRENCY, default 8)
  --startup-delay-ms N         /health and the API answer 503 for N ms after start (env STARTUP_DELAY_MS, default 0)
  --first-token-delay-ms N     CPU spent on prefill before the first token, in ms (env FIRST_TOKEN_DELAY_MS, default 0)
  --prefill-ms-per-token N     more prefill CPU per prompt token, in ms, decimals allowed (env PREFILL_MS_PER_TOKEN, default 0)
  --tokens-per-event N         tokens sent in each streamed event (env TOKENS_PER_EVENT, default 1)
  --buffer                     send a streamed answer only when it is complete, as a buffering proxy does (env BUFFER=1)
  --api-key KEY                require "Authorization: Bearer KEY" on /v1/* (env API_KEY)
  --served-model-name NAME     the model's name in the API (env SERVED_MODEL_NAME, default ${MODEL_ID})
  --help                       show this help`;

interface Options {
  host: string;
  port: number;
  workPerTokenMs: number;
  maxConcurrency: number;
  startupDelayMs: number;
  firstTokenDelayMs: number;
  prefillMsPerToken: number;
  tokensPerEvent: number;
  buffer: boolean;
  apiKey: string | undefined;
  modelName: string;
}

class UsageError extends Error {}

/** Flags win over environment variables, which win over defaults. */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'work-per-token-ms': { type: 'string' },
      'max-concurrency': { type: 'string' },
      'startup-delay-ms': { type: 'string' },
      'first-token-delay-ms': { type: 'string' },
      'prefill-ms-per-token': { type: 'string' },
      'tokens-per-event': { type: 'string' },
      buffer: { type: 'boolean' },
      'api-key': { type: 'string' },
      'served-model-name': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const setting = (name: keyof typeof values, envName: string, fallback: string) => {
    const flag = values[name];
    if (typeof flag === 'string') return { source: `--${name}`, raw: flag };
    return env[envName] ? { source: envName, raw: env[envName] } : { source: `--${name}`, raw: fallback };
  };
  const number = ({ source, raw }: { source: string; raw: string }, min: number, max: number, decimals: boolean) => {
    const ok = decimals ? /^\d+(\.\d+)?$/.test(raw) : /^\d+$/.test(raw);
    if (!ok || Number(raw) < min || Number(raw) > max) {
      throw new UsageError(
        `invalid ${source} value ${JSON.stringify(raw)}: expected ${decimals ? 'a number' : 'an integer'} from ${min} to ${max}`,
      );
    }
    return Number(raw);
  };
  const text = ({ source, raw }: { source: string; raw: string }) => {
    if (raw === '') throw new UsageError(`invalid ${source} value "": expected a non-empty string`);
    return raw;
  };
  const bufferEnv = env['BUFFER'];
  if (values.buffer === undefined && bufferEnv !== undefined && !/^(|0|1|true|false)$/.test(bufferEnv)) {
    throw new UsageError(`invalid BUFFER value ${JSON.stringify(bufferEnv)}: expected 1, true, 0 or false`);
  }
  const apiKey = values['api-key'] ?? env['API_KEY'];
  if (apiKey === '') throw new UsageError('invalid --api-key value "": expected a non-empty key');
  return {
    host: text(setting('host', 'HOST', '127.0.0.1')),
    port: number(setting('port', 'PORT', '8000'), 0, 65535, false),
    workPerTokenMs: number(setting('work-per-token-ms', 'WORK_PER_TOKEN_MS', '0'), 0, MAX_MS, true),
    maxConcurrency: number(setting('max-concurrency', 'MAX_CONCURRENCY', '8'), 1, 100_000, false),
    startupDelayMs: number(setting('startup-delay-ms', 'STARTUP_DELAY_MS', '0'), 0, MAX_MS, false),
    firstTokenDelayMs: number(setting('first-token-delay-ms', 'FIRST_TOKEN_DELAY_MS', '0'), 0, MAX_MS, true),
    prefillMsPerToken: number(setting('prefill-ms-per-token', 'PREFILL_MS_PER_TOKEN', '0'), 0, MAX_MS, true),
    tokensPerEvent: number(setting('tokens-per-event', 'TOKENS_PER_EVENT', '1'), 1, 1000, false),
    buffer: values.buffer ?? (bufferEnv === '1' || bufferEnv === 'true'),
    apiKey,
    modelName: text(setting('served-model-name', 'SERVED_MODEL_NAME', MODEL_ID)),
  };
}

let options: Options;
try {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  options = parsed;
} catch (error) {
  // parseArgs throws TypeErrors for unknown flags and missing values; all are usage errors.
  console.error(`server.ts: ${(error as Error).message} (see --help)`);
  process.exit(2);
}

let decoder: Decoder;
try {
  decoder = new Decoder(loadModel());
} catch (error) {
  console.error(`server.ts: cannot load the model: ${(error as Error).message}`);
  process.exit(1);
}
const vocab = decoder.model.vocab;

/** OpenAI's error body. */
class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  constructor(status: number, message: string, param: string | null = null, code: string | null = null, type = 'invalid_request_error') {
    super(message);
    this.status = status;
    this.param = param;
    this.code = code;
    this.type = type;
  }
  body(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.code } });
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

const sendError = (res: ServerResponse, e: ApiError, headers: Record<string, string> = {}) => send(res, e.status, e.body(), headers);

type Kind = 'chat' | 'completion';

interface Job {
  kind: Kind;
  promptTokens: string[];
  /** Where the answer starts: a new verse for chat, the prompt's last two tokens for a completion. */
  continuePrompt: boolean;
  maxTokens: number;
  ignoreEos: boolean;
  sampling: Sampling;
  seed: number;
  stream: boolean;
  includeUsage: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalNumber(body: Record<string, unknown>, name: string, min: number, max: number, integer: boolean): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new ApiError(
      400,
      `'${name}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`,
      name,
    );
  }
  return v;
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ApiError(400, `'${name}' must be a boolean, got ${JSON.stringify(v)}`, name);
  return v;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/** The text of the messages; content may be a string or OpenAI's array of text parts. */
function messagesText(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) throw new ApiError(400, "'messages' must be a non-empty array", 'messages');
  const texts: string[] = [];
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    if (!isObject(m) || typeof m['role'] !== 'string' || !ROLES.has(m['role'])) {
      throw new ApiError(400, `${param} must be an object with a 'role' of ${[...ROLES].join(', ')}`, param);
    }
    const content = m['content'];
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (!isObject(part) || part['type'] !== 'text' || typeof part['text'] !== 'string') {
          throw new ApiError(
            400,
            `${param}.content parts must be {"type": "text", "text": string}; this model reads text only`,
            `${param}.content`,
          );
        }
        texts.push(part['text']);
      }
    } else if (!(content === null && m['role'] === 'assistant')) {
      throw new ApiError(400, `${param}.content must be a string or an array of text parts`, `${param}.content`);
    }
  });
  return texts.join('\n');
}

/** Validates a request body as vLLM's OpenAI server would, for the parameters this model has. */
function parseJob(kind: Kind, body: unknown): Job {
  if (!isObject(body)) throw new ApiError(400, 'the request body must be a JSON object');
  const model = body['model'];
  if (model !== undefined && model !== null && model !== options.modelName) {
    throw new ApiError(404, `The model \`${String(model)}\` does not exist.`, 'model', 'model_not_found');
  }
  let prompt: string;
  if (kind === 'chat') prompt = messagesText(body['messages']);
  else {
    const p = body['prompt'];
    if (typeof p === 'string') prompt = p;
    else if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') prompt = p[0];
    else throw new ApiError(400, "'prompt' must be a string (or an array of one string)", 'prompt');
  }
  if ((optionalNumber(body, 'n', 1, 1, true) ?? 1) !== 1) throw new ApiError(400, "'n' must be 1", 'n');
  for (const unsupported of ['stop', 'echo', 'best_of', 'tools', 'response_format']) {
    const v = body[unsupported];
    if (v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) {
      throw new ApiError(400, `'${unsupported}' is not supported by this example model`, unsupported);
    }
  }
  const stream = optionalBoolean(body, 'stream') ?? false;
  let includeUsage = false;
  const so = body['stream_options'];
  if (so !== undefined && so !== null) {
    if (!stream) throw new ApiError(400, 'Stream options can only be defined when `stream=True`.', 'stream_options');
    if (!isObject(so)) throw new ApiError(400, "'stream_options' must be an object", 'stream_options');
    includeUsage = optionalBoolean(so, 'include_usage') ?? false;
  }
  const promptTokens = tokenize(prompt);
  const maxTokens =
    optionalNumber(body, 'max_completion_tokens', 1, MAX_MODEL_LEN, true) ?? optionalNumber(body, 'max_tokens', 1, MAX_MODEL_LEN, true);
  if (promptTokens.length + (maxTokens ?? 0) > MAX_MODEL_LEN || promptTokens.length >= MAX_MODEL_LEN) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${MAX_MODEL_LEN} tokens. However, you requested ` +
        `${promptTokens.length + (maxTokens ?? 0)} tokens (${promptTokens.length} in the ${kind === 'chat' ? 'messages' : 'prompt'}, ` +
        `${maxTokens ?? 0} in the completion). Please reduce the length of the ${kind === 'chat' ? 'messages' : 'prompt'} or completion.`,
    );
  }
  const topK = optionalNumber(body, 'top_k', -1, 1_000_000, true) ?? -1;
  const seed = optionalNumber(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  return {
    kind,
    promptTokens,
    continuePrompt: kind === 'completion',
    maxTokens: maxTokens ?? MAX_MODEL_LEN - promptTokens.length,
    ignoreEos: optionalBoolean(body, 'ignore_eos') ?? false,
    sampling: {
      temperature: optionalNumber(body, 'temperature', 0, 2, false) ?? 1,
      topK: topK <= 0 ? 0 : topK,
      topP: optionalNumber(body, 'top_p', Number.MIN_VALUE, 1, false) ?? 1,
    },
    // The generator takes 32 bits; larger seeds are folded so that nearby seeds still differ.
    seed: seed === undefined ? randomBytes(4).readUInt32LE() : (seed % 4294967296) ^ Math.floor(seed / 4294967296),
    stream,
    includeUsage,
  };
}

/** Requests decoded at once; the others wait here in arrival order. */
let active = 0;
const waiting: Array<() => void> = [];

function admit(): Promise<void> {
  if (active < options.maxConcurrency) {
    active++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next)
    next(); // the slot passes straight to the next request in line
  else active--;
}

let counter = 0;
const idPrefix = randomBytes(6).toString('hex');

/** Serves one admitted job; resolves when the answer is sent or the client has gone. */
async function generate(job: Job, res: ServerResponse, gone: () => boolean): Promise<void> {
  const id = `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${idPrefix}${(counter++).toString(16)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = options.modelName;
  const object = job.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  // With include_usage OpenAI sends "usage": null on every chunk but the last; so do we.
  const usageNull = job.includeUsage ? ',"usage":null' : '';
  const head = `{"id":"${id}","object":"${object}","created":${created},"model":${JSON.stringify(model)},"choices":[`;
  const held: string[] = [];
  const emit = (json: string) => {
    if (options.buffer) held.push(`data: ${json}\n\n`);
    else res.write(`data: ${json}\n\n`);
  };
  const chunk = (text: string | null, finish: string | null) => {
    const finishJson = finish === null ? 'null' : `"${finish}"`;
    if (job.kind === 'chat') {
      const delta = text === null ? '{}' : `{"content":${JSON.stringify(text)}}`;
      emit(`${head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishJson}}]${usageNull}}`);
    } else {
      emit(`${head}{"index":0,"text":${JSON.stringify(text ?? '')},"logprobs":null,"finish_reason":${finishJson}}]${usageNull}}`);
    }
  };

  if (job.stream && job.kind === 'chat') {
    // The role comes first and alone (with empty content, as vLLM and OpenAI send it): it is
    // not a token, and arrives before prefill is done.
    emit(`${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${usageNull}}`);
  }

  const prefill = decoder.prefill(job.promptTokens);
  const prefillMs = options.firstTokenDelayMs + options.prefillMsPerToken * job.promptTokens.length;
  if (prefillMs > 0) decoder.burn(prefill.a, prefill.b, prefillMs);
  let a = job.continuePrompt ? prefill.a : BOUNDARY;
  let b = job.continuePrompt ? prefill.b : BOUNDARY;
  let previous = job.continuePrompt ? job.promptTokens.at(-1) : undefined;

  const random = mulberry32(job.seed);
  let generated = 0;
  let finish: 'stop' | 'length' = 'length';
  let text = '';
  while (generated < job.maxTokens) {
    let piece = '';
    for (let i = 0; i < options.tokensPerEvent && generated < job.maxTokens; i++) {
      let c = decoder.next(a, b, job.sampling, random());
      // ignore_eos: the end of a verse starts another (bounded: the boundary is rarely drawn twice).
      for (let tries = 0; c === BOUNDARY && job.ignoreEos && tries < 100; tries++) {
        a = BOUNDARY;
        b = BOUNDARY;
        c = decoder.next(a, b, job.sampling, random());
      }
      if (options.workPerTokenMs > 0) decoder.burn(a, b, options.workPerTokenMs);
      if (c === BOUNDARY) {
        finish = 'stop';
        break;
      }
      const token = vocab[c]!;
      piece += tokenText(token, previous);
      previous = token;
      generated++;
      a = b;
      b = c;
    }
    if (piece !== '') {
      if (job.stream) chunk(piece, null);
      else text += piece;
    }
    if (finish === 'stop') break;
    // Let the other requests' tokens and this token's write go out before the next token.
    await yieldToLoop();
    if (gone()) return;
  }

  const usage = { prompt_tokens: job.promptTokens.length, completion_tokens: generated, total_tokens: job.promptTokens.length + generated };
  if (!job.stream) {
    const choice =
      job.kind === 'chat'
        ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }
        : { index: 0, text, logprobs: null, finish_reason: finish };
    const object = job.kind === 'chat' ? 'chat.completion' : 'text_completion';
    return send(res, 200, JSON.stringify({ id, object, created, model, choices: [choice], usage }));
  }
  chunk(job.kind === 'chat' ? null : '', finish);
  if (job.includeUsage) emit(`${head}],"usage":${JSON.stringify(usage)}}`);
  emit('[DONE]');
  if (options.buffer) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(held.join(''));
  } else res.end();
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // An oversized body is still read to the end (not kept): answering before the client has
    // finished sending makes many clients see a reset instead of the answer.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too large' : Buffer.concat(chunks, size)));
  });
}

let ready = false;
const NOT_READY = new ApiError(503, 'The model is loading; try again shortly.', null, 'model_not_ready', 'service_unavailable');

async function handleCompletion(kind: Kind, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw: Buffer | 'too large';
  try {
    raw = await readBody(req);
  } catch {
    return; // the client went away mid-body; there is no one to answer
  }
  if (raw === 'too large') return sendError(res, new ApiError(413, `The request body is over ${MAX_BODY_BYTES} bytes.`));
  if (!ready) return sendError(res, NOT_READY);
  let job: Job;
  try {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      throw new ApiError(400, `The request body is not valid JSON: ${(error as Error).message}`);
    }
    job = parseJob(kind, body);
  } catch (error) {
    if (error instanceof ApiError) return sendError(res, error);
    throw error;
  }
  // The connection closing before the answer is complete means the client has gone: stop
  // decoding for it (or never start) and free its slot.
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  if (job.stream && !options.buffer) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
  }
  await admit();
  try {
    if (!closed) await generate(job, res, () => closed);
  } catch (error) {
    const e = new ApiError(500, `Internal error: ${(error as Error).message}`, null, null, 'server_error');
    if (!res.headersSent) sendError(res, e);
    else res.end(`data: ${e.body()}\n\n`);
  } finally {
    release();
  }
}

function authorized(req: IncomingMessage): boolean {
  if (options.apiKey === undefined) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${options.apiKey}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const STATIC = {
  models: () =>
    JSON.stringify({
      object: 'list',
      data: [
        {
          id: options.modelName,
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'loadgate-example',
          root: MODEL_ID,
          max_model_len: MAX_MODEL_LEN,
        },
      ],
    }),
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Record<string, Handler>>([
  // vLLM's readiness path: 200 with an empty body once the model is loaded.
  ['/health', { GET: (_req, res) => (ready ? send(res, 200, '') : sendError(res, NOT_READY)) }],
  ['/v1/models', { GET: (_req, res) => (ready ? send(res, 200, STATIC.models()) : sendError(res, NOT_READY)) }],
  ['/v1/chat/completions', { POST: (req, res) => void handleCompletion('chat', req, res) }],
  ['/v1/completions', { POST: (req, res) => void handleCompletion('completion', req, res) }],
]);

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const route = routes.get(path);
  if (!route) return sendError(res, new ApiError(404, `Invalid URL (${req.method} ${path})`));
  const handler = route[req.method ?? ''];
  if (!handler)
    return sendError(res, new ApiError(405, `Method ${req.method} not allowed on ${path}`), { allow: Object.keys(route).join(', ') });
  if (path.startsWith('/v1/') && !authorized(req)) {
    req.resume();
    return sendError(res, new ApiError(401, 'Incorrect API key provided.', null, 'invalid_api_key'));
  }
  handler(req, res);
});
// Longer than the usual 60 s idle timeout of load balancers and HTTP clients, so the server is
// never the side that drops a pooled connection under the client's feet.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
// Long generations are normal; Node's default 300 s request timeout would cut them.
server.requestTimeout = 0;

server.on('error', (error) => {
  console.error(`server.ts: cannot listen on ${options.host}:${options.port}: ${error.message}`);
  process.exit(1);
});

server.listen(options.port, options.host, () => {
  const { port } = server.address() as AddressInfo;
  // The model is already in memory; the delay stands in for loading a big one. The port is open
  // meanwhile, so clients see 503 from /health, not refused connections.
  if (options.startupDelayMs === 0) ready = true;
  else
    setTimeout(() => {
      ready = true;
    }, options.startupDelayMs).unref();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  process.stdout.write(`listening on http://${host}:${port}\n`);
});

function shutdown(): void {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // Requests in flight get a moment to finish; then every connection is cut so that the process
  // exits promptly even if a client keeps its connection open.
  setTimeout(() => server.closeAllConnections(), 1000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
