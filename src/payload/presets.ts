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

export type PresetName = 'rest-model-service' | 'open-inference' | 'kserve-v1' | 'mlflow' | 'torchserve' | 'bentoml';

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
