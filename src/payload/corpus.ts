// Pre-generation: every request body is built before the load starts, so generating them costs the
// engine nothing and cannot skew its timings. The engine cycles the list.
// Generation is fast (tens of thousands of bodies per second for typical model inputs; see
// bench/payload.ts), so the default 1000 bodies take milliseconds.

import type { Discovered } from './discover.ts';
import { createGenerator, type GeneratorOptions } from './generate.ts';
import { createOipGenerator, type OipBodyOptions } from './oip.ts';
import { wrapInstances, type BodyWrap } from './presets.ts';

export const DEFAULT_CORPUS_SIZE = 1000;

export interface CorpusOptions {
  /** Bodies to generate (default 1000). */
  count?: number;
  seed: number;
  /** How instances become a body (a preset's wrapping; default 'none': the instance is the body). */
  wrap?: BodyWrap | 'oip';
  /** Instances per body for the wrappings that batch (default 1). */
  batch?: number;
  /** Generator tuning (optional-property and null shares, depth). */
  generator?: Omit<GeneratorOptions, 'seed' | 'root' | 'path'>;
  /** For Open Inference Protocol metadata: sizes of -1 dimensions. */
  oip?: Omit<OipBodyOptions, 'seed'>;
}

export interface CorpusStats {
  count: number;
  /** Wall time spent generating and serializing. */
  ms: number;
  bodiesPerSecond: number;
  bytes: number;
  meanBytes: number;
}

export interface Corpus {
  /** The bodies, serialized, in the order the engine cycles them. */
  bodies: string[];
  /** Where they came from, for reports: "generated from <schema origin>". */
  origin: string;
  stats: CorpusStats;
}

/** Generates the bodies for a discovered schema (or OIP metadata) and returns them ready for the engine. */
export function buildCorpus(source: Discovered, opts: CorpusOptions): Corpus {
  const count = opts.count ?? DEFAULT_CORPUS_SIZE;
  if (!Number.isInteger(count) || count < 1) throw new Error(`the number of bodies must be a positive integer, got ${count}`);
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`the batch size must be a positive integer, got ${batch}`);
  const t0 = performance.now();
  const bodies: string[] = new Array(count);
  let bytes = 0;
  if (source.kind === 'oip') {
    if (opts.wrap !== undefined && opts.wrap !== 'oip')
      throw new Error(`${source.origin}: Open Inference Protocol metadata makes "oip" bodies, not ${opts.wrap}`);
    const gen = createOipGenerator(source.metadata, { seed: opts.seed, ...opts.oip });
    for (let i = 0; i < count; i++) {
      const s = JSON.stringify(gen.next());
      bodies[i] = s;
      bytes += Buffer.byteLength(s);
    }
  } else {
    const wrap = opts.wrap ?? 'none';
    if (wrap === 'oip') throw new Error(`${source.origin}: "oip" bodies need Open Inference Protocol metadata, not a JSON Schema`);
    if (wrap === 'none' && batch !== 1)
      throw new Error(`a batch of ${batch} needs a wrapping that holds several instances (instances, dataframe_records, ...)`);
    const gen = createGenerator(source.schema, { ...opts.generator, seed: opts.seed, root: source.root, path: source.path });
    const instances: unknown[] = new Array(batch);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < batch; k++) instances[k] = gen.next();
      const s = JSON.stringify(wrap === 'none' ? instances[0] : wrapInstances(wrap, instances));
      bodies[i] = s;
      bytes += Buffer.byteLength(s);
    }
  }
  const ms = performance.now() - t0;
  return {
    bodies,
    origin: `generated from ${source.origin}`,
    stats: { count, ms, bodiesPerSecond: ms > 0 ? (count / ms) * 1000 : Infinity, bytes, meanBytes: bytes / count },
  };
}
