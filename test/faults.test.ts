// Faults a CI gate must survive without losing a report, leaving something running or passing a broken
// service (issue 16): hostile service output, a closed stdout, a report folder that cannot be written,
// every request failing with no SLOs. The CLI runs as users run it, in a child process, on 127.0.0.1.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inert } from '../src/console-text.ts';
import { startServer } from './helpers/http.ts';
import { runLoad } from '../src/load/engine.ts';
import { ConfigError, buildPlan, readConfigFile } from '../src/plan/config.ts';
import { HEADROOM, fitFileLimit, readFileLimit } from '../src/run/limits.ts';
import { runMonitor } from '../src/service/monitors.ts';
import { HEAD_BYTES, TAIL_BYTES, openOutput } from '../src/service/output.ts';
import { CLI, NODE, REPO, type Finished, eventually, killChildren, processAlive, runNode, start } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(killChildren);
after(removeTempDirs);

const SERVER = join(REPO, 'test', 'helpers', 'server.ts');

/** A bash script (for `ulimit`), its output collected. */
function runBash(script: string, timeoutMs = 30_000): Promise<Finished> {
  return start('/bin/bash', ['-c', script], { timeoutMs }).exited;
}

/** What a hostile service prints: workflow commands (indented too), terminal escapes, 8-bit CSI, a bidi override. */
const HOSTILE = [
  '::error file=src/app.py,line=1::injected annotation',
  '   ::add-mask::loadgate',
  '::stop-commands::pwned',
  '##[error]legacy command',
  '\x1b]0;owned title\x07\x1b[2J\x9b31m red \u202eevil',
];

