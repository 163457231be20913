// The example LLM's language model: a word-level trigram model with stupid backoff (Brants et
// al. 2007) over words and punctuation, sampled with temperature, top-k and top-p from a seeded
// generator. train.ts counts the trigrams of kjv-excerpt.txt and writes model.json; this file
// tokenizes, loads the counts into flat typed arrays and decodes one token at a time.
//
// It is small but does real work per token, as a real model does: every step scores all the
// followers of the context seen in training (trigram, then bigram, then the most frequent words),
// so a common context like "of the" costs hundreds of candidates and a rare one a handful.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MODEL_ID = 'kjv-trigram';
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('./model.json', import.meta.url));
/** Prompt plus completion tokens, as a served model's context length (vLLM's max_model_len). */
export const MAX_MODEL_LEN = 2048;

/** Id 0 is the sentence boundary: the start context of a verse and the end-of-sequence token. */
export const BOUNDARY = 0;
/** Stupid backoff's weight per order dropped (the paper's 0.4). */
const BACKOFF = 0.4;
/** The unigram fallback offers only the most frequent words: scoring all ~6,000 every step would be noise. */
const UNIGRAM_CANDIDATES = 64;

/**
 * Model tokens: a word (letters, with inner or trailing apostrophes: "Pharaoh's", "fathers'"), a
 * number, or one punctuation mark. Prompts and completions are counted with it, so `usage` is
 * in the model's own tokens.
 */
