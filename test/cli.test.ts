// The command line, run as users run it: `node src/cli.ts run ...` in a child process, against
// servers on 127.0.0.1. Exit codes: 0 pass, 1 the verdict failed, 2 bad input, 3 the service was not
// measured as planned (every report still written), 130 interrupted.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';
import { percentileMs } from '../src/metrics/histogram.ts';
import { closedPort, startServer } from './helpers/http.ts';
import {
  CLI,
  NODE,
  PATH_WITH_NODE,
  REPO,
  type Finished,
  type StartOptions,
  type Started,
  eventually,
  groupAlive,
  killChildren,
  start,
  startNode,
} from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

// A CLI killed here (a test failed before it ended) cannot stop the service it started: kill that too.
const clis: Started[] = [];
after(() => {
  for (const cli of clis) {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) continue;
    cli.kill('SIGKILL');
    const m = /Started the service \(pid (\d+)\)/.exec(cli.stdout);
    if (m && groupAlive(Number(m[1]))) process.kill(-Number(m[1]), 'SIGKILL');
  }
});
after(killChildren);
after(removeTempDirs);

const SERVER = join(REPO, 'test', 'helpers', 'server.ts');
/** A command that starts the helper server on loadgate's port, with extra flags. */
const serverCommand = (flags = '') => `${NODE} ${SERVER} --port {port} ${flags}`.trim();

function startCli(args: string[], opts: StartOptions = {}): Started {
  const cli = startNode([CLI, ...args], { timeoutMs: 30_000, ...opts });
  clis.push(cli);
  return cli;
}

function runCli(args: string[], opts: StartOptions = {}): Promise<Finished> {
  return startCli(args, opts).exited;
}

function readResult(outDir: string) {
  return parseRunResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
}

/** The PID loadgate reports for a service it started. */
function servicePid(stdout: string): number {
  const m = /Started the service \(pid (\d+)\)/.exec(stdout);
  assert.ok(m, `no "Started the service (pid N)" line in:\n${stdout}`);
  return Number(m[1]);
}

/** The service loadgate started is gone: its PID, and everything in its process group. */
async function assertServiceGone(pid: number): Promise<void> {
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `service process ${pid} still exists`);
  assert.ok(await eventually(() => !groupAlive(pid), 3000), `something in the service's process group ${pid} still runs`);
}

/** A usage or config error: exit 2, a `loadgate: ...` first line on stderr, no stack trace, nothing run. */
function assertCleanError(r: Finished, says: RegExp): string {
  assert.equal(r.code, 2, `exit code\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const first = r.stderr.split('\n')[0]!;
  assert.match(first, /^loadgate: /);
  assert.match(first, says);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
  return first;
}

/**
 * The service was not measured as planned: exit 3, one `loadgate: <why>` line first on stderr (then the
 * service's last output), no stack trace, and every report written: result.json `not-started` with the
 * reason, JUnit failing.
 */
function assertNotMeasured(r: Finished, out: string, says: RegExp): void {
  assert.equal(r.code, 3, `exit code\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const line = r.stderr.split('\n')[0]!;
  assert.ok(line.startsWith('loadgate: '), r.stderr);
  assert.match(line.slice('loadgate: '.length), says);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
  const result = readResult(out);
  assert.equal(result.status, 'not-started');
  assert.match((result.reason ?? '').split('\n')[0]!, says);
  for (const f of [
    'report.html',
    'report.md',
    'junit.xml',
    'loadgate_stats.csv',
    'loadgate_stats_history.csv',
    'loadgate_failures.csv',
    'loadgate_exceptions.csv',
  ]) {
    assert.ok(existsSync(join(out, f)), `${f} written`);
  }
  assert.match(readFileSync(join(out, 'junit.xml'), 'utf8'), /<failure /, 'JUnit fails');
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /not-started/);
}

