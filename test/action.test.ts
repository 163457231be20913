// The bundled action (dist/main.js, dist/post.js), run exactly as the runner runs it: a child Node 24 process
// with INPUT_* variables, the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE / GITHUB_EVENT_PATH files, and
// loopback fakes of the artifact service and the REST API (the real @actions/artifact client talks to them).
// The service under test is the example model service, started by the service-command input.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type FakeGitHub, runtimeToken, startFakeGitHub } from './helpers/github.ts';
import { DOCKER, busyboxImage, containersNamed, docker, dockerSkip, exampleImage } from './helpers/images.ts';
import { PATH_WITH_NODE, REPO, type Finished, eventually, groupAlive, killChildren, processAlive, startNode } from './helpers/process.ts';
import { startProxy, viaProxyName } from './helpers/proxy.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

const MAIN = join(REPO, 'dist', 'main.js');
const POST = join(REPO, 'dist', 'post.js');
const SERVER = join(REPO, 'examples', 'insurance-charges', 'server.ts');
const fakes: FakeGitHub[] = [];

after(async () => {
  killChildren();
  removeTempDirs();
  await Promise.all(fakes.map((f) => f.close()));
});

async function fakeGitHub(pageSize?: number): Promise<FakeGitHub> {
  const gh = await startFakeGitHub(pageSize ? { pageSize } : {});
  fakes.push(gh);
  return gh;
}

/** The example service under a short closed-model load, all from inputs. */
function serviceInputs(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'service-command': `node ${SERVER} --host 127.0.0.1 --port {port} --extra-work-ms 2`,
    preset: 'rest-model-service',
    model: 'insurance_charges_model',
    stages: '- {duration: 2s, users: 2}',
    pacing: '5/s',
    slos: 'p99 < 5s\nerrors == 0',
    ...overrides,
  };
}

interface ActionRun extends Finished {
  outputs: Record<string, string>;
  summary: string;
  state: string;
  dir: string;
}

interface RunOptions {
  gh: FakeGitHub;
  /** The event payload; default a pull_request event for PR 7. */
  event?: unknown;
  attempt?: string;
  dir?: string;
  env?: Record<string, string>;
}

// Whatever GitHub-ish variables the test process itself has (tests also run on GitHub) stay out.
const cleared = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => /^(GITHUB_|INPUT_|ACTIONS_|RUNNER_|STATE_)/.test(k))
    .map((k) => [k, undefined]),
);

function runnerEnv(o: RunOptions, dir: string, inputs: Record<string, string>): Record<string, string | undefined> {
  const files = { GITHUB_OUTPUT: 'github_output', GITHUB_STEP_SUMMARY: 'step_summary', GITHUB_STATE: 'github_state' };
  for (const f of Object.values(files)) writeFile(dir, f, '');
  const event = writeFile(dir, 'event.json', JSON.stringify(o.event ?? { action: 'synchronize', pull_request: { number: 7 } }));
  return {
    ...cleared,
    PATH: PATH_WITH_NODE,
    ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(dir, f)])),
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: o.attempt ?? '1',
    GITHUB_JOB: 'perf',
    GITHUB_ACTION: '__self',
    GITHUB_WORKSPACE: dir,
    GITHUB_API_URL: o.gh.url,
    // Unset: a non-github.com server makes the artifact client refuse ("GHES not supported").
    GITHUB_SERVER_URL: undefined,
    ACTIONS_RUNTIME_TOKEN: runtimeToken(),
    ACTIONS_RESULTS_URL: `${o.gh.url}/`,
    'INPUT_GITHUB-TOKEN': 't0ken',
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...o.env,
  };
}

