// How the text of a setting given outside the file becomes config values: the `read` column of the
// settings table. A flag and an input arrive as text (a repeated flag as several); most are set as they
// are and checked by the plan like the file's own values. A few have a shape of their own (JSON, KEY=value
// lines, a YAML list of stages, "METHOD /path", one SLO a line), read here so that an error names the
// setting, and the line within it, where the plan could only name the config key.

import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { Override } from './config.ts';

export type Reading = 'text' | 'file' | 'json' | 'env' | 'stages' | 'endpoint' | 'list';

/** Readings whose text may span lines: an input of these is read untrimmed, so line numbers match what was written. */
export function readsLines(reading: Reading): boolean {
  return reading === 'json' || reading === 'env' || reading === 'stages' || reading === 'list';
}

/** A setting's value as its front end received it: one text, or several from a repeated flag. */
export type GivenValue = string | readonly string[];

/**
 * The overrides one setting makes at its path: each names `name` (the flag or input, as messages say it)
 * as its origin. `fail` throws the front end's error.
 */
export function settingValues(
  reading: Reading,
  path: Override['path'],
  value: GivenValue,
  name: string,
  fail: (message: string) => never,
): Override[] {
  const text = typeof value === 'string' ? value : value.join('\n');
  const at = (v: unknown, p = path, origin = name): Override => ({ path: p, value: v, origin });
  switch (reading) {
    case 'text':
      return [at(text)];
    case 'file': {
      // A file named on the command line (or in an input) is where loadgate runs, not beside the config.
      // `auto` (schema: ask the preset's server) is a word, not a file.
      const t = text.trim();
      return [at(t === 'auto' ? t : resolve(t))];
    }
    case 'json':
      try {
        return [at(JSON.parse(text) as unknown)];
      } catch (e) {
        return fail(`${name}: not valid JSON (${(e as Error).message})`);
      }
    case 'env':
      return [at(envLines(text, name, fail))];
    case 'stages':
      return [at(stageList(text, name, fail))];
    case 'endpoint': {
      const e = parseEndpoint(text);
      if (!e) return fail(`${name}: expected "METHOD /path" like "POST /predict", got "${text.trim()}"`);
      // The path lands at this setting's path, the method beside it.
      return [...(e.method ? [at(e.method, [...path.slice(0, -1), 'method'])] : []), at(e.path)];
    }
    case 'list': {
      // Each item is set on its own, so an error the plan finds (an unknown stage) names the item's line.
      const items: Array<{ text: string; line?: number }> = typeof value === 'string' ? lineItems(value) : value.map((t) => ({ text: t }));
      const origin = (line?: number) => (line === undefined ? name : `${name} line ${line}`);
      return [{ path, value: [] }, ...items.map((it, i) => at(it.text, [...path, i], origin(it.line)))];
    }
  }
}

/** "POST /predict", or "/predict" (the method then follows from the body); undefined if it is neither. */
export function parseEndpoint(text: string): { method?: string; path: string } | undefined {
  const m = /^\s*(?:([A-Za-z]+)\s+)?(\/\S*)\s*$/.exec(text);
  return m ? { ...(m[1] ? { method: m[1].toUpperCase() } : {}), path: m[2]! } : undefined;
}

/** KEY=value lines; blank lines and # comments are skipped. */
function envLines(text: string, name: string, fail: (message: string) => never): Record<string, string> {
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, k) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (eq < 0 || key === '') fail(`${name} line ${k + 1}: expected KEY=value, got "${line.trim()}"`);
    env[key] = line.slice(eq + 1);
  });
  return env;
}

/** A YAML list, shaped like the config's load.stages (the plan checks each stage). */
function stageList(text: string, name: string, fail: (message: string) => never): unknown[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    fail(`${name} line ${lineCounter.linePos(e.pos[0]).line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const v: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (!Array.isArray(v) || v.length === 0) {
    fail(`${name}: expected a YAML list of stages, like "- {duration: 30s, users: 5}" or "[{duration: 30s, rate: 10}]"`);
  }
  return v;
}

/** The lines that say something, with their line numbers: blank lines and # comments are skipped. */
function lineItems(text: string): Array<{ text: string; line?: number }> {
  return text.split('\n').flatMap((raw, k) => {
    const t = raw.replace(/(^|\s)#.*$/, '').trim();
    return t === '' ? [] : [{ text: t, line: k + 1 }];
  });
}
