// The package as npm users get it: `npm pack`, then installed from the tarball into an empty folder with no
// registry (--offline: it must need nothing else), then run as they run it, `npx loadgate`, against a
// service on 127.0.0.1. Also what it ships (files), that it declares no dependencies (everything is in
// dist/), and what the bin says under an older Node (the machine's own, when it has one).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../src/version.ts';
import { NODE, PATH_WITH_NODE, REPO, killChildren, start } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const env = {
  ...process.env,
  PATH: PATH_WITH_NODE,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

let tarball = '';
let app = '';
const server = createServer((_req, res) => res.end('{"ok":true}'));
let url = '';

before(async () => {
  const dir = tempDir('loadgate-pack-');
  const out = npm(['pack', '--json', '--pack-destination', dir], REPO);
  tarball = join(dir, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
  app = tempDir('loadgate-app-');
  writeFile(app, 'package.json', '{"name": "app", "private": true}\n');
  npm(['install', '--offline', '--no-package-lock', tarball], app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  killChildren();
  server.closeAllConnections();
  server.close();
  removeTempDirs();
});

/** Size on disk in bytes (du -sb). */
function du(path: string): number {
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

describe('the npm package', () => {
  it('ships the bin, the bundles the CLI needs, the licences and the README; declares no dependencies', () => {
    const listed = JSON.parse(npm(['pack', '--dry-run', '--json'], REPO)) as Array<{ files: Array<{ path: string }> }>;
    const files = listed[0]!.files.map((f) => f.path).sort();
    for (const f of ['LICENSE', 'README.md', 'bin/loadgate.js', 'dist/cli.js', 'dist/THIRD-PARTY-NOTICES.txt', 'package.json'])
      assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
    const stray = files.filter((f) => !/^(LICENSE|README\.md|package\.json|bin\/loadgate\.js|dist\/[\w.-]+\.(js|txt))$/.test(f));
    assert.deepEqual(stray, []);
    assert.ok(!files.includes('dist/main.js'), 'the action bundle is for the runner, not npm users');
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'loadgate', 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(installed['dependencies'], undefined);
    // Nothing but loadgate came in.
    assert.deepEqual(
      execFileSync('ls', [join(app, 'node_modules')], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter((n) => n !== '.bin' && n !== '.package-lock.json'),
      ['loadgate'],
    );
    const bytes = du(join(app, 'node_modules'));
    console.log(
      `# installed size: ${(bytes / 1e6).toFixed(1)} MB (${bytes} bytes), tarball ${(statSync(tarball).size / 1e6).toFixed(1)} MB`,
    );
    assert.ok(bytes < 8e6, `${bytes} bytes installed`);
  });

  it('npx loadgate --version, -V and a run against a local service', async () => {
    // Asynchronously: the service answering the run is in this process.
    const npx = (args: string[]) => start('npx', ['--offline', 'loadgate', ...args], { cwd: app, env, timeoutMs: 60_000 }).exited;
    const v = await npx(['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), VERSION);
    assert.equal((await npx(['-V'])).stdout.trim(), VERSION);
    const r = await npx([
      'run',
      '--url',
      url,
      '--path',
      '/',
      '--rate',
      '20',
      '--duration',
      '1s',
      '--slo',
      'errors == 0',
      '--out',
      join(app, 'out'),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS: all 1 SLOs? met/);
    assert.ok(existsSync(join(app, 'out', 'report.html')));
  });

  it('under an older Node the bin says which Node it needs and how to get it, exit 2', (t) => {
    const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
      if (!existsSync(p) || p === NODE) return false;
      const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
      return Number(v.split('.')[0]) < 24;
    });
    if (!old) return t.skip('no Node older than 24 on this machine');
    const bin = join(app, 'node_modules', '.bin', 'loadgate');
    const r = spawnSync(old, [bin, '--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^loadgate: needs Node\.js 24 or newer, and this is Node \d+\.\d+\.\d+ \(.*\)\.\n/);
    assert.match(r.stderr, /npx -p node@24 -p loadgate loadgate/);
    assert.doesNotMatch(r.stderr, /ERR_|\n\s+at /);
  });
});
