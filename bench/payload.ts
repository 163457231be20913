// Cost of pre-generating request bodies (src/payload): how long buildCorpus takes before a run, and
// the steady generation rate, for the seed's insurance schema (flat, pydantic v1), a pydantic v2
// style customer schema (nested models, Optional, oneOf, patterns, formats), a nested/array schema
// (matrices, tuples, a recursive tree), and Open Inference Protocol metadata.
//
//   node bench/payload.ts [--count 1000] [--rounds 5] [--steady 20000]
//
// For each schema:
//   corpus    buildCorpus of --count bodies in a fresh process state for that schema (the first call:
//             checking the schema, building its nodes, JIT warm-up included), median of --rounds
//             rounds, each with a new seed;
//   steady    bodies/s over --steady bodies once warm, with and without the per-value self-check;
//   size      mean body size in bytes.
// Single-threaded, one core; the figures scale with the core's speed.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { inputSchema } from '../examples/insurance-charges/model.ts';
import { buildCorpus } from '../src/payload/corpus.ts';
import type { Discovered } from '../src/payload/discover.ts';
import { createGenerator } from '../src/payload/generate.ts';
import { createOipGenerator, parseOipMetadata } from '../src/payload/oip.ts';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    steady: { type: 'string', default: '20000' },
  },
});
const COUNT = Number(args.count);
const ROUNDS = Number(args.rounds);
const STEADY = Number(args.steady);

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../test/fixtures/schemas/${name}`, import.meta.url), 'utf8'));
const schemaSource = (schema: unknown, origin: string): Discovered => ({ kind: 'schema', schema, root: schema, path: '#', origin });

const oipMeta = parseOipMetadata(
  {
    name: 'classifier',
    inputs: [
      { name: 'numeric', datatype: 'FP32', shape: [-1, 16] },
      { name: 'categorical', datatype: 'INT64', shape: [-1, 4] },
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ],
  },
  'bench',
);

const cases: Array<{ name: string; source: Discovered }> = [
  { name: 'insurance (pydantic v1, flat)', source: schemaSource(inputSchema, 'insurance') },
  { name: 'customer (pydantic v2, nested)', source: schemaSource(fixture('pydantic-v2-customer.json'), 'customer') },
  { name: 'nested arrays + recursive tree', source: schemaSource(fixture('nested-arrays.json'), 'nested') },
  { name: 'OIP metadata (3 tensors, batch 1-4)', source: { kind: 'oip', metadata: oipMeta, origin: 'oip' } },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function steady(source: Discovered, check: boolean): number {
  const next =
    source.kind === 'oip'
      ? (() => {
          const g = createOipGenerator(source.metadata, { seed: 1 });
          return () => g.next();
        })()
      : (() => {
          const g = createGenerator(source.schema, { seed: 1, root: source.root, check });
          return () => g.next();
        })();
  for (let i = 0; i < Math.min(2000, STEADY); i++) JSON.stringify(next());
  const t0 = performance.now();
  for (let i = 0; i < STEADY; i++) JSON.stringify(next());
  return (STEADY / (performance.now() - t0)) * 1000;
}

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}; ${COUNT} bodies per corpus, ${ROUNDS} rounds, ${STEADY} bodies steady`,
);
console.log('');
console.log('schema                                   first corpus   corpus (median)   steady, checked   steady, unchecked   mean size');
for (const c of cases) {
  const times: number[] = [];
  let first = 0;
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const corpus = buildCorpus(c.source, { count: COUNT, seed: 100 + r });
    if (r === 0) first = corpus.stats.ms;
    times.push(corpus.stats.ms);
    bytes = corpus.stats.meanBytes;
  }
  const checked = steady(c.source, true);
  const unchecked = c.source.kind === 'oip' ? checked : steady(c.source, false);
  console.log(
    `${c.name.padEnd(40)} ${`${first.toFixed(1)} ms`.padStart(12)}   ${`${median(times).toFixed(1)} ms`.padStart(15)}   ${`${Math.round(checked)}/s`.padStart(15)}   ${`${Math.round(unchecked)}/s`.padStart(17)}   ${`${Math.round(bytes)} B`.padStart(9)}`,
  );
}
