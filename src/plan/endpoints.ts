// The request: (or requests:) section: what each request sends and what counts as success. A body is
// fixed, replayed from a file (JSONL or CSV), or generated from a JSON Schema before the load (found in a
// file, inline, or published by the service; a preset knows where a model server publishes it).
//
//   request:  {name, method, path, headers, body | bodies | schema, weight, expect-status}   (or requests: [...])
//             preset: rest-model-service, model: NAME   (a model server's predict path, readiness and schema)
//             schema: auto | FILE | {openapi|metadata|oip|mlflow|file|inline: ...}, generate: 1000, wrap, batch
//             invalid: 5%, invalid-status, check-response   (generated bodies only)
//             preset: openai (vllm, tgi, llama-cpp, ollama, sglang), model: NAME, api: chat | completions,
//             prompts: FILE | {file | input-tokens, output-tokens, count, seed}, api-key-env: NAME, extra-body: {...}
//             (a generative model: streamed answers; bodies from prompts, made now, before anything starts)

import { resolve } from 'node:path';
import {
  BODY_WRAPS,
  type BodyWrap,
  DEFAULT_CORPUS_SIZE,
  type PresetEndpoint,
  type SchemaSource,
  applyPreset,
  findPreset,
} from '../payload/index.ts';
import { OPENAI_PATHS, type OpenAiApi, type OpenAiServer, findOpenAiServer } from '../payload/presets.ts';
import {
  MAX_PROMPT_TOKENS,
  type Prompt,
  type TokenDistribution,
  promptBodies,
  readPromptFile,
  syntheticPrompts,
} from '../payload/prompts.ts';
import { readCsvBodies, readJsonlBodies } from '../payload/replay.ts';
import { METHODS, readPath, readStatusSet } from './http.ts';
import { type Path, type Reader, describeValue } from './reader.ts';
import type { BodySource, EndpointConfig, GeneratedBodies } from './types.ts';

const REQUEST_KEYS = [
  'name',
  'method',
  'path',
  'headers',
  'body',
  'bodies',
  'weight',
  'expect-status',
  'preset',
  'model',
  'schema',
  'generate',
  'wrap',
  'batch',
  'invalid',
  'invalid-status',
  'check-response',
  'api',
  'api-key-env',
  'prompts',
  'extra-body',
];
/** Keys of the openai preset only. */
const OPENAI_KEYS = ['api', 'api-key-env', 'prompts', 'extra-body'] as const;
/** Keys of schema presets and generated bodies, which the openai preset does not take. */
const SCHEMA_ONLY_KEYS = ['body', 'bodies', 'schema', 'generate', 'wrap', 'batch', 'invalid', 'invalid-status', 'check-response'] as const;
const SCHEMA_KEYS = ['openapi', 'metadata', 'oip', 'mlflow', 'file', 'inline', 'method', 'path', 'version'];

export function readEndpoints(
  r: Reader,
  top: Record<string, unknown>,
  baseDir: string,
  seed = 1,
): { endpoints: EndpointConfig[]; readyPath?: string } {
  if (top['request'] !== undefined && top['requests'] !== undefined) {
    r.fail(['requests'], 'use either request: (one endpoint) or requests: (a list), not both');
  }
  if (top['request'] === undefined && top['requests'] === undefined) {
    r.fail(['request'], 'missing: the endpoint to load-test, e.g. request: {method: POST, path: /predict, body: {...}}');
  }
  const list = top['request'] !== undefined ? [top['request']] : r.list(top['requests'], ['requests'], 1);
  const paths: Path[] = top['request'] !== undefined ? [['request']] : list.map((_, i) => ['requests', i]);
  const read = list.map((v, i) => readEndpoint(r, v, paths[i]!, baseDir, seed + i));
  const endpoints = read.map((x) => x.endpoint);
  const readyPath = read.find((x) => x.preset)?.preset?.readyPath;
  const names = new Set<string>();
  endpoints.forEach((e, i) => {
    if (names.has(e.name)) r.fail([...paths[i]!, 'name'], `duplicate endpoint name "${e.name}": give each request a distinct name`);
    names.add(e.name);
  });
  return { endpoints, ...(readyPath ? { readyPath } : {}) };
}

