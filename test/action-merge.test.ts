// A sharded load in a workflow, as GitHub runs it: two shard jobs (the `shard` input) load a local server
// together and upload their results; a merge job (`merge: true`) lists the run's artifacts, downloads the
// shards' through the real @actions/artifact client, merges them and publishes one artifact, one job
// summary, one sticky comment, the outputs and the gate. Each job is the action run from the sources
// (src/index.ts, as dist/main.js is built from it) in a child Node 24 process with the runner's files and
// variables; the artifact service and the REST API are loopback fakes (test/helpers/github.ts), each job
// with its own runtime token, as matrix jobs have.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError, readInputs } from '../src/action/inputs.ts';
import { type RunResult, parseRunResult, statsFor } from '../src/metrics/result.ts';
import { namePattern, shardArtifactName } from '../src/publish/artifact.ts';
import { type FakeGitHub, runtimeToken, startFakeGitHub, zipEntries } from './helpers/github.ts';
import { closeAllServers, startServer } from './helpers/http.ts';
import { type Finished, PATH_WITH_NODE, REPO, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const MAIN = join(REPO, 'src', 'index.ts');
const RATE = 20;
const SECONDS = 3;

after(killChildren);
after(closeAllServers);
after(removeTempDirs);

interface Job extends Finished {
  outputs: Record<string, string>;
  summary: string;
  dir: string;
}

// Whatever GitHub-ish variables the test process itself has (tests also run on GitHub) stay out.
const cleared = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => /^(GITHUB_|INPUT_|ACTIONS_|RUNNER_|STATE_)/.test(k))
    .map((k) => [k, undefined]),
);

/** One job of workflow run 4242 on pull request 7: `job` names it, `token` is its runtime token's job number. */
function runJob(gh: FakeGitHub, job: string, token: number, inputs: Record<string, string>, attempt = '1'): Promise<Job> {
  const dir = tempDir('loadgate-job-');
  const files = { GITHUB_OUTPUT: 'github_output', GITHUB_STEP_SUMMARY: 'step_summary', GITHUB_STATE: 'github_state' };
  for (const f of Object.values(files)) writeFile(dir, f, '');
  const env = {
    ...cleared,
    PATH: PATH_WITH_NODE,
    ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(dir, f)])),
    GITHUB_EVENT_PATH: writeFile(dir, 'event.json', JSON.stringify({ action: 'synchronize', pull_request: { number: 7 } })),
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: attempt,
    GITHUB_JOB: job,
    GITHUB_ACTION: '__self',
    GITHUB_WORKSPACE: dir,
    GITHUB_API_URL: gh.url,
    GITHUB_SERVER_URL: undefined,
    ACTIONS_RUNTIME_TOKEN: runtimeToken(token),
    ACTIONS_RESULTS_URL: `${gh.url}/`,
    'INPUT_GITHUB-TOKEN': 't0ken',
    ...Object.fromEntries(
      Object.entries({ 'report-dir': join(dir, 'report'), ...inputs }).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
    ),
  };
  return startNode([MAIN], { cwd: dir, env, timeoutMs: 90_000 }).exited.then((r) => ({
    ...r,
    outputs: parseFileCommands(readFileSync(join(dir, 'github_output'), 'utf8')),
    summary: readFileSync(join(dir, 'step_summary'), 'utf8'),
    dir,
  }));
}

/** `name<<DELIM\nvalue\nDELIM` blocks, as @actions/core appends them. */
function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]!] = m[3]!;
  return out;
}

const read = (dir: string): RunResult => parseRunResult(readFileSync(join(dir, 'report', 'result.json'), 'utf8'));

