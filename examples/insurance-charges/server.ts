// Example model service for loadgate: the insurance charges model behind the HTTP API of
// the Python rest_model_service package, with knobs that make it behave like a heavier
// model (CPU work per prediction, slow start-up). Run with --help for the options.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  INPUT_SCHEMA_JSON,
  MODEL_NAME,
  OUTPUT_SCHEMA_JSON,
  evaluate,
  formatError,
  loadModel,
  predict,
  validateInput,
  type InsuranceChargesModelInput,
  type Model,
} from './model.ts';
import { MODEL_DESCRIPTION, MODEL_DISPLAY_NAME, SERVICE_VERSION, buildOpenApi } from './openapi.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_MS = 86_400_000; // also keeps setTimeout below its 2^31-1 ms limit

const USAGE = `usage: node examples/insurance-charges/server.ts [options]
  --host HOST             address to listen on (env HOST, default 127.0.0.1)
  --port PORT             port, 0 picks a free one (env PORT, default 8000)
  --extra-work-ms N       extra CPU work per prediction, in ms (env EXTRA_WORK_MS, default 0)
  --startup-delay-ms N    /api/health/ready answers 503 for N ms after start (env STARTUP_DELAY_MS, default 0)
  --help                  show this help`;

interface Options {
  host: string;
  port: number;
  extraWorkMs: number;
  startupDelayMs: number;
}

class UsageError extends Error {}

/** Flags win over environment variables, which win over defaults. */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'extra-work-ms': { type: 'string' },
      'startup-delay-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const setting = (flag: string | undefined, name: string, envName: string, fallback: string) =>
    flag !== undefined
      ? { source: `--${name}`, raw: flag }
      : env[envName]
        ? { source: envName, raw: env[envName] }
        : { source: `--${name}`, raw: fallback };
  const integer = ({ source, raw }: { source: string; raw: string }, max: number) => {
    if (!/^\d+$/.test(raw) || Number(raw) > max) {
      throw new UsageError(`invalid ${source} value ${JSON.stringify(raw)}: expected an integer from 0 to ${max}`);
    }
    return Number(raw);
  };
  const host = setting(values.host, 'host', 'HOST', '127.0.0.1');
  if (host.raw === '') throw new UsageError(`invalid ${host.source} value "": expected a host name or address`);
  return {
    host: host.raw,
    port: integer(setting(values.port, 'port', 'PORT', '8000'), 65535),
    extraWorkMs: integer(setting(values['extra-work-ms'], 'extra-work-ms', 'EXTRA_WORK_MS', '0'), MAX_MS),
    startupDelayMs: integer(setting(values['startup-delay-ms'], 'startup-delay-ms', 'STARTUP_DELAY_MS', '0'), MAX_MS),
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

let model: Model;
try {
  model = loadModel();
} catch (error) {
  console.error(`server.ts: cannot load the model: ${(error as Error).message}`);
  process.exit(1);
}

/**
 * Stands in for a heavier model: real synchronous CPU work (re-evaluating the ensemble on
 * slightly perturbed inputs) until `ms` have passed. Not a sleep, so like real inference
 * it blocks the event loop and queues other requests behind it.
 */
function extraWork(input: InsuranceChargesModelInput, ms: number): number {
  const deadline = performance.now() + ms;
  let total = 0;
  for (let i = 0; performance.now() < deadline; i++) {
    total += evaluate(model, { ...input, bmi: input.bmi + ((i % 11) - 5) * 0.01 });
  }
  return total;
}

// Responses that never change are serialized once.
const metadata = {
  display_name: MODEL_DISPLAY_NAME,
  qualified_name: MODEL_NAME,
  description: MODEL_DESCRIPTION,
  version: SERVICE_VERSION,
};
const STATIC = {
  health: JSON.stringify({ health_status: 'HEALTHY' }),
  ready: JSON.stringify({ readiness_status: 'ACCEPTING_TRAFFIC' }),
  notReady: JSON.stringify({ readiness_status: 'NOT_READY' }),
  models: JSON.stringify({ models: [metadata] }),
  // Spliced as text so the schemas are served exactly as pydantic printed them.
  metadata: `${JSON.stringify(metadata).slice(0, -1)},"input_schema":${INPUT_SCHEMA_JSON},"output_schema":${OUTPUT_SCHEMA_JSON}}`,
  openapi: JSON.stringify(buildOpenApi()),
  modelNotReady: JSON.stringify({ type: 'ServiceError', messages: [`Model '${MODEL_NAME}' is not loaded yet.`] }),
  notFound: JSON.stringify({ detail: 'Not Found' }),
  methodNotAllowed: JSON.stringify({ detail: 'Method Not Allowed' }),
  tooLarge: JSON.stringify({ detail: 'Request Entity Too Large' }),
};

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

let ready = false;

function handlePrediction(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversized body is still read to the end (just not kept): answering 413 before the
  // client has finished sending makes many clients see a reset instead of the answer.
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('error', () => {}); // the client went away mid-body; there is no one to answer
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return send(res, 413, STATIC.tooLarge);
    if (!ready) return send(res, 503, STATIC.modelNotReady);
    let body: unknown;
    try {
      // The content type is not checked (FastAPI of that era did not either); load test
      // tools often omit it.
      body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
    } catch (error) {
      const message = formatError('body', 'value_error.jsondecode', `invalid JSON (${(error as Error).message})`);
      return send(res, 400, JSON.stringify({ type: 'ValidationError', messages: [message] }));
    }
    const input = validateInput(body);
    if (!input.ok) return send(res, 400, JSON.stringify({ type: 'ValidationError', messages: input.messages }));
    try {
      if (options.extraWorkMs > 0) extraWork(input.value, options.extraWorkMs);
      send(res, 200, JSON.stringify({ charges: predict(input.value, model) }));
    } catch (error) {
      send(res, 500, JSON.stringify({ type: 'ServiceError', messages: [String(error)] }));
    }
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Record<string, Handler>>([
  ['/api/health', { GET: (_req, res) => send(res, 200, STATIC.health) }],
  ['/api/health/ready', { GET: (_req, res) => (ready ? send(res, 200, STATIC.ready) : send(res, 503, STATIC.notReady)) }],
  ['/api/models', { GET: (_req, res) => send(res, 200, STATIC.models) }],
  [`/api/models/${MODEL_NAME}/metadata`, { GET: (_req, res) => send(res, 200, STATIC.metadata) }],
  [`/api/models/${MODEL_NAME}/prediction`, { POST: handlePrediction }],
  ['/openapi.json', { GET: (_req, res) => send(res, 200, STATIC.openapi) }],
]);

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const route = routes.get(path);
  if (!route) return send(res, 404, STATIC.notFound);
  const handler = route[req.method ?? ''];
  if (!handler) return send(res, 405, STATIC.methodNotAllowed, { allow: Object.keys(route).join(', ') });
  handler(req, res);
});
// Longer than the usual 60 s idle timeout of load balancers and HTTP clients, so the
// server is never the side that drops a pooled connection under the client's feet.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.on('error', (error) => {
  console.error(`server.ts: cannot listen on ${options.host}:${options.port}: ${error.message}`);
  process.exit(1);
});

server.listen(options.port, options.host, () => {
  const { port } = server.address() as AddressInfo;
  // The model is already in memory; the delay stands in for loading a big one. The port
  // is open meanwhile, so clients see 503 from the readiness probe, not refused connections.
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
  // Requests in flight get a moment to finish; then every connection is cut so that the
  // process exits promptly even if a client keeps its connection open.
  setTimeout(() => server.closeAllConnections(), 1000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
