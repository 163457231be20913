// Stream SLOs end to end (issue 12): loadgate's CLI against the example LLM service (examples/llm-chat),
// shortened to 2 users for 3 s. Met SLOs exit 0; a breached TTFT SLO exits 1 with every report written,
// stream_stats.csv included; a server that buffers its answers is warned about in every report; a stream
// SLO in a config where nothing streams is a configuration error (exit 2, one message).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI, PATH_WITH_NODE, REPO, killChildren, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(() => {
  killChildren();
  removeTempDirs();
});

const CONFIG = join(REPO, 'examples', 'llm-chat', 'loadgate.yml');
// The example server reads these from the environment: none may leak in from the test's.
const env: Record<string, string | undefined> = { PATH: PATH_WITH_NODE };
for (const name of [
  'HOST',
  'PORT',
  'WORK_PER_TOKEN_MS',
  'MAX_CONCURRENCY',
  'FIRST_TOKEN_DELAY_MS',
  'TOKENS_PER_EVENT',
  'BUFFER',
  'API_KEY',
])
  env[name] = undefined;
const SHORT = ['--users', '2', '--duration', '3s'];
const slos = (...lines: string[]) => lines.flatMap((l) => ['--slo', l]);

describe('stream SLOs against the example LLM service', () => {
  test('met: exit 0, the stream table on the console and stream_stats.csv beside the reports', async () => {
    const out = join(tempDir(), 'report');
    const r = await runNode(
      [
        CLI,
        'run',
        '--config',
        CONFIG,
        ...SHORT,
        '--out',
        out,
        ...slos('p99 ttft < 5s', 'mean tpot < 1s', 'output-tps >= 1', 'attainment >= 50% for ttft < 5s, tpot < 1s', 'errors == 0'),
      ],
      { env, timeoutMs: 90_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Streamed answers +streams +TTFT p50 +TTFT p99/m);
    assert.match(r.stdout, /^Total +\d+ +[\d.]+ m?s .* tok\/s +\d+ tokens$/m);
    assert.match(r.stdout, /\[pass\] attainment >= 50% for ttft < 5s, tpot < 1s +observed 100\.0%/);
    assert.doesNotMatch(r.stdout, /most answers did not stream/);
    assert.ok(existsSync(join(out, 'stream_stats.csv')));
  });

  test('breached, from a server that buffers: exit 1, every report, and the warning in each', async () => {
    const out = join(tempDir(), 'report');
    const r = await runNode([CLI, 'run', '--config', CONFIG, ...SHORT, '--out', out, ...slos('p99 ttft < 1ms', 'errors == 0')], {
      env: { ...env, BUFFER: '1' },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /\[FAIL\] p99 ttft < 1ms +observed [\d.]+ m?s: p99 TTFT [\d.]+ m?s is above 1\.00 ms over the whole run/);
    const warning = /most answers did not stream: (\d+) of \1 came whole \(\1 buffered to the end of the stream\)/;
    assert.match(r.stdout, new RegExp(`^Warning: ${warning.source}`, 'm'));
    const read = (name: string) => readFileSync(join(out, name), 'utf8');
    for (const name of ['report.html', 'result.json', 'report.md', 'junit.xml', 'loadgate_stats.csv', 'stream_stats.csv']) {
      assert.ok(existsSync(join(out, name)), name);
    }
    assert.match(
      read('report.md').split('\n')[0]!,
      /^### ❌ FAIL: 1 of 2 SLOs breached · TTFT p99 [\d.]+ m?s, ITL p99 [\d.]+ m?s, [\d.]+ output tok\/s · /,
    );
    assert.match(read('report.md'), warning);
    assert.match(read('report.html'), warning);
    assert.match(read('junit.xml'), warning);
    assert.match(read('junit.xml'), /<failure message="p99 TTFT [\d.]+ m?s is above 1\.00 ms over the whole run" type="slo">/);
    const json = JSON.parse(read('result.json')) as { verdict: { pass: boolean; warnings?: string[] } };
    assert.equal(json.verdict.pass, false);
    assert.match(json.verdict.warnings![0]!, warning);
    const csv = read('stream_stats.csv').split('\r\n');
    const head = csv[0]!.split(',');
    const total = csv.find((l) => l.startsWith(',Aggregated,'))!.split(',');
    assert.equal(total[head.indexOf('Buffered Answers')], total[head.indexOf('Streams')]);
  });

  test('a stream SLO where no endpoint streams: exit 2, one message naming it, nothing started', async () => {
    const dir = tempDir();
    const config = writeFile(
      dir,
      'plain.yml',
      'service: {url: "http://127.0.0.1:9"}\nrequest: {path: /predict}\nload: {stages: [{duration: 1s, users: 1}]}\nslos:\n  - p99 ttft < 300ms\n',
    );
    const r = await runNode([CLI, 'run', '--config', config, '--out', join(dir, 'out')], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /plain\.yml:5 slos\[0\]: "p99 ttft < 300ms": ttft is measured on streamed answers, and no endpoint streams/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