function readEndpoint(
  r: Reader,
  v: unknown,
  at: Path,
  baseDir: string,
  seed: number,
): { endpoint: EndpointConfig; preset?: PresetEndpoint } {
  const o = r.object(v, at, REQUEST_KEYS);
  const server = o['preset'] === undefined ? undefined : findOpenAiServer(String(o['preset']));
  if (server) return readOpenAiEndpoint(r, o, at, server, baseDir, seed);
  for (const k of OPENAI_KEYS) {
    if (o[k] !== undefined) r.fail([...at, k], 'only applies with preset: openai (or vllm, tgi, llama-cpp, ollama, sglang)');
  }
  const preset = readPreset(r, o, at);
  if (o['path'] === undefined && !preset)
    r.fail([...at, 'path'], 'missing: the path to request, e.g. /api/models/my_model/prediction (or a preset: and model:)');
  const path = o['path'] === undefined ? preset!.path : readPath(r, o['path'], [...at, 'path']);
  const given = (['body', 'bodies', 'schema'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) r.fail([...at, given[1]!], `use one of body:, bodies: or schema:, not ${given.join(' and ')}`);
  const hasBody = given.length > 0 || preset !== undefined;
  const method =
    o['method'] === undefined
      ? (preset?.method ?? (hasBody ? 'POST' : 'GET'))
      : r.oneOf(String(o['method']).toUpperCase(), [...at, 'method'], METHODS);
  let body: EndpointConfig['body'] = { kind: 'none' };
  if (o['body'] !== undefined) {
    const b = o['body'];
    body = { kind: 'fixed', body: typeof b === 'string' ? b : JSON.stringify(b) };
  } else if (o['bodies'] !== undefined) {
    const file = resolve(baseDir, r.string(o['bodies'], [...at, 'bodies']));
    body = readBodiesFile(r, file, [...at, 'bodies']);
  } else if (o['schema'] !== undefined || preset) {
    body = readGenerate(r, o, at, preset, baseDir);
    if (o['preset'] !== undefined) body.preset = `${String(o['preset'])}${o['model'] !== undefined ? `, model ${String(o['model'])}` : ''}`;
  }
  for (const k of ['generate', 'wrap', 'batch', 'invalid', 'invalid-status', 'check-response'] as const) {
    if (o[k] !== undefined && body.kind !== 'generate') r.fail([...at, k], 'only applies to generated bodies (schema: or a preset:)');
  }
  if (o['invalid-status'] !== undefined && o['invalid'] === undefined)
    r.fail([...at, 'invalid-status'], 'only applies with invalid: (a share of invalid requests)');
  if (body.kind !== 'none' && (method === 'GET' || method === 'HEAD')) r.fail([...at, 'method'], `${method} requests cannot carry a body`);
  const headers = readHeaders(r, o['headers'], [...at, 'headers']);
  const invalid: EndpointConfig['invalid'] =
    o['invalid'] === undefined
      ? undefined
      : {
          share: readShare(r, o['invalid'], [...at, 'invalid']),
          okStatus: o['invalid-status'] === undefined ? [[400, 499]] : readStatusSet(r, o['invalid-status'], [...at, 'invalid-status']),
        };
  const endpoint: EndpointConfig = {
    ...(invalid ? { invalid } : {}),
    ...(o['check-response'] !== undefined && r.boolean(o['check-response'], [...at, 'check-response']) ? { checkOutput: true } : {}),
    name: o['name'] === undefined ? `${method} ${path}` : r.string(o['name'], [...at, 'name']),
    method,
    path,
    headers,
    body,
    weight: o['weight'] === undefined ? 1 : r.number(o['weight'], [...at, 'weight'], { above: 0 }),
    okStatus: o['expect-status'] === undefined ? [[200, 399]] : readStatusSet(r, o['expect-status'], [...at, 'expect-status']),
  };
  return { endpoint, ...(preset ? { preset } : {}) };
}

function readHeaders(r: Reader, v: unknown, at: Path): Record<string, string> {
  const headers: Record<string, string> = {};
  if (v === undefined) return headers;
  const h = r.object(v, at, Object.keys((v as object) ?? {}));
  for (const [k, val] of Object.entries(h)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) r.fail([...at, k], `"${k}" is not a valid header name`);
    const s = r.string(val, [...at, k], { nonEmpty: false });
    if (/[\r\n]/.test(s)) r.fail([...at, k], 'a header value cannot contain line breaks');
    headers[k] = s;
  }
  return headers;
}