describe('shard jobs upload their parts; the merge job publishes one verdict', () => {
  let gh: FakeGitHub;
  let url = '';
  let shards: Job[] = [];
  const shardInputs = (shard: string) => ({
    'service-url': url,
    endpoint: 'GET /p',
    rate: String(RATE),
    duration: `${SECONDS}s`,
    slos: 'p99 < 2s\nerrors == 0',
    shard,
  });

  after(() => gh?.close());

  before(async () => {
    gh = await startFakeGitHub();
    url = (await startServer({ delayMs: 10 })).url;
    // Two matrix jobs, at the same time, each with its own runtime token.
    shards = await Promise.all([runJob(gh, 'load', 1, shardInputs('1/2')), runJob(gh, 'load', 2, shardInputs('2/2'))]);
  });

  it('each shard job uploads its result as loadgate-shard-<i>-of-2, posts no comment, and says so in one line', () => {
    shards.forEach((r, i) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const name = `loadgate-shard-${i + 1}-of-2`;
      const a = gh.artifacts.find((x) => x.name === name);
      assert.ok(a, `${name} uploaded: ${gh.artifacts.map((x) => x.name).join(', ')}`);
      assert.ok(a.entries.includes('result.json'), a.entries.join(', '));
      assert.equal(r.outputs['artifact-id'], String(a.id));
      assert.equal(r.outputs['comment-url'], '');
      assert.match(r.stdout, /^A shard posts no PR comment: the merge job \(merge: true\) posts the whole load's\.$/m);
      const lines = r.summary.trim().split('\n');
      assert.equal(lines.length, 1, r.summary);
      assert.match(
        lines[0]!,
        new RegExp(`^loadgate shard ${i + 1}/2: completed, \\d+ requests, 0 failures, uploaded as the artifact \`${name}\`; the merge job`),
      );
    });
    assert.equal(gh.comments(7).length, 0);
    assert.ok(!gh.calls.some((c) => c.includes('/issues/')), gh.calls.join('\n'));
  });

  it('the merge job downloads them through the artifact client and publishes the whole load: counts are the sums', async () => {
    const r = await runJob(gh, 'merge', 3, { merge: 'true' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // The artifact client's own calls: the run's list, then for each shard a signed URL and the blob.
    assert.equal(gh.calls.filter((c) => c.endsWith('.ArtifactService/ListArtifacts')).length, 3, gh.calls.join('\n'));
    assert.equal(gh.calls.filter((c) => c.endsWith('.ArtifactService/GetSignedArtifactURL')).length, 2);
    assert.equal(gh.calls.filter((c) => /^GET \/download\/\d+\.zip\?sig=fake$/.test(c)).length, 2);
    assert.match(r.stdout, /^Merged loadgate-shard-1-of-2 \(artifact \d+\)$/m);
    assert.match(r.stdout, /^Merged loadgate-shard-2-of-2 \(artifact \d+\)$/m);

    const merged = read(r.dir);
    const parts = shards.map((s) => read(s.dir));
    assert.equal(statsFor(merged).requests, statsFor(parts[0]!).requests + statsFor(parts[1]!).requests);
    assert.equal(statsFor(merged).requests, RATE * SECONDS, "the plan's whole schedule");
    assert.deepEqual(
      merged.plan?.shards?.map((s) => [s.index, s.status, s.from]),
      [
        [0, 'completed', 'artifact loadgate-shard-1-of-2'],
        [1, 'completed', 'artifact loadgate-shard-2-of-2'],
      ],
    );
    // One artifact of the merged reports, one summary, one comment, the outputs.
    const a = gh.artifacts.find((x) => x.name === 'loadgate-merge-1');
    assert.ok(a, gh.artifacts.map((x) => x.name).join(', '));
    for (const f of ['result.json', 'report.html', 'report.md', 'junit.xml']) assert.ok(zipEntries(a.zip).includes(f), f);
    assert.match(r.summary, /^### ✅ PASS: all 2 SLOs met · loadgate · merge$/m);
    const comments = gh.comments(7);
    assert.equal(comments.length, 1);
    assert.ok(comments[0]!.body.startsWith('<!-- loadgate:merge:merge -->\n### ✅ PASS'), comments[0]!.body.slice(0, 200));
    assert.equal(r.outputs['comment-url'], comments[0]!.html_url);
    assert.equal(r.outputs['verdict'], 'pass');
    assert.equal(r.outputs['status'], 'pass');
    assert.equal(r.outputs['artifact-id'], String(a.id));
    assert.ok(Math.abs(Number(r.outputs['rps']) - RATE) < RATE * 0.2, `rps ${r.outputs['rps']}`);
  });

  it('a missing shard fails the merge job, naming it; everything is still published', async () => {
    const r = await runJob(gh, 'partial-merge', 4, { merge: 'true', 'merge-pattern': 'loadgate-shard-1-of-*' });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^Incomplete: shard 2\/2 is missing$/m);
    assert.match(r.stdout, /^::error::loadgate: .*incomplete run: shard 2\/2 is missing/m);
    assert.equal(r.outputs['verdict'], 'fail');
    assert.ok(gh.artifacts.some((x) => x.name === 'loadgate-partial-merge-1'));
    assert.match(r.summary, /FAIL/);
    assert.equal(statsFor(read(r.dir)).requests, statsFor(read(shards[0]!.dir)).requests, "shard 1's part only");
    // Allowed: judged on what was measured, still named.
    const allowed = await runJob(gh, 'partial-allowed', 5, {
      merge: 'true',
      'merge-pattern': 'loadgate-shard-1-of-*',
      'allow-incomplete': 'true',
    });
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.match(allowed.stdout, /^Allowed, incomplete: shard 2\/2 is missing$/m);
  });

  it('a re-run shard counts once, its newest upload (late, so only allowed as incomplete)', async () => {
    const again = await runJob(gh, 'load', 6, shardInputs('2/2'), '2');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.ok(gh.artifacts.some((x) => x.name === 'loadgate-shard-2-of-2-attempt-2'));
    // Re-run alone, it loaded the service later than shard 1 did: the merge says so.
    const r = await runJob(gh, 'rerun-merge', 7, { merge: 'true', 'allow-incomplete': 'true' }, '2');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^Allowed, incomplete: shard 2\/2 \(artifact loadgate-shard-2-of-2-attempt-2\) started [\d.]+ s after the first/m,
    );
    assert.match(r.stdout, /^loadgate-shard-2-of-2 left out: loadgate-shard-2-of-2-attempt-2 is a newer upload of shard 2\/2$/m);
    assert.deepEqual(
      read(r.dir).plan?.shards?.map((s) => s.from),
      ['artifact loadgate-shard-1-of-2', 'artifact loadgate-shard-2-of-2-attempt-2'],
    );
  });

  it('no artifact matches, or a merged one does: one clear message, nothing published', async () => {
    const r = await runJob(gh, 'empty-merge', 8, { merge: 'true', 'merge-pattern': 'other-*' });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^::error::loadgate: no artifact of this workflow run matches "other-\*" \(it has [^)]*loadgate-shard-1-of-2[^)]*\): the shard jobs upload theirs/m,
    );
    assert.equal(r.stdout.match(/^::error/gm)?.length, 1, r.stdout);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
    assert.ok(!gh.artifacts.some((x) => x.name === 'loadgate-empty-merge-1'));
    // A pattern wide enough to take a merge job's own report: refused, saying so.
    const wide = await runJob(gh, 'wide-merge', 9, { merge: 'true', 'merge-pattern': 'loadgate-*' });
    assert.equal(wide.code, 1, wide.stdout + wide.stderr);
    assert.match(
      wide.stdout,
      /^::error::loadgate: artifact loadgate-merge-1 holds a merged result, not a shard's: narrow merge-pattern \(default loadgate-shard-\*\)$/m,
    );
  });
});

