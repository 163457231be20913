// The action's pure parts: inputs -> config overrides (each naming its input), the plan they give, and the
// publish helpers (artifact name, comment marker and body, annotations, Link pagination).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ActionInputs,
  InputError,
  RUN_INPUTS,
  type RunInput,
  inputOverrides,
  matrixKey,
  planFromInputs,
  readInputs,
} from '../src/action/inputs.ts';
import { stepKey } from '../src/action/context.ts';
import { type StateStore, saveContainer, savedContainer } from '../src/action/state.ts';
import { ConfigError } from '../src/plan/config.ts';
import { MAX_ANNOTATIONS, breachAnnotations } from '../src/publish/annotations.ts';
import { artifactName } from '../src/publish/artifact.ts';
import { summaryMarkdown } from '../src/publish/summary.ts';
import { constructedResult } from './fixtures/result.ts';
import { failingVerdict } from './fixtures/verdict.ts';
import { COMMENT_MAX_CHARS, commentBody, commentMarker, upsertComment } from '../src/publish/comment.ts';
import { startFakeGitHub } from './helpers/github.ts';
import type { Verdict } from '../src/verdict/types.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';
import { after } from 'node:test';

after(removeTempDirs);

function values(v: Partial<Record<RunInput, string>>): Record<RunInput, string> {
  return Object.fromEntries(RUN_INPUTS.map((k) => [k, v[k] ?? ''])) as Record<RunInput, string>;
}

function inputs(v: Partial<Record<RunInput, string>>, extra: Partial<ActionInputs> = {}): ActionInputs {
  return { values: values(v), githubToken: '', comment: true, failOnBreach: true, matrix: 'null', ...extra };
}

