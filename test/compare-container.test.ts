// A comparison of two containers (issue 11): the example model service's image twice, the candidate with
// about 10% more CPU per prediction, both under the same CPU limit (the baseline inherits it), through the CLI.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompareVerdict } from '../src/verdict/compare.ts';
import { DOCKER, containersNamed, docker, dockerSkip, exampleImage } from './helpers/images.ts';
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
    // One image under one name, two settings: both digests recorded, the same, and no warning of it.
    const digests = [c.environments?.candidate?.serviceImage?.digest, c.environments?.baseline?.serviceImage?.digest];
    assert.ok(digests[0] && digests[0] === digests[1], JSON.stringify(c.environments));
    assert.ok(!c.warnings.some((w) => /same image/.test(w)), c.warnings.join('; '));
    for (const n of names) assert.deepEqual(containersNamed(n), [], `container ${n} still exists`);
  });
});

describe("each side's image digest in a comparison of two containers", { skip, timeout: 180_000 }, () => {
  const tags: string[] = [];
  after(() => {
    for (const t of tags) docker(['rmi', t]);
  });

  /** A comparison of `candidate` against `baseline` (both the example service), in six short rounds. */
  async function compare(candidate: string, baseline: string) {
    const dir = tempDir();
    const f = writeFile(
      dir,
      'loadgate.yml',
      [
        `service: {image: ${candidate}, port: 8000, pull: never, ready: {path: /api/health/ready, timeout: 30s}}`,
        `baseline: {image: ${baseline}}`,
        'request: {method: POST, path: /api/models/insurance_charges_model/prediction, body: {age: 42, sex: female, bmi: 31.5, children: 2, smoker: false, region: northwest}}',
        'load: {stages: [{duration: 500ms, users: 1}]}',
        'compare: {rounds: 6, warm-up-rounds: 0}',
        `output: ${join(dir, 'out')}`,
      ].join('\n'),
    );
    const r = await runNode([CLI, 'run', '-c', f], { timeoutMs: 90_000 });
    assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr);
    const json = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    return {
      json,
      c: json.verdict.comparison as CompareVerdict,
      md: readFileSync(join(dir, 'out', 'report.md'), 'utf8'),
      html: readFileSync(join(dir, 'out', 'report.html'), 'utf8'),
    };
  }
  const digestOf = (image: string) => {
    const [repo, id] = docker(['image', 'inspect', '--format', '{{json .RepoDigests}}|{{.Id}}', image]).trim().split('|');
    const known = (JSON.parse(repo!) as string[] | null) ?? [];
    return known.length > 0 ? known : [id!.startsWith('sha256:') ? id! : `sha256:${id}`];
  };

  it('records and shows both digests of two different images, with no warning of them', async () => {
    // The "PR's build": the example image with one more label, so another image id.
    const dir = tempDir();
    const pr = `${exampleImage()}-pr`;
    writeFile(dir, 'Dockerfile', `FROM ${exampleImage()}\nLABEL loadgate.test=pr\n`);
    // The classic builder, as test/helpers/images.ts builds (no buildx on this machine kind).
    execFileSync(DOCKER, ['build', '-q', '-t', pr, dir], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: 'pipe',
      timeout: 120_000,
    });
    tags.push(pr);
    const { json, c, md, html } = await compare(pr, exampleImage());
    const cand = c.environments?.candidate?.serviceImage;
    const base = c.environments?.baseline?.serviceImage;
    assert.equal(cand?.image, pr);
    assert.equal(base?.image, exampleImage());
    assert.ok(digestOf(pr).includes(cand?.digest ?? ''), `${cand?.digest} vs ${digestOf(pr)}`);
    assert.ok(digestOf(exampleImage()).includes(base?.digest ?? ''), `${base?.digest} vs ${digestOf(exampleImage())}`);
    assert.notEqual(cand?.digest, base?.digest);
    // The run's own record is the candidate's, under the same key as a single run's; no second one.
    assert.deepEqual(json.environment.serviceImage, cand);
    assert.equal(json.roundsEnvironment, undefined);
    assert.ok(!c.warnings.some((w) => /image/.test(w)), c.warnings.join('; '));
    const short = (d: string) => d.replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}/, '$1…');
    assert.ok(md.includes(`| Service image | \`${exampleImage()}, ${short(base!.digest!)}`), md);
    assert.ok(md.includes(`| \`${pr}, ${short(cand!.digest!)}`), md);
    assert.ok(html.includes(`<td>${exampleImage()}, ${base!.digest}`) && html.includes(`<td>${pr}, ${cand!.digest}`));
  });

  it('warns when the two images, named apart, are one and the same', async () => {
    const main = `${exampleImage()}-main`;
    docker(['tag', exampleImage(), main]);
    tags.push(main);
    const { c } = await compare(exampleImage(), main);
    const d = c.environments?.candidate?.serviceImage?.digest;
    assert.ok(d && d === c.environments?.baseline?.serviceImage?.digest);
    assert.ok(
      c.warnings.includes(
        `the candidate (${exampleImage()}) and the baseline (${main}) are the same image (${d}): the comparison cannot show a change of image`,
      ),
      c.warnings.join('; '),
    );
  });
});
