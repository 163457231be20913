// How often a comparison is right, on this machine: A/A (the example model service against a second
// instance of itself) should almost never say "regressed"; A/B (the candidate with 10% more CPU per
// prediction) should almost always. Trials alternate A/A and A/B so that drift of the machine reaches
// both the same. Each trial is one whole loadgate comparison at the default settings (10 measured pairs,
// one warm-up pair, random pair order, min-effect 5%, gated on p50, p99 and the error rate), in process,
// with only the round length shortened (the statistics see rounds, not seconds; a round of 2 s holds
// ~180 predictions at ~11 ms, enough for a stable p50 and a p99 from the top two).
//
//   node bench/compare.ts [--trials 20] [--round 2s] [--extra-ms 10] [--delta-ms 1] [--users 1]
//
// Writes bench/results/compare-<time>.json (every trial's answer and each metric's shift) and prints a table.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlan, readConfigFile } from '../src/plan/config.ts';
import { executeRun } from '../src/run.ts';
import { BENCH_DIR, NODE, ROOT, fmt, machine, median, stamp, table } from './lib.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    round: { type: 'string', default: '2s' },
    'extra-ms': { type: 'string', default: '10' },
    'delta-ms': { type: 'string', default: '1' },
    users: { type: 'string', default: '1' },
  },
});
const trials = Number(values.trials);
const extra = Number(values['extra-ms']);
const delta = Number(values['delta-ms']);
const SERVER = join(ROOT, 'examples', 'insurance-charges', 'server.ts');
mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
const tmp = join('/tmp', `loadgate-bench-compare-${process.pid}`);
mkdirSync(tmp, { recursive: true });

interface Trial {
  kind: 'A/A' | 'A/B';
  outcome: string;
  seconds: number;
  metrics: Record<string, { estimate: number | null; low: number | null; high: number | null; verdict: string }>;
  excludedRounds: number;
}

async function trial(kind: Trial['kind'], i: number): Promise<Trial> {
  const cmd = (ms: number) => `${NODE} ${SERVER} --port {port} --extra-work-ms ${ms}`;
  const file = join(tmp, `t${i}.yml`);
  writeFileSync(
    file,
    [
      `service: {command: "${cmd(kind === 'A/B' ? extra + delta : extra)}", ready: {path: /api/health/ready}}`,
      `baseline: {command: "${cmd(extra)}"}`,
      'request: {method: POST, path: /api/models/insurance_charges_model/prediction, body: {age: 42, sex: female, bmi: 31.5, children: 2, smoker: false, region: northwest}}',
      `load: {stages: [{duration: ${values.round}, users: ${values.users}}]}`,
      'compare: {}',
      `seed: ${i + 1}`,
      `output: ${join(tmp, `out${i}`)}`,
    ].join('\n'),
  );
  const t0 = performance.now();
  const { verdict } = await executeRun(buildPlan(readConfigFile(file)));
  const c = verdict.comparison!;
  return {
    kind,
    outcome: c.outcome,
    seconds: (performance.now() - t0) / 1000,
    metrics: Object.fromEntries(c.metrics.map((m) => [m.key, { estimate: m.estimate, low: m.low, high: m.high, verdict: m.verdict }])),
    excludedRounds: c.rounds.filter((r) => r.excluded).length,
  };
}

const results: Trial[] = [];
const out = join(BENCH_DIR, 'results', `compare-${stamp()}.json`);
for (let i = 0; i < trials * 2; i++) {
  const kind = i % 2 === 0 ? 'A/A' : 'A/B';
  const t = await trial(kind, i);
  results.push(t);
  const p50 = t.metrics['p50'];
  console.log(
    `${kind} #${Math.floor(i / 2) + 1}: ${t.outcome} (p50 ${fmt((p50?.estimate ?? NaN) * 100, 1)}% [${fmt((p50?.low ?? NaN) * 100, 1)}, ${fmt((p50?.high ?? NaN) * 100, 1)}]) in ${fmt(t.seconds, 0)} s`,
  );
  // Written after every trial: an interrupted run keeps what finished.
  writeFileSync(out, JSON.stringify({ settings: values, machine: machine(), trials: results }, null, 1));
}

const rows = (['A/A', 'A/B'] as const).map((kind) => {
  const ts = results.filter((t) => t.kind === kind);
  const count = (o: string) => String(ts.filter((t) => t.outcome === o).length);
  const p50 = ts.map((t) => t.metrics['p50']?.estimate ?? NaN);
  const width = ts.map((t) => (t.metrics['p99']?.high ?? NaN) - (t.metrics['p99']?.low ?? NaN));
  return [
    kind,
    String(ts.length),
    count('regressed'),
    count('same'),
    count('inconclusive'),
    count('improved'),
    `${fmt(median(p50) * 100, 1)}%`,
    `${fmt(median(width) * 100, 1)}%`,
    fmt(median(ts.map((t) => t.seconds)) / 60, 2),
  ];
});
console.log(
  `\n${table(['trials', 'n', 'regressed', 'same', 'inconclusive', 'improved', 'median p50 shift', 'median p99 CI width', 'minutes each'], rows)}`,
);
console.log(`\nwritten: ${out}`);