/** Prompt lengths when prompts: does not say: 128 tokens in, at most 128 out. */
const DEFAULT_INPUT_TOKENS = 128;
const DEFAULT_OUTPUT_TOKENS = 128;
/** Synthetic prompts made at most: their text is held in memory for the whole run. */
const MAX_PROMPTS = 100_000;
/**
 * Synthetic prompt text made at most, in tokens over all prompts: about 100 MB of bodies, made in ~3 s
 * (1000 prompts of 512 tokens take ~80 ms on the 2-core development machine).
 */
const MAX_PROMPT_TOKENS_IN_ALL = 20_000_000;
const PROMPT_KEYS = ['file', 'input-tokens', 'output-tokens', 'count', 'seed'];
const DISTRIBUTION_KEYS = ['mean', 'stdev', 'min', 'max'];
/** Fields of the body the preset writes itself: extra-body cannot replace them. */
const PRESET_FIELDS = ['model', 'messages', 'prompt', 'max_tokens', 'max_completion_tokens', 'stream', 'stream_options'];

/**
 * A request to an OpenAI-compatible generative model server: POST /v1/chat/completions (or
 * /v1/completions with api: completions), streamed, its bodies made now from the prompts (a dataset
 * file, or synthetic text of a target length), the API key (if any) named by the environment variable
 * that holds it. The key itself stays out of the plan: src/run/bodies.ts reads it into the request's
 * headers when the engine's endpoints are made, so the plan, its fingerprint and what the reports show
 * of it never hold it.
 */
function readOpenAiEndpoint(
  r: Reader,
  o: Record<string, unknown>,
  at: Path,
  server: OpenAiServer,
  baseDir: string,
  planSeed: number,
): { endpoint: EndpointConfig; preset: PresetEndpoint } {
  for (const k of SCHEMA_ONLY_KEYS) {
    if (o[k] !== undefined) {
      r.fail(
        [...at, k],
        `does not apply to preset: ${server.name}: its bodies are made from prompts: (a JSONL or CSV file, or {input-tokens: ..., output-tokens: ...})`,
      );
    }
  }
  if (o['model'] === undefined && server.needsModel)
    r.fail([...at, 'model'], `missing: ${server.title} needs the model's name, e.g. llama3.2:1b`);
  const model = o['model'] === undefined ? '' : r.string(o['model'], [...at, 'model']);
  const api: OpenAiApi = o['api'] === undefined ? 'chat' : r.oneOf(o['api'], [...at, 'api'], ['chat', 'completions'] as OpenAiApi[]);
  const path = o['path'] === undefined ? OPENAI_PATHS[api] : readPath(r, o['path'], [...at, 'path']);
  if (o['method'] !== undefined && String(o['method']).toUpperCase() !== 'POST')
    r.fail([...at, 'method'], 'the openai preset POSTs its requests');
  const headers = readHeaders(r, o['headers'], [...at, 'headers']);
  let apiKeyEnv: string | undefined;
  if (o['api-key-env'] !== undefined) {
    const ka: Path = [...at, 'api-key-env'];
    apiKeyEnv = r.string(o['api-key-env'], ka).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv))
      r.fail(ka, `"${apiKeyEnv}" is not an environment variable name (the variable's name, not the key)`);
    if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization'))
      r.fail(ka, 'headers: has an Authorization already: give the key one way, with api-key-env: (kept out of every report)');
    // Checked now, so a missing secret stops the run before anything starts; the value is read again,
    // and only then used, when the requests are made (src/run/bodies.ts). Never put in a message.
    const key = process.env[apiKeyEnv];
    if (key === undefined || key.trim() === '') {
      r.fail(
        ka,
        `the environment variable ${apiKeyEnv} is not set (or empty): it holds the API key, sent as "Authorization: Bearer ..."; ` +
          `set it for loadgate, e.g. in a workflow step's env: {${apiKeyEnv}: \${{ secrets.${apiKeyEnv} }}}`,
      );
    }
    if (!isHeaderValue(key)) r.fail(ka, `the environment variable ${apiKeyEnv} holds characters a header cannot carry (a line break?)`);
  }
  const extra = readExtraBody(r, o['extra-body'], [...at, 'extra-body']);
  const spec = readPrompts(r, o['prompts'], [...at, 'prompts'], baseDir, planSeed);
  let bodies: string[];
  try {
    bodies = promptBodies(spec.prompts, { api, model, output: spec.output, seed: spec.seed, ...(extra ? { extra } : {}) });
  } catch (e) {
    r.fail([...at, 'prompts'], (e as Error).message);
  }
  const method = 'POST';
  const endpoint: EndpointConfig = {
    name: o['name'] === undefined ? `${method} ${path}` : r.string(o['name'], [...at, 'name']),
    method,
    path,
    headers,
    body: {
      kind: 'list',
      bodies,
      origin: spec.origin,
      generated: { seed: spec.seed, preset: `${server.name}${model ? `, model ${model}` : ''}` },
    },
    weight: o['weight'] === undefined ? 1 : r.number(o['weight'], [...at, 'weight'], { above: 0 }),
    okStatus: o['expect-status'] === undefined ? [[200, 299]] : readStatusSet(r, o['expect-status'], [...at, 'expect-status']),
    stream: true,
    ...(apiKeyEnv ? { apiKeyEnv } : {}),
  };
  return { endpoint, preset: { method, path, readyPath: server.readyPath, schemaSources: [], wrap: 'none' } };
}