const TOKEN_RE = /\p{L}+(?:['’]\p{L}*)*|\p{N}+|[^\s\p{L}\p{N}]/gu;

export function tokenize(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', "'", '-']);

/** The text of one generated token as it is streamed: with its leading space, as BPE tokens carry it. */
export function tokenText(token: string, previous: string | undefined): string {
  if (previous === undefined || previous === '(' || previous === '-' || NO_SPACE_BEFORE.has(token)) return token;
  return ` ${token}`;
}

/**
 * What train.ts writes. Rows of base-36 ids, sorted: bigrams "b n1 n2*3 ..." (the count left
 * out when 1), trigrams "a b n1*2 ..." (only those seen at least twice).
 */
export interface ModelFile {
  format: 'loadgate-trigram-v1';
  source: string;
  training: { verses: number; tokens: number; vocabulary: number; bigram_types: number; trigram_types: number };
  /** Index = token id; 0 is the boundary "<s>". Sorted by frequency, so frequent words have short ids. */
  vocab: string[];
  bigrams: string[];
  trigrams: string[];
}

/** Counts as flat arrays (compressed sparse rows): followers of row r are next[start[r] .. start[r + 1]]. */
export interface Model {
  vocab: string[];
  ids: Map<string, number>;
  /** Trigram context (a * V + b) -> row. */
  triRow: Map<number, number>;
  triStart: Int32Array;
  triNext: Int32Array;
  triCount: Int32Array;
  /** How often the context (a, b) occurred: the denominator, pruned trigrams included. */
  triTotal: Int32Array;
  /** Bigram rows are indexed by the previous token id. */
  biStart: Int32Array;
  biNext: Int32Array;
  biCount: Int32Array;
  biTotal: Int32Array;
  uniCount: Int32Array;
  uniTotal: number;
  /** The most frequent tokens (boundary included), for the unigram fallback. */
  topUnigrams: Int32Array;
}

export function loadModel(path = DEFAULT_MODEL_PATH): Model {
  return buildModel(JSON.parse(readFileSync(path, 'utf8')) as ModelFile);
}

/** Rows "k1 [k2] id*count ..." as [keys..., id, count, id, count, ...]; ids are checked against V. */
function parseRows(lines: string[], keys: number, V: number, what: string): { rows: number[][]; entries: number } {
  let entries = 0;
  const rows = lines.map((line, r) => {
    const parts = line.split(' ');
    const row: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const [id, count] = parts[i]!.split('*');
      const n = parseInt(id!, 36);
      if (!(n >= 0 && n < V)) throw new Error(`${what} row ${r} names token ${JSON.stringify(id)}, outside the vocabulary`);
      row.push(n);
      if (i >= keys) {
        row.push(count === undefined ? 1 : parseInt(count, 36));
        entries++;
      }
    }
    return row;
  });
  return { rows, entries };
}

export function buildModel(file: ModelFile): Model {
  if (file.format !== 'loadgate-trigram-v1') throw new Error(`unknown model format ${JSON.stringify(file.format)}`);
  const V = file.vocab.length;

  const bi = parseRows(file.bigrams, 1, V, 'bigram');
  const biStart = new Int32Array(V + 1);
  const biNext = new Int32Array(bi.entries);
  const biCount = new Int32Array(bi.entries);
  const biTotal = new Int32Array(V);
  const uniCount = new Int32Array(V);
  const pair = new Map<number, number>(); // a * V + b -> count of the bigram (a, b)
  let uniTotal = 0;
  let k = 0;
  let previous = -1;
  for (const row of bi.rows) {
    const b = row[0]!;
    if (b <= previous) throw new Error('bigram rows are not sorted');
    for (let x = previous + 1; x <= b; x++) biStart[x] = k;
    previous = b;
    for (let i = 1; i < row.length; i += 2) {
      const c = row[i]!;
      const n = row[i + 1]!;
      biNext[k] = c;
      biCount[k++] = n;
      biTotal[b] = biTotal[b]! + n;
      uniCount[c] = uniCount[c]! + n;
      uniTotal += n;
      pair.set(b * V + c, n);
    }
  }
  for (let x = previous + 1; x <= V; x++) biStart[x] = k;

  const tri = parseRows(file.trigrams, 2, V, 'trigram');
  const triRow = new Map<number, number>();
  const triStart = new Int32Array(tri.rows.length + 1);
  const triNext = new Int32Array(tri.entries);
  const triCount = new Int32Array(tri.entries);
  const triTotal = new Int32Array(tri.rows.length);
  k = 0;
  tri.rows.forEach((row, r) => {
    const a = row[0]!;
    const b = row[1]!;
    triRow.set(a * V + b, r);
    triStart[r] = k;
    // (<s>, <s>) is the padding before every verse, not a bigram: it occurred once per verse.
    triTotal[r] = a === BOUNDARY && b === BOUNDARY ? biTotal[BOUNDARY]! : (pair.get(a * V + b) ?? 0);
    for (let i = 2; i < row.length; i += 2) {
      triNext[k] = row[i]!;
      triCount[k++] = row[i + 1]!;
    }
    if (triTotal[r]! < row.length / 2 - 1) throw new Error(`trigram row ${r} has no matching bigram count`);
  });
  triStart[tri.rows.length] = k;

  const order = Array.from({ length: V }, (_, i) => i).sort((x, y) => uniCount[y]! - uniCount[x]! || x - y);
  return {
    vocab: file.vocab,
    ids: new Map(file.vocab.map((w, i) => [w, i])),
    triRow,
    triStart,
    triNext,
    triCount,
    triTotal,
    biStart,
    biNext,
    biCount,
    biTotal,
    uniCount,
    uniTotal,
    topUnigrams: Int32Array.from(order.slice(0, UNIGRAM_CANDIDATES)),
  };
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). Math.random cannot be seeded. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Sampling {
  /** 0 = greedy; otherwise weights are score^(1/temperature). */
  temperature: number;
  /** Keep the k best candidates; 0 or -1 keeps all. */
  topK: number;
  /** Keep the best candidates until their share reaches topP. */
  topP: number;
}

/**
 * Scores candidates for the next token. One per model, reused by every step: decoding is
 * synchronous, so steps of different requests never interleave inside `next`.
 */
export class Decoder {
  readonly model: Model;
  private readonly score: Float64Array;
  private readonly seen: Uint8Array;
  private cand: Int32Array;
  private weight: Float64Array;
  private n = 0;

  constructor(model: Model) {
    this.model = model;
    this.score = new Float64Array(model.vocab.length);
    this.seen = new Uint8Array(model.vocab.length);
    this.cand = new Int32Array(1024);
    this.weight = new Float64Array(1024);
  }

  private add(id: number, s: number): void {
    if (this.seen[id]) return;
    if (this.n === this.cand.length) {
      const cand = new Int32Array(this.n * 2);
      cand.set(this.cand);
      this.cand = cand;
      this.weight = new Float64Array(this.n * 2);
    }
    this.seen[id] = 1;
    this.score[id] = s;
    this.cand[this.n++] = id;
  }

  /** The backed-off score of every candidate after (a, b); returns how many there are. */
  private gather(a: number, b: number): number {
    const m = this.model;
    const V = m.vocab.length;
    this.n = 0;
    const row = m.triRow.get(a * V + b);
    if (row !== undefined) {
      const total = m.triTotal[row]!;
      for (let i = m.triStart[row]!, end = m.triStart[row + 1]!; i < end; i++) this.add(m.triNext[i]!, m.triCount[i]! / total);
    }
    const biTotal = m.biTotal[b]!;
    if (biTotal > 0) {
      for (let i = m.biStart[b]!, end = m.biStart[b + 1]!; i < end; i++) this.add(m.biNext[i]!, (BACKOFF * m.biCount[i]!) / biTotal);
    }
    for (let i = 0; i < m.topUnigrams.length; i++) {
      const id = m.topUnigrams[i]!;
      this.add(id, (BACKOFF * BACKOFF * m.uniCount[id]!) / m.uniTotal);
    }
    return this.n;
  }

  private clear(): void {
    for (let i = 0; i < this.n; i++) this.seen[this.cand[i]!] = 0;
  }

  /**
   * The next token after context (a, b). `u` is a uniform draw in [0, 1); the same context,
   * settings and draw always give the same token.
   */
  next(a: number, b: number, s: Sampling, u: number): number {
    const n = this.gather(a, b);
    const cand = this.cand;
    const weight = this.weight;
    const score = this.score;
    // Best first; ties by id, so the order (and the draw's outcome) never depends on insertion.
    const sorted = Array.from(cand.subarray(0, n)).sort((x, y) => score[y]! - score[x]! || x - y);
    this.clear();
    if (s.temperature === 0) return sorted[0]!;
    let keep = s.topK > 0 ? Math.min(s.topK, n) : n;
    const inv = 1 / s.temperature;
    const top = score[sorted[0]!]!;
    let total = 0;
    for (let i = 0; i < keep; i++) {
      // Relative to the best score, so a low temperature cannot underflow every weight to 0.
      const w = (score[sorted[i]!]! / top) ** inv;
      weight[i] = w;
      total += w;
    }
    if (s.topP < 1) {
      let cumulative = 0;
      for (let i = 0; i < keep; i++) {
        cumulative += weight[i]!;
        if (cumulative >= s.topP * total) {
          keep = i + 1;
          total = cumulative;
          break;
        }
      }
    }
    let target = u * total;
    for (let i = 0; i < keep; i++) {
      target -= weight[i]!;
      if (target < 0) return sorted[i]!;
    }
    return sorted[keep - 1]!;
  }

  /**
   * Real work standing in for a bigger model: the distribution after (a, b) is computed again
   * (without sampling) until `ms` have passed. Synchronous, so it holds the CPU like inference.
   */
  burn(a: number, b: number, ms: number): number {
    const deadline = performance.now() + ms;
    let rounds = 0;
    while (performance.now() < deadline) {
      this.gather(a, b);
      this.clear();
      rounds++;
    }
    return rounds;
  }

  /**
   * Reads a prompt as a model's prefill does: the log-probability of each token given the two
   * before it (unknown words count as the boundary). Returns the context to continue from.
   */
  prefill(tokens: readonly string[]): { a: number; b: number; logProb: number } {
    const m = this.model;
    let a = BOUNDARY;
    let b = BOUNDARY;
    let logProb = 0;
    for (const token of tokens) {
      const id = m.ids.get(token) ?? BOUNDARY;
      this.gather(a, b);
      const p = this.seen[id] ? this.score[id]! : 1 / (m.uniTotal + m.vocab.length);
      this.clear();
      logProb += Math.log(p);
      a = b;
      b = id;
    }
    return { a, b, logProb };
  }
}
