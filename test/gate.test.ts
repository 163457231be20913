// The gate end to end: the CLI against the example model service, with SLOs it meets and SLOs it breaches.
// Every report is written in both cases; the exit code follows the verdict.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRunResult, statsFor } from '../src/metrics/result.ts';
import { REPORT_FILES } from '../src/report/write.ts';
import { CLI, PATH_WITH_NODE, REPO, killChildren, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(() => {
  killChildren();
  removeTempDirs();
});

const server = join(REPO, 'examples/insurance-charges/server.ts');

function config(slos: string[], opts: { duration?: string; extra?: string } = {}): string {
  return [
    'service:',
    `  command: node ${server} --host 127.0.0.1 --port {port} --extra-work-ms 5`,
    '  ready: /api/health/ready',
    'request:',
    '  name: prediction',
    '  path: /api/models/insurance_charges_model/prediction',
    '  body: {age: 42, sex: female, bmi: 24.0, children: 2, smoker: false, region: northwest}',
    'load:',
    '  pacing: 10/s',
    '  stages:',
    `    - {duration: ${opts.duration ?? '2s'}, users: 2}`,
    'slos:',
    ...slos.map((s) => `  - ${JSON.stringify(s)}`),
    opts.extra ?? '',
  ].join('\n');
}

function cli(args: string[]) {
  return runNode([CLI, 'run', ...args], { env: { PATH: PATH_WITH_NODE }, timeoutMs: 60_000 });
}

function reportFiles(out: string) {
  return Object.values(REPORT_FILES).filter((f) => existsSync(join(out, f)));
}

describe('the SLO gate', () => {
  it('exits 0 when every SLO is met, prints the checklist, writes every report', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const file = writeFile(dir, 'ok.yml', config(['p99 < 2s', 'errors == 0', 'peak-rps >= 5', 'rps >= 10']));
    const r = await cli(['--config', file, '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}\[pass\] p99 < 2s\s+observed \d/m);
    assert.match(r.stdout, /^ {2}\[pass\] errors == 0\s+observed 0$/m);
    assert.match(r.stdout, /^PASS: all 4 SLOs met\.$/m);
    assert.deepEqual(reportFiles(out), Object.values(REPORT_FILES));
    const json = JSON.parse(readFileSync(join(out, REPORT_FILES.json), 'utf8'));
    assert.equal(json.verdict.pass, true);
    assert.equal(json.verdict.outcomes.length, 4);
    assert.equal(json.verdict.outcomes[0].slo.source.line, 13, 'each SLO knows its config line');
    assert.ok(statsFor(parseRunResult(readFileSync(join(out, REPORT_FILES.json), 'utf8'))).requests >= 30);
    assert.match(readFileSync(join(out, REPORT_FILES.junit), 'utf8'), /<testsuite [^>]*tests="5" failures="0"/);
    assert.match(readFileSync(join(out, REPORT_FILES.markdown), 'utf8'), /PASS/);
    assert.match(readFileSync(join(out, REPORT_FILES.stats), 'utf8'), /^Type,Name,Request Count,Failure Count,Median Response Time/);
  });

  it('exits 1 on a breach, after writing every report; --no-fail reports it and exits 0', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    // 5 ms of model work per prediction: a 1 ms p99 cannot be met.
    const file = writeFile(dir, 'breach.yml', config(['p99 < 1ms', 'errors == 0']));
    const r = await cli(['--config', file, '--out', out]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}\[FAIL\] p99 < 1ms\s+observed [\d.]+ ms: p99 latency [\d.]+ ms is above 1\.00 ms over the whole run$/m);
    assert.match(r.stdout, /^FAIL: 1 of 2 SLOs breached\.$/m);
    assert.deepEqual(reportFiles(out), Object.values(REPORT_FILES), 'every report is written before the exit');
    assert.equal(JSON.parse(readFileSync(join(out, REPORT_FILES.json), 'utf8')).verdict.pass, false);
    assert.match(readFileSync(join(out, REPORT_FILES.junit), 'utf8'), /<testsuite [^>]*tests="3" failures="1"/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);

    const relaxed = await cli(['--config', file, '--out', join(dir, 'out2'), '--no-fail', '--duration', '1s', '--users', '1']);
    assert.equal(relaxed.code, 0, relaxed.stdout + relaxed.stderr);
    assert.match(relaxed.stdout, /^FAIL: 1 of 2 SLOs breached\.$/m);
    assert.match(relaxed.stdout, /--no-fail: exiting 0 despite the verdict/);
  });

  it('an abort-on-fail SLO stops the run early; the reports say which SLO stopped it', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const file = writeFile(dir, 'abort.yml', config(['p99 < 1ms, abort', 'errors == 0'], { duration: '30s' }));
    const r = await cli(['--config', file, '--out', out]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(r.ms < 15_000, `stopped early: took ${r.ms} ms of a 30 s plan`);
    assert.match(r.stdout, /^Stopped early: SLO "p99 < 1ms, abort" failed during the run\.$/m);
    const result = parseRunResult(readFileSync(join(out, REPORT_FILES.json), 'utf8'));
    assert.equal(result.status, 'aborted');
    assert.equal(result.abortedBy, 'p99 < 1ms, abort');
    assert.deepEqual(reportFiles(out), Object.values(REPORT_FILES));
  });

  it("--slo replaces the file's SLOs; --warm-up leaves the start out", async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'flags.yml', config(['p99 < 1ms']));
    const r = await cli(['--config', file, '--out', join(dir, 'out'), '--slo', 'errors == 0', '--slo', 'p99 < 5s', '--warm-up', '500ms']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS: all 2 SLOs met\.$/m);
    assert.match(r.stdout, /\[pass\] p99 < 5s/);
  });

  it('a bad SLO line is a config error naming its file line, exit 2, nothing started', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'bad.yml', config(['errors == 0', 'p99 < 100']));
    const r = await cli(['--config', file, '--out', join(dir, 'out')]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), `loadgate: ${file}:14 slos[1]: "p99 < 100": latency needs a unit: "100ms" or "100s"?`);
    assert.ok(!r.stdout.includes('Started the service'), 'the config is checked before anything starts');

    const stage = writeFile(dir, 'stage.yml', config(['p95 < 1s in stage 3']));
    const r2 = await cli(['--config', stage]);
    assert.equal(r2.code, 2);
    assert.match(
      r2.stderr,
      /stage\.yml:13 slos\[0\]: "p95 < 1s in stage 3": unknown stage "3" \(the run has 1 stage: 1\.\.1, or by name: "2 users"\)/,
    );

    const flag = await cli(['--config', stage, '--slo', 'p99 <= fast']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^loadgate: --slo \(slos\[0\]\): "p99 <= fast": expected a number with its unit, e.g\. 100ms, got "fast"$/m);
  });
});
