// Prompts for generative models (the openai preset): read from a dataset file, or made up to a target
// length, then turned into OpenAI-compatible request bodies before the load, like every other body.
//
//   JSONL   one request a line: {"messages": [{"role": "user", "content": "..."}]} (chat) or
//           {"prompt": "..."} (either API: a prompt becomes one user message for chat); optional
//           "max_tokens" (or "max_completion_tokens"); other fields (temperature, ...) are sent as they are.
//   CSV     a header row with a "prompt" column, optionally "max_tokens"; other columns are left out.
//   synthetic  text of about N tokens, N drawn per prompt from the input-tokens distribution.
//
// Tokens without a tokenizer: synthetic text is words from a list of 170 common English words, each of
// them one token (with its leading space, lower case or capitalised) in the BPE tokenizers of GPT-4
// (cl100k) and GPT-4o (o200k), and a full stop ends each sentence of 5 to 15 words, also one token.
// So "N tokens" is N words and full stops. Measured with the gpt-tokenizer and llama-tokenizer-js
// packages (not dependencies) over 1000 prompts of 128 target tokens: 128.0 tokens a prompt in cl100k
// and o200k, 129.4 in Llama 2's SentencePiece; the example LLM service's tokenizer counts exactly N.
// A chat template adds a few tokens per message on top. (Ordinary English prose runs about 1.3 tokens
// a word; this text is made to count, not to read.)
//
// max_tokens is drawn per request from the output-tokens distribution (a normal, truncated to
// [min, max] by drawing again), unless a dataset line gives its own. A server may stop before it (an
// end-of-sequence token): send ignore_eos where the server has it (vLLM, SGLang, llama.cpp) through
// extra-body to make the output lengths the drawn ones.
//
// Seeded: the prompts' text comes from one stream of the seed, the max_tokens draws from another, so
// changing the output distribution keeps the same prompts.

import { readFileSync } from 'node:fs';
import { mulberry32, randomInt } from './random.ts';
import { parseCsv } from './replay.ts';
import { OPENAI_PATHS, type OpenAiApi } from './presets.ts';

/** A length in tokens, drawn per prompt: a normal of mean and stdev (0: always the mean), kept in [min, max]. */
export interface TokenDistribution {
  mean: number;
  stdev: number;
  min: number;
  max: number;
}

/** One prompt, as a dataset line gives it (or as made up): chat messages or a prompt text. */
export interface Prompt {
  messages?: unknown[];
  prompt?: string;
  /** Its own max_tokens, when the line gives one. */
  maxTokens?: number;
  /** Other fields of the line, sent as they are. */
  extra?: Record<string, unknown>;
  /** Where it came from, for messages: "prompts.jsonl:3". */
  at?: string;
}

/** The longest prompt or answer accepted, in tokens: far beyond today's context windows, short of a typo's 10^9. */
export const MAX_PROMPT_TOKENS = 1_000_000;

/** Reads a dataset of prompts: CSV by its extension, else JSONL. Throws an Error naming the file and line. */
export function readPromptFile(file: string): Prompt[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const prompts = /\.csv$/i.test(file) ? promptsFromCsv(text, file) : promptsFromJsonl(text, file);
  if (prompts.length === 0) throw new Error(`${file} holds no prompts`);
  return prompts;
}

const SET_BY_PRESET = new Set(['stream', 'stream_options']);

export function promptsFromJsonl(text: string, origin: string): Prompt[] {
  const out: Prompt[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const at = `${origin}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${at}: not valid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new Error(`${at}: expected an object like {"messages": [{"role": "user", "content": "..."}]} or {"prompt": "..."}`);
    }
    const o = v as Record<string, unknown>;
    const hasMessages = o['messages'] !== undefined;
    const hasPrompt = o['prompt'] !== undefined;
    if (hasMessages === hasPrompt)
      throw new Error(`${at}: expected either "messages" (chat) or "prompt", ${hasMessages ? 'not both' : 'got neither'}`);
    const p: Prompt = { at };
    if (hasMessages) p.messages = checkMessages(o['messages'], at);
    else p.prompt = checkPrompt(o['prompt'], at);
    // null is OpenAI's "no limit": then max_tokens is drawn like a line without one.
    const limit = o['max_completion_tokens'] ?? o['max_tokens'];
    if (limit !== undefined && limit !== null)
      p.maxTokens = checkTokens(limit, at, o['max_completion_tokens'] != null ? 'max_completion_tokens' : 'max_tokens');
    const extra: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(o)) {
      if (!['messages', 'prompt', 'max_tokens', 'max_completion_tokens', ...SET_BY_PRESET].includes(k)) extra[k] = val;
    }
    if (Object.keys(extra).length > 0) p.extra = extra;
    out.push(p);
  });
  return out;
}

export function promptsFromCsv(text: string, origin: string): Prompt[] {
  const rows = parseCsv(text, origin);
  const header = rows[0];
  if (!header) return [];
  const names = header.cells.map((c) => c.trim().toLowerCase());
  const col = names.indexOf('prompt');
  if (col < 0) throw new Error(`${origin}:${header.line}: no "prompt" column in the header row (columns: ${header.cells.join(', ')})`);
  const maxCol = names.indexOf('max_tokens');
  return rows.slice(1).flatMap((row): Prompt[] => {
    // A blank line (one empty cell) is no prompt; an empty prompt cell in a real row is an error.
    if (row.cells.length === 1 && row.cells[0]!.trim() === '') return [];
    const at = `${origin}:${row.line}`;
    const p: Prompt = { at, prompt: checkPrompt(row.cells[col] ?? '', at) };
    const max = maxCol < 0 ? '' : (row.cells[maxCol] ?? '').trim();
    if (max !== '') p.maxTokens = checkTokens(Number(max), at, 'max_tokens');
    return [p];
  });
}

function checkMessages(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${at}: "messages" must be a non-empty list of {"role", "content"}`);
  v.forEach((m, k) => {
    const o = m as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof o['role'] !== 'string') {
      throw new Error(`${at}: messages[${k}] must be an object with a "role" (user, system, assistant, ...) and a "content"`);
    }
    const c = o['content'];
    if (typeof c !== 'string' && !Array.isArray(c)) throw new Error(`${at}: messages[${k}].content must be a string or a list of parts`);
  });
  return v;
}

