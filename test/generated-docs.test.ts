// The docs written from the code (scripts/generate-docs.ts, `npm run docs`): action.yml's inputs and
// outputs and the README's tables of flags and inputs are what the script writes from the settings table,
// the action's own inputs and its outputs; action.yml declares exactly what the action reads and sets;
// and the workflow examples use only inputs it declares.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ACTION_YML, README, declaredInputs, renderActionYml, renderReadme } from '../scripts/generate-docs.ts';
import { readInputs } from '../src/action/inputs.ts';
import { USAGE } from '../src/cli.ts';
import { SETTING_NAMES, nameOn } from '../src/plan/settings.ts';
import { OUTPUTS } from '../src/publish/outputs.ts';

interface ActionMeta {
  inputs: Record<string, { description: string; required: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: Record<string, string>;
}

const actionYml = readFileSync(ACTION_YML, 'utf8');
const meta = parse(actionYml) as ActionMeta;

describe('generated docs', () => {
  it('action.yml and the README are what `npm run docs` writes (run it after changing a setting)', () => {
    assert.equal(actionYml, renderActionYml(actionYml), 'action.yml is stale: npm run docs');
    const readme = readFileSync(README, 'utf8');
    assert.equal(readme, renderReadme(readme), 'README.md is stale: npm run docs');
  });

  it("action.yml's inputs read back as declared: each description, optional, the defaults the action relies on", () => {
    assert.deepEqual(
      Object.entries(meta.inputs).map(([name, i]) => ({
        name,
        description: i.description,
        ...(i.default !== undefined ? { default: i.default } : {}),
      })),
      declaredInputs(),
    );
    for (const [k, v] of Object.entries(meta.inputs)) {
      assert.equal(v.required, false, `input ${k} is optional`);
      assert.ok(v.description.length > 20, `input ${k} has a description`);
    }
    assert.equal(meta.inputs['github-token']!.default, '${{ github.token }}');
    assert.equal(meta.inputs['comment']!.default, 'true');
    assert.equal(meta.inputs['fail-on-breach']!.default, 'true');
    assert.equal(meta.inputs['matrix']!.default, '${{ toJSON(matrix) }}');
  });

  it('the README lists every flag the CLI parses and every input action.yml declares; the usage every flag', () => {
    const readme = readFileSync(README, 'utf8');
    const between = (id: string) => readme.slice(readme.indexOf(`<!-- docs:${id} `), readme.indexOf(`<!-- /docs:${id} -->`));
    for (const n of SETTING_NAMES) {
      const flag = nameOn('flag', n);
      if (flag) {
        assert.match(between('cli-flags'), new RegExp(`^\\| \`--${flag}[ \`]`, 'm'), `--${flag} in the README`);
        assert.match(USAGE, new RegExp(`^ +--${flag} `, 'm'), `--${flag} in the usage`);
      }
    }
    for (const input of Object.keys(meta.inputs))
      assert.match(between('action-inputs'), new RegExp(`^\\| \`${input}\` \\|`, 'm'), `input ${input} in the README`);
  });
});

describe('action.yml', () => {
  it('declares every input the action reads and every output it sets; runs main and post on node24', () => {
    const asked: string[] = [];
    readInputs((name) => (asked.push(name), ''));
    assert.deepEqual(Object.keys(meta.inputs).sort(), [...asked].sort());
    assert.deepEqual(Object.keys(meta.outputs).sort(), Object.keys(OUTPUTS).sort());
    assert.deepEqual(meta.runs, { using: 'node24', main: 'dist/main.js', post: 'dist/post.js' });
  });
});

describe('workflow examples', () => {
  it('the README and the self-test workflow give only inputs action.yml declares', () => {
    const root = join(import.meta.dirname, '..');
    const declared = new Set(Object.keys(meta.inputs));
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## As a GitHub Action'), readme.indexOf('## Development'));
    const docs = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    docs.push(readFileSync(join(root, '.github/workflows/self-test.yml'), 'utf8'));
    let steps = 0;
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(visit);
      if (v === null || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      if (typeof o['uses'] === 'string' && /^(\.\/|owner\/loadgate@)/.test(o['uses'])) {
        steps++;
        for (const k of Object.keys((o['with'] ?? {}) as object)) assert.ok(declared.has(k), `input "${k}" is not in action.yml`);
      }
      Object.values(o).forEach(visit);
    };
    for (const d of docs) visit(parse(d));
    assert.ok(steps >= 5, `${steps} loadgate steps checked`);
  });
});
