// Replay of recorded requests, from a JSONL file (one JSON body a line, sent as written) or a CSV file.
//
// CSV: the header row names the fields, each following row is one request body (an object). With a
// schema, each cell is typed by its property's schema ("42" -> 42 for an integer, "true" -> true for a
// boolean, "[1,2]" -> [1,2] for an array); without one, JSON-looking cells are parsed (numbers,
// true/false/null, [...], {...}, "quoted") and the rest stay strings. An empty cell leaves the field out.
// With a schema, every row is checked against it (by default) so that a bad recording is named by its
// line before the run, not found in the results.
//
// CSV as in RFC 4180: comma-separated, fields may be double-quoted (then commas, newlines and ""
// escapes are allowed inside), CRLF or LF line ends, an optional UTF-8 BOM.

import { readFileSync } from 'node:fs';
import { checkValue, resolvePointer } from './validate.ts';

export interface CsvRow {
  /** 1-based line where the record starts. */
  line: number;
  cells: string[];
}

/** Splits CSV text into records; throws on an unterminated quote (naming its line). */
export function parseCsv(text: string, origin = 'CSV'): CsvRow[] {
  const rows: CsvRow[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    while (true) {
      let cell = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        while (true) {
          if (i >= text.length) throw new Error(`${origin}:${quoteLine}: a quoted field is not closed`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        // Anything between the closing quote and the next separator is kept, as most readers do.
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      }
      cells.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    // Blank lines are skipped.
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: start, cells });
  }
  return rows;
}

export interface CsvReplayOptions {
  /** The JSON Schema of one body, to type the cells. */
  schema?: unknown;
  /** Document for its $refs (default: the schema). */
  root?: unknown;
  /** Check each row against the schema (default true when a schema is given). */
  check?: boolean;
  /** For messages: the file name. */
  origin?: string;
}

/** One body (an object) per data row. Errors name the line and column. */
export function bodiesFromCsv(text: string, opts: CsvReplayOptions = {}): Array<Record<string, unknown>> {
  const origin = opts.origin ?? 'CSV';
  const rows = parseCsv(text, origin);
  if (rows.length === 0) throw new Error(`${origin}: empty (expected a header row with the field names)`);
  const header = rows[0]!.cells.map((h) => h.trim());
  header.forEach((h, i) => {
    if (h === '') throw new Error(`${origin}:${rows[0]!.line}: column ${i + 1} has no name in the header row`);
    if (header.indexOf(h) !== i) throw new Error(`${origin}:${rows[0]!.line}: column name "${h}" appears twice in the header row`);
  });
  if (rows.length === 1) throw new Error(`${origin}: no data rows after the header`);
  const root = opts.root ?? opts.schema;
  const kinds = header.map((h) => (opts.schema === undefined ? null : typesOfProperty(opts.schema, root, h)));
  const check = opts.check ?? opts.schema !== undefined;
  return rows.slice(1).map(({ line, cells }) => {
    if (cells.length !== header.length) {
      throw new Error(`${origin}:${line}: ${cells.length} fields, but the header has ${header.length}`);
    }
    const body: Record<string, unknown> = {};
    cells.forEach((cell, i) => {
      if (cell === '') return;
      const name = header[i]!;
      try {
        body[name] = kinds[i] ? typed(cell, kinds[i]!) : guess(cell);
      } catch (e) {
        throw new Error(`${origin}:${line}: column "${name}": ${(e as Error).message}`);
      }
    });
    if (check && opts.schema !== undefined) {
      const problem = checkValue(opts.schema, body, root);
      if (problem) throw new Error(`${origin}:${line}: the row does not match the schema: ${problem}`);
    }
    return body;
  });
}

/** Reads a CSV file and returns the bodies as JSON text, ready for the engine's list. */
export function readCsvBodies(file: string, opts: Omit<CsvReplayOptions, 'origin'> = {}): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return bodiesFromCsv(text, { ...opts, origin: file }).map((b) => JSON.stringify(b));
}

/**
 * Reads a JSONL file: one JSON body per non-empty line, sent as written (trimmed). Every line is parsed
 * now, so a bad one is named by its line before the run.
 */
