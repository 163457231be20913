// What to send next: the endpoint (weighted, seeded) and its body (fixed, or cycled from a list).
// Everything a request needs is prepared once here (Buffers, header arrays, the status matcher and the
// response check built from the plan's data), so the hot path only picks.

import { statusMatches } from '../plan/http.ts';
import type { BodySource, EndpointPlan, ResponseSchema, StatusSet } from '../plan/types.ts';
import { mulberry32 } from '../payload/random.ts';
import { checkValue } from '../payload/validate.ts';

export interface PreparedEndpoint {
  index: number;
  method: string;
  path: string;
  headers: string[];
  ok: (status: number) => boolean;
  nextBody: () => Buffer | null;
  /** Checks a successful response body; null when it passes, else the reason. */
  check?: (body: string) => string | null;
  /** The response is an event stream (EndpointPlan.stream): the slot times its events. */
  stream?: boolean;
}

export interface RequestSource {
  endpoints: PreparedEndpoint[];
  /** Index of the endpoint for the next request. */
  pick: () => number;
}

export function prepareRequests(endpoints: readonly EndpointPlan[], seed: number): RequestSource {
  const prepared = endpoints.map((ep, index): PreparedEndpoint => {
    const headers: string[] = [];
    for (const [k, v] of Object.entries(ep.headers)) headers.push(k, v);
    const hasBody = ep.body.kind !== 'none';
    if (hasBody && !Object.keys(ep.headers).some((k) => k.toLowerCase() === 'content-type')) {
      headers.push('content-type', 'application/json');
    }
    return {
      index,
      method: ep.method,
      path: ep.path,
      headers,
      ok: statusMatcher(ep.okStatus),
      nextBody: bodyCycler(ep.body),
      ...(ep.responseSchema ? { check: responseChecker(ep.responseSchema) } : {}),
      ...(ep.stream ? { stream: true } : {}),
    };
  });
  const random = mulberry32(seed);
  const total = endpoints.reduce((s, e) => s + e.weight, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const e of endpoints) cumulative.push((acc += e.weight / total));
  const pick =
    endpoints.length === 1
      ? () => 0
      : () => {
          const x = random();
          for (let i = 0; i < cumulative.length - 1; i++) if (x < cumulative[i]!) return i;
          return cumulative.length - 1;
        };
  return { endpoints: prepared, pick };
}

/** One range (the usual case) is two comparisons; more go through the plan's own matcher. */
function statusMatcher(set: StatusSet): (status: number) => boolean {
  if (set.length !== 1) return (status) => statusMatches(set, status);
  const [low, high] = set[0]!;
  return (status) => status >= low && status <= high;
}

/** A successful response must be JSON that matches the schema: null when it does, else the reason. */
function responseChecker({ schema, root }: ResponseSchema): (body: string) => string | null {
  return (body) => {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return 'the response is not JSON';
    }
    const e = checkValue(schema, value, root);
    return e === null ? null : `the response does not match the output schema: ${e}`;
  };
}

function bodyCycler(b: BodySource): () => Buffer | null {
  switch (b.kind) {
    case 'none':
      return () => null;
    case 'fixed': {
      const buf = Buffer.from(b.body);
      return () => buf;
    }
    case 'list': {
      const bufs = b.bodies.map((s) => Buffer.from(s));
      let i = 0;
      return () => {
        const out = bufs[i]!;
        i = i + 1 === bufs.length ? 0 : i + 1;
        return out;
      };
    }
  }
}