function checkPrompt(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`${at}: the prompt must be a non-empty string`);
  return v;
}

function checkTokens(v: unknown, at: string, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PROMPT_TOKENS) {
    throw new Error(`${at}: ${what} must be a whole number from 1 to ${MAX_PROMPT_TOKENS}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** One draw of a token count: the mean when stdev is 0, else a normal, drawn again (at most 100 times) until it falls in [min, max]. */
export function drawTokens(d: TokenDistribution, rand: () => number): number {
  if (d.stdev === 0) return clamp(Math.round(d.mean), d);
  for (let tries = 0; tries < 100; tries++) {
    const n = Math.round(d.mean + d.stdev * normal(rand));
    if (n >= d.min && n <= d.max) return n;
  }
  return clamp(Math.round(d.mean), d);
}

function clamp(n: number, d: TokenDistribution): number {
  return Math.min(d.max, Math.max(d.min, n));
}

/** A standard normal from two uniform draws (Box-Muller). */
function normal(rand: () => number): number {
  const u = 1 - rand(); // in (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

// Each is one token, with its leading space, lower case or capitalised, in cl100k and o200k (checked
// with the gpt-tokenizer package when the list was made); no two are the same word.
const WORDS = (
  'the of and to in is was for that on with as by at from his her they this have had not are but be were which one all ' +
  'their an has there been who more when if would will so what its about into than other them some can only time new may ' +
  'also any most after over first then these people two such years could our like just many made before out well even back ' +
  'must where much through way each while those same year part under long did three work still great world own day little ' +
  'state here between both used make life good high down should very because might right last never end small take being ' +
  'place know come house home country another early case point group number again left around public hand later school give ' +
  'since against city family four system water until often head order form power along every few without five need turn war ' +
  'area set name side among fact field took course'
).split(' ');

/**
 * Text of exactly `tokens` tokens by the count above: sentences of 5 to 15 words from the list, each
 * ended by a full stop (the last one takes what is left, and has no full stop when one token is left).
 */
export function syntheticText(tokens: number, rand: () => number): string {
  const sentences: string[] = [];
  let left = tokens;
  while (left > 0) {
    let words = randomInt(rand, 5, 15);
    if (words + 1 > left) words = Math.max(1, left - 1);
    const picked = Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
    picked[0] = picked[0]!.charAt(0).toUpperCase() + picked[0]!.slice(1);
    const stop = left - words >= 1;
    sentences.push(picked.join(' ') + (stop ? '.' : ''));
    left -= words + (stop ? 1 : 0);
  }
  return sentences.join(' ');
}

/** `count` prompts of synthetic text, their lengths drawn from `input`, from `seed`. */
export function syntheticPrompts(input: TokenDistribution, count: number, seed: number): Prompt[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => ({ prompt: syntheticText(drawTokens(input, rand), rand) }));
}

export interface PromptBodyOptions {
  api: OpenAiApi;
  /** The served model's name; left out of the body when empty (servers with one model ignore it). */
  model: string;
  /** max_tokens for prompts that do not give their own. */
  output: TokenDistribution;
  seed: number;
  /** Fields added to every body (extra-body:, e.g. {"ignore_eos": true, "temperature": 0}). */
  extra?: Record<string, unknown>;
}

/**
 * The request bodies, one per prompt, in order: model, messages or prompt, max_tokens, then
 * "stream": true with "stream_options": {"include_usage": true} (the usage chunk gives the output token
 * count; without it the client can only count events), then the line's and extra-body's own fields.
 * max_tokens, not max_completion_tokens: every server of the family takes max_tokens (vLLM, SGLang and
 * OpenAI take both; TGI, llama.cpp and Ollama know only max_tokens).
 */
export function promptBodies(prompts: readonly Prompt[], opts: PromptBodyOptions): string[] {
  // Another stream than the synthetic text's: the same seed with another output distribution keeps the prompts.
  const rand = mulberry32((opts.seed ^ 0x6f757470) >>> 0);
  return prompts.map((p) => {
    const maxTokens = p.maxTokens ?? drawTokens(opts.output, rand);
    let input: Record<string, unknown>;
    if (opts.api === 'chat') input = { messages: p.messages ?? [{ role: 'user', content: p.prompt }] };
    else if (p.prompt !== undefined) input = { prompt: p.prompt };
    else {
      throw new Error(
        `${p.at ?? 'a prompt'}: "messages" are for chat (${OPENAI_PATHS.chat}); with api: completions every line needs a "prompt"`,
      );
    }
    return JSON.stringify({
      ...(opts.model ? { model: opts.model } : {}),
      ...input,
      max_tokens: maxTokens,
      stream: true,
      stream_options: { include_usage: true },
      ...p.extra,
      ...opts.extra,
    });
  });
}