export function readJsonlBodies(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const bodies: string[] = [];
  text.split('\n').forEach((line, i) => {
    const s = line.trim();
    if (s === '') return;
    try {
      JSON.parse(s);
    } catch (err) {
      throw new Error(`${file}:${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    bodies.push(s);
  });
  if (bodies.length === 0) throw new Error(`${file} holds no request bodies (expected one JSON value per line)`);
  return bodies;
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Without a schema: JSON-looking text is parsed, the rest is a string. */
function guess(cell: string): unknown {
  const t = cell.trim();
  if (NUMBER.test(t) || t === 'true' || t === 'false' || t === 'null' || /^[[{"]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return cell;
    }
  }
  return cell;
}

/** With a schema: the first of the allowed types that the text can be. */
function typed(cell: string, types: Set<string>): unknown {
  const t = cell.trim();
  if (types.size === 0) return guess(cell);
  if (types.has('null') && t === 'null') return null;
  if (types.has('boolean')) {
    const b = t.toLowerCase();
    if (b === 'true' || b === '1' || b === 'yes') return true;
    if (b === 'false' || b === '0' || b === 'no') return false;
  }
  if ((types.has('integer') || types.has('number')) && NUMBER.test(t)) {
    const n = Number(t);
    if (types.has('number') || Number.isInteger(n)) return n;
  }
  if ((types.has('array') && t.startsWith('[')) || (types.has('object') && t.startsWith('{'))) {
    try {
      return JSON.parse(t);
    } catch (e) {
      throw new Error(`not valid JSON (${(e as Error).message})`);
    }
  }
  if (types.has('string')) return cell;
  throw new Error(
    `${JSON.stringify(cell)} is not ${[...types].map((x) => (x === 'integer' ? 'an integer' : x === 'array' || x === 'object' ? `an ${x} (JSON)` : `a ${x}`)).join(' or ')}`,
  );
}

type Obj = Record<string, unknown>;

/** Follows $ref and allOf; returns every schema that must hold, and collects anyOf/oneOf branches as alternatives. */
function expand(s: unknown, root: unknown, depth = 0): Obj[] {
  if (typeof s !== 'object' || s === null || depth > 32) return [];
  const o = s as Obj;
  const out: Obj[] = [o];
  if (typeof o['$ref'] === 'string') out.push(...expand(resolvePointer(root, o['$ref']), root, depth + 1));
  if (Array.isArray(o['allOf'])) for (const sub of o['allOf']) out.push(...expand(sub, root, depth + 1));
  return out;
}

/** The JSON types a property may take (empty set: anything, or unknown). */
function typesOf(schemas: Obj[], root: unknown, depth = 0): Set<string> | null {
  let acc: Set<string> | null = null;
  const meet = (t: Set<string>) => {
    acc = acc === null ? t : new Set([...acc].filter((x) => t.has(x) || (x === 'integer' && t.has('number'))));
  };
  for (const s of schemas) {
    if (s['type'] !== undefined) {
      const t = new Set(Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string]);
      if (s['nullable'] === true) t.add('null');
      meet(t);
    }
    const vals = s['const'] !== undefined ? [s['const']] : Array.isArray(s['enum']) ? s['enum'] : null;
    if (vals)
      meet(
        new Set(
          vals.map((v) =>
            v === null
              ? 'null'
              : Array.isArray(v)
                ? 'array'
                : typeof v === 'number'
                  ? Number.isInteger(v)
                    ? 'integer'
                    : 'number'
                  : typeof v,
          ),
        ),
      );
    for (const kw of ['anyOf', 'oneOf']) {
      if (!Array.isArray(s[kw]) || depth > 16) continue;
      const union = new Set<string>();
      let open = false;
      for (const b of s[kw] as unknown[]) {
        const t = typesOf(expand(b, root), root, depth + 1);
        if (t === null) open = true;
        else t.forEach((x) => union.add(x));
      }
      if (!open) meet(union);
    }
  }
  return acc;
}

function typesOfProperty(schema: unknown, root: unknown, name: string): Set<string> | null {
  const parts = expand(schema, root);
  const props: Obj[] = [];
  for (const p of parts) {
    const ps = p['properties'] as Obj | undefined;
    if (ps && Object.hasOwn(ps, name)) props.push(...expand(ps[name], root));
  }
  if (props.length === 0) return null;
  return typesOf(props, root) ?? new Set();
}
