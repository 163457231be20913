// The house's floor plan, and a check that the imports follow it.
//
// Data flows one way: inputs -> plan -> service -> load -> metrics -> verdict -> reports -> publish. Each room
// (a folder under src/, or a top-level file) stands on a floor; a file may import from its own room or from
// a room on a lower floor, never from a room beside it or above it, and no set of files may import each
// other in a circle. Type-only imports count: they are dependencies of the vocabulary all the same.
//
// To add a room, add a row here; to move a file, move it to the room whose floor fits its imports.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

/** Lowest first. A room on floor n may import rooms on floors < n, and itself. */
export const FLOORS: ReadonlyArray<readonly string[]> = [
  ['ground'], // shared vocabulary and formatting: src/format.ts, src/version.ts, src/console-text.ts
  ['payload'], // request bodies: schemas, generation, presets, replay; a library of its own
  ['plan'], // the validated plan of a run, and the config, flags and inputs it is read from
  ['service'], // boot, readiness, watching and removal of the service under test
  ['metrics'], // histograms, the recorder, the run's result and what folds into it
  ['load'], // the engine: drivers, schedules, HTTP clients
  ['verdict'], // SLOs judged on a result
  ['report'], // renderers from a result and a verdict to text and files
  ['run', 'publish'], // one run start to finish; the GitHub side (artifact, comment, summary, outputs)
  ['action', 'cli'], // entry points: the GitHub Action and the command line
];

/** The room of a file under src/: its folder, or for a top-level file the room it belongs to. */
const TOP_LEVEL: Record<string, string> = {
  'format.ts': 'ground',
  'version.ts': 'ground',
  'console-text.ts': 'ground',
  'run.ts': 'run',
  'cli.ts': 'cli',
  'main.ts': 'action',
  'index.ts': 'action',
  'post.ts': 'action',
};

const SRC = resolve(import.meta.dirname, '..', 'src');

function roomOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  if (rel.length === 1) {
    const room = TOP_LEVEL[rel[0]!];
    if (!room) throw new Error(`src/${rel[0]} is in no room: add it to TOP_LEVEL in test/architecture.test.ts`);
    return room;
  }
  return rel[0]!;
}

function floorOf(room: string): number {
  const f = FLOORS.findIndex((rooms) => rooms.includes(room));
  if (f < 0) throw new Error(`src/${room}/ is on no floor: add it to FLOORS in test/architecture.test.ts`);
  return f;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative module specifiers a file imports or re-exports, statically or dynamically. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/\b(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found.filter((s) => s.startsWith('.'));
}

/** Every import circle (strongly connected component of more than one file, or a file importing itself). */
export function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    graph.set(
      file,
      importsOf(readFileSync(file, 'utf8')).map((spec) => resolve(dirname(file), spec)),
    );
  }
  return graph;
}

const show = (f: string) => relative(resolve(SRC, '..'), f);

describe('the house: imports follow the data flow', () => {
  const graph = importGraph();

  it('every file is in a room on a floor', () => {
    for (const file of graph.keys()) floorOf(roomOf(file));
  });

  it('no import runs upward or sideways (a room imports only its own and lower floors)', () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      const room = roomOf(file);
      for (const dep of deps) {
        const other = roomOf(dep);
        if (other !== room && floorOf(other) >= floorOf(room)) {
          wrong.push(`${show(file)} (${room}, floor ${floorOf(room)}) imports ${show(dep)} (${other}, floor ${floorOf(other)})`);
        }
      }
    }
    assert.deepEqual(wrong, [], `imports against the floor plan in test/architecture.test.ts:\n${wrong.join('\n')}`);
  });

  it('no import circle, even inside a room', () => {
    const found = circles(graph).map((c) => c.map(show).join(' -> '));
    assert.deepEqual(found, [], `import circles:\n${found.join('\n')}`);
  });

  it('every import names a file that exists (so the check above sees the real graph)', () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${show(file)} -> ${show(d)}`));
    assert.deepEqual(missing, []);
  });
});

describe('the checks themselves', () => {
  it('finds imports in every form, and skips comments', () => {
    const text = [
      "import a from './a.ts';",
      "import type { B } from '../b.ts';",
      'import {\n  c,\n  d,\n} from "./cd.ts";',
      "export { e } from './e.ts';",
      "export * from './f.ts';",
      "import './side-effect.ts';",
      "const g = await import('./g.ts');",
      "// import x from './commented.ts';",
      "import { y } from 'node:fs';",
    ].join('\n');
    assert.deepEqual(importsOf(text).sort(), ['../b.ts', './a.ts', './cd.ts', './e.ts', './f.ts', './g.ts', './side-effect.ts']);
  });

  it('finds a circle of three and a self-import, not a diamond', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['f', 'g']],
      ['f', ['h']],
      ['g', ['h']],
      ['h', []],
    ]);
    assert.deepEqual(circles(g), [['a', 'b', 'c'], ['d']]);
  });
});
