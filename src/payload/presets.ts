// Presets for common model servers: the predict call (method and path, with the model name), the
// readiness path, how one generated instance becomes a request body, and where the server publishes
// its input schema (tried in order; the first that answers wins). Pure data and small functions.
//
//   server                       predict                                  ready                        schema
//   rest_model_service           POST /api/models/{m}/prediction          /api/health/ready            /api/models/{m}/metadata, then /openapi.json
//   Open Inference Protocol      POST /v2/models/{m}/infer                /v2/models/{m}/ready         /v2/models/{m} (tensor metadata)
//     (KServe V2, Triton, MLServer)
//   KServe V1                    POST /v1/models/{m}:predict              /v1/models/{m}               none (give one): {"instances": [...]}
//   MLflow                       POST /invocations                        /ping                        none over HTTP (the MLmodel signature, or give one): {"dataframe_records": [...]}
//   TorchServe                   POST /predictions/{m}                    /ping                        none (give one): the instance as is
//   BentoML                      POST /{m} (the API name)                 /readyz                      /docs.json (OpenAPI)
//   OpenAI-compatible (openai)   POST /v1/chat/completions                /health (Ollama: /api/version)  none: bodies come from prompts (prompts.ts)
//     (vLLM, TGI, llama.cpp, Ollama, SGLang)   or /v1/completions

import type { SchemaSource } from './discover.ts';

/** How generated instances become one request body. */
export type BodyWrap =
  /** The instance is the body. */
  | 'none'
  /** {"instances": [i1, i2, ...]}: KServe V1, TF Serving, MLflow. */
  | 'instances'
  /** {"dataframe_records": [i1, ...]}: MLflow, records of a DataFrame. */
  | 'dataframe_records'
  /** {"dataframe_split": {"columns": [...], "data": [[...], ...]}}: MLflow, split orientation. */
  | 'dataframe_split'
  /** {"inputs": {"column": [v1, v2, ...]}} for objects (columnar), else {"inputs": [i1, ...]}: MLflow, KServe V1. */
  | 'inputs';

export const BODY_WRAPS: readonly BodyWrap[] = ['none', 'instances', 'dataframe_records', 'dataframe_split', 'inputs'];

/** One request body from `instances` (a batch; 'none' takes exactly one). */
export function wrapInstances(wrap: BodyWrap, instances: readonly unknown[]): unknown {
  switch (wrap) {
    case 'none':
      if (instances.length !== 1) throw new Error(`a body without wrapping holds one instance, not ${instances.length}`);
      return instances[0];
    case 'instances':
      return { instances };
    case 'dataframe_records':
      return { dataframe_records: instances };
    case 'dataframe_split': {
      const columns = columnsOf(instances);
      return {
        dataframe_split: {
          columns,
          data: instances.map((r) =>
            columns.map((c) => ((r as Record<string, unknown>)[c] === undefined ? null : (r as Record<string, unknown>)[c])),
          ),
        },
      };
    }
    case 'inputs': {
      if (!instances.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return { inputs: instances };
      const columns = columnsOf(instances);
      return { inputs: Object.fromEntries(columns.map((c) => [c, instances.map((r) => (r as Record<string, unknown>)[c] ?? null)])) };
    }
  }
}

function columnsOf(instances: readonly unknown[]): string[] {
  const columns: string[] = [];
  for (const r of instances) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('a DataFrame body needs objects (records) as instances');
    for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  }
  return columns;
}

export type PresetName = 'rest-model-service' | 'open-inference' | 'kserve-v1' | 'mlflow' | 'torchserve' | 'bentoml' | 'openai';

export interface Preset {
  name: PresetName;
  /** Other names accepted in configs. */
  aliases: readonly string[];
  title: string;
  /** What `model` means for this server. */
  model: string;
  method: 'POST';
  predictPath: (model: string) => string;
  readyPath: (model: string) => string;
  /** Where the input schema is published, in the order tried; empty = none (the config must give one). */
  schemaSources: (model: string, predictPath: string) => SchemaSource[];
  /**
   * How one generated instance becomes a body; 'oip' = bodies are built from the tensor metadata
   * (`{"inputs": [{"name", "shape", "datatype", "data"}]}`), not from a JSON Schema.
   */
  wrap: BodyWrap | 'oip';
  /** Wrappings the server also accepts (a config may pick one). */
  wraps: ReadonlyArray<BodyWrap | 'oip'>;
  notes: string;
}

const enc = encodeURIComponent;

/** The two generation APIs of an OpenAI-compatible server. */
export const OPENAI_PATHS = { chat: '/v1/chat/completions', completions: '/v1/completions' } as const;
export type OpenAiApi = keyof typeof OPENAI_PATHS;

