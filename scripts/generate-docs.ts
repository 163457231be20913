// Rewrites what the docs say of the settings from the code that declares them (as actions/checkout's
// generate-docs does for its README): action.yml's `inputs:` and `outputs:` (src/plan/settings.ts,
// ACTION_INPUTS in src/action/inputs.ts, OUTPUTS in src/publish/outputs.ts), and the README's table of
// CLI flags and table of action inputs (between their `<!-- docs:... -->` markers). Run after changing
// a setting:
//
//   npm run docs
//
// Generated rather than only checked, so a new setting is one row and one command, not three hand edits;
// test/generated-docs.test.ts fails when the committed files are not what this script writes.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ACTION_INPUTS } from '../src/action/inputs.ts';
import { usageFlags } from '../src/cli.ts';
import { type SettingName, SETTING_NAMES, describeSetting, nameOn, setting, settingsOn } from '../src/plan/settings.ts';
import { OUTPUTS } from '../src/publish/outputs.ts';

const ROOT = join(import.meta.dirname, '..');
export const ACTION_YML = join(ROOT, 'action.yml');
export const README = join(ROOT, 'README.md');

const WIDTH = 110;

/** An action input as action.yml declares it. */
export interface DeclaredInput {
  name: string;
  description: string;
  default?: string;
}

/** Every input, in action.yml's order: the config file, the settings in table order, then what the action does around the run. */
export function declaredInputs(): DeclaredInput[] {
  const { config, ...around } = ACTION_INPUTS;
  const actionInput = (name: string, i: { about: string; default?: string }): DeclaredInput => ({
    name,
    description: sentence(i.about),
    ...(i.default !== undefined ? { default: i.default } : {}),
  });
  return [
    actionInput('config', config!),
    ...settingsOn('input').map((n) => ({
      name: nameOn('input', n)!,
      description: sentence(describeSetting(n, 'input', { withDefault: true })),
    })),
    ...Object.entries(around).map(([name, i]) => actionInput(name, i)),
  ];
}

/** action.yml with its `inputs:` and `outputs:` written from the code (everything before and after kept). */
export function renderActionYml(current: string): string {
  const start = current.search(/^(# .*\n)*inputs:$/m);
  const end = current.search(/^runs:$/m);
  if (start < 0 || end < start) throw new Error('action.yml: expected top-level inputs: before runs:');
  const lines = [
    '# inputs: and outputs: are written by `npm run docs` from src/plan/settings.ts, src/action/inputs.ts and',
    '# src/publish/outputs.ts: edit those.',
    'inputs:',
    ...declaredInputs().flatMap((i) => [
      `  ${i.name}:`,
      ...yamlScalar('description', i.description, 4),
      '    required: false',
      ...(i.default !== undefined ? yamlScalar('default', i.default, 4) : []),
    ]),
    'outputs:',
    ...Object.entries(OUTPUTS).flatMap(([name, about]) => [`  ${name}:`, ...yamlScalar('description', sentence(about), 4)]),
  ];
  return `${current.slice(0, start) + lines.join('\n')}\n${current.slice(end)}`;
}

/** The README with its generated tables rewritten. */
export function renderReadme(current: string): string {
  return replaceBlock(replaceBlock(current, 'cli-flags', cliFlagsTable()), 'action-inputs', actionInputsTable());
}

function cliFlagsTable(): string[] {
  return [
    '| flag | sets | what |',
    '|---|---|---|',
    ...usageFlags().map((f) => {
      const flag = `\`${f.short ? `-${f.short}, ` : ''}--${f.flag}${f.arg ? ` ${f.arg}` : ''}\``;
      return row(flag, f.setting ? configKeys(f.setting) : '', text(f.about));
    }),
  ];
}

function actionInputsTable(): string[] {
  const settingOf = (input: string) => SETTING_NAMES.find((n) => nameOn('input', n) === input);
  return [
    '| input | sets | what | default |',
    '|---|---|---|---|',
    ...declaredInputs().map((i) => {
      const n = settingOf(i.name);
      const what = n ? describeSetting(n, 'input', { withDefault: false }) : ACTION_INPUTS[i.name]!.about;
      const dflt = n ? setting(n).default : i.default;
      return row(`\`${i.name}\``, n ? configKeys(n) : '', text(what), dflt === undefined ? '' : `\`${dflt}\``);
    }),
  ];
}

function row(...cells: string[]): string {
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

/** The config keys a setting sets: `load.stages[0].users`; "METHOD /path" sets the method beside the path. */
function configKeys(n: SettingName): string {
  const key = (path: ReadonlyArray<string | number>) =>
    `\`${path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')}\``;
  const path = setting(n).path;
  return setting(n).read === 'endpoint' ? `${key([...path.slice(0, -1), 'method'])}, ${key(path)}` : key(path);
}

/** Prose in a Markdown cell: `<job>` would be read as an HTML tag. */
function text(s: string): string {
  return s.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function replaceBlock(text: string, id: string, lines: string[]): string {
  const begin = `<!-- docs:${id} (written by npm run docs) -->`;
  const end = `<!-- /docs:${id} -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md: expected ${begin} ... ${end}`);
  return `${text.slice(0, a + begin.length)}\n${lines.join('\n')}\n${text.slice(b)}`;
}

/** "a fixed body" -> "A fixed body." */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

/**
 * `key: value` at `indent`: plain, or single-quoted, when it fits on the line and YAML reads it back as the
 * same string; else a folded block (`>-`) wrapped at single spaces, which YAML reads back joined by them.
 */
function yamlScalar(key: string, value: string, indent: number): string[] {
  const pad = ' '.repeat(indent);
  for (const written of [value, `'${value.replaceAll("'", "''")}'`]) {
    const line = `${key}: ${written}`;
    if (pad.length + line.length <= WIDTH && readsBack(line, key, value)) return [pad + line];
  }
  const lines: string[] = [];
  for (const word of value.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && pad.length + 2 + lines[last]!.length + 1 + word.length <= WIDTH) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  const folded = [`${key}: >-`, ...lines.map((l) => `  ${l}`)];
  if (!readsBack(folded.join('\n'), key, value)) throw new Error(`cannot write ${JSON.stringify(value)} as a folded block`);
  return folded.map((l) => pad + l);
}

function readsBack(yaml: string, key: string, value: string): boolean {
  try {
    return (parse(yaml) as Record<string, unknown>)[key] === value;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  writeFileSync(ACTION_YML, renderActionYml(readFileSync(ACTION_YML, 'utf8')));
  writeFileSync(README, renderReadme(readFileSync(README, 'utf8')));
  console.log(`wrote the inputs and outputs of ${ACTION_YML}, and the flag and input tables of ${README}`);
}