/** Printable ASCII and tabs only: what an HTTP header value may hold. */
function isHeaderValue(s: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(s);
}

function readExtraBody(r: Reader, v: unknown, at: Path): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  const o = r.object(v, at, Object.keys((v as object) ?? {}));
  for (const k of Object.keys(o)) {
    if (PRESET_FIELDS.includes(k)) {
      r.fail(
        [...at, k],
        `the preset writes "${k}" itself (${k === 'max_tokens' || k === 'max_completion_tokens' ? 'from prompts: output-tokens' : k === 'model' ? 'from model:' : 'from prompts: and the streaming it needs'})`,
      );
    }
  }
  return o;
}

interface PromptSpec {
  prompts: Prompt[];
  output: TokenDistribution;
  seed: number;
  /** For reports: "240 prompts from prompts.jsonl", "1000 synthetic prompts of 40±10 tokens". */
  origin: string;
}

/** prompts: FILE, or {file: FILE, output-tokens, seed}, or {input-tokens, output-tokens, count, seed} (synthetic; the default). */
function readPrompts(r: Reader, v: unknown, at: Path, baseDir: string, planSeed: number): PromptSpec {
  const o: Record<string, unknown> = v === undefined ? {} : typeof v === 'string' ? { file: v } : r.object(v, at, PROMPT_KEYS);
  const seed = o['seed'] === undefined ? planSeed : r.number(o['seed'], [...at, 'seed'], { integer: true, min: 0 });
  const output = readDistribution(r, o['output-tokens'], [...at, 'output-tokens'], DEFAULT_OUTPUT_TOKENS);
  if (o['file'] !== undefined) {
    for (const k of ['input-tokens', 'count'] as const) {
      if (o[k] !== undefined) r.fail([...at, k], 'only applies to synthetic prompts: a file gives its own prompts, each sent in turn');
    }
    const fa: Path = typeof v === 'string' ? at : [...at, 'file'];
    const file = resolve(baseDir, r.string(o['file'], fa));
    let prompts: Prompt[];
    try {
      prompts = readPromptFile(file);
    } catch (e) {
      r.fail(fa, (e as Error).message);
    }
    return { prompts, output, seed, origin: `the prompts in ${file}, max_tokens ${describeDistribution(output)} where a line gives none` };
  }
  const input = readDistribution(r, o['input-tokens'], [...at, 'input-tokens'], DEFAULT_INPUT_TOKENS);
  const count =
    o['count'] === undefined ? DEFAULT_CORPUS_SIZE : r.number(o['count'], [...at, 'count'], { integer: true, min: 1, max: MAX_PROMPTS });
  const typical = Math.min(input.max, input.mean + 4 * input.stdev);
  if (count * typical > MAX_PROMPT_TOKENS_IN_ALL) {
    r.fail(
      at,
      `${count} prompts of up to ~${Math.round(typical)} tokens are more text than loadgate holds (${MAX_PROMPT_TOKENS_IN_ALL} tokens): give fewer (count:)`,
    );
  }
  return {
    prompts: syntheticPrompts(input, count, seed),
    output,
    seed,
    origin: `synthetic prompts of ${describeDistribution(input)} tokens, max_tokens ${describeDistribution(output)}`,
  };
}