function startAction(inputs: Record<string, string>, o: RunOptions) {
  const dir = o.dir ?? tempDir('loadgate-action-');
  const p = startNode([MAIN], { cwd: dir, env: runnerEnv(o, dir, { 'report-dir': join(dir, 'report'), ...inputs }), timeoutMs: 90_000 });
  const finished = p.exited.then(
    (r): ActionRun => ({
      ...r,
      outputs: parseFileCommands(readFileSync(join(dir, 'github_output'), 'utf8')),
      summary: readFileSync(join(dir, 'step_summary'), 'utf8'),
      state: readFileSync(join(dir, 'github_state'), 'utf8'),
      dir,
    }),
  );
  return { p, finished, dir };
}

function runAction(inputs: Record<string, string>, o: RunOptions): Promise<ActionRun> {
  return startAction(inputs, o).finished;
}

/** `name<<DELIM\nvalue\nDELIM` blocks, as @actions/core appends them. */
function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

const REPORTS = [
  'junit.xml',
  'loadgate_exceptions.csv',
  'loadgate_failures.csv',
  'loadgate_stats.csv',
  'loadgate_stats_history.csv',
  'report.html',
  'report.md',
  'result.json',
  'service.log',
];

describe('the action (dist/main.js as the runner runs it)', () => {
  it('uploads the report folder, sets outputs, writes the summary, keeps one sticky PR comment across runs', async () => {
    const gh = await fakeGitHub(30);
    // Someone else's 35 comments: with 30 per page, ours lands on the second page.
    gh.addComments(
      7,
      Array.from({ length: 35 }, (_, i) => `comment ${i}`),
    );

    const r1 = await runAction(serviceInputs(), { gh });
    assert.equal(r1.code, 0, r1.stdout + r1.stderr);
    assert.equal(gh.artifacts.length, 1);
    const a1 = gh.artifacts[0]!;
    assert.equal(a1.name, 'loadgate-perf-1');
    assert.deepEqual(a1.entries, REPORTS);

    assert.equal(r1.outputs['verdict'], 'pass');
    for (const k of ['p50-ms', 'p95-ms', 'p99-ms', 'rps']) assert.ok(Number(r1.outputs[k]) > 0, `${k} = ${r1.outputs[k]}`);
    assert.equal(r1.outputs['error-rate'], '0');
    assert.equal(r1.outputs['artifact-id'], String(a1.id));
    assert.equal(r1.outputs['artifact-url'], `https://github.com/o/r/actions/runs/4242/artifacts/${a1.id}`);
    assert.equal(r1.outputs['report-dir'], join(r1.dir, 'report'));
    assert.equal(r1.outputs['result-file'], join(r1.dir, 'report', 'result.json'));
    assert.ok(existsSync(r1.outputs['result-file']!));

    assert.match(r1.summary, /^### ✅ PASS: all 2 SLOs met · loadgate · perf$/m);
    assert.match(r1.summary, /```mermaid\nxychart-beta/);
    assert.match(r1.summary, new RegExp(`\\[Full report\\]\\(https://github\\.com/o/r/actions/runs/4242/artifacts/${a1.id}\\)`));

    const comments = gh.comments(7);
    assert.equal(comments.length, 36);
    const ours = comments[35]!;
    assert.ok(ours.body.startsWith('<!-- loadgate:perf:inputs -->\n### ✅ PASS'), ours.body.slice(0, 200));
    assert.match(ours.body, /\[Workflow run\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/4242\)/);
    assert.ok(ours.body.includes(`/actions/runs/4242/artifacts/${a1.id}`));
    assert.equal(r1.outputs['comment-url'], ours.html_url);
    assert.ok(
      gh.authorizations.every((h) => h === 'token t0ken'),
      gh.authorizations.join(', '),
    );
    assert.match(r1.stdout, /^::add-mask::t0ken$/m, 'the token is registered as a secret');

    // A re-run (attempt 2): a new artifact name, and the same comment updated in place (found on page 2).
    const before = gh.calls.length;
    const r2 = await runAction(serviceInputs(), { gh, attempt: '2' });
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.equal(gh.artifacts[1]?.name, 'loadgate-perf-2');
    const calls = gh.calls.slice(before).filter((c) => c.startsWith('GET /repos') || c.startsWith('POST /repos') || c.startsWith('PATCH'));
    assert.deepEqual(calls, [
      'GET /repos/o/r/issues/7/comments?per_page=100',
      'GET /repos/o/r/issues/7/comments?per_page=100&page=2',
      `PATCH /repos/o/r/issues/comments/${ours.id}`,
    ]);
    assert.equal(gh.comments(7).length, 36);
    assert.ok(gh.comments(7)[35]!.body.includes(`/artifacts/${gh.artifacts[1]!.id}`), 'the comment now links the new artifact');
    assert.equal(r2.outputs['comment-url'], ours.html_url);
  });

  it('an upload that fails is a warning: the verdict, outputs and summary stand; comment: false makes no comment', async () => {
    const gh = await fakeGitHub();
    gh.mode = 'artifacts-down';
    const r = await runAction(serviceInputs({ comment: 'false' }), { gh });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^::warning::Could not upload the reports as an artifact: .*They are in /m);
    assert.equal(gh.artifacts.length, 0);
    assert.equal(r.outputs['verdict'], 'pass');
    assert.equal(r.outputs['artifact-id'], '');
    assert.equal(r.outputs['artifact-url'], '');
    // No artifact, no claim of one: the summary says where the reports are (on the runner, for later steps).
    assert.match(
      r.summary,
      new RegExp(
        `Full report: not uploaded as an artifact; the HTML report, CSV and JSON are in \`${join(r.dir, 'report')}\` on the runner`,
      ),
    );
    assert.doesNotMatch(r.summary, /workflow artifact/);
    assert.ok(existsSync(join(r.dir, 'report', 'report.html')));
    assert.deepEqual(
      gh.calls.filter((c) => c.includes('/repos/')),
      [],
      'comment: false: no call to the comments API',
    );
    assert.equal(r.outputs['comment-url'], '');
  });

  it('behind a proxy (HTTP_PROXY): the artifact upload and the PR comment both go through it', async () => {
    const gh = await fakeGitHub();
    const proxy = await startProxy();
    try {
      const api = viaProxyName(gh.url);
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, GITHUB_API_URL: api, ACTIONS_RESULTS_URL: `${api}/` };
      const r = await runAction(serviceInputs(), { gh, env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(gh.artifacts.length, 1);
      assert.equal(gh.comments(7).length, 1, r.stdout);
      // The twirp calls tunnelled (CONNECT), the Azure blob PUTs forwarded (that client proxies even 127.0.0.1), and
      // the comment's REST calls through it one way or the other (undici 8 forwards plain http:// targets).
      const port = new URL(api).port;
      assert.ok(
        proxy.seen.every((s) => s.includes(`:${port}`)),
        proxy.seen.join('\n'),
      );
      const through = proxy.requests();
      for (const call of [
        'POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact',
        'GET /repos/o/r/issues/7/comments?per_page=100',
        'POST /repos/o/r/issues/7/comments',
      ]) {
        assert.ok(through.includes(call), `${call} went round the proxy: ${through.join(', ')}`);
      }
    } finally {
      await proxy.close();
    }
  });

  it('on GitHub Enterprise Server: no upload attempted, one line saying where the reports are, no artifact claimed', async () => {
    const gh = await fakeGitHub();
    const r = await runAction(serviceInputs({ comment: 'false' }), { gh, env: { GITHUB_SERVER_URL: 'https://ghes.example.com' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      gh.calls.filter((c) => c.includes('twirp') || c.includes('/blob/')),
      [],
    );
    assert.doesNotMatch(r.stdout, /::warning::/);
    assert.match(
      r.stdout,
      /^No artifact: GitHub Enterprise Server \(https:\/\/ghes\.example\.com\) does not support artifacts v4\. The reports are in .*actions\/upload-artifact@v3\.$/m,
    );
    assert.equal(r.outputs['artifact-url'], '');
    assert.match(r.summary, /not uploaded as an artifact/);
  });

  it('fails on a breach with annotations at the config lines; a 403 on the comment is a warning', async () => {
    const gh = await fakeGitHub();
    gh.mode = 'forbidden';
    const dir = tempDir('loadgate-action-');
    writeFile(
      dir,
      'loadgate.yml',
      [
        'service:',
        `  command: node ${SERVER} --host 127.0.0.1 --port {port} --extra-work-ms 2`,
        'request:',
        '  preset: rest-model-service',
        '  model: insurance_charges_model',
        'load:',
        '  pacing: 5/s',
        '  stages: [{duration: 2s, users: 2}]',
        'slos:',
        '  - p99 < 1us',
        '  - errors == 0',
        '  - rps >= 1000',
      ].join('\n'),
    );
    const r = await runAction({ config: 'loadgate.yml' }, { gh, dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^::error title=SLO breached%3A p99 < 1us,file=loadgate\.yml,line=10::p99 latency .* is above /m);
    assert.match(r.stdout, /^::error title=SLO breached%3A rps >= 1000,file=loadgate\.yml,line=12::throughput/m);
    assert.doesNotMatch(r.stdout, /SLO breached%3A errors == 0/);
    assert.match(
      r.stdout,
      /^::warning::Could not comment on pull request #7 \(POST \/repos\/o\/r\/issues\/7\/comments: 403 Resource not accessible by integration\)/m,
    );
    assert.match(r.stdout, /^::error::loadgate: p99 latency/m);
    // Everything else still happened.
    assert.equal(r.outputs['verdict'], 'fail');
    assert.equal(r.outputs['comment-url'], '');
    assert.equal(gh.artifacts.length, 1);
    assert.match(r.summary, /❌ FAIL: 2 of 3 SLOs breached/);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
  });

  it('fail-on-breach: false exits 0 on a breach; an event without a pull request makes no comment calls', async () => {
    const gh = await fakeGitHub();
    const r = await runAction(serviceInputs({ slos: 'p99 < 1us', 'fail-on-breach': 'false' }), { gh, event: { ref: 'refs/heads/main' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs['verdict'], 'fail');
    assert.match(r.stdout, /^::warning::loadgate: p99 latency .*\(fail-on-breach is false: the step passes\)$/m);
    assert.match(r.stdout, /^No pull request in this event: no PR comment/m);
    assert.ok(!gh.calls.some((c) => c.includes('/repos/')), gh.calls.join('\n'));
    assert.equal(gh.artifacts.length, 1);
  });

  it('on SIGINT mid-run stops the load and the service, uploads the partial report, exits within 7.5 s', async () => {
    const gh = await fakeGitHub();
    const run = startAction(serviceInputs({ stages: '- {duration: 60s, users: 2}' }), { gh });
    const [, pid] = await run.p.waitFor(/Started the service \(pid (\d+)\)/, 30_000);
    await run.p.waitFor(/Generated \d+ request bodies/, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    run.p.kill('SIGINT');
    const r = await run.finished;
    const ms = performance.now() - t0;
    assert.ok(ms < 7500, `exited ${Math.round(ms)} ms after SIGINT`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^::error::loadgate: the run was interrupted/m);
    assert.equal(gh.artifacts.length, 1, 'the partial report is uploaded');
    assert.deepEqual(gh.artifacts[0]!.entries, REPORTS);
    const json = JSON.parse(readFileSync(join(r.dir, 'report', 'result.json'), 'utf8'));
    assert.equal(json.status, 'interrupted');
    assert.ok(json.durationMs < 30_000);
    assert.ok(await eventually(() => !processAlive(Number(pid)), 2000), `the service (pid ${pid}) is stopped`);
    assert.equal(gh.comments(7).length, 1, 'the comment says what was measured');
  });

  it('a service that cannot start: one clear message, verdict error, every report uploaded', async () => {
    const gh = await fakeGitHub();
    const r = await runAction(serviceInputs({ 'service-command': `node -e "console.error('no model file'); process.exit(3)" {port}` }), {
      gh,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^::error::loadgate: the service was not measured as planned: the service exited with code 3 before it became ready; its last output:%0A {2}no model file$/m,
    );
    assert.equal(r.stdout.match(/^::error/gm)?.length, 1, r.stdout);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
    assert.equal(r.outputs['verdict'], 'error');
    assert.equal(r.outputs['status'], 'not-measured');
    assert.match(r.summary, /FAIL: .*run not-started/);
    assert.match(r.summary, /no model file/);
    const entries = gh.artifacts.flatMap((a) => a.entries);
    for (const f of ['result.json', 'junit.xml', 'report.md', 'report.html', 'service.log'])
      assert.ok(entries.includes(f), `${f} uploaded: ${entries.join(', ')}`);
  });

  it('a hostile service cannot issue workflow commands through the log (::add-mask::, ::error::, ::stop-commands::)', async () => {
    const gh = await fakeGitHub();
    const lines = ['::add-mask::loadgate', '  ::error file=a.py::injected', '::stop-commands::pwned', '\\x1b]0;title\\x07'];
    const cmd = `node -e "for (const l of ${JSON.stringify(lines).replaceAll('"', '\\"')}) console.log(l); setTimeout(() => process.exit(1), 1500)" {port}`;
    const r = await runAction(serviceInputs({ 'service-command': cmd, 'service-ready': '/ready' }), { gh });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    for (const line of r.stdout.split('\n')) {
      assert.doesNotMatch(line.trimStart(), /^::add-mask::loadgate|^::stop-commands::pwned|^::error file=a\.py/, `injected: ${line}`);
      assert.doesNotMatch(line, /\x1b/, `escape: ${JSON.stringify(line)}`);
    }
    // Its output is still shown (inside our one annotation, and in the log lines), defused.
    assert.match(r.stdout, /add-mask::loadgate/);
    assert.equal(r.stdout.match(/^::error/gm)?.length, 1, r.stdout);
  });

  it('masks the API key of api-key-env in the log, sends it, and writes it nowhere', async () => {
    const gh = await fakeGitHub();
    const key = `sk-loadgate-${process.pid}-masked`;
    const llm = join(REPO, 'examples', 'llm-chat', 'server.ts');
    const r = await runAction(
      {
        // The service refuses /v1/* without the key: a passing run is one that sent it.
        'service-command': `node ${llm} --host 127.0.0.1 --port {port} --work-per-token-ms 0 --api-key ${key}`,
        preset: 'openai',
        model: 'kjv-trigram',
        'api-key-env': 'LOADGATE_TEST_LLM_KEY',
        stages: '- {duration: 2s, users: 1}',
        // Without ignore_eos the trigram model now and then ends an answer before its first token
        // (stream-empty); a refused key would fail every request.
        slos: 'error-rate < 10%',
      },
      { gh, env: { LOADGATE_TEST_LLM_KEY: key } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs['verdict'], 'pass');
    // The runner hides a masked value from every later line: the one line that names it is the mask itself.
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.includes(key));
    assert.deepEqual(lines, [`::add-mask::${key}`]);
    assert.ok(!r.summary.includes(key));
    for (const f of REPORTS.filter((f) => existsSync(join(r.dir, 'report', f)))) {
      assert.ok(!readFileSync(join(r.dir, 'report', f), 'utf8').includes(key), `${f} holds the key`);
    }
    assert.equal(gh.comments(7).length, 1);
    assert.ok(!gh.comments(7).some((c) => c.body.includes(key)));
  });

  it('rejects a bad input with one clear message naming it, exit 1, nothing started', async () => {
    const gh = await fakeGitHub();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        serviceInputs({ slos: 'p99 < 100ms\np99 < fast' }),
        /^::error::input "slos" line 2 \(slos\[1\]\): "p99 < fast": expected a number with its unit/m,
      ],
      [serviceInputs({ stages: '- {duration: 2s, users: 2' }), /^::error::input "stages" line \d: invalid YAML/m],
      [
        serviceInputs({ stages: '- {duration: -2s, users: 2}' }),
        /^::error::input "stages" \(load\.stages\[0\]\.duration\): must be a positive duration/m,
      ],
      [serviceInputs({ 'service-url': 'http://127.0.0.1:1' }), /^::error::inputs "service-url" and "service-command" exclude each other/m],
      [serviceInputs({ comment: 'maybe' }), /^::error::input "comment": expected true or false, got "maybe"/m],
      [
        { stages: '- {duration: 2s, rate: 5}' },
        /^::error::without a config file \(input "config"\), give service-url or service-command, or service-image with service-port; endpoint or preset$/m,
      ],
    ];
    for (const [inputs, re] of cases) {
      const r = await runAction(inputs, { gh });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, re);
      assert.equal(r.stdout.match(/^::error/gm)?.length, 1, r.stdout);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
      assert.doesNotMatch(r.stdout, /Started the service/);
      assert.equal(r.state, '');
    }
    assert.deepEqual(gh.calls, []);
  });
});

describe('the entry point @github/local-action runs (src/main.ts)', () => {
  it('exports run() and does nothing on import; run() does the step; unevaluated ${{ }} defaults are unset, with a warning', async () => {
    const gh = await fakeGitHub();
    const dir = tempDir('loadgate-action-');
    // As local-action does it: import the entry point, then call its run(); the defaults of action.yml arrive as written.
    const script = `const m = await import(${JSON.stringify(join(REPO, 'src', 'main.ts'))});
console.log('imported: run is a ' + typeof m.run);
await new Promise((r) => setTimeout(r, 300));
console.log('calling run()');
await m.run();
process.exit();`;
    const env = runnerEnv({ gh }, dir, {
      ...serviceInputs({ 'report-dir': join(dir, 'report') }),
      'github-token': '${{ github.token }}',
      matrix: '${{ toJSON(matrix) }}',
    });
    const r = await startNode(['--input-type=module', '-e', script], { cwd: dir, env, timeoutMs: 90_000 }).exited;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'imported: run is a function');
    assert.equal(lines[1], 'calling run()', 'nothing ran on import');
    assert.match(
      r.stdout,
      /^::warning::input "github-token" holds an expression that was not evaluated \(\$\{\{ github\.token \}\}\): treated as unset$/m,
    );
    assert.match(r.stdout, /^::warning::input "matrix" holds an expression that was not evaluated/m);
    // Unset, so: no hash of the literal text in the artifact name, and no request with it as a token.
    assert.equal(gh.artifacts[0]?.name, 'loadgate-perf-1');
    assert.match(r.stdout, /^::warning::No github-token/m);
    assert.ok(!gh.authorizations.some((a) => a.includes('${{')));
    assert.equal(parseFileCommands(readFileSync(join(dir, 'github_output'), 'utf8'))['verdict'], 'pass');
  });
});

describe('the post step (dist/post.js)', () => {
  it('kills the service a killed main left running (a cancel ends in SIGKILL), and only if it is still that process', async () => {
    const gh = await fakeGitHub();
    const run = startAction(serviceInputs({ stages: '- {duration: 60s, users: 2}' }), { gh });
    const [, pidText] = await run.p.waitFor(/Started the service \(pid (\d+)\)/, 30_000);
    const pid = Number(pidText);
    await run.p.waitFor(/Generated \d+ request bodies/, 30_000);
    run.p.kill('SIGKILL');
    const r = await run.finished;
    assert.equal(r.signal, 'SIGKILL');
    // Started detached (its own process group), the service outlives a main that had no chance to stop it.
    assert.ok(groupAlive(pid), 'the service outlived main');
    const saved = parseFileCommands(r.state)['service-group'];
    assert.ok(saved, `main saved the process group for post; state: ${r.state}`);
    const env = { ...cleared, PATH: PATH_WITH_NODE };
    try {
      // A saved group whose leader started at another time (the pid was reused): left alone.
      const other = JSON.stringify({ ...JSON.parse(saved), startTicks: '1' });
      const skipped = await startNode([POST], { env: { ...env, 'STATE_service-group': other }, timeoutMs: 30_000 }).exited;
      assert.equal(skipped.code, 0, skipped.stdout + skipped.stderr);
      assert.ok(groupAlive(pid), 'a group that is not the saved process is not signalled');
      const p = await startNode([POST], { env: { ...env, 'STATE_service-group': saved }, timeoutMs: 30_000 }).exited;
      assert.equal(p.code, 0, p.stdout + p.stderr);
      assert.match(p.stdout, new RegExp(`^Stopped the service's processes \\(process group ${pid}\\)$`, 'm'));
      assert.ok(await eventually(() => !groupAlive(pid), 3000), 'the service is gone');
      // Gone already: nothing to say.
      const again = await startNode([POST], { env: { ...env, 'STATE_service-group': saved }, timeoutMs: 30_000 }).exited;
      assert.equal(again.code, 0);
      assert.equal(again.stdout, '');
    } finally {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('removes the container main left running, and is quiet when it is gone already', { skip: dockerSkip() }, async () => {
    const name = `loadgate-test-post-${process.pid}`;
    const id = docker(['run', '-d', '--init', '--name', name, busyboxImage(), 'sleep', '300']).trim();
    try {
      const state = JSON.stringify({ engine: DOCKER, id });
      const env = { ...cleared, PATH: PATH_WITH_NODE, STATE_container: state };
      const r = await startNode([POST], { env, timeoutMs: 30_000 }).exited;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^Removed the service container ${id.slice(0, 12)}$`, 'm'));
      assert.deepEqual(containersNamed(name), []);
      const again = await startNode([POST], { env, timeoutMs: 30_000 }).exited;
      assert.equal(again.code, 0);
      assert.doesNotMatch(again.stdout, /::warning::|Removed/);
      // No state: nothing to do.
      const none = await startNode([POST], { env: { ...cleared, PATH: PATH_WITH_NODE }, timeoutMs: 30_000 }).exited;
      assert.equal(none.code, 0);
      assert.equal(none.stdout, '');
    } finally {
      if (containersNamed(name).length) docker(['rm', '-f', name]);
    }
  });
});

describe('the action with a container service (service-image)', { skip: dockerSkip() }, () => {
  const containerGone = (id: string) => docker(['ps', '-aq', '--no-trunc', '--filter', `id=${id}`]).trim() === '';
  const savedId = (state: string) => {
    const saved = parseFileCommands(state)['container'];
    assert.ok(saved, `main saved the container for post; state: ${state}`);
    const c = JSON.parse(saved) as { engine: string; id: string };
    assert.equal(c.engine, DOCKER);
    return c.id;
  };
  const imageInputs = () => serviceInputs({ 'service-command': '', 'service-image': exampleImage(), 'service-port': '8000' });

  it('starts the image, saves it for the post step, removes it at the end', async () => {
    const gh = await fakeGitHub();
    const r = await runAction(imageInputs(), { gh });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs['verdict'], 'pass');
    const id = savedId(r.state);
    assert.ok(containerGone(id), 'main removed its container');
    const post = await startNode([POST], {
      env: { ...cleared, PATH: PATH_WITH_NODE, STATE_container: JSON.stringify({ engine: DOCKER, id }) },
    }).exited;
    assert.equal(post.code, 0);
    assert.doesNotMatch(post.stdout, /::warning::|Removed/);
  });

  it('on SIGINT removes the container and uploads the partial report within 7.5 s', async () => {
    const gh = await fakeGitHub();
    const run = startAction({ ...imageInputs(), stages: '- {duration: 60s, users: 2}' }, { gh });
    await run.p.waitFor(/Generated \d+ request bodies/, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    run.p.kill('SIGINT');
    const r = await run.finished;
    const ms = performance.now() - t0;
    assert.ok(ms < 7500, `exited ${Math.round(ms)} ms after SIGINT`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(gh.artifacts.length, 1);
    assert.ok(containerGone(savedId(r.state)), 'the container is removed');
  });
});
