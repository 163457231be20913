// What a started service inherits: not the runner's secrets. The CLI runs with the variables a runner gives
// the action's own process (ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN and their URLs, INPUT_*),
// and the service dumps its whole environment: a command service from Node (process.env), a container
// service from `env` inside the container (its log lands in the report folder as service.log).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { serviceEnvironment } from '../src/service/env.ts';
import { busyboxImage, dockerSkip } from './helpers/images.ts';
import { CLI, PATH_WITH_NODE, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(killChildren);
after(removeTempDirs);

/** What the runner puts in the action's environment, and the service must not see. */
const RUNNER_SECRETS = {
  ACTIONS_RUNTIME_TOKEN: 'runtime-secret',
  ACTIONS_RUNTIME_URL: 'http://127.0.0.1:9/runtime/',
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/results/',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-secret',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/oidc',
  INPUT_SLOS: 'p99 < 1s',
  'INPUT_GITHUB-TOKEN': 'ghs_secret',
};

function config(dir: string, service: Record<string, unknown>, path: string): string {
  const cfg = {
    service,
    request: { path },
    load: { stages: [{ duration: '1s', rate: 5 }] },
    output: join(dir, 'out'),
  };
  return writeFile(dir, 'loadgate.yml', JSON.stringify(cfg, null, 2));
}

function runCli(dir: string) {
  const env = { ...RUNNER_SECRETS, PATH: PATH_WITH_NODE, KEEP_ME: 'plain' };
  return startNode([CLI, 'run', '--config', join(dir, 'loadgate.yml')], { env, timeoutMs: 60_000 }).exited;
}

function assertClean(names: string[]): void {
  const leaked = names.filter((n) => /^(ACTIONS_|INPUT_)/i.test(n));
  assert.deepEqual(leaked, [], `the service saw ${leaked.join(', ')}`);
  assert.ok(names.includes('KEEP_ME'), 'ordinary variables still reach the service');
}

describe("the service's environment", () => {
  it('a command service sees neither ACTIONS_* nor INPUT_*, but the rest and its own env: entries', async () => {
    const dir = tempDir('loadgate-env-');
    const dump = join(dir, 'service-env.json');
    // Dumped by Node itself, not a shell: dash would drop INPUT_GITHUB-TOKEN (a name with a hyphen) on its own.
    const server = writeFile(
      dir,
      'server.mjs',
      `import { writeFileSync } from 'node:fs'; import { createServer } from 'node:http';
writeFileSync(${JSON.stringify(dump)}, JSON.stringify(process.env));
createServer((q, s) => s.end('ok')).listen(Number(process.argv[2]), '127.0.0.1');`,
    );
    config(dir, { command: `exec node ${server} {port}`, env: { ACTIONS_MINE: 'set by the config' } }, '/');
    const r = await runCli(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const env = JSON.parse(readFileSync(dump, 'utf8')) as Record<string, string>;
    assert.equal(env['ACTIONS_MINE'], 'set by the config', 'a variable the config sets is passed, whatever its name');
    delete env['ACTIONS_MINE'];
    assertClean(Object.keys(env));
    assert.ok(!JSON.stringify(env).includes('secret'));
  });

  it('a container service (and the container CLI) sees neither', { skip: dockerSkip() }, async () => {
    const dir = tempDir('loadgate-env-');
    // `-e NAME` takes the value from the CLI's own environment: naming a runner variable shows what the CLI had.
    const service = {
      image: busyboxImage(),
      port: 8000,
      pull: 'never',
      cmd: ['sh', '-c', 'env; exec httpd -f -p 8000 -h /www'],
      ready: '/index.html',
      env: { KEEP_ME: 'plain' },
    };
    config(dir, service, '/index.html');
    const r = await runCli(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const log = readFileSync(join(dir, 'out', 'service.log'), 'utf8');
    assertClean(
      log
        .split('\n')
        .map((l) => l.split('=')[0]!)
        .filter(Boolean),
    );
    assert.doesNotMatch(log, /secret/);
  });

  it('serviceEnvironment leaves out exactly the runner and input variables', () => {
    const kept = serviceEnvironment({ ...RUNNER_SECRETS, PATH: '/bin', GITHUB_SHA: 'abc', RUNNER_TEMP: '/tmp', actions_x: 'y' });
    assert.deepEqual(Object.keys(kept).sort(), ['GITHUB_SHA', 'PATH', 'RUNNER_TEMP']);
  });
});