/** A token count: a number (always that many), or {mean, stdev, min, max} (a normal kept in [min, max]). */
function readDistribution(r: Reader, v: unknown, at: Path, fallback: number): TokenDistribution {
  if (v === undefined) return { mean: fallback, stdev: 0, min: 1, max: MAX_PROMPT_TOKENS };
  const o = typeof v === 'object' && v !== null ? r.object(v, at, DISTRIBUTION_KEYS) : { mean: v };
  if (o['mean'] === undefined) r.fail([...at, 'mean'], 'missing: the mean number of tokens, e.g. {mean: 128, stdev: 32}');
  const num = (k: string, min: number) => r.number(o[k], typeof v === 'object' ? [...at, k] : at, { min, max: MAX_PROMPT_TOKENS });
  const mean = num('mean', 1);
  const stdev = o['stdev'] === undefined ? 0 : num('stdev', 0);
  const min = o['min'] === undefined ? 1 : num('min', 1);
  const max = o['max'] === undefined ? MAX_PROMPT_TOKENS : num('max', 1);
  if (!Number.isInteger(min) || !Number.isInteger(max)) r.fail(at, `min and max are whole numbers of tokens, got ${min} and ${max}`);
  if (!(min <= mean && mean <= max)) r.fail(at, `expected min <= mean <= max, got min ${min}, mean ${mean}, max ${max}`);
  return { mean, stdev, min, max };
}

/** "40", "40±10", "40±10 in [20, 60]", for reports. */
function describeDistribution(d: TokenDistribution): string {
  const bounds = d.min > 1 || d.max < MAX_PROMPT_TOKENS ? ` in [${d.min}, ${d.max}]` : '';
  return `${d.mean}${d.stdev > 0 ? `±${d.stdev}` : ''}${bounds}`;
}

/** A share of requests: "10%" or a fraction like 0.1; above 0 and below 100%. */
function readShare(r: Reader, v: unknown, at: Path): number {
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v) : null;
  const share = m ? Number(m[1]) / 100 : r.number(v, at);
  if (!(share > 0 && share < 1)) r.fail(at, `expected a share above 0 and below 100%, like 5% or 0.05, got ${describeValue(v)}`);
  return share;
}

function readPreset(r: Reader, o: Record<string, unknown>, at: Path): PresetEndpoint | undefined {
  if (o['preset'] === undefined) {
    if (o['model'] !== undefined) r.fail([...at, 'model'], 'only applies with a preset: (which says where the model is served)');
    return undefined;
  }
  const name = r.string(o['preset'], [...at, 'preset']);
  let preset;
  try {
    preset = findPreset(name);
  } catch (e) {
    r.fail([...at, 'preset'], (e as Error).message);
  }
  // Servers with one model (MLflow) have paths that do not depend on the name: then it may be left out.
  const needsModel = preset.predictPath('a') !== preset.predictPath('b') || preset.readyPath('a') !== preset.readyPath('b');
  if (o['model'] === undefined && needsModel) r.fail([...at, 'model'], `missing: ${preset.title} needs ${preset.model}`);
  const model = o['model'] === undefined ? '' : r.string(o['model'], [...at, 'model']);
  const wrap = o['wrap'] === undefined ? undefined : r.oneOf(o['wrap'], [...at, 'wrap'], [...BODY_WRAPS, 'oip'] as Array<BodyWrap | 'oip'>);
  try {
    return applyPreset(preset, model, wrap);
  } catch (e) {
    r.fail([...at, 'wrap'], (e as Error).message);
  }
}