/**
 * One server of the openai preset's family: the same API, told apart by where it says it is ready and
 * whether it needs the model's name.
 */
export interface OpenAiServer {
  /** The name a config gives (preset: vllm). */
  name: string;
  aliases: readonly string[];
  title: string;
  readyPath: string;
  /** It serves several models and picks one by the body's "model": a config must name it. */
  needsModel: boolean;
  /** Its usual port, for the docs (a container's port: setting). */
  port?: number;
  notes: string;
}

// Readiness: GET /health on every server that has one, not GET /v1/models. /health answers without the
// API key on vLLM (its --api-key guards /v1/* only), SGLang (its key middleware lets /health through)
// and llama.cpp (a public endpoint); readiness polls carry no headers, so /v1/models would answer 401
// for ever on a server with a key. And /health means the model is loaded: llama.cpp answers 503
// "Loading model" until then; vLLM, TGI and SGLang answer it once their model is up. Ollama
// has no /health: its /api/version answers as soon as it runs, and it loads a model on the first
// request for it, so give a warm-up (warm-up: 30s) or that load lands in the first requests' TTFT.
export const OPENAI_SERVERS: readonly OpenAiServer[] = [
  {
    name: 'openai',
    aliases: ['openai-compatible'],
    title: 'any OpenAI-compatible server',
    readyPath: '/health',
    needsModel: false,
    notes: 'A server without /health needs ready: (e.g. a path that answers without a key).',
  },
  {
    name: 'vllm',
    aliases: [],
    title: 'vLLM (vllm serve)',
    readyPath: '/health',
    needsModel: false,
    port: 8000,
    notes: 'model: the --served-model-name (default the model path); another name is 404. Honours ignore_eos (extra-body).',
  },
  {
    name: 'tgi',
    aliases: ['text-generation-inference'],
    title: 'Hugging Face Text Generation Inference',
    readyPath: '/health',
    needsModel: false,
    port: 80,
    notes: 'One model per server: the model name in the body is not checked.',
  },
  {
    name: 'llama-cpp',
    aliases: ['llama.cpp', 'llamacpp', 'llama-server'],
    title: "llama.cpp's llama-server",
    readyPath: '/health',
    needsModel: false,
    port: 8080,
    notes: '/health answers 503 while the model loads. One model per server (unless in router mode).',
  },
  {
    name: 'ollama',
    aliases: [],
    title: 'Ollama',
    readyPath: '/api/version',
    needsModel: true,
    port: 11434,
    notes: 'model: an Ollama model tag (llama3.2:1b), pulled beforehand; it loads on the first request, so give a warm-up.',
  },
  {
    name: 'sglang',
    aliases: [],
    title: 'SGLang (sglang.launch_server)',
    readyPath: '/health',
    needsModel: false,
    port: 30000,
    notes: 'model: the --served-model-name. Honours ignore_eos (extra-body).',
  },
];

/** Every name the openai family answers to but "openai" itself: the aliases of its entry in PRESETS. */
function openAiAliases(): string[] {
  return OPENAI_SERVERS.flatMap((s) => [...(s.name === 'openai' ? [] : [s.name]), ...s.aliases]);
}

/** A server of the openai family by name or alias (case-insensitive, "_" = "-"), or undefined. */
export function findOpenAiServer(name: string): OpenAiServer | undefined {
  const key = name.trim().toLowerCase().replaceAll('_', '-');
  return OPENAI_SERVERS.find((s) => s.name === key || s.aliases.includes(key));
}

