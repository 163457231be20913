// A comparison of two containers (issue 11): the example model service's image twice, the candidate with
// about 10% more CPU per prediction, both under the same CPU limit (the baseline inherits it), through the CLI.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompareVerdict } from '../src/verdict/compare.ts';
import { containersNamed, dockerSkip, exampleImage } from './helpers/images.ts';
import { CLI, killChildren, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(killChildren);
after(removeTempDirs);
const skip = dockerSkip();

describe('comparing two containers with CPU limits', { skip, timeout: 180_000 }, () => {
  before(() => exampleImage());

  it('finds the candidate 10% slower on p50, and removes both containers', async () => {
    const dir = tempDir();
    const image = exampleImage();
    const f = writeFile(
      dir,
      'loadgate.yml',
      [
        `service: {image: ${image}, port: 8000, pull: never, cpus: 1, env: {EXTRA_WORK_MS: "11"}, ready: {path: /api/health/ready, timeout: 30s}}`,
        `baseline: {env: {EXTRA_WORK_MS: "10"}, image: ${image}}`,
        'request: {method: POST, path: /api/models/insurance_charges_model/prediction, body: {age: 42, sex: female, bmi: 31.5, children: 2, smoker: false, region: northwest}}',
        'load: {stages: [{duration: 1200ms, users: 1}]}',
        'compare: {rounds: 8, max-rounds: 16}',
        'slos: ["p50 regression < 5%"]',
        `output: ${join(dir, 'out')}`,
      ].join('\n'),
    );
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 90_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const names = [...r.stdout.matchAll(/container (loadgate-\w+)/g)].map((m) => m[1]!);
    assert.equal(new Set(names).size, 2, r.stdout);
    const json = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    const c = json.verdict.comparison as CompareVerdict;
    const p50 = c.metrics.find((m) => m.key === 'p50')!;
    assert.equal(p50.verdict, 'regressed', c.headline);
    assert.ok(p50.low! > 0);
    // Both sides watched through their cgroups: CPU per request compared too.
    assert.ok(c.metrics.some((m) => m.key === 'cpu'));
    for (const n of names) assert.deepEqual(containersNamed(n), [], `container ${n} still exists`);
  });
});
