// Trains the example insurance charges model and writes model.json.
//
//   node examples/insurance-charges/train.ts [--out PATH]
//
// The data is synthetic (seeded, shaped like the Kaggle "insurance" dataset) so the example
// needs no download; the model is a real gradient-boosted regression tree ensemble.
// Everything is deterministic: the same code gives a byte-identical model.json, which the
// tests check, so do not add timestamps or anything else that varies between runs.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_MODEL_PATH,
  REGIONS,
  evaluate,
  makeEncoder,
  type InsuranceChargesModelInput,
  type Model,
  type ModelFile,
  type TreeNode,
} from './model.ts';

const SEED = 42;
const ROWS = 3000;
const HOLDOUT_FRACTION = 0.2;
const N_TREES = 80;
const MAX_DEPTH = 3;
const LEARNING_RATE = 0.1;
const MIN_SAMPLES_LEAF = 10; // keeps leaves from chasing the noisy high-charge outliers

const FEATURES = ['age', 'bmi', 'children', 'smoker', 'sex=male', 'sex=female', ...REGIONS.map((r) => `region=${r}`)];

/** mulberry32: tiny seeded PRNG, uniform in [0, 1). Math.random cannot be seeded. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

interface Row {
  input: InsuranceChargesModelInput;
  charges: number;
}

/**
 * Synthetic people and charges. The shape follows the Kaggle data: charges grow ~250 $/year
 * of age, smoking adds a lot and much more above BMI 30, children and region matter a
 * little, and some non-smokers have a large extra cost (the upper band in the real data).
 */
function generate(rand: () => number, n: number): Row[] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const pick = <T>(values: readonly T[], weights: readonly number[]): T => {
    let u = rand();
    for (let i = 0; i < values.length - 1; i++) if ((u -= weights[i]!) < 0) return values[i]!;
    return values[values.length - 1]!;
  };
  const regionEffect: Record<string, number> = { northeast: 600, northwest: 250, southeast: 0, southwest: -300 };
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const age = 18 + Math.floor(rand() * 48);
    const sex = rand() < 0.5 ? 'male' : 'female';
    const bmi = round(Math.min(50, Math.max(15, 30.7 + 6.1 * normal())), 2);
    const children = pick([0, 1, 2, 3, 4, 5], [0.43, 0.24, 0.18, 0.12, 0.02, 0.01]);
    const smoker = rand() < 0.2;
    const region = REGIONS[Math.floor(rand() * REGIONS.length)]!;

    let charges = 250 * age - 2200 + 450 * children + regionEffect[region]! + 20 * (bmi - 30);
    if (smoker) charges += 11500 + 250 * (bmi - 25) + (bmi > 30 ? 19000 : 0);
    else if (rand() < 0.1) charges += -7000 * Math.log(1 - rand()); // exponential, mean 7000
    charges *= 1 + 0.06 * normal();
    rows.push({ input: { age, sex, bmi, children, smoker, region }, charges: round(Math.max(1121.87, charges), 2) });
  }
  return rows;
}

/**
 * Fits gradient-boosted regression trees with squared loss: each tree is fitted to the
 * residuals of the ensemble so far. Splits are searched exhaustively over the sorted
 * values of every feature (threshold = midpoint between neighbouring distinct values).
 */
