// What to send next: the endpoint (weighted, seeded) and its body (fixed, or cycled from a list).
// Everything a request needs is prepared once here (Buffers, header arrays), so the hot path only picks.

import type { EndpointPlan } from '../plan/types.ts';
import { mulberry32 } from '../payload/random.ts';

export interface PreparedEndpoint {
  index: number;
  method: string;
  path: string;
  headers: string[];
  ok: (status: number) => boolean;
  nextBody: () => Buffer | null;
  /** Checks a successful response body; null when it passes, else the reason. */
  check?: (body: string) => string | null;
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
      ok: ep.okStatus,
      nextBody: bodyCycler(ep),
      ...(ep.checkResponse ? { check: ep.checkResponse } : {}),
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

function bodyCycler(ep: EndpointPlan): () => Buffer | null {
  const b = ep.body;
  switch (b.kind) {
    case 'none':
      return () => null;
    case 'fixed': {
      const buf = Buffer.from(b.body);
      return () => buf;
    }
    case 'generate':
      throw new Error(`internal: the bodies of ${ep.name} must be generated before the load starts`);
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