describe('a run from flags against a server with a fixed delay', () => {
  const DELAY_MS = 20;
  // 2 users, each paced to 5 requests/s, for 2 s: 2 x 5 x 2 = 20 requests.
  const USERS = 2;
  const PACING = 5;
  const SECONDS = 2;
  const EXPECTED = USERS * PACING * SECONDS;
  let r: Finished;
  let out: string;
  let served = 0;

  it('runs to the end and exits 0', async () => {
    const srv = await startServer({ delayMs: DELAY_MS });
    out = tempDir('loadgate-cli-');
    try {
      r = await runCli([
        'run',
        '--url',
        srv.url,
        '--path',
        '/predict',
        '--users',
        String(USERS),
        '--pacing',
        `${PACING}/s`,
        '--duration',
        `${SECONDS}s`,
        '--progress-interval',
        '500ms',
        '--out',
        out,
      ]);
      served = srv.requests;
    } finally {
      await srv.close();
    }
    assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.equal(r.stderr, '');
  });

  it('writes result.json that parses, with the planned number of requests', () => {
    const result = readResult(out);
    assert.equal(result.status, 'completed');
    assert.equal(result.load.model, 'closed');
    const total = statsFor(result);
    assert.ok(Math.abs(total.requests - EXPECTED) <= 2, `${total.requests} requests, expected ${EXPECTED} +- 2`);
    assert.equal(total.failures, 0);
    // The server saw one readiness probe (GET /) and the load.
    assert.equal(served, total.requests + 1, 'every request the server answered is counted, once');
    assert.equal(result.endpoints[0]!.path, '/predict');
  });

  it('measures the delay: p50 at least the delay, and not far above it', () => {
    const p50 = percentileMs(statsFor(readResult(out)).latency, 50)!;
    assert.ok(p50 >= DELAY_MS, `p50 ${p50} ms < delay ${DELAY_MS} ms`);
    assert.ok(p50 < DELAY_MS + 40, `p50 ${p50} ms is far above the ${DELAY_MS} ms delay`);
  });

  it('prints progress lines and the summary table, as plain lines in a pipe', () => {
    const progress = r.stdout.split('\n').filter((l) => /^\[\d+s\/2s\] stage 1\/1 [^:]+: users \d, [\d.]+ req\/s, p95 /.test(l));
    assert.ok(progress.length >= 2, `progress lines every 500 ms over 2 s, got:\n${r.stdout}`);
    assert.match(r.stdout, /^\s+requests\s+failures\s+req\/s\s+p50\s+p95\s+p99\s+max\s+mean$/m);
    const total = statsFor(readResult(out)).requests;
    assert.match(r.stdout, new RegExp(`^Total\\s+${total}\\s+0\\s`, 'm'));
    assert.match(
      r.stdout,
      new RegExp(
        `^Reports: ${out.replace(/[.]/g, '\\.')} \\(report\\.html, result\\.json, report\\.md, junit\\.xml, loadgate_stats\\.csv`,
        'm',
      ),
    );
    assert.match(r.stdout, /^PASS: no SLOs set\.$/m);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no ANSI escapes');
    assert.ok(!r.stdout.includes('\r'), 'no carriage returns');
  });
});

