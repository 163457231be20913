// The committed bundles, run as users and the runner run them: dist/cli.js as a command, dist/main.js
// as a node24 action (inputs in INPUT_* variables, outputs appended to the GITHUB_OUTPUT file).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';

const root = resolve(import.meta.dirname, '..');
const node = process.execPath;
let url = '';
const server = createServer((_req, res) => res.end('{"charges":1}'));
const dir = mkdtempSync(join(tmpdir(), 'loadgate-dist-'));

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function runNode(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(node, args, { cwd: dir, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      res({ code, stdout, stderr });
    });
  });
}

describe('dist bundles', () => {
  it('dist/cli.js runs a load and writes a result that parses, histograms included', async () => {
    const out = join(dir, 'cli-out');
    const r = await runNode([
      join(root, 'dist/cli.js'),
      'run',
      '--url',
      url,
      '--path',
      '/p',
      '--body',
      '{"a":1}',
      '--rate',
      '40',
      '--duration',
      '1s',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Total\s+40\s+0/);
    const result = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(statsFor(result).requests, 40);
    assert.equal(statsFor(result).latency.totalCount, 40);
  });

  it("dist/cli.js --version prints package.json's version", async () => {
    const r = await runNode([join(root, 'dist/cli.js'), '--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('dist/cli.js rejects a bad flag with exit 2 and no stack trace', async () => {
    const r = await runNode([join(root, 'dist/cli.js'), 'run', '--url', url, '--path', '/p', '--rate', 'fast', '--duration', '1s']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--rate.*expected a number, got "fast"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('dist/main.js runs as an action: reads INPUT_CONFIG, writes outputs to GITHUB_OUTPUT', async () => {
    const config = join(dir, 'loadgate.yml');
    const out = join(dir, 'action-out');
    writeFileSync(
      config,
      `service:\n  url: ${url}\nrequest:\n  path: /p\n  body: {a: 1}\nload:\n  stages: [{duration: 1s, rate: 20}]\noutput: ${out}\n`,
    );
    const outputs = join(dir, 'github_output');
    writeFileSync(outputs, '');
    const r = await runNode([join(root, 'dist/main.js')], { INPUT_CONFIG: config, GITHUB_OUTPUT: outputs });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const text = readFileSync(outputs, 'utf8');
    assert.match(text, new RegExp(`result-file<<ghadelimiter_[\\w-]+\\n${join(out, 'result.json').replace(/[.]/g, '\\.')}\\n`));
    assert.equal(statsFor(parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'))).requests, 20);
    // Off a runner there is no artifact service: said once, plainly, not as a failed upload.
    assert.match(r.stdout, /^No artifact: not on a GitHub runner \(no ACTIONS_RUNTIME_TOKEN\)\. The reports are in /m);
    assert.doesNotMatch(r.stdout, /::warning::/);
  });

  it('dist/main.js fails the step with one clear message on a bad config', async () => {
    const config = join(dir, 'bad.yml');
    writeFileSync(config, `service:\n  url: ${url}\nrequest:\n  path: /p\nload:\n  stages: [{duration: -5s, rate: 20}]\n`);
    const r = await runNode([join(root, 'dist/main.js')], { INPUT_CONFIG: config, GITHUB_OUTPUT: join(dir, 'github_output') });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /::error::.*bad\.yml:6 load\.stages\[0\]\.duration: must be a positive duration/);
  });

  it('holds one undici, and THIRD-PARTY-NOTICES.txt gives the licence of every bundled package', () => {
    const bundles = readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.js'));
    // undici's ProxyAgent module, once per copy of undici (three before the dedupe: 8.x, and 6.x twice).
    const copies = bundles.reduce(
      (n, f) => n + (readFileSync(join(root, 'dist', f), 'utf8').match(/function requireProxyAgent\b/g)?.length ?? 0),
      0,
    );
    assert.equal(copies, 1);
    const notices = readFileSync(join(root, 'dist', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    const listed = [...notices.matchAll(/^- (\S+)@(\S+): (.*)$/gm)].map((m) => m[1]!);
    assert.match(notices, new RegExp(`^loadgate bundles the following ${listed.length} npm packages`));
    assert.deepEqual(
      listed.filter((n) => n === 'undici'),
      ['undici'],
    );
    for (const name of [
      '@actions/core',
      '@actions/artifact',
      '@actions/github',
      '@octokit/plugin-retry',
      '@faker-js/faker',
      'hdr-histogram-js',
      'yaml',
      'undici',
    ]) {
      assert.ok(listed.includes(name), `${name} in the notices`);
    }
    // Each package has its section with the licence text (MIT's permission notice, BSD's conditions...).
    assert.equal(notices.match(/^={78}$/gm)?.length, listed.length);
    assert.match(notices, /^undici@8\.\d+\.\d+ \(MIT\)\n\nMIT License/m);
  });
});
