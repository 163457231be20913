// The request: (or requests:) section: what each request sends and what counts as success. A body is
// fixed, replayed from a file (JSONL or CSV), or generated from a JSON Schema before the load (found in a
// file, inline, or published by the service; a preset knows where a model server publishes it).
//
//   request:  {name, method, path, headers, body | bodies | schema, weight, expect-status}   (or requests: [...])
//             preset: rest-model-service, model: NAME   (a model server's predict path, readiness and schema)
//             schema: auto | FILE | {openapi|metadata|oip|mlflow|file|inline: ...}, generate: 1000, wrap, batch
//             invalid: 5%, invalid-status, check-response   (generated bodies only)

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
];
const SCHEMA_KEYS = ['openapi', 'metadata', 'oip', 'mlflow', 'file', 'inline', 'method', 'path', 'version'];

export function readEndpoints(
  r: Reader,
  top: Record<string, unknown>,
  baseDir: string,
): { endpoints: EndpointConfig[]; readyPath?: string } {
  if (top['request'] !== undefined && top['requests'] !== undefined) {
    r.fail(['requests'], 'use either request: (one endpoint) or requests: (a list), not both');
  }
  if (top['request'] === undefined && top['requests'] === undefined) {
    r.fail(['request'], 'missing: the endpoint to load-test, e.g. request: {method: POST, path: /predict, body: {...}}');
  }
  const list = top['request'] !== undefined ? [top['request']] : r.list(top['requests'], ['requests'], 1);
  const paths: Path[] = top['request'] !== undefined ? [['request']] : list.map((_, i) => ['requests', i]);
  const read = list.map((v, i) => readEndpoint(r, v, paths[i]!, baseDir));
  const endpoints = read.map((x) => x.endpoint);
  const readyPath = read.find((x) => x.preset)?.preset?.readyPath;
  const names = new Set<string>();
  endpoints.forEach((e, i) => {
    if (names.has(e.name)) r.fail([...paths[i]!, 'name'], `duplicate endpoint name "${e.name}": give each request a distinct name`);
    names.add(e.name);
  });
  return { endpoints, ...(readyPath ? { readyPath } : {}) };
}

function readEndpoint(r: Reader, v: unknown, at: Path, baseDir: string): { endpoint: EndpointConfig; preset?: PresetEndpoint } {
  const o = r.object(v, at, REQUEST_KEYS);
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
  const headers: Record<string, string> = {};
  if (o['headers'] !== undefined) {
    const h = r.object(o['headers'], [...at, 'headers'], Object.keys((o['headers'] as object) ?? {}));
    for (const [k, val] of Object.entries(h)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) r.fail([...at, 'headers', k], `"${k}" is not a valid header name`);
      const s = r.string(val, [...at, 'headers', k], { nonEmpty: false });
      if (/[\r\n]/.test(s)) r.fail([...at, 'headers', k], 'a header value cannot contain line breaks');
      headers[k] = s;
    }
  }
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
