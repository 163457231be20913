// CLI flags and action inputs reshape the config file by the same rules (src/plan/overrides.ts): the same
// settings given either way make the same plan.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RUN_INPUTS, type RunInput, inputOverrides } from '../src/action/inputs.ts';
import { flagOverrides } from '../src/cli.ts';
import { applyOverrides, buildPlan, readConfigFile } from '../src/plan/config.ts';
import type { ContainerPlan, Plan } from '../src/plan/types.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const dir = tempDir('loadgate-overrides-');
writeFile(dir, 'Dockerfile', 'FROM scratch\n');
let n = 0;

function both(yaml: string, flags: Record<string, string>, inputs: Partial<Record<RunInput, string>>): [Plan, Plan] {
  const file = writeFile(dir, `c${++n}.yml`, yaml);
  const viaFlags = readConfigFile(file);
  const viaInputs = readConfigFile(file);
  const values = Object.fromEntries(RUN_INPUTS.map((k) => [k, inputs[k] ?? ''])) as Record<RunInput, string>;
  return [
    buildPlan(applyOverrides(viaFlags, flagOverrides(flags, viaFlags.raw))),
    buildPlan(applyOverrides(viaInputs, inputOverrides(values, viaInputs.raw))),
  ];
}

const REST = 'request: {path: /p}\nload: {pacing: 1/s, stages: [{duration: 1s, users: 1}]}\n';

describe('flags and inputs over a config file', () => {
  it('another image for the file\'s container keeps its port, env and limits, but not its build', () => {
    const yaml = `service:\n  image: model:dev\n  build: .\n  port: 8000\n  cpus: 0.5\n  env: {A: '1'}\n${REST}`;
    for (const plan of both(yaml, { image: 'ghcr.io/acme/model:1' }, { 'service-image': 'ghcr.io/acme/model:1' })) {
      const s = plan.service as ContainerPlan;
      assert.equal(s.image, 'ghcr.io/acme/model:1');
      assert.equal(s.build, undefined, 'the given image runs: the file\'s Dockerfile is not built and tagged as it');
      assert.deepEqual([s.port, s.cpus, s.env], [8000, 0.5, { A: '1' }]);
    }
  });

  it('a readiness path from outside keeps the file\'s readiness timeout', () => {
    const yaml = `service:\n  url: http://127.0.0.1:9\n  ready: {path: /health, timeout: 90s}\n${REST}`;
    for (const plan of both(yaml, { 'ready-path': '/ready' }, { 'service-ready': '/ready' })) {
      assert.deepEqual([plan.readiness.path, plan.readiness.timeoutMs], ['/ready', 90_000]);
    }
    const short = `service:\n  url: http://127.0.0.1:9\n  ready: /health\n${REST}`;
    for (const plan of both(short, { 'ready-path': '/ready' }, { 'service-ready': '/ready' })) assert.equal(plan.readiness.path, '/ready');
  });

  it('a running URL replaces a command, keeping readiness; a new body replaces the file\'s', () => {
    const yaml = `service:\n  command: node s.ts --port {port}\n  cwd: .\n  ready: /health\nrequest: {path: /p, bodies: b.jsonl}\nload: {pacing: 1/s, stages: [{duration: 1s, users: 1}]}\n`;
    const [a, b] = both(yaml, { url: 'http://127.0.0.1:9', body: '{"x":1}' }, { 'service-url': 'http://127.0.0.1:9', body: '{"x":1}' });
    for (const plan of [a, b]) {
      assert.deepEqual(plan.service, { kind: 'url', baseUrl: 'http://127.0.0.1:9' });
      assert.equal(plan.readiness.path, '/health');
      assert.deepEqual(plan.endpoints[0]!.body, { kind: 'fixed', body: '{"x":1}' });
    }
  });

  it('one stage of rate replaces the file\'s user stages and their pacing', () => {
    const [a, b] = both(`service: {url: http://127.0.0.1:9}\n${REST}`, { rate: '20', duration: '2s' }, { rate: '20', duration: '2s' });
    for (const plan of [a, b]) {
      assert.equal(plan.load.model, 'open');
      assert.deepEqual(plan.load.stages.map((s) => s.durationMs), [2000]);
    }
  });
});