describe('merge inputs', () => {
  const inputs = (given: Record<string, string>) => readInputs((name) => given[name] ?? '');

  it('merge: true takes no input that shapes a run but report-dir and allow-incomplete; merge-pattern needs it', () => {
    assert.deepEqual(inputs({ merge: 'true', 'report-dir': 'out' }).merge, { pattern: 'loadgate-shard-*', allowIncomplete: false });
    assert.throws(
      () => inputs({ merge: 'true', 'service-url': 'http://127.0.0.1:1', slos: 'p99 < 1s' }),
      (e: Error) =>
        e instanceof InputError &&
        /^input "merge" is true: the job merges the shard jobs' results and runs nothing, so it takes no "service-url", "slos" \(the SLOs/.test(
          e.message,
        ),
    );
    assert.throws(() => inputs({ 'merge-pattern': 'x-*' }), /^InputError: input "merge-pattern" needs merge: true/);
    assert.deepEqual(inputs({ merge: 'true', 'allow-incomplete': 'true' }).merge, { pattern: 'loadgate-shard-*', allowIncomplete: true });
    assert.throws(
      () => inputs({ merge: 'true', 'allow-incomplete': 'maybe' }),
      /^InputError: input "allow-incomplete": expected true or false/,
    );
    assert.throws(() => inputs({ merge: 'true', 'merge-pattern': 'a/b' }), /input "merge-pattern": "a\/b" holds a character/);
  });

  it('shard artifact names and patterns', () => {
    assert.equal(shardArtifactName(undefined, { index: 2, count: 4 }, '1'), 'loadgate-shard-3-of-4');
    assert.equal(shardArtifactName(undefined, { index: 2, count: 4 }, '2'), 'loadgate-shard-3-of-4-attempt-2');
    assert.equal(shardArtifactName('api-3', { index: 2, count: 4 }, '2'), 'api-3');
    const re = namePattern('loadgate-shard-*');
    assert.ok(re.test('loadgate-shard-3-of-4') && re.test('loadgate-shard-3-of-4-attempt-2'));
    assert.ok(!re.test('loadgate-load-1') && !re.test('xloadgate-shard-1'));
    assert.ok(namePattern('a.b?').test('a.bc') && !namePattern('a.b?').test('axbc'));
  });
});

describe('workers: 2 in the action', () => {
  it('one service, two worker processes, one merged report, artifact and comment', async () => {
    const gh = await startFakeGitHub();
    after(() => gh.close());
    const service = `node -e "require('http').createServer((q, s) => setTimeout(() => s.end('ok'), 5)).listen(+process.argv[1], '127.0.0.1')" {port}`;
    const r = await runJob(gh, 'perf', 1, {
      'service-command': service,
      endpoint: 'GET /',
      rate: '30',
      duration: '2s',
      workers: '2',
      slos: 'errors == 0',
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.match(/^Started the service \(pid/gm)?.length, 1);
    assert.match(r.stdout, /^Started 2 workers \(pids \d+, \d+\)/m);
    const merged = read(r.dir);
    assert.equal(statsFor(merged).requests, 60);
    assert.deepEqual(
      merged.plan?.shards?.map((s) => s.status),
      ['completed', 'completed'],
    );
    assert.equal(gh.artifacts.length, 1);
    assert.equal(gh.artifacts[0]!.name, 'loadgate-perf-1');
    assert.ok(gh.artifacts[0]!.entries.includes('service.log'));
    assert.equal(gh.comments(7).length, 1);
    assert.equal(r.outputs['verdict'], 'pass');
  });
});