function fitBoostedTrees(X: Float64Array[], y: Float64Array): { base: number; trees: TreeNode[] } {
  const n = y.length;
  const nFeatures = X[0]!.length;
  const column = (f: number) => Float64Array.from(X, (x) => x[f]!);
  const cols = Array.from({ length: nFeatures }, (_, f) => column(f));
  // Rows sorted by each feature once; a node's rows are picked out of these in order.
  const sorted = cols.map((c) => Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => c[a]! - c[b]! || a - b));

  const base = round(y.reduce((s, v) => s + v, 0) / n, 2);
  const prediction = new Float64Array(n).fill(base);
  const residual = new Float64Array(n);
  const inNode = new Int32Array(n).fill(-1); // node stamp, saves clearing a mask per node
  let stamp = 0;
  const scratch = new Int32Array(n);

  const build = (rows: number[], depth: number): TreeNode => {
    let sum = 0;
    for (const r of rows) sum += residual[r]!;
    // Leaves are stored rounded and the training uses the rounded values, so the file
    // is small and the served predictions are exactly what training evaluated.
    const leaf = round((LEARNING_RATE * sum) / rows.length, 2);
    if (depth === MAX_DEPTH || rows.length < 2 * MIN_SAMPLES_LEAF) return leaf;

    const id = stamp++;
    for (const r of rows) inNode[r] = id;
    let best = { gain: 0, feature: -1, threshold: 0 };
    for (let f = 0; f < nFeatures; f++) {
      const c = cols[f]!;
      let m = 0;
      for (const r of sorted[f]!) if (inNode[r] === id) scratch[m++] = r;
      let leftSum = 0;
      for (let i = 0; i < m - 1; i++) {
        leftSum += residual[scratch[i]!]!;
        const nLeft = i + 1;
        const a = c[scratch[i]!]!,
          b = c[scratch[i + 1]!]!;
        if (a === b || nLeft < MIN_SAMPLES_LEAF || m - nLeft < MIN_SAMPLES_LEAF) continue;
        // Reduction of the squared error from splitting here (constant terms dropped).
        const gain = (leftSum * leftSum) / nLeft + (sum - leftSum) ** 2 / (m - nLeft) - (sum * sum) / m;
        if (gain > best.gain) best = { gain, feature: f, threshold: midpoint(a, b) };
      }
    }
    if (best.feature < 0) return leaf;
    const c = cols[best.feature]!;
    const left = rows.filter((r) => c[r]! <= best.threshold);
    const right = rows.filter((r) => c[r]! > best.threshold);
    return [best.feature, best.threshold, build(left, depth + 1), build(right, depth + 1)];
  };

  const all = Array.from({ length: n }, (_, i) => i);
  const trees: TreeNode[] = [];
  for (let t = 0; t < N_TREES; t++) {
    for (let i = 0; i < n; i++) residual[i] = y[i]! - prediction[i]!;
    const tree = build(all, 0);
    trees.push(tree);
    for (let i = 0; i < n; i++) {
      let node = tree;
      while (typeof node !== 'number') node = X[i]![node[0]]! <= node[1] ? node[2] : node[3];
      prediction[i] = prediction[i]! + node;
    }
  }
  return { base, trees };
}

/** A short threshold between a and b (a < b) so model.json stays readable. */
function midpoint(a: number, b: number): number {
  for (let digits = 0; digits <= 6; digits++) {
    const t = round((a + b) / 2, digits);
    if (a <= t && t < b) return t;
  }
  return (a + b) / 2;
}

function metrics(model: Model, rows: Row[]): { r2: number; rmse: number } {
  const mean = rows.reduce((s, r) => s + r.charges, 0) / rows.length;
  let sse = 0,
    sst = 0;
  for (const r of rows) {
    // Rounded to cents like the service answers, so the metrics describe served predictions.
    const err = r.charges - round(evaluate(model, r.input), 2);
    sse += err * err;
    sst += (r.charges - mean) ** 2;
  }
  return { r2: round(1 - sse / sst, 4), rmse: round(Math.sqrt(sse / rows.length), 2) };
}

/** Pretty JSON, except one line per tree, which keeps the file compact and diffable. */
function serialize(file: ModelFile): string {
  const { trees, ...rest } = file;
  const head = JSON.stringify(rest, null, 2).slice(0, -2); // drop the closing "\n}"
  return `${head},\n  "trees": [\n${trees.map((t) => `    ${JSON.stringify(t)}`).join(',\n')}\n  ]\n}\n`;
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ? resolve(values.out) : DEFAULT_MODEL_PATH;

  const rand = mulberry32(SEED);
  const rows = generate(rand, ROWS);
  // Shuffle (Fisher-Yates) before splitting off the holdout rows.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const nHoldout = Math.round(ROWS * HOLDOUT_FRACTION);
  const holdout = rows.slice(0, nHoldout);
  const train = rows.slice(nHoldout);

  const encode = makeEncoder(FEATURES);
  const { base, trees } = fitBoostedTrees(
    train.map((r) => encode(r.input)),
    Float64Array.from(train, (r) => r.charges),
  );

  // Metrics are computed with model.ts's evaluate(), i.e. exactly as the service predicts.
  const file: ModelFile = { format: 'gbrt-v1', features: FEATURES, base_value: base, training: {}, trees };
  const model: Model = { file, encode };
  const holdoutMetrics = metrics(model, holdout);
  file.training = {
    created_by: 'examples/insurance-charges/train.ts',
    algorithm: 'gradient-boosted regression trees, squared loss',
    tree_format: 'leaf value, or [feature index, threshold, left if x <= threshold, right]; leaves include the learning rate',
    seed: SEED,
    rows: ROWS,
    train_rows: train.length,
    holdout_rows: holdout.length,
    n_trees: N_TREES,
    max_depth: MAX_DEPTH,
    learning_rate: LEARNING_RATE,
    min_samples_leaf: MIN_SAMPLES_LEAF,
    train_metrics: metrics(model, train),
    holdout_metrics: holdoutMetrics,
  };

  writeFileSync(out, serialize(file));
  console.log(`wrote ${out}: ${trees.length} trees, holdout R² ${holdoutMetrics.r2}, RMSE ${holdoutMetrics.rmse}`);
}

main();