/** Bodies generated from a schema before the load: where the schema is (found after the service is ready), how many. */
function readGenerate(
  r: Reader,
  o: Record<string, unknown>,
  at: Path,
  preset: PresetEndpoint | undefined,
  baseDir: string,
): GeneratedBodies {
  const v = o['schema'];
  let sources: SchemaSource[];
  if (v === undefined || v === 'auto') {
    if (!preset) r.fail([...at, 'schema'], 'auto needs a preset: (which knows where its server publishes the schema)');
    if (preset.schemaSources.length === 0) {
      r.fail([...at, 'schema'], 'this model server publishes no input schema: give one with schema: FILE or schema: {inline: {...}}');
    }
    sources = preset.schemaSources;
  } else if (typeof v === 'string') {
    sources = [{ kind: 'file', file: resolve(baseDir, v) }];
  } else {
    const sa: Path = [...at, 'schema'];
    const so = r.object(v, sa, SCHEMA_KEYS);
    const kinds = ['openapi', 'metadata', 'oip', 'mlflow', 'file', 'inline'].filter((k) => so[k] !== undefined);
    if (kinds.length !== 1)
      r.fail(
        sa,
        `expected exactly one of openapi:, metadata:, oip:, mlflow:, file: or inline:, got ${kinds.length ? kinds.join(', ') : 'none'}`,
      );
    const k = kinds[0]!;
    const op = {
      ...(so['method'] !== undefined ? { method: r.oneOf(String(so['method']).toUpperCase(), [...sa, 'method'], METHODS) } : {}),
      ...(so['path'] !== undefined ? { path: readPath(r, so['path'], [...sa, 'path']) } : {}),
    };
    for (const extra of ['method', 'path'] as const) {
      if (so[extra] !== undefined && k !== 'openapi' && k !== 'file') r.fail([...sa, extra], `only applies to openapi: and file: sources`);
    }
    if (so['version'] !== undefined && k !== 'oip') r.fail([...sa, 'version'], 'only applies to oip: sources');
    switch (k) {
      case 'openapi':
        sources = [{ kind: 'openapi', url: so['openapi'] === true ? '/openapi.json' : r.string(so['openapi'], [...sa, 'openapi']), ...op }];
        break;
      case 'metadata':
        sources = [{ kind: 'rest-model-service', model: r.string(so['metadata'], [...sa, 'metadata']) }];
        break;
      case 'oip':
        sources = [
          {
            kind: 'oip',
            model: r.string(so['oip'], [...sa, 'oip']),
            ...(so['version'] !== undefined ? { version: r.string(so['version'], [...sa, 'version']) } : {}),
          },
        ];
        break;
      case 'mlflow':
        sources = [{ kind: 'mlflow-signature', file: resolve(baseDir, r.string(so['mlflow'], [...sa, 'mlflow'])) }];
        break;
      case 'file':
        sources = [{ kind: 'file', file: resolve(baseDir, r.string(so['file'], [...sa, 'file'])), ...op }];
        break;
      default: {
        const inline = so['inline'];
        if (inline === null || typeof inline !== 'object')
          r.fail([...sa, 'inline'], `expected a JSON Schema mapping, got ${describeValue(inline)}`);
        sources = [{ kind: 'inline', schema: inline }];
      }
    }
  }
  const wrap = preset?.wrap ?? (o['wrap'] === undefined ? 'none' : r.oneOf(o['wrap'], [...at, 'wrap'], [...BODY_WRAPS] as BodyWrap[]));
  return {
    kind: 'generate',
    sources,
    count:
      o['generate'] === undefined
        ? DEFAULT_CORPUS_SIZE
        : r.number(o['generate'], [...at, 'generate'], { integer: true, min: 1, max: 1_000_000 }),
    wrap,
    batch: o['batch'] === undefined ? 1 : r.number(o['batch'], [...at, 'batch'], { integer: true, min: 1, max: 10_000 }),
    where: r.locate([...at, 'schema']),
  };
}

/** Recorded bodies: a CSV file (by its extension) or JSONL, each checked now so a bad line is named before the run. */
function readBodiesFile(r: Reader, file: string, at: Path): BodySource {
  try {
    return { kind: 'list', bodies: /\.csv$/i.test(file) ? readCsvBodies(file) : readJsonlBodies(file), origin: file };
  } catch (e) {
    r.fail(at, (e as Error).message);
  }
}
