// Where a request body schema comes from: a file or an inline object, the service's OpenAPI document,
// rest_model_service's metadata endpoint, an Open Inference Protocol model's metadata, or an MLflow
// model's signature. HTTP sources are read from the running service, so discovery happens after the
// readiness check and before the load (it is never part of what is measured).
//
// Every error names the source (URL or file) and what was wrong: the HTTP status, a body that is not
// JSON, an operation that is not in the OpenAPI document (with the paths it has).

import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { parseOipMetadata, type OipModelMetadata } from './oip.ts';
import { escapePointer, resolvePointer } from './validate.ts';

export type SchemaSource =
  /** A JSON Schema given in the config. */
  | { kind: 'inline'; schema: unknown }
  /**
   * A JSON or YAML file: a JSON Schema, or an OpenAPI document (then `method` and `path` pick the
   * operation whose request body is wanted; they default to the endpoint's).
   */
  | { kind: 'file'; file: string; method?: string; path?: string }
  /** The service's OpenAPI document (`url`: a path on the service or an absolute URL; default /openapi.json). */
  | { kind: 'openapi'; url?: string; method?: string; path?: string }
  /** rest_model_service: GET /api/models/{model}/metadata -> input_schema. */
  | { kind: 'rest-model-service'; model: string }
  /** Open Inference Protocol: GET /v2/models/{model}[/versions/{version}] -> input tensors. */
  | { kind: 'oip'; model: string; version?: string }
  /** An MLflow MLmodel file: its column-based signature becomes the schema of one record. */
  | { kind: 'mlflow-signature'; file: string };

export type Discovered =
  | {
      kind: 'schema';
      /** The schema of one instance (one body, before any preset wrapping). */
      schema: unknown;
      /** The document its $refs resolve in. */
      root: unknown;
      /** Where the schema sits in `root`, for messages. */
      path: string;
      /** Where it came from, for reports: "GET http://.../openapi.json: POST /predict". */
      origin: string;
      outputSchema?: unknown;
    }
  | { kind: 'oip'; metadata: OipModelMetadata; origin: string };

