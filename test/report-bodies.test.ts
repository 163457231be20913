// Reports that say what was sent (where the request bodies came from, how many, the seed, their mean size
// and one example, in every report format and result.json), readable ramp and endpoint labels, and a
// readiness wait that is never silent. The CLI runs against a small server on 127.0.0.1.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRunResult } from '../src/metrics/result.ts';
import { describeBodiesOf, spawnLabel } from '../src/report/console.ts';
import { type TestServer, closedPort, startServer } from './helpers/http.ts';
import { CLI, REPO, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir } from './helpers/tmp.ts';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(async () => {
  killChildren();
  removeTempDirs();
  await srv.close();
});

const SCHEMA = join(REPO, 'test', 'fixtures', 'schemas', 'combinators.json');
const run = (args: string[]) => startNode([CLI, 'run', '--url', srv.url, '--path', '/p', ...args], { timeoutMs: 60_000 }).exited;

describe('the reports say what was sent', () => {
  it('generated bodies: the schema, how many, the seed, the mean size and an example, in every format', async () => {
    const out = tempDir();
    const r = await run(['--schema', SCHEMA, '--generate', '50', '--seed', '7', '--rate', '10', '--duration', '1s', '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8'));
    const b = result.requestBodies?.[0];
    assert.ok(b, 'result.json has requestBodies');
    assert.deepEqual([b.endpoint, b.kind, b.source, b.count, b.seed], ['POST /p', 'generated', `generated from ${SCHEMA}`, 50, 7]);
    assert.ok(b.meanBytes > 10);
    assert.ok(b.example && typeof JSON.parse(b.example) === 'object', 'the example is one of the bodies');
    const sentence = `50 bodies generated from ${SCHEMA}, seed 7, mean ${Math.round(b.meanBytes)} bytes`;
    assert.ok(r.stdout.includes(`Request bodies of "POST /p": ${sentence}.`), r.stdout);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.ok(md.includes('Request bodies of `POST /p`: 50 bodies generated from '), md);
    assert.match(md, /seed 7, mean \d+ bytes; e\.g\. `\{"/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<h2>Request bodies<\/h2>/);
    assert.ok(html.includes(`seed 7, mean ${Math.round(b.meanBytes)} bytes`));
    assert.ok(html.includes('<code class="sample">{&quot;'), 'the example body, escaped');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    assert.ok(junit.includes(`<property name="request-bodies POST /p" value="${sentence}"/>`), junit);
    assert.match(junit, /<property name="example-body POST \/p" value="\{&quot;/);
  });

  it('a replay file and a fixed body say so', async () => {
    const out = tempDir();
    const file = join(REPO, 'examples', 'insurance-charges', 'requests.jsonl');
    const r = await run(['--bodies', file, '--rate', '10', '--duration', '1s', '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const b = parseRunResult(readFileSync(join(out, 'result.json'), 'utf8')).requestBodies?.[0];
    assert.equal(b?.kind, 'file');
    assert.match(
      r.stdout,
      new RegExp(`Request bodies of "POST /p": \\d+ bodies replayed in turn from ${file.replace(/[.]/g, '\\.')}, mean \\d+ bytes\\.`),
    );
    const fixed = await run(['--body', '{"a":1}', '--rate', '10', '--duration', '1s', '--out', tempDir()]);
    assert.match(fixed.stdout, /^Request bodies of "POST \/p": one fixed body from the config, mean 7 bytes\.$/m);
  });

  it('a preset is named with the schema it located', () => {
    const s = describeBodiesOf({
      endpoint: 'e',
      kind: 'generated',
      source: 'generated from GET http://h/api/models/m/metadata: input_schema',
      preset: 'rest-model-service, model m',
      count: 1000,
      seed: 1,
      meanBytes: 83.4,
    });
    assert.equal(
      s,
      '1000 bodies generated from GET http://h/api/models/m/metadata: input_schema (preset rest-model-service, model m), seed 1, mean 83 bytes',
    );
  });
});

describe('labels a reader understands', () => {
  it('an instant ramp reads "instant", not a spawn rate of thousands; an unnamed endpoint is named once', async () => {
    const out = tempDir();
    const r = await run(['--users', '3', '--duration', '1s', '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<th class="n">ramp<\/th>/);
    assert.match(html, /<td class="n">3<\/td><td class="n">instant<\/td>/);
    assert.doesNotMatch(html, /3,000/);
    assert.ok(html.includes('<dd><code>GET /p</code></dd>'), html.slice(html.indexOf('Endpoints'), html.indexOf('Endpoints') + 200));
    assert.equal(spawnLabel({ users: 10, spawnRate: 2 }), '2.0 users/s');
  });
});

describe('a readiness wait is never silent', () => {
  it('a --url that refuses connections says so after 2 s, while it waits', async () => {
    const port = await closedPort();
    const r = await startNode(
      [
        CLI,
        'run',
        '--url',
        `http://127.0.0.1:${port}`,
        '--path',
        '/',
        '--rate',
        '1',
        '--duration',
        '1s',
        '--ready-timeout',
        '3s',
        '--out',
        tempDir(),
      ],
      { timeoutMs: 30_000 },
    ).exited;
    assert.equal(r.code, 3, 'a URL that refuses: the service was not measured as planned');
    assert.match(
      r.stdout,
      new RegExp(
        `^Waiting for http://127\\.0\\.0\\.1:${port}/: not ready after 2 s of 3 s \\(last answer: ECONNREFUSED, nothing listens there yet\\)$`,
        'm',
      ),
    );
  });
});