describe('action inputs -> config overrides', () => {
  it('maps the container inputs onto the service keys (issue 5 names them)', () => {
    const o = inputOverrides(
      values({
        'service-image': 'ghcr.io/acme/model:1.2',
        'service-port': '8000',
        'service-env': 'MODEL=a\n# comment\n\nURL=http://x/?a=b',
        'service-cpus': '2',
        'service-memory': '1g',
      }),
      { service: { url: 'http://old', ready: '/health' } },
    );
    assert.deepEqual(o, [
      { path: ['service'], value: { ready: '/health' } },
      { path: ['service', 'image'], value: 'ghcr.io/acme/model:1.2', origin: 'input "service-image"' },
      { path: ['service', 'port'], value: '8000', origin: 'input "service-port"' },
      { path: ['service', 'env'], value: { MODEL: 'a', URL: 'http://x/?a=b' }, origin: 'input "service-env"' },
      { path: ['service', 'cpus'], value: '2', origin: 'input "service-cpus"' },
      { path: ['service', 'memory'], value: '1g', origin: 'input "service-memory"' },
    ]);
    // A file that already runs an image keeps its other container settings.
    assert.deepEqual(inputOverrides(values({ 'service-image': 'm:2' }), { service: { image: 'm:1', env: { A: '1' } } }), [
      { path: ['service', 'image'], value: 'm:2', origin: 'input "service-image"' },
    ]);
  });

  it('maps endpoint, body, stages, pacing, SLOs (a line each), warm-up and report-dir', () => {
    const o = inputOverrides(
      values({
        endpoint: 'post /predict',
        body: '{"a":1}',
        stages: '- {duration: 5s, users: 1}\n- {duration: 5s, users: 5}',
        pacing: '1/s',
        slos: '\np99 < 100ms\n\nerrors == 0 # none',
        'warm-up': '2s',
        'report-dir': 'out',
      }),
      {
        request: { path: '/old', schema: 'x.json', generate: 10, headers: { a: 'b' } },
        load: { 'max-in-flight': 5, pacing: 'none', stages: [] },
      },
    );
    assert.deepEqual(o, [
      { path: ['request'], value: { path: '/old', headers: { a: 'b' } } },
      { path: ['request', 'method'], value: 'POST', origin: 'input "endpoint"' },
      { path: ['request', 'path'], value: '/predict', origin: 'input "endpoint"' },
      { path: ['request', 'body'], value: { a: 1 }, origin: 'input "body"' },
      { path: ['load'], value: { pacing: 'none' } },
      {
        path: ['load', 'stages'],
        value: [
          { duration: '5s', users: 1 },
          { duration: '5s', users: 5 },
        ],
        origin: 'input "stages"',
      },
      { path: ['load', 'pacing'], value: '1/s', origin: 'input "pacing"' },
      { path: ['slos'], value: [] },
      { path: ['slos', 0], value: 'p99 < 100ms', origin: 'input "slos" line 2' },
      { path: ['slos', 1], value: 'errors == 0', origin: 'input "slos" line 4' },
      { path: ['warm-up'], value: '2s', origin: 'input "warm-up"' },
      { path: ['output'], value: 'out', origin: 'input "report-dir"' },
    ]);
  });

  it('one stage from users or rate with duration', () => {
    assert.deepEqual(inputOverrides(values({ rate: '20', duration: '30s' }), { load: { pacing: '1/s' } }), [
      { path: ['load'], value: {} },
      { path: ['load', 'stages', 0, 'rate'], value: '20', origin: 'input "rate"' },
      { path: ['load', 'stages', 0, 'duration'], value: '30s', origin: 'input "duration"' },
    ]);
  });

  it('bad inputs: one message naming the input (and the line)', () => {
    const bad: Array<[Partial<Record<RunInput, string>>, RegExp, Record<string, unknown>?]> = [
      [{ 'service-env': 'A=1\nB' }, /^input "service-env" line 2: expected KEY=value, got "B"$/],
      [{ stages: '{duration: 5s}' }, /^input "stages": expected a YAML list of stages/],
      [{ stages: '- [' }, /^input "stages" line 1: invalid YAML/],
      [{ endpoint: 'POST predict' }, /^input "endpoint": expected "METHOD \/path" like "POST \/predict", got "POST predict"$/],
      [{ body: '{a:1}' }, /^input "body": not valid JSON/],
      [{ users: '5' }, /^input "users" needs input "duration" \(e\.g\. 30s\)$/],
      [{ duration: '5s', stages: '- {duration: 5s, users: 1}' }, /^input "duration" needs input "users" or "rate"$/],
      [{ users: '5', rate: '5', duration: '1s' }, /^inputs "users" \(closed model\) and "rate" \(open model\) exclude each other$/],
      [
        { stages: '- {duration: 5s, users: 1}', rate: '5', duration: '1s' },
        /^inputs "rate" \(open model\) and "stages" exclude each other: give the stages, or one stage of users or of rate$/,
      ],
      [{ 'service-image': 'a', 'service-url': 'http://x' }, /^inputs "service-url" and "service-image" exclude each other: /],
      [{ body: '{}', schema: 'auto' }, /^inputs "body" and "schema" exclude each other: bodies are given, or generated from a schema$/],
      [
        { endpoint: '/p' },
        /^input "endpoint" applies to a config with one request:, but this one has requests:/,
        { requests: [{ path: '/a' }] },
      ],
    ];
    for (const [v, re, raw] of bad)
      assert.throws(
        () => inputOverrides(values(v), raw ?? {}),
        (e: Error) => e instanceof InputError && re.test(e.message),
      );
  });

  it('plans from inputs alone; errors the plan finds name the input', () => {
    const base = { 'service-url': 'http://127.0.0.1:9', endpoint: 'POST /predict', body: '{}', rate: '5', duration: '2s' };
    const plan = planFromInputs(inputs({ ...base, slos: 'p99 < 100ms' }));
    assert.equal(plan.service.kind, 'url');
    assert.equal(plan.endpoints[0]!.method, 'POST');
    assert.equal(plan.load.model, 'open');
    assert.equal(plan.slos[0]!.source, undefined, 'an SLO from an input has no file line');
    assert.throws(
      () => planFromInputs(inputs({ ...base, slos: 'p99 < 1s in stage 4' })),
      (e: Error) =>
        e instanceof ConfigError && /^input "slos" line 1 \(slos\[0\]\): "p99 < 1s in stage 4": unknown stage "4"/.test(e.message),
    );
    // Blank lines and comments are skipped: the message names the line as written.
    assert.throws(() => planFromInputs(inputs({ ...base, slos: 'p99 < 100ms\n\np99 < # fast' })), {
      message: /^input "slos" line 3 \(slos\[1\]\): "p99 <": expected "<metric> <operator> <value>"/,
    });
    assert.throws(() => planFromInputs(inputs({ ...base, 'service-url': 'ftp://x' })), {
      message: /^input "service-url" \(service\.url\): expected an http or https URL/,
    });
    assert.throws(() => planFromInputs(inputs({ ...base, pacing: '1/s' })), {
      message: /^input "pacing" \(load\.pacing\): only applies to user stages/,
    });
    assert.throws(() => planFromInputs(inputs({ ...base, 'service-url': '', 'service-image': 'm:1', 'service-port': 'http' })), {
      message: /^input "service-port" \(service\.port\): expected a number, got "http"/,
    });
    // Without a file, an image needs its port: named as the input to give, not as a file's key.
    assert.throws(() => planFromInputs(inputs({ ...base, 'service-url': '', 'service-image': 'm:1' })), {
      message: /^without a config file \(input "config"\), give service-port \(for service-image\)$/,
    });
    assert.throws(() => planFromInputs(inputs({})), {
      message:
        /^without a config file \(input "config"\), give service-url or service-command, or service-image with service-port; endpoint or preset; users or rate with duration, or stages$/,
    });
  });

  it('inputs override the config file; SLOs from the file keep their lines', () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'lg.yml',
      'service:\n  url: http://127.0.0.1:9\nrequest:\n  path: /a\nload:\n  stages: [{duration: 1s, rate: 1}]\nslos:\n  - p99 < 1s\n',
    );
    const plan = planFromInputs(inputs({ endpoint: 'GET /b', rate: '7', duration: '3s' }, { config: file }));
    assert.equal(plan.endpoints[0]!.path, '/b');
    assert.deepEqual(
      plan.load.stages.map((s) => s.durationMs),
      [3000],
    );
    assert.deepEqual(plan.slos[0]!.source, { file, line: 8 });
  });

  it('reads the action-only inputs; defaults as in action.yml', () => {
    const env: Record<string, string> = {
      comment: 'false',
      'fail-on-breach': 'False',
      'artifact-name': 'perf',
      'github-token': 't',
      matrix: '{"os":"x"}',
      slos: '\n p99 < 1s',
    };
    const got = readInputs((n, o) => ((o?.trim ?? true) ? (env[n] ?? '').trim() : (env[n] ?? '')));
    assert.equal(got.comment, false);
    assert.equal(got.failOnBreach, false);
    assert.equal(got.artifactName, 'perf');
    assert.equal(got.values.slos, '\n p99 < 1s', 'multi-line inputs keep their lines');
    const d = readInputs(() => '');
    assert.deepEqual([d.comment, d.failOnBreach, d.artifactName, d.matrix], [true, true, undefined, 'null']);
    assert.throws(() => readInputs((n) => (n === 'artifact-name' ? 'a/b' : '')), {
      message: /^input "artifact-name": "a\/b" holds a character/,
    });
  });

  it('an input that still holds ${{ (not evaluated, as under @github/local-action) is unset, with a warning', () => {
    const env: Record<string, string> = {
      'github-token': '${{ github.token }}',
      matrix: '${{ toJSON(matrix) }}',
      users: '${{ inputs.users }}',
      rate: '5',
    };
    const warnings: string[] = [];
    const got = readInputs(
      (n) => env[n] ?? '',
      (m) => warnings.push(m),
    );
    assert.deepEqual([got.githubToken, got.matrix, got.values.users, got.values.rate], ['', 'null', '', '5']);
    assert.deepEqual(warnings, [
      'input "users" holds an expression that was not evaluated (${{ inputs.users }}): treated as unset',
      'input "github-token" holds an expression that was not evaluated (${{ github.token }}): treated as unset',
      'input "matrix" holds an expression that was not evaluated (${{ toJSON(matrix) }}): treated as unset',
    ]);
  });
});