describe('bad configs and flags: exit 2, one clear line, no stack trace', () => {
  const dir = tempDir('loadgate-cli-bad-');

  it('a config error names file:line, the key and what was expected, on one line', async () => {
    const file = writeFile(
      dir,
      'typo.yml',
      'service: {url: "http://127.0.0.1:1"}\nrequest: {path: /p}\nload:\n  stages:\n    - {duration: 1s, users: 2, spawn_rate: 1}\n',
    );
    const r = await runCli(['run', '--config', file]);
    assertCleanError(
      r,
      new RegExp(`^loadgate: ${file}:5 load\\.stages\\[0\\]\\.spawn_rate: unknown key "spawn_rate" \\(did you mean "spawn-rate"\\?\\)`),
    );
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line:\n${r.stderr}`);
    assert.equal(r.stdout, '');
  });

  it('a YAML syntax error names the line', async () => {
    const file = writeFile(dir, 'syntax.yml', 'service: {url: "http://127.0.0.1:1"\nrequest: {path: /p}\n');
    const r = await runCli(['run', '-c', file]);
    assertCleanError(r, new RegExp(`^loadgate: ${file}:\\d+:\\d+: invalid YAML: `));
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
  });

  it('a missing config file', async () => {
    const r = await runCli(['run', '--config', join(dir, 'nope.yml')]);
    assertCleanError(r, /cannot read config file .*nope\.yml: ENOENT/);
  });

  it('a bad flag value names the flag', async () => {
    const r = await runCli(['run', '--url', 'http://127.0.0.1:1', '--path', '/p', '--users', 'abc', '--duration', '1s']);
    const line = assertCleanError(r, /^loadgate: --users \(load\.stages\[0\]\.users\): expected a number, got "abc"$/);
    assert.ok(line);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
  });

  it('flags that need each other', async () => {
    const r = await runCli(['run', '--url', 'http://127.0.0.1:1', '--path', '/p', '--users', '2']);
    assertCleanError(r, /^loadgate: --users needs --duration \(e\.g\. --duration 30s\)$/);
  });

  it('an unknown flag: the nearest known one, with the usage', async () => {
    const r = await runCli(['run', '--userz', '5']);
    assertCleanError(r, /^loadgate: unknown flag --userz \(did you mean --users\?\)$/);
    assert.match(r.stderr, /^Usage: loadgate run/m);
    assert.doesNotMatch(r.stderr, /positional argument/);
    const far = await runCli(['run', '--zzzzzz']);
    assertCleanError(far, /^loadgate: unknown flag --zzzzzz$/);
  });

  it('an unknown command, with the usage', async () => {
    const r = await runCli(['walk']);
    assertCleanError(r, /^loadgate: unknown command "walk" \(expected: run or merge\)$/);
    assert.match(r.stderr, /^Usage: loadgate run/m);
  });

  it('no config and no flags: says which flags are missing, with the usage', async () => {
    const r = await runCli(['run']);
    assertCleanError(
      r,
      /^loadgate: without --config, give --url or --command, or --image with --port; --path or --preset; --users or --rate with --duration$/,
    );
    assert.match(r.stderr, /^Usage: loadgate run/m);
    const some = await runCli(['run', '--url', 'http://127.0.0.1:1', '--rate', '5', '--duration', '1s']);
    assertCleanError(some, /^loadgate: without --config, give --path or --preset$/);
    // An image without a file to say its port: the port is named, not a config key of a file there is none of.
    const image = await runCli(['run', '--image', 'm:1', '--path', '/p', '--rate', '5', '--duration', '1s']);
    assertCleanError(image, /^loadgate: without --config, give --port \(for --image\)$/);
  });

  it('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: loadgate run/);
    // Every flag the settings table declares is in the usage, with what it needs and excludes.
    for (const f of [
      '--url URL',
      '--image IMAGE',
      '--ready-timeout D',
      '--spawn-rate R',
      '--slo LINE',
      '--progress-interval D',
      '--no-fail',
      '-c, --config FILE',
    ]) {
      assert.ok(help.stdout.includes(f), `${f} in the usage`);
    }
    assert.match(help.stdout, /--users N +one stage of this many users \(closed model\); needs --duration;\s+excludes --rate\n/);
    assert.ok(
      help.stdout.split('\n').every((l) => l.length <= 100),
      'lines of at most 100 characters',
    );
    const pkgVersion = `${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}\n`;
    for (const flag of ['--version', '-V', '-v']) {
      const version = await runCli([flag]);
      assert.equal(version.code, 0, flag);
      assert.equal(version.stdout, pkgVersion, `${flag}: package.json's version`);
    }
  });

  it('colour on a terminal only: [pass] and PASS in green under a pty, plain with NO_COLOR or through a pipe', async (t) => {
    if (!existsSync('/usr/bin/script')) return t.skip('no script(1) to give the CLI a terminal');
    const srv = await startServer();
    try {
      const args = ['run', '--url', srv.url, '--path', '/', '--rate', '10', '--duration', '1s', '--slo', 'errors == 0', '--out', tempDir()];
      const line = [NODE, CLI, ...args].map((a) => `'${a}'`).join(' ');
      // script(1) runs the CLI on a pseudo-terminal and copies what it printed.
      const onTty = (env: Record<string, string | undefined>) =>
        start('script', ['-qec', line, '/dev/null'], {
          // CI is left out: Node's hasColors() answers 2 colours (no colour) whenever CI is set, as on the CI machine.
          env: { TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, ...env },
        }).exited;
      const coloured = await onTty({});
      assert.equal(coloured.code, 0, coloured.stderr);
      assert.ok(coloured.stdout.includes('  \x1b[32m[pass]\x1b[39m errors == 0'), JSON.stringify(coloured.stdout.slice(-300)));
      assert.ok(coloured.stdout.includes('\x1b[1m\x1b[32mPASS:\x1b[39m\x1b[22m'));
      const noColour = await onTty({ NO_COLOR: '1' });
      assert.match(noColour.stdout, /^ {2}\[pass\] errors == 0/m);
      assert.ok(!noColour.stdout.includes('\x1b['), 'NO_COLOR: no escape codes');
      const piped = await runCli(args.slice(0, -1).concat(tempDir()));
      assert.ok(!piped.stdout.includes('\x1b['), 'a pipe gets plain text');
    } finally {
      await srv.close();
    }
  });
});