export interface DiscoverContext {
  /** The service's base URL (for HTTP sources). */
  baseUrl?: string;
  /** The endpoint under test: the default operation for OpenAPI sources. */
  method?: string;
  path?: string;
  /** Headers for the discovery requests (an Authorization header, say). */
  headers?: Record<string, string>;
  /** Per discovery request (default 10 s). */
  timeoutMs?: number;
  /** Relative files resolve against this (the config's folder); default the working directory. */
  baseDir?: string;
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

/** Reads one source. */
export async function discoverSchema(source: SchemaSource, ctx: DiscoverContext = {}): Promise<Discovered> {
  switch (source.kind) {
    case 'inline':
      return { kind: 'schema', schema: source.schema, root: source.schema, path: '#', origin: 'inline schema' };
    case 'file': {
      const file = resolve(ctx.baseDir ?? process.cwd(), source.file);
      const doc = await readDocument(file);
      if (isOpenApi(doc)) {
        const method = source.method ?? ctx.method;
        const path = source.path ?? ctx.path;
        if (!method || !path)
          throw new DiscoveryError(`${file}: an OpenAPI document: say which operation (method and path) to take the request body from`);
        return operationSchema(doc, method, path, file);
      }
      return { kind: 'schema', schema: doc, root: doc, path: '#', origin: file };
    }
    case 'openapi': {
      const url = serviceUrl(ctx, source.url ?? '/openapi.json');
      const method = source.method ?? ctx.method;
      const path = source.path ?? ctx.path;
      if (!method || !path) throw new DiscoveryError(`${url}: say which operation (method and path) to take the request body from`);
      const doc = await getJson(url, ctx);
      if (!isOpenApi(doc)) throw new DiscoveryError(`GET ${url}: not an OpenAPI document (no "openapi"/"swagger" version and "paths")`);
      return operationSchema(doc, method, path, `GET ${url}`);
    }
    case 'rest-model-service': {
      const url = serviceUrl(ctx, `/api/models/${encodeURIComponent(source.model)}/metadata`);
      const doc = await getJson(url, ctx);
      const d = doc as Record<string, unknown>;
      if (typeof doc !== 'object' || doc === null || typeof d['input_schema'] !== 'object' || d['input_schema'] === null) {
        throw new DiscoveryError(
          `GET ${url}: the metadata has no "input_schema" object (rest_model_service 0.4 and later serve it; older ones: use the OpenAPI document)`,
        );
      }
      const out: Discovered = {
        kind: 'schema',
        schema: d['input_schema'],
        root: d['input_schema'],
        path: '#',
        origin: `GET ${url}: input_schema`,
      };
      if (d['output_schema'] !== undefined) out.outputSchema = d['output_schema'];
      return out;
    }
    case 'oip': {
      const path = `/v2/models/${encodeURIComponent(source.model)}${source.version ? `/versions/${encodeURIComponent(source.version)}` : ''}`;
      const url = serviceUrl(ctx, path);
      const doc = await getJson(url, ctx);
      try {
        return { kind: 'oip', metadata: parseOipMetadata(doc, `GET ${url}`), origin: `GET ${url}` };
      } catch (e) {
        throw new DiscoveryError((e as Error).message);
      }
    }
    case 'mlflow-signature': {
      const file = resolve(ctx.baseDir ?? process.cwd(), source.file);
      const doc = await readDocument(file);
      return { kind: 'schema', ...mlflowSignatureSchema(doc, file), path: '#', origin: `${file}: signature.inputs` };
    }
  }
}

/** Tries each source in turn and returns the first that works; the error lists every failure. */
export async function discoverFirst(sources: readonly SchemaSource[], ctx: DiscoverContext = {}): Promise<Discovered> {
  const problems: string[] = [];
  for (const s of sources) {
    try {
      return await discoverSchema(s, ctx);
    } catch (e) {
      if (!(e instanceof DiscoveryError)) throw e;
      problems.push(e.message);
    }
  }
  throw new DiscoveryError(problems.length === 1 ? problems[0]! : `no schema source worked:\n  - ${problems.join('\n  - ')}`);
}

// ---------------------------------------------------------------------------------------------

function serviceUrl(ctx: DiscoverContext, pathOrUrl: string): string {
  if (/^https?:\/\//i.test(pathOrUrl)) return pathOrUrl;
  if (!ctx.baseUrl) throw new DiscoveryError(`cannot fetch ${pathOrUrl}: no service URL`);
  return ctx.baseUrl.replace(/\/+$/, '') + (pathOrUrl.startsWith('/') ? pathOrUrl : `/${pathOrUrl}`);
}

/** GET a JSON document; errors name the URL and the status, or what the body was instead. */
export async function getJson(url: string, ctx: DiscoverContext = {}): Promise<unknown> {
  const timeout = ctx.timeoutMs ?? 10_000;
  let status: number;
  let text: string;
  let type: string;
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...ctx.headers },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    status = res.statusCode;
    type = String(res.headers['content-type'] ?? '');
    text = await res.body.text();
  } catch (e) {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    throw new DiscoveryError(
      `GET ${url}: ${err.name === 'TimeoutError' ? `no answer in ${timeout} ms` : `${code ? `${code} ` : ''}${err.message}`}`,
    );
  }
  if (status < 200 || status > 299) throw new DiscoveryError(`GET ${url}: HTTP ${status}${snippet(text)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new DiscoveryError(`GET ${url}: the response is not JSON (content-type ${type || 'none'})${snippet(text)}`);
  }
}

function snippet(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t ? `: ${JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}...` : t)}` : '';
}

async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DiscoveryError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ext = extname(file).toLowerCase();
  try {
    return ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new DiscoveryError(`${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML/JSON'} (${(e as Error).message.split('\n')[0]})`);
  }
}