describe('text from the service is inert wherever loadgate prints it', () => {
  it('inert(): workflow commands defused, controls and bidi overrides escaped, newlines kept', () => {
    const out = inert(HOSTILE.join('\n'));
    const lines = out.split('\n');
    assert.equal(lines.length, HOSTILE.length);
    for (const line of lines) {
      assert.doesNotMatch(line.trimStart(), /^(::|##\[)/, line);
      assert.doesNotMatch(line, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, line);
    }
    assert.equal(lines[1], '   \\::add-mask::loadgate');
    assert.equal(lines[4], '\\x1b]0;owned title\\x07\\x1b[2J\\x9b31m red \\u202eevil');
  });

  it('a service that dies printing workflow commands and escapes: the CLI output carries none of them', async () => {
    const dir = tempDir();
    const script = writeFile(dir, 'hostile.ts', `process.stdout.write(${JSON.stringify(`${HOSTILE.join('\n')}\n`)}); process.exit(3);\n`);
    const out = join(dir, 'out');
    const r = await runNode([
      CLI,
      'run',
      '--command',
      `${NODE} ${script} {port}`,
      '--path',
      '/',
      '--users',
      '1',
      '--duration',
      '1s',
      '--out',
      out,
    ]);
    assert.equal(r.code, 3, r.stderr);
    const all = `${r.stdout}\n${r.stderr}`;
    assert.match(all, /injected annotation/, 'the service output is still shown');
    for (const line of all.split('\n')) {
      assert.doesNotMatch(line.trimStart(), /^(::|##\[)/, `a workflow command reached the log: ${JSON.stringify(line)}`);
      assert.doesNotMatch(
        line,
        /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/,
        `a control character reached the log: ${JSON.stringify(line)}`,
      );
    }
  });
});

describe('a closed stdout (loadgate run ... | head -1)', () => {
  it('EPIPE is ignored: the run completes, every report is written, no stack trace', async () => {
    const srv = await startServer();
    const out = tempDir();
    // A pipe whose reader has gone: stdout is closed before loadgate prints its first line.
    const child = spawn(
      NODE,
      [
        CLI,
        'run',
        '--url',
        srv.url,
        '--path',
        '/',
        '--users',
        '1',
        '--pacing',
        '10/s',
        '--duration',
        '1500ms',
        '--progress-interval',
        '100ms',
        '--out',
        out,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    await srv.close();
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|^\s+at /m, stderr);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { status: string };
    assert.equal(result.status, 'completed');
    assert.ok(existsSync(join(out, 'junit.xml')));
  });
});

describe('a report folder that cannot be written', () => {
  it('is bad input: one line naming the folder, exit 2, no stack trace, nothing started', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await runNode([
      CLI,
      'run',
      '--command',
      `${NODE} ${SERVER} --port {port}`,
      '--path',
      '/',
      '--users',
      '1',
      '--duration',
      '1s',
      '--out',
      join(file, 'out'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^loadgate: cannot create the report folder .*not-a-folder\/out: ENOTDIR/);
    assert.doesNotMatch(r.stderr, /^\s+at |internal error/m);
    assert.doesNotMatch(r.stdout, /Started the service/);
  });
});

describe('no SLOs set', () => {
  it('a run in which every request failed fails (exit 1), and says why', async () => {
    // Ready, but every prediction fails.
    const srv = await startServer({ handler: (req, res) => res.writeHead(req.url === '/ready' ? 200 : 503).end() });
    const out = tempDir();
    const r = await runNode([
      CLI,
      'run',
      '--url',
      srv.url,
      '--path',
      '/p',
      '--ready-path',
      '/ready',
      '--users',
      '1',
      '--pacing',
      '10/s',
      '--duration',
      '1s',
      '--out',
      out,
    ]);
    await srv.close();
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^Problem: no request succeeded: all \d+ failed/m);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { verdict: { pass: boolean } };
    assert.equal(result.verdict.pass, false);
  });

  it('a run with some successes passes (exit 0)', async () => {
    let n = 0;
    const srv = await startServer({ handler: (_req, res) => res.writeHead(n++ % 2 ? 500 : 200).end() });
    const r = await runNode([
      CLI,
      'run',
      '--url',
      srv.url,
      '--path',
      '/',
      '--users',
      '1',
      '--pacing',
      '10/s',
      '--duration',
      '1s',
      '--out',
      tempDir(),
    ]);
    await srv.close();
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
});

describe('monitor commands that time out', () => {
  it('their whole process group is killed, not only the shell', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'child.pid');
    // The shell starts a long sleep in the background (same group) and waits: the timeout must end both.
    const failures: string[] = [];
    const stop = runMonitor(
      { name: 'slow', command: `sleep 30 & echo $! > ${pidFile}; wait`, everyMs: 60_000, timeoutMs: 300 },
      () => {},
      (why) => failures.push(why),
    );
    assert.ok(await eventually(() => failures.length > 0, 5000), 'the timeout was reported');
    assert.match(failures[0]!, /timed out after 300 ms/);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(await eventually(() => !processAlive(sleeper), 2000), `the monitor's child ${sleeper} outlived the timeout`);
    await stop();
  });
});

describe('the resource watcher out of file descriptors', () => {
  it('under ulimit -n 64 with every descriptor taken, the process sampler says so once and never crashes', async () => {
    const script = `
      import { openSync } from 'node:fs';
      import { sampleProcessGroup } from ${JSON.stringify(join(REPO, 'src', 'service', 'sample-process.ts'))};
      const problems = [];
      const stop = sampleProcessGroup(process.pid, 50, () => {}, (p) => problems.push(p));
      // Take every descriptor left: the sampler's readdir of /proc now fails with EMFILE.
      for (let i = 0; i < 1000; i++) { try { openSync('/dev/null', 'r'); } catch { break; } }
      setTimeout(async () => { await stop(); console.log(JSON.stringify(problems)); }, 400);
    `;
    const dir = tempDir();
    const file = writeFile(dir, 'sampler.mts', script);
    const r = await runBash(`ulimit -n 64; exec ${NODE} ${file}`);
    assert.equal(r.code, 0, r.stderr);
    const problems = JSON.parse(r.stdout) as string[];
    assert.equal(problems.length, 1, r.stdout);
    assert.match(problems[0]!, /could not read \/proc for some samples .*EMFILE/);
  });
});

describe('a fixed port held by another process', () => {
  it('is refused before the service starts: exit 3, the holder named, every report written', async () => {
    const holder = await startServer();
    const port = Number(new URL(holder.url).port);
    const out = tempDir();
    const r = await runNode([
      CLI,
      'run',
      '--command',
      `${NODE} ${SERVER} --port ${port}`,
      '--port',
      String(port),
      '--path',
      '/',
      '--users',
      '1',
      '--duration',
      '1s',
      '--out',
      out,
    ]);
    await holder.close();
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`port ${port} is already in use by pid ${process.pid} \\(`));
    assert.doesNotMatch(r.stdout, /Started the service/);
    assert.equal((JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { status: string }).status, 'not-started');
  });

  it('what answers readiness must be the process loadgate started, not one that held the port first', async () => {
    const holder = await startServer();
    const port = Number(new URL(holder.url).port);
    // The started command cannot bind (the port is taken) but lives on; the holder answers readiness.
    const svc = await import('../src/service/service.ts');
    const started = await svc.startService({
      kind: 'command',
      command: 'sleep 20',
      cwd: REPO,
      env: {},
      port: 0,
      baseUrl: holder.url,
      onExit: 'stop',
    });
    try {
      // On the holder's port, the command's check names the holder: outside its group, and there first.
      const { strangerListener } = await import('../src/service/port-owner.ts');
      assert.match(strangerListener(port, started.pid!) ?? '', new RegExp(`^pid ${process.pid} \\(`));
      const ready = svc.waitUntilReady(
        { ...started, answeredByStranger: () => `held by ${strangerListener(port, started.pid!)}` },
        { path: '/', timeoutMs: 2000, okStatus: [[200, 399]] },
      );
      await assert.rejects(ready, /held by pid \d+/);
    } finally {
      await started.stop(500);
      await holder.close();
    }
  });
});

describe('the service log is bounded', () => {
  it('keeps the head and the tail, and says how much was dropped between them', async () => {
    const dir = tempDir();
    const file = join(dir, 'service.log');
    const o = openOutput(file, { head: 100, tail: 100 });
    for (let i = 0; i < 1000; i++) o.keep(Buffer.from(`line ${String(i).padStart(4, '0')}\n`));
    assert.deepEqual(o.tail.last(2), ['line 0998', 'line 0999']);
    await o.close();
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith('line 0000\nline 0001\n'), 'the head is kept');
    assert.ok(text.endsWith('line 0998\nline 0999\n'), 'the tail is kept');
    assert.match(text, /\[loadgate: \d+ bytes of the service's output dropped here; the first 100 and the last \d+ bytes are kept\]/);
    assert.ok(text.length < 400, `${text.length} characters`);
    assert.ok(o.dropped() > 9000);
  });

  it('a service that logs without pause: service.log stays under its cap, the run completes', async () => {
    const out = tempDir();
    const r = await runNode([
      CLI,
      'run',
      '--command',
      `${NODE} ${SERVER} --port {port} --log-flood`,
      '--path',
      '/',
      '--users',
      '1',
      '--pacing',
      '10/s',
      '--duration',
      '2s',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const size = statSync(join(out, 'service.log')).size;
    // The tail may hold one chunk (64 KiB from a pipe) past its cap.
    assert.ok(size <= HEAD_BYTES + TAIL_BYTES + (1 << 17), `service.log is ${size} bytes`);
    assert.match(
      readFileSync(join(out, 'service.log'), 'utf8').slice(HEAD_BYTES, HEAD_BYTES + 300),
      /bytes of the service's output dropped here/,
    );
  });
});

describe('HTTPS with a self-signed certificate', () => {
  it('fails fast (not after the ready timeout) naming the certificate problem and NODE_EXTRA_CA_CERTS; trusted with it', async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const gen = await start(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      {},
    ).exited;
    assert.equal(gen.code, 0, gen.stderr);
    const srv = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end('ok'));
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const args = [
        CLI,
        'run',
        '--url',
        url,
        '--path',
        '/',
        '--users',
        '1',
        '--pacing',
        '5/s',
        '--duration',
        '1s',
        '--ready-timeout',
        '30s',
      ];
      const r = await runNode([...args, '--out', tempDir()], { env: { NODE_EXTRA_CA_CERTS: undefined } });
      assert.equal(r.code, 3, r.stderr);
      assert.ok(r.ms < 10_000, `took ${r.ms} ms: a certificate problem does not wait for the ready timeout`);
      assert.match(
        r.stderr,
        /TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT: self[- ]signed certificate\).*NODE_EXTRA_CA_CERTS=/,
      );
      const trusted = await runNode([...args, '--out', tempDir()], { env: { NODE_EXTRA_CA_CERTS: cert } });
      assert.equal(trusted.code, 0, trusted.stderr);
    } finally {
      srv.closeAllConnections();
      await new Promise((res) => srv.close(res));
    }
  });
});

describe('smaller faults', () => {
  it('a YAML alias bomb is a config error (exit 2, one line), not an internal error', async () => {
    const dir = tempDir();
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const file = writeFile(dir, 'bomb.yml', `${levels.join('\n')}\nservice: {url: http://127.0.0.1:9}\n`);
    const r = await runNode([CLI, 'run', '--config', file, '--path', '/', '--users', '1', '--duration', '1s'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^loadgate: .*bomb\.yml: invalid YAML: .*alias/);
    assert.doesNotMatch(r.stderr, /^\s+at |internal error/m);
  });

  it('rate: 0 (or users: 0) in every stage is a config error; a pause between stages is not', async () => {
    const dir = tempDir();
    const cfg = (stages: string) =>
      writeFile(dir, `c${Math.random()}.yml`, `service: {url: http://127.0.0.1:9}\nrequest: {path: /}\nload: {stages: ${stages}}\n`);
    const zero = await runNode([CLI, 'run', '--config', cfg('[{duration: 1s, rate: 0}, {duration: 1s, rate: 0}]')]);
    assert.equal(zero.code, 2, zero.stderr);
    assert.match(zero.stderr, /load\.stages: every stage has rate: 0, so nothing would be sent/);
    const users = await runNode([CLI, 'run', '--config', cfg('[{duration: 1s, users: 0}]')]);
    assert.equal(users.code, 2, users.stderr);
    assert.match(users.stderr, /every stage has users: 0/);
    assert.doesNotThrow(() => buildPlan(readConfigFile(cfg('[{duration: 1s, rate: 5}, {duration: 1s, rate: 0}]'))));
  });

  it('"due requests were never sent" after an interrupt counts only requests that were due', async () => {
    const srv = await startServer({ delayMs: 5 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('test stop')), 500);
    const result = await runLoad({
      baseUrl: srv.url,
      endpoints: [{ name: 'p', method: 'GET', path: '/', headers: {}, body: { kind: 'none' }, weight: 1, okStatus: [[200, 399]] }],
      load: { model: 'open', maxInFlight: 100, stages: [{ name: 's', durationMs: 10_000, rate: 100, ramp: false }] },
      timeoutMs: 2000,
      seed: 1,
      warmupMs: 0,
      signal: stop.signal,
    }).finally(() => srv.close());
    assert.equal(result.status, 'interrupted');
    // 100/s stopped at 0.5 s: about 50 sent, and the 950 not yet due are not "unsent".
    assert.ok(result.unsent < 10, `${result.unsent} unsent`);
  });
});

describe('an unreachable container daemon', () => {
  it('with pull: never says the daemon did not answer, not that the image is missing', async () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'c.yml',
      'service: {image: "loadgate-test/none:1", port: 8000, pull: never}\nrequest: {path: /}\nload: {stages: [{duration: 1s, users: 1}]}\n',
    );
    const r = await runNode([CLI, 'run', '--config', file, '--out', join(dir, 'out')], {
      env: { DOCKER_HOST: `unix://${join(dir, 'no-daemon.sock')}` },
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /cannot ask docker whether image loadgate-test\/none:1 is on this machine.*Cannot connect to the Docker daemon/);
    assert.doesNotMatch(r.stderr, /is not on this machine/);
  });
});

describe('the open-file limit is part of the plan', () => {
  it('a plan that cannot fit under ulimit -n 1024 is refused: exit 2, one line saying what to change, nothing started', async () => {
    const out = tempDir();
    const r = await runBash(
      `ulimit -n 1024; exec ${NODE} ${CLI} run --command "${NODE} ${SERVER} --port {port}" --path / --users 2000 --duration 2s --out ${out}`,
    );
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^loadgate: load: the plan needs up to 2256 open files \(2000 connections plus 256 for the rest\), but the hard limit here is 1024 \(ulimit -Hn\): lower users \(2000 at the peak\) to at most 768/,
    );
    assert.doesNotMatch(r.stdout, /Started the service/);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  });

  it('the largest plan the README allows (users: 100000) is refused at once on a machine whose hard limit is lower', async (t) => {
    const hard = readFileLimit()!.hard;
    if (hard >= 100_000 + HEADROOM) return t.skip(`the hard limit here is ${hard}`);
    const r = await runNode([
      CLI,
      'run',
      '--url',
      'http://127.0.0.1:9',
      '--path',
      '/',
      '--users',
      '100000',
      '--duration',
      '1s',
      '--out',
      tempDir(),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`needs up to 100256 open files .* hard limit here is ${hard}`));
  });

  it('the soft limit is raised to the hard one when the plan needs it (prlimit), or the plan refused saying why', () => {
    const load = { model: 'closed' as const, perUserRate: 0, stages: [{ name: 's', durationMs: 1000, users: 2000, spawnRate: 1 }] };
    let limit = { soft: 1024, hard: 20_000 };
    const raise = (to: number) => {
      limit = { soft: to, hard: to };
      return null;
    };
    const raised = fitFileLimit(load, { read: () => limit, raise });
    assert.equal(raised, 'Raised the open-file limit from 1024 to 20000 (the plan needs up to 2256)');
    limit = { soft: 1024, hard: 20_000 };
    assert.throws(
      () => fitFileLimit(load, { read: () => limit, raise: () => 'prlimit (util-linux) is not installed' }),
      (e: Error) =>
        e instanceof ConfigError &&
        /soft limit is 1024 and could not be raised \(prlimit \(util-linux\) is not installed\): run `ulimit -n 20000` before loadgate, or lower users \(2000 at the peak\) to at most 768/.test(
          e.message,
        ),
    );
    // The real prlimit on this process: raising to the hard limit it already has works.
    assert.equal(fitFileLimit({ ...load, stages: [{ ...load.stages[0]!, users: 1 }] }), null);
  });

  it('a plan that fits, under ulimit -n 1024, runs (the sampler and the load share the descriptors)', async () => {
    const out = tempDir();
    const r = await runBash(
      `ulimit -n 1024; exec ${NODE} ${CLI} run --command "${NODE} ${SERVER} --port {port}" --path / --users 700 --pacing 1/s --duration 2s --out ${out}`,
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
});
