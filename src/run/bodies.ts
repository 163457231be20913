// From the endpoints the config describes to the endpoints the engine receives. Bodies to generate from
// a schema become a list, with two companions from the same schema: a share of deliberately invalid
// requests (an endpoint of its own, with its own statuses and statistics) and the output schema that
// successful responses are checked against. A schema in a file needs no service, so it is read before
// the service starts (a bad one stops the run before anything starts); one the service publishes is read
// once it is ready. A schema that cannot be found or used is a configuration error naming the request.

import { type Discovered, type SchemaSource, buildCorpus, discoverFirst } from '../payload/index.ts';
import { createInvalidGenerator } from '../payload/invalid.ts';
import { ConfigError } from '../plan/config.ts';
import type { RequestBodies } from '../metrics/result.ts';
import { partOf } from '../plan/shard.ts';
import type { EndpointConfig, EndpointPlan, GeneratedBodies, Plan, ResponseSchema } from '../plan/types.ts';

type Log = (line: string) => void;

const LOCAL_SOURCES: ReadonlySet<SchemaSource['kind']> = new Set(['file', 'inline', 'mlflow-signature']);

/** The endpoints whose bodies need no service, resolved before it starts: by their index in the config. */
export async function resolveLocalBodies(plan: Plan, log: Log): Promise<Map<number, EndpointPlan[]>> {
  const resolved = new Map<number, EndpointPlan[]>();
  for (const [i, ep] of plan.endpoints.entries()) {
    if (ep.body.kind === 'generate' && ep.body.sources.every((s) => LOCAL_SOURCES.has(s.kind))) {
      resolved.set(i, await resolveEndpoint(plan, ep, ep.body, i, undefined, log));
    }
  }
  return resolved;
}

/**
 * The engine's endpoints, in the config's order: those resolved before the service started, and the
 * rest, their schemas read from the ready service at `baseUrl`.
 */
export async function resolveBodies(
  plan: Plan,
  early: ReadonlyMap<number, EndpointPlan[]>,
  baseUrl: string,
  log: Log,
): Promise<EndpointPlan[]> {
  const out: EndpointPlan[] = [];
  for (const [i, ep] of plan.endpoints.entries()) {
    const done = early.get(i);
    if (done) out.push(...done);
    else if (ep.body.kind === 'generate') out.push(...(await resolveEndpoint(plan, ep, ep.body, i, baseUrl, log)));
    else out.push(asGiven(ep, ep.body));
  }
  return out;
}

/**
 * An endpoint whose body the config gives (none, fixed, a file, or prompts): the engine takes it as it
 * is, with the API key read into its headers now. Only the engine's endpoints hold the key: reports
 * show their name, method, path and bodies (describeBodies), never their headers.
 */
function asGiven(ep: EndpointConfig, body: EndpointPlan['body']): EndpointPlan {
  const { invalid: _i, checkOutput: _c, body: _b, apiKeyEnv, ...rest } = ep;
  if (apiKeyEnv === undefined) return { ...rest, body };
  // The plan checked it was set; if it went away since, say so rather than send no key (a 401 for every request).
  const key = process.env[apiKeyEnv]?.trim();
  if (!key) throw new ConfigError(`request "${ep.name}": the environment variable ${apiKeyEnv} (the API key) is not set`);
  return { ...rest, headers: { ...rest.headers, Authorization: `Bearer ${key}` }, body };
}