function isOpenApi(doc: unknown): doc is Record<string, unknown> {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as Record<string, unknown>;
  return (typeof d['openapi'] === 'string' || typeof d['swagger'] === 'string') && typeof d['paths'] === 'object' && d['paths'] !== null;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The path templates of `doc` that `path` matches, exact ones first (with server base paths stripped). */
function matchPath(doc: Record<string, unknown>, path: string): string | undefined {
  const paths = doc['paths'] as Record<string, unknown>;
  const bare = path.split('?', 1)[0]!;
  const candidates = [bare];
  const bases: string[] = [];
  if (typeof doc['basePath'] === 'string') bases.push(doc['basePath']);
  if (Array.isArray(doc['servers'])) {
    for (const s of doc['servers'] as Array<{ url?: unknown }>) {
      if (typeof s?.url !== 'string') continue;
      try {
        bases.push(new URL(s.url, 'http://x').pathname);
      } catch {
        /* a templated server URL: no base path to strip */
      }
    }
  }
  for (const b of bases) {
    const base = b.replace(/\/+$/, '');
    if (base && bare.startsWith(`${base}/`)) candidates.push(bare.slice(base.length));
  }
  for (const c of candidates) if (Object.hasOwn(paths, c)) return c;
  for (const c of candidates) {
    for (const key of Object.keys(paths)) {
      const re = new RegExp(
        `^${key
          .split(/(\{[^}/]+\})/)
          .map((seg) => (/^\{[^}/]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('')}$`,
      );
      if (re.test(c)) return key;
    }
  }
  return undefined;
}

function listPaths(paths: Record<string, unknown>): string {
  const entries = Object.entries(paths).map(([p, item]) => {
    const ms =
      typeof item === 'object' && item !== null
        ? Object.keys(item)
            .filter((k) => METHODS.includes(k))
            .map((m) => m.toUpperCase())
        : [];
    return `${ms.join('|') || '?'} ${p}`;
  });
  return entries.length > 30 ? `${entries.slice(0, 30).join(', ')}, ... (${entries.length} in all)` : entries.join(', ');
}

/** The JSON request body schema of one operation of an OpenAPI 3.x (or Swagger 2) document. */
export function operationSchema(
  doc: Record<string, unknown>,
  method: string,
  path: string,
  origin: string,
): Discovered & { kind: 'schema' } {
  const paths = doc['paths'] as Record<string, unknown>;
  const key = matchPath(doc, path);
  const op = `${method.toUpperCase()} ${path}`;
  if (key === undefined)
    throw new DiscoveryError(`${origin}: no path matches ${path}; the document has: ${listPaths(paths) || 'no paths'}`);
  let item = paths[key] as Record<string, unknown>;
  if (typeof item?.['$ref'] === 'string') item = (resolvePointer(doc, item['$ref']) ?? {}) as Record<string, unknown>;
  const m = method.toLowerCase();
  const operation = item?.[m] as Record<string, unknown> | undefined;
  const via = key === path ? '' : ` (as ${key})`;
  if (!operation) {
    const has = Object.keys(item ?? {})
      .filter((k) => METHODS.includes(k))
      .map((k) => k.toUpperCase());
    throw new DiscoveryError(`${origin}: ${path}${via} has no ${method.toUpperCase()} operation; it has: ${has.join(', ') || 'none'}`);
  }
  const base = `#/paths/${escapePointer(key)}/${m}`;
  const outputSchema = responseSchema(doc, operation);
  const found = (schema: unknown, at: string): Discovered & { kind: 'schema' } => {
    if (schema === undefined) throw new DiscoveryError(`${origin}: ${op}${via}: the request body has no schema`);
    return {
      kind: 'schema',
      schema,
      root: doc,
      path: at,
      origin: `${origin}: ${op}${via}`,
      ...(outputSchema !== undefined ? { outputSchema } : {}),
    };
  };
  // OpenAPI 3: requestBody.content["application/json"].schema
  if (operation['requestBody'] !== undefined) {
    let body = operation['requestBody'] as Record<string, unknown>;
    let bodyAt = `${base}/requestBody`;
    if (typeof body?.['$ref'] === 'string') {
      bodyAt = body['$ref'];
      body = (resolvePointer(doc, body['$ref']) ?? {}) as Record<string, unknown>;
    }
    const content = (body?.['content'] ?? {}) as Record<string, { schema?: unknown }>;
    const types = Object.keys(content);
    const ct =
      types.find((t) => t.split(';')[0]!.trim() === 'application/json') ??
      types.find((t) => /^application\/([\w.-]+\+)?json\b/.test(t)) ??
      types.find((t) => t === '*/*');
    if (ct === undefined) {
      throw new DiscoveryError(`${origin}: ${op}${via}: the request body is not JSON (content types: ${types.join(', ') || 'none'})`);
    }
    return found(content[ct]!.schema, `${bodyAt}/content/${escapePointer(ct)}/schema`);
  }
  // Swagger 2: a parameter "in: body"
  const params = [...((item['parameters'] as unknown[]) ?? []), ...((operation['parameters'] as unknown[]) ?? [])];
  for (const [i, p0] of params.entries()) {
    let p = p0 as Record<string, unknown>;
    if (typeof p?.['$ref'] === 'string') p = (resolvePointer(doc, p['$ref']) ?? {}) as Record<string, unknown>;
    if (p?.['in'] === 'body') return found(p['schema'], `${base}/parameters/${i}/schema`);
  }
  throw new DiscoveryError(`${origin}: ${op}${via} takes no request body`);
}

/** The JSON schema of an operation's success response (200, 201, 2XX, then default), if it declares one. */
function responseSchema(doc: Record<string, unknown>, operation: Record<string, unknown>): unknown {
  const responses = (operation['responses'] ?? {}) as Record<string, unknown>;
  for (const code of ['200', '201', '2XX', '2xx', 'default']) {
    let r = responses[code] as Record<string, unknown> | undefined;
    if (typeof r?.['$ref'] === 'string') r = resolvePointer(doc, r['$ref']) as Record<string, unknown> | undefined;
    if (!r) continue;
    if (r['schema'] !== undefined) return r['schema']; // Swagger 2
    const content = (r['content'] ?? {}) as Record<string, { schema?: unknown }>;
    const ct = Object.keys(content).find((t) => /^application\/([\w.-]+\+)?json\b/.test(t.split(';')[0]!.trim()));
    if (ct !== undefined && content[ct]!.schema !== undefined) return content[ct]!.schema;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// MLflow signatures

const MLFLOW_TYPES: Record<string, object> = {
  boolean: { type: 'boolean' },
  integer: { type: 'integer', minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
  long: { type: 'integer' },
  float: { type: 'number' },
  double: { type: 'number' },
  string: { type: 'string' },
  binary: { type: 'string', format: 'byte' },
  datetime: { type: 'string', format: 'date-time' },
};

/** An MLmodel document's column-based input signature as the JSON Schema of one record. */
export function mlflowSignatureSchema(doc: unknown, origin: string): { schema: unknown; root: unknown } {
  const sig = (doc as { signature?: { inputs?: unknown } } | null)?.signature;
  if (!sig || sig.inputs === undefined)
    throw new DiscoveryError(`${origin}: no "signature.inputs" (log the model with a signature, or give a JSON Schema)`);
  let inputs: unknown = sig.inputs;
  if (typeof inputs === 'string') {
    try {
      inputs = JSON.parse(inputs);
    } catch (e) {
      throw new DiscoveryError(`${origin}: signature.inputs is not JSON (${(e as Error).message})`);
    }
  }
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new DiscoveryError(`${origin}: signature.inputs must be a non-empty list of columns`);
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  inputs.forEach((c: Record<string, unknown>, i) => {
    if (c?.['type'] === 'tensor')
      throw new DiscoveryError(
        `${origin}: signature.inputs[${i}] is a tensor spec: tensor-based signatures are not supported (give a JSON Schema)`,
      );
    if (typeof c?.['name'] !== 'string')
      throw new DiscoveryError(`${origin}: signature.inputs[${i}] has no name (unnamed columns are not supported)`);
    const t = MLFLOW_TYPES[String(c['type'])];
    if (!t)
      throw new DiscoveryError(
        `${origin}: signature.inputs[${i}] ("${c['name']}") has type ${JSON.stringify(c['type'])}; supported: ${Object.keys(MLFLOW_TYPES).join(', ')}`,
      );
    properties[c['name']] = { ...t };
    if (c['required'] !== false) required.push(c['name']);
  });
  const schema = { type: 'object', properties, required };
  return { schema, root: schema };
}