export const PRESETS: readonly Preset[] = [
  {
    name: 'rest-model-service',
    aliases: ['rest_model_service', 'rms'],
    title: 'rest_model_service (FastAPI + pydantic)',
    model: "the model's qualified name",
    method: 'POST',
    predictPath: (m) => `/api/models/${enc(m)}/prediction`,
    readyPath: () => '/api/health/ready',
    schemaSources: (m, predictPath) => [
      { kind: 'rest-model-service', model: m },
      { kind: 'openapi', url: '/openapi.json', method: 'POST', path: predictPath },
    ],
    wrap: 'none',
    wraps: ['none'],
    notes:
      'The body is the model\'s input object. /api/health/ready answers 503 until the models are loaded. Validation errors are 400 {"type":"ValidationError","messages":[...]}.',
  },
  {
    name: 'open-inference',
    aliases: ['oip', 'v2', 'kserve-v2', 'triton', 'mlserver'],
    title: 'Open Inference Protocol (KServe V2, Triton, MLServer)',
    model: 'the model name',
    method: 'POST',
    predictPath: (m) => `/v2/models/${enc(m)}/infer`,
    readyPath: (m) => `/v2/models/${enc(m)}/ready`,
    schemaSources: (m) => [{ kind: 'oip', model: m }],
    wrap: 'oip',
    wraps: ['oip'],
    notes:
      'Bodies come from the tensor metadata: -1 dimensions get a size from 1 to 4 (the same size for the same dimension across inputs), data is flat, row-major. The server-wide readiness path is /v2/health/ready.',
  },
  {
    name: 'kserve-v1',
    aliases: ['kserve', 'v1', 'tfserving'],
    title: 'KServe V1 (TensorFlow Serving REST)',
    model: 'the model name',
    method: 'POST',
    predictPath: (m) => `/v1/models/${enc(m)}:predict`,
    readyPath: (m) => `/v1/models/${enc(m)}`,
    schemaSources: () => [],
    wrap: 'instances',
    wraps: ['instances', 'inputs'],
    notes: 'No standard schema endpoint: give the schema of one instance (a file or inline). Bodies are {"instances": [...]}.',
  },
  {
    name: 'mlflow',
    aliases: ['mlflow-pyfunc'],
    title: 'MLflow scoring server (mlflow models serve)',
    model: 'unused (one model per server)',
    method: 'POST',
    predictPath: () => '/invocations',
    readyPath: () => '/ping',
    schemaSources: () => [],
    wrap: 'dataframe_records',
    wraps: ['dataframe_records', 'dataframe_split', 'instances', 'inputs'],
    notes:
      "The input schema is the model's signature in its MLmodel file (schema source mlflow-signature), or a JSON Schema of one record.",
  },
  {
    name: 'torchserve',
    aliases: ['torch-serve'],
    title: 'TorchServe',
    model: 'the registered model name',
    method: 'POST',
    predictPath: (m) => `/predictions/${enc(m)}`,
    readyPath: () => '/ping',
    schemaSources: () => [],
    wrap: 'none',
    wraps: ['none', 'instances'],
    notes: "The body format is the handler's: give the schema of one request. /ping is on the inference port.",
  },
  {
    name: 'bentoml',
    aliases: ['bento'],
    title: 'BentoML',
    model: 'the API name (the decorated method)',
    method: 'POST',
    predictPath: (m) => `/${enc(m)}`,
    readyPath: () => '/readyz',
    schemaSources: (_m, predictPath) => [{ kind: 'openapi', url: '/docs.json', method: 'POST', path: predictPath }],
    wrap: 'none',
    wraps: ['none'],
    notes: "The request body schema comes from the service's OpenAPI document at /docs.json.",
  },
  {
    // Listed here so that it is found and named like the others; what differs between its servers is in
    // OPENAI_SERVERS below, and its bodies come from prompts (prompts.ts), not from a schema.
    name: 'openai',
    aliases: openAiAliases(),
    title: 'OpenAI-compatible generative model server (vLLM, TGI, llama.cpp, Ollama, SGLang)',
    model: "the served model's name, sent in the body",
    method: 'POST',
    predictPath: () => OPENAI_PATHS.chat,
    readyPath: () => '/health',
    schemaSources: () => [],
    wrap: 'none',
    wraps: ['none'],
    notes:
      'Streams the answer (server-sent events) with stream_options.include_usage; bodies are chat messages or prompts from prompts: (a file, or synthetic of a target length), max_tokens drawn per request.',
  },
];

/** A preset by name or alias (case-insensitive, "_" = "-"); the error lists the known names. */
export function findPreset(name: string): Preset {
  const key = name.trim().toLowerCase().replaceAll('_', '-');
  const hit = PRESETS.find((p) => p.name === key || p.aliases.some((a) => a.replaceAll('_', '-') === key));
  if (!hit) {
    throw new Error(
      `unknown preset ${JSON.stringify(name)}; known: ${PRESETS.map((p) => `${p.name} (${p.aliases.join(', ')})`).join('; ')}`,
    );
  }
  return hit;
}

/** What a preset sets for one endpoint, given the model name. */
export interface PresetEndpoint {
  method: 'POST';
  path: string;
  readyPath: string;
  schemaSources: SchemaSource[];
  wrap: BodyWrap | 'oip';
}

export function applyPreset(preset: Preset, model: string, wrap?: BodyWrap | 'oip'): PresetEndpoint {
  if (wrap !== undefined && !preset.wraps.includes(wrap)) {
    throw new Error(`preset ${preset.name} does not take wrap ${JSON.stringify(wrap)}; it takes: ${preset.wraps.join(', ')}`);
  }
  const path = preset.predictPath(model);
  return {
    method: preset.method,
    path,
    readyPath: preset.readyPath(model),
    schemaSources: preset.schemaSources(model, path),
    wrap: wrap ?? preset.wrap,
  };
}