async function resolveEndpoint(
  plan: Plan,
  ep: EndpointConfig,
  b: GeneratedBodies,
  i: number,
  baseUrl: string | undefined,
  log: Log,
): Promise<EndpointPlan[]> {
  try {
    const found = await discoverFirst(b.sources, {
      ...(baseUrl ? { baseUrl } : {}),
      method: ep.method,
      path: ep.path,
      headers: ep.headers,
      timeoutMs: plan.timeoutMs,
      baseDir: plan.baseDir,
    });
    // A shard generates the whole plan's corpus (from its seed) and keeps its part (src/plan/shard.ts).
    const seed = (plan.shard?.planSeed ?? plan.seed) + i;
    const corpus = buildCorpus(found, { count: b.count, seed, wrap: b.wrap, batch: b.batch });
    log(
      `Generated ${corpus.stats.count} request bodies for "${ep.name}" from ${found.origin} ` +
        `in ${Math.round(corpus.stats.ms)} ms (mean ${Math.round(corpus.stats.meanBytes)} bytes)`,
    );
    const main: EndpointPlan = {
      ...asGiven(ep, { kind: 'list', bodies: partOf(corpus.bodies, plan.shard), origin: corpus.origin, generated: generatedWith(seed, b) }),
      ...(ep.checkOutput ? { responseSchema: outputSchema(found) } : {}),
    };
    if (!ep.invalid) return [main];
    // The invalid share becomes a companion endpoint with its own bodies, status rule and statistics.
    const companion = invalidCompanion(ep, found, ep.invalid, b.count, seed, b, plan.shard);
    log(`Mixing in ${Math.round(ep.invalid.share * 1000) / 10}% deliberately invalid requests as "${ep.name} (invalid)"`);
    return [{ ...main, weight: ep.weight * (1 - ep.invalid.share) }, companion];
  } catch (e) {
    throw new ConfigError(`${b.where}: request "${ep.name}": ${(e as Error).message}`);
  }
}

/** Successful responses must match the output schema the service publishes (or the run cannot check them). */
function outputSchema(found: Discovered): ResponseSchema {
  if (found.kind !== 'schema' || found.outputSchema === undefined) {
    throw new Error(`check-response: ${found.origin} publishes no output schema to check responses against`);
  }
  return { schema: found.outputSchema, root: found.root };
}

function invalidCompanion(
  ep: EndpointConfig,
  found: Discovered,
  invalid: NonNullable<EndpointConfig['invalid']>,
  count: number,
  seed: number,
  b: GeneratedBodies,
  shard?: Plan['shard'],
): EndpointPlan {
  if (found.kind !== 'schema') throw new Error('invalid: needs a JSON Schema (Open Inference Protocol metadata has none)');
  const gen = createInvalidGenerator(found.schema, { seed: seed ^ 0x1bad, root: found.root });
  const made = Array.from({ length: Math.max(shard?.count ?? 1, Math.ceil(count * invalid.share)) }, () =>
    JSON.stringify(gen.next().value),
  );
  const bodies = partOf(made, shard);
  return {
    ...asGiven(ep, { kind: 'list', bodies, origin: `invalid variants of ${found.origin}`, generated: generatedWith(seed ^ 0x1bad, b) }),
    name: `${ep.name} (invalid)`,
    role: 'invalid',
    weight: ep.weight * invalid.share,
    okStatus: invalid.okStatus,
  };
}

function generatedWith(seed: number, b: GeneratedBodies): { seed: number; preset?: string } {
  return { seed, ...(b.preset ? { preset: b.preset } : {}) };
}

/** An example body in a report: at most this many characters. */
const EXAMPLE_MAX_CHARS = 1000;

/** What each endpoint sent, for the reports: where its bodies came from, how many, their mean size, the first one. */
export function describeBodies(endpoints: readonly EndpointPlan[]): RequestBodies[] {
  return endpoints.map((ep): RequestBodies => {
    const b = ep.body;
    if (b.kind === 'none') return { endpoint: ep.name, kind: 'none', source: 'no body', count: 0, meanBytes: 0 };
    const bodies = b.kind === 'fixed' ? [b.body] : b.bodies;
    const bytes = bodies.reduce((n, s) => n + Buffer.byteLength(s), 0);
    const first = bodies[0];
    const example =
      first === undefined ? {} : { example: first.length > EXAMPLE_MAX_CHARS ? `${first.slice(0, EXAMPLE_MAX_CHARS)}…` : first };
    const common = { endpoint: ep.name, count: bodies.length, meanBytes: bodies.length ? bytes / bodies.length : 0, ...example };
    if (b.kind === 'fixed') return { ...common, kind: 'fixed', source: 'the body in the config' };
    if (!b.generated) return { ...common, kind: 'file', source: b.origin };
    return {
      ...common,
      kind: 'generated',
      source: b.origin,
      seed: b.generated.seed,
      ...(b.generated.preset ? { preset: b.generated.preset } : {}),
    };
  });
}