describe('action state and publish helpers', () => {
  it('saves and reads the container for the post step', () => {
    const m = new Map<string, string>();
    const store: StateStore = { get: (n) => m.get(n) ?? '', set: (n, v) => void m.set(n, v) };
    assert.equal(savedContainer(store), undefined);
    saveContainer(store, { engine: 'docker', id: 'abc123' });
    assert.deepEqual(JSON.parse(m.get('container')!), { engine: 'docker', id: 'abc123' });
    assert.deepEqual(savedContainer(store), { engine: 'docker', id: 'abc123' });
    m.set('container', JSON.stringify({ engine: 'docker; rm -rf /', id: 'x' }));
    assert.equal(savedContainer(store), undefined);
  });

  it('names artifacts per job, matrix leg and attempt', () => {
    assert.equal(artifactName(undefined, 'perf', '', '', '1'), 'loadgate-perf-1');
    // Two loadgate steps in one job: the runner's ids tell them apart.
    assert.deepEqual(['__self', '__owner_loadgate', '__owner_loadgate_2', 'gate', undefined].map(stepKey), ['', '', '2', 'gate', '']);
    assert.equal(artifactName(undefined, 'perf', '2', '', '1'), 'loadgate-perf-2-1');
    const k = matrixKey('{"os": "ubuntu", "node": 24}');
    assert.match(k, /^[0-9a-f]{8}$/);
    assert.equal(k, matrixKey('{"os":"ubuntu","node":24}'), 'formatting does not matter');
    assert.notEqual(k, matrixKey('{"os":"ubuntu","node":22}'));
    assert.equal(matrixKey('null'), '');
    assert.equal(artifactName(undefined, 'perf', '', k, '3'), `loadgate-perf-${k}-3`);
    assert.equal(artifactName('mine', 'perf', '', k, '3'), 'mine');
  });

  it('a marker that cannot end its HTML comment; a body under 65,536 characters', () => {
    assert.equal(commentMarker('perf', '', '', 'ci/loadgate.yml'), '<!-- loadgate:perf:ci/loadgate.yml -->');
    assert.equal(commentMarker('perf', 'gate', 'ab12cd34', 'a b-->c'), '<!-- loadgate:perf.gate-ab12cd34:a_b-_c -->');
    const body = commentBody('<!-- m -->', 'x'.repeat(70_000), 'https://github.com/o/r/actions/runs/1');
    assert.ok(body.length <= COMMENT_MAX_CHARS);
    assert.ok(body.startsWith('<!-- m -->\n') && body.includes('[Workflow run](https://github.com/o/r/actions/runs/1)'));
  });

  it("updates only a comment that starts with the marker, the Actions bot's before an impostor's", async () => {
    const gh = await startFakeGitHub({ pageSize: 2 });
    try {
      const marker = commentMarker('perf', '', '', 'loadgate.yml');
      const t = { apiUrl: gh.url, repository: 'o/r', pullRequest: 7, token: 't' };
      // A comment that quotes the marker is not ours: a new one is created.
      gh.addComments(7, [`see ${marker} above`]);
      const created = await upsertComment(t, marker, `${marker}\nrun 1`);
      assert.equal(created.action, 'created');
      // Someone starts a comment with the marker, on an earlier page than ours.
      gh.comments(7).unshift({ id: 999, body: `${marker}\nfake`, html_url: 'x', user: { login: 'someone' } });
      const updated = await upsertComment(t, marker, `${marker}\nrun 2`);
      assert.deepEqual([updated.action, updated.id], ['updated', created.id]);
      assert.deepEqual(
        gh.comments(7).map((c) => c.body),
        [`${marker}\nfake`, `see ${marker} above`, `${marker}\nrun 2`],
      );
    } finally {
      await gh.close();
    }
  });

  it('the job summary stays within its bytes when the report is mostly multi-byte text', () => {
    const r = constructedResult();
    // Many failure kinds whose messages are 3-byte characters: the report fills its character cap with them.
    r.failures = Array.from({ length: 400 }, (_, i) => ({
      endpoint: 'a',
      kind: 'status' as const,
      error: `HTTP 5${i} ${'€'.repeat(150)}`,
      count: 1,
      firstSeenMs: 0,
      lastSeenMs: 0,
    }));
    for (const maxBytes of [4000, 30_000]) {
      const md = summaryMarkdown(r, failingVerdict(), { title: 'loadgate' }, maxBytes);
      assert.ok(Buffer.byteLength(md) <= maxBytes, `${Buffer.byteLength(md)} bytes > ${maxBytes}`);
      assert.match(md, /^### ❌ FAIL/, 'the verdict comes first, whatever is cut');
    }
  });

  it('annotations: breaches with their file line, at most 10', () => {
    const outcome = (i: number, pass: boolean, line?: number) => ({
      slo: { text: `p99 < ${i}ms`, ...(line ? { source: { file: '/ws/ci/lg.yml', line } } : {}) },
      pass,
      sentence: `breach ${i}`,
    });
    const v = {
      pass: false,
      outcomes: [outcome(1, false, 7), outcome(2, true, 8), outcome(3, false)],
      problems: ['the service died'],
    } as unknown as Verdict;
    assert.deepEqual(breachAnnotations(v, '/ws'), [
      { title: 'SLO breached: p99 < 1ms', message: 'breach 1', file: 'ci/lg.yml', line: 7 },
      { title: 'SLO breached: p99 < 3ms', message: 'breach 3' },
      { title: 'loadgate: the run failed', message: 'the service died' },
    ]);
    const many = { pass: false, outcomes: Array.from({ length: 14 }, (_, i) => outcome(i, false)), problems: [] } as unknown as Verdict;
    const a = breachAnnotations(many, '/ws');
    assert.equal(a.length, MAX_ANNOTATIONS);
    assert.equal(a[9]!.title, '5 more breaches');
  });
});
