// Trains the example LLM: counts the word trigrams of kjv-excerpt.txt and writes model.json.
//
//   node examples/llm-chat/train.ts [--text PATH] [--out PATH]
//
// Each line of the text is one verse, "Ref text" as Debian's `bible -f` prints it; the reference
// is dropped and each verse is one training sequence, padded with the boundary token (two before,
// one after), so the model learns how verses start and end. Bigram counts and the trigrams seen
// at least twice are written; unigram counts are sums of bigram counts, recomputed on load.
// Deterministic: the same text gives a byte-identical model.json (the tests check it), so write
// nothing that varies between runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BOUNDARY, DEFAULT_MODEL_PATH, tokenize, type ModelFile } from './model.ts';

const DEFAULT_TEXT_PATH = fileURLToPath(new URL('./kjv-excerpt.txt', import.meta.url));
const MIN_TRIGRAM_COUNT = 2;
const SOURCE =
  'King James Version (1611), Genesis, Ruth, Proverbs, Ecclesiastes, Matthew, John; text from Debian package bible-kjv-text 4.38';

export function train(text: string): ModelFile {
  const verses: string[][] = [];
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const tokens = tokenize(line.slice(space + 1));
    if (tokens.length > 0) verses.push(tokens);
  }
  const freq = new Map<string, number>();
  let tokenCount = 0;
  for (const verse of verses) {
    for (const t of verse) freq.set(t, (freq.get(t) ?? 0) + 1);
    tokenCount += verse.length;
  }
  // Frequent words get small ids (short in base 36); ties in code-point order, never locale order.
  const words = [...freq.keys()].sort((x, y) => freq.get(y)! - freq.get(x)! || (x < y ? -1 : x > y ? 1 : 0));
  const vocab = ['<s>', ...words];
  const id = new Map(vocab.map((w, i) => [w, i]));

  // Padded as <s> <s> w1 .. wn <s>: the bigrams are (<s>, w1) .. (wn, <s>), the trigrams start at (<s>, <s>, w1).
  const V = vocab.length;
  const bi = new Map<number, Map<number, number>>(); // previous b -> next -> count
  const tri = new Map<number, Map<number, number>>(); // context a * V + b -> next -> count
  const bump = (table: Map<number, Map<number, number>>, key: number, next: number) => {
    let row = table.get(key);
    if (!row) table.set(key, (row = new Map()));
    row.set(next, (row.get(next) ?? 0) + 1);
  };
  for (const verse of verses) {
    let a = BOUNDARY;
    let b = BOUNDARY;
    for (const c of [...verse.map((t) => id.get(t)!), BOUNDARY]) {
      bump(bi, b, c);
      bump(tri, a * V + b, c);
      a = b;
      b = c;
    }
  }
  const bigrams: string[] = [];
  let bigramTypes = 0;
  for (const b of [...bi.keys()].sort((x, y) => x - y)) {
    const row = [...bi.get(b)!].sort((x, y) => x[0] - y[0]);
    bigrams.push([b.toString(36), ...row.map(([c, n]) => (n === 1 ? c.toString(36) : `${c.toString(36)}*${n.toString(36)}`))].join(' '));
    bigramTypes += row.length;
  }
  // Trigrams seen once are dropped (a count cutoff, as Katz's models had): they are 80% of the
  // types, would double the file, and mostly replay their one verse word for word.
  const trigrams: string[] = [];
  let trigramTypes = 0;
  for (const key of [...tri.keys()].sort((x, y) => x - y)) {
    const row = [...tri.get(key)!].filter(([, n]) => n >= MIN_TRIGRAM_COUNT).sort((x, y) => x[0] - y[0]);
    if (row.length === 0) continue;
    const a = Math.floor(key / V);
    trigrams.push([a.toString(36), (key - a * V).toString(36), ...row.map(([c, n]) => `${c.toString(36)}*${n.toString(36)}`)].join(' '));
    trigramTypes += row.length;
  }
  return {
    format: 'loadgate-trigram-v1',
    source: SOURCE,
    training: {
      verses: verses.length,
      tokens: tokenCount,
      vocabulary: vocab.length,
      bigram_types: bigramTypes,
      trigram_types: trigramTypes,
    },
    vocab,
    bigrams,
    trigrams,
  };
}

/** One trigram row per line, so a change to the text shows as a readable diff. */
export function serialize(file: ModelFile): string {
  return (
    `{"format":${JSON.stringify(file.format)},"source":${JSON.stringify(file.source)},` +
    `"training":${JSON.stringify(file.training)},\n"vocab":${JSON.stringify(file.vocab)},\n` +
    `"bigrams":[\n${file.bigrams.map((t) => JSON.stringify(t)).join(',\n')}\n],\n` +
    `"trigrams":[\n${file.trigrams.map((t) => JSON.stringify(t)).join(',\n')}\n]}\n`
  );
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { text: { type: 'string' }, out: { type: 'string' } } });
  const started = performance.now();
  const file = train(readFileSync(values.text ?? DEFAULT_TEXT_PATH, 'utf8'));
  const out = values.out ?? DEFAULT_MODEL_PATH;
  const json = serialize(file);
  writeFileSync(out, json);
  const t = file.training;
  console.log(
    `${out}: ${t.verses} verses, ${t.tokens} tokens, vocabulary ${t.vocabulary}, ` +
      `${t.bigram_types} bigram and ${t.trigram_types} trigram types, ${json.length} bytes, in ${Math.round(performance.now() - started)} ms`,
  );
}