describe('a service that cannot be reached or started: exit 3, why, and every report', () => {
  it('an unreachable URL: names the URL and the last error', async () => {
    const port = await closedPort();
    const out = tempDir();
    const r = await runCli([
      'run',
      '--url',
      `http://127.0.0.1:${port}`,
      '--path',
      '/p',
      '--users',
      '1',
      '--duration',
      '1s',
      '--ready-timeout',
      '1s',
      '--slo',
      'p99 < 1s',
      '--out',
      out,
    ]);
    assertNotMeasured(r, out, new RegExp(`^http://127\\.0\\.0\\.1:${port}/ was not ready after 1 s \\(last answer: ECONNREFUSED\\)$`));
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  it('a command that exits at start: its exit code and output, at once (not after the ready timeout)', async () => {
    const dir = tempDir();
    const port = await closedPort();
    const file = writeFile(
      dir,
      'exits.yml',
      `service:\n  command: "sh -c 'echo boom >&2; exit 3'"\n  port: ${port}\n  ready: {timeout: 30s}\nrequest: {path: /p}\nload: {stages: [{duration: 1s, users: 1}]}\noutput: ${dir}/out\n`,
    );
    const r = await runCli(['run', '--config', file]);
    assertNotMeasured(r, join(dir, 'out'), /^the service exited with code 3 before it became ready; its last output:$/);
    assert.match(r.stderr, /^ {2}boom$/m);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms: the exit should end the wait`);
    assert.ok(existsSync(join(dir, 'out', 'service.log')));
    assert.match(readFileSync(join(dir, 'out', 'service.log'), 'utf8'), /boom/);
  });

  it('a command that never becomes ready: names the ready URL and its last answer, and stops the service', async () => {
    const out = tempDir();
    const r = await runCli([
      'run',
      '--command',
      serverCommand('--ready-path /ready --ready-status 503'),
      '--ready-path',
      '/ready',
      '--ready-timeout',
      '1500ms',
      '--path',
      '/p',
      '--users',
      '1',
      '--duration',
      '1s',
      '--out',
      out,
    ]);
    assertNotMeasured(
      r,
      out,
      /^http:\/\/127\.0\.0\.1:\d+\/ready was not ready after 1\.5 s \(last answer: HTTP 503\); the service's last output:$/,
    );
    assert.match(r.stderr, /^ {2}listening on http:\/\/127\.0\.0\.1:\d+$/m);
    await assertServiceGone(servicePid(r.stdout));
  });
});

describe('stopping a run', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} mid-run: exit 130, result.json "interrupted", the service stopped`, async () => {
      const out = tempDir();
      const cli = startCli(
        [
          'run',
          '--command',
          serverCommand('--delay-ms 10'),
          '--path',
          '/p',
          '--users',
          '2',
          '--pacing',
          '10/s',
          '--duration',
          '30s',
          '--progress-interval',
          '250ms',
          '--out',
          out,
        ],
        { timeoutMs: 20_000 },
      );
      await cli.waitFor(/^\[\d+s\/30s\] /m); // under load
      const sentAt = performance.now();
      cli.kill(signal);
      const r = await cli.exited;
      assert.equal(r.code, 130, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      assert.ok(performance.now() - sentAt < 5_000, 'exits within a few seconds');
      assert.match(r.stderr, new RegExp(`^loadgate: ${signal}: stopping the load`, 'm'));
      assert.doesNotMatch(r.stderr, /^\s+at /m);
      const result = readResult(out);
      assert.equal(result.status, 'interrupted');
      assert.equal(result.reason, `interrupted by ${signal}`);
      assert.ok(statsFor(result).requests > 0, 'what was measured is kept');
      assert.ok(result.durationMs < 10_000);
      await assertServiceGone(servicePid(r.stdout));
    });
  }

  it('the service gets its grace period: SIGTERM reaches it and it can finish shutting down', async () => {
    const out = tempDir();
    const cli = startCli(
      [
        'run',
        '--command',
        serverCommand('--sigterm-delay-ms 300'),
        '--path',
        '/p',
        '--users',
        '1',
        '--pacing',
        '5/s',
        '--duration',
        '30s',
        '--out',
        out,
      ],
      {
        timeoutMs: 20_000,
      },
    );
    await cli.waitFor(/^Service ready/m);
    cli.kill('SIGINT');
    const r = await cli.exited;
    assert.equal(r.code, 130);
    const log = readFileSync(join(out, 'service.log'), 'utf8');
    assert.match(log, /^got SIGTERM$/m);
    assert.match(log, /^bye$/m, `the service was killed before it finished shutting down:\n${log}`);
    await assertServiceGone(servicePid(r.stdout));
  });

  it('a second SIGINT exits at once and still leaves no service running (one that ignores SIGTERM)', async () => {
    const cli = startCli(
      [
        'run',
        '--command',
        serverCommand('--ignore-sigterm'),
        '--path',
        '/p',
        '--users',
        '1',
        '--pacing',
        '5/s',
        '--duration',
        '30s',
        '--out',
        tempDir(),
      ],
      {
        timeoutMs: 20_000,
      },
    );
    await cli.waitFor(/^Service ready/m);
    cli.kill('SIGINT');
    await cli.waitFor(/SIGINT: stopping the load/);
    await new Promise((res) => setTimeout(res, 300)); // now waiting for the service to stop
    const sentAt = performance.now();
    cli.kill('SIGINT');
    const r = await cli.exited;
    assert.equal(r.code, 130);
    assert.ok(performance.now() - sentAt < 2_000, 'the second signal does not wait for the grace period');
    assert.match(r.stderr, /SIGINT again: exiting now/);
    await assertServiceGone(servicePid(r.stdout));
  });

  it('SIGINT while waiting for readiness: exit 130, every report says so, the service stopped', async () => {
    const out = tempDir();
    const cli = startCli(
      [
        'run',
        '--command',
        serverCommand('--ready-path /ready --ready-status 503'),
        '--ready-path',
        '/ready',
        '--ready-timeout',
        '30s',
        '--path',
        '/p',
        '--users',
        '1',
        '--duration',
        '1s',
        '--out',
        out,
      ],
      { timeoutMs: 20_000 },
    );
    await cli.waitFor(/^Started the service/m);
    await new Promise((res) => setTimeout(res, 500));
    cli.kill('SIGINT');
    const r = await cli.exited;
    assert.equal(r.code, 130);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    const result = readResult(out);
    assert.equal(result.status, 'not-started');
    assert.equal(result.reason, 'interrupted by SIGINT while waiting for the service to become ready, before the load started');
    assert.ok(existsSync(join(out, 'junit.xml')));
    await assertServiceGone(servicePid(r.stdout));
  });
});

describe('the service dying mid-run', () => {
  it('ends the run "aborted" with the exit in the reason, writes result.json, exit 3 (not measured as planned)', async () => {
    const out = tempDir();
    const r = await runCli([
      'run',
      '--command',
      serverCommand('--exit-after-ms 1000 --exit-code 4'),
      '--path',
      '/p',
      '--users',
      '2',
      '--pacing',
      '5/s',
      '--duration',
      '20s',
      '--out',
      out,
    ]);
    assert.equal(r.code, 3, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms: the run should stop when the service dies`);
    assert.match(r.stdout, /^Problem: the run was aborted: the service exited with code 4 during the run/m);
    assert.match(r.stdout, /^FAIL: no SLOs set, 1 problem with the run, run aborted\.$/m);
    const result = readResult(out);
    assert.equal(result.status, 'aborted');
    assert.match(
      result.reason ?? '',
      /^the service exited with code 4 during the run; its last output:\n.*exiting on purpose with code 4/s,
    );
    assert.ok(statsFor(result).requests > 0);
    assert.match(r.stdout, /^Run aborted: the service exited with code 4 during the run/m);
    assert.match(r.stderr, /^loadgate: the service exited with code 4 during the run/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  it('same without pacing (users send back to back)', async () => {
    const out = tempDir();
    const r = await runCli([
      'run',
      '--command',
      serverCommand('--exit-after-ms 1000 --exit-code 4'),
      '--path',
      '/p',
      '--users',
      '2',
      '--duration',
      '20s',
      '--out',
      out,
    ]);
    assert.doesNotMatch(r.stderr, /^\s+at /m, r.stderr);
    assert.equal(r.code, 3);
    assert.equal(readResult(out).status, 'aborted');
  });
});

describe('end to end against the example model service', () => {
  const EXAMPLE = join(REPO, 'examples', 'insurance-charges');

  it('runs a 1-2-1 user ramp from a YAML config: exit 0, no failures, the planned requests', async () => {
    const dir = tempDir('loadgate-e2e-');
    const file = writeFile(
      dir,
      'loadgate.yml',
      `service:
  command: node ${join(EXAMPLE, 'server.ts')} --port {port}
  ready:
    path: /api/health/ready
    timeout: 30s
request:
  name: prediction
  path: /api/models/insurance_charges_model/prediction
  body: {age: 42, sex: female, bmi: 31.5, children: 2, smoker: false, region: northwest}
  expect-status: 200
load:
  pacing: 2/s
  stages:
    - {duration: 1s, users: 1}
    - {duration: 1s, users: 2}
    - {duration: 1s, users: 1}
progress-interval: 1s
output: ${dir}/report
`,
    );
    // `node` in the command resolves through PATH: make it this Node 24.
    const r = await runCli(['run', '--config', file], { env: { PATH: PATH_WITH_NODE }, timeoutMs: 40_000 });
    assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const result = readResult(join(dir, 'report'));
    assert.equal(result.status, 'completed');
    const total = statsFor(result);
    assert.equal(total.failures, 0, JSON.stringify(result.failures));
    // User 1 runs 3 s and user 2 runs 1 s, 2 requests/s each: 6 + 2.
    assert.ok(Math.abs(total.requests - 8) <= 1, `${total.requests} requests, expected 8 +- 1`);
    assert.deepEqual(
      result.stages.map((s, i) => [s.users, statsFor(result, { stage: i }).requests]),
      [
        [1, 2],
        [2, 4],
        [1, 2],
      ],
    );
    await assertServiceGone(servicePid(r.stdout));
  });
});
