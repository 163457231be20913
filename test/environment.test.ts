// Where a run ran (src/metrics/environment.ts): what is read from this machine, the steal column of
// /proc/stat, how two environments differ, and that result.json keeps it; a stored result from an older
// loadgate (its `roundsEnvironment`) read as a baseline; the comparison's reports showing both sides'
// image digests; the digest picked from what the engine says; and an invalid run's verdict.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arch, availableParallelism, cpus, release, totalmem, type as osType } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../src/load/engine.ts';
import {
  type Environment,
  environmentDifferences,
  machineAfter,
  machineBefore,
  readSteal,
  sameImageWarning,
} from '../src/metrics/environment.ts';
import { parseRunResult, serializeRunResult, type RunResult, toSerializable } from '../src/metrics/result.ts';
import { type RoundRecord, mergeRounds, serializeRounds } from '../src/metrics/rounds.ts';
import { buildPlan, readConfigFile } from '../src/plan/config.ts';
import { compareSection } from '../src/report/compare-html.ts';
import { compareMarkdown } from '../src/report/compare-markdown.ts';
import { formatComparison } from '../src/report/compare-console.ts';
import { readStoredBaseline } from '../src/run/history.ts';
import { pickDigest } from '../src/service/container-cli.ts';
import { judgeComparison } from '../src/verdict/compare.ts';
import { VERSION } from '../src/version.ts';
import { evaluate } from '../src/verdict/evaluate.ts';
import { STATUS_EXIT, runStatus } from '../src/run/outcome.ts';
import { constructedResult } from './fixtures/result.ts';
import { renderMarkdown } from '../src/report/markdown.ts';
import { formatSummary } from '../src/report/console.ts';
import { renderHtmlReport } from '../src/report/html.ts';
import { renderJunit } from '../src/report/junit.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const base: Environment = {
  cpuModel: 'Intel Xeon',
  cpuCount: 2,
  memoryBytes: 8 * 2 ** 30,
  os: 'Linux (Debian 12)',
  kernel: '6.1.0',
  arch: 'x64',
  node: 'v24.21.0',
  loadgate: '0.1.0',
  generatorCpu: 0.1,
};

describe('where it ran', () => {
  it('reads this machine, the runner from its environment, and the steal over the run', () => {
    const before = machineBefore();
    const until = performance.now() + 50; // a few clock ticks (jiffies) so that /proc/stat moves
    while (performance.now() < until);
    const e = machineAfter(before, 0.25, {
      RUNNER_NAME: 'GitHub Actions 7',
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      ImageOS: 'ubuntu24',
      ImageVersion: '20261124.1',
    });
    assert.equal(e.cpuModel, cpus()[0]!.model.trim());
    assert.equal(e.cpuCount, availableParallelism());
    assert.equal(e.memoryBytes, totalmem());
    assert.ok(e.os === osType() || e.os.startsWith(`${osType()} (`), e.os);
    assert.equal(e.kernel, release());
    assert.equal(e.arch, arch());
    assert.equal(e.node, process.version);
    assert.equal(e.loadgate, VERSION);
    assert.deepEqual(e.runner, { name: 'GitHub Actions 7', os: 'Linux', arch: 'X64', image: 'ubuntu24', imageVersion: '20261124.1' });
    assert.equal(e.generatorCpu, 0.25);
    assert.ok(e.cpuStealPercent !== undefined && e.cpuStealPercent >= 0 && e.cpuStealPercent <= 100);
    assert.equal(machineAfter(machineBefore(), 0, {}).runner, undefined, 'no runner outside CI');
  });

  it('takes steal from the eighth column of the aggregate cpu line', () => {
    assert.deepEqual(readSteal('cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n'), [35, 1000]);
    assert.equal(readSteal('garbage'), null);
  });

  it('says how two machines differ, and nothing for the same one, whatever its service or generator', () => {
    assert.deepEqual(environmentDifferences(base, { ...base, generatorCpu: 0.9, cpuStealPercent: 2 }), []);
    // Another image is the point of a comparison: not a difference of the set-up.
    assert.deepEqual(
      environmentDifferences(
        { ...base, serviceImage: { image: 'm:pr', digest: 'sha256:1' } },
        { ...base, serviceImage: { image: 'm:main', digest: 'sha256:2' } },
      ),
      [],
    );
    assert.deepEqual(
      environmentDifferences(base, {
        ...base,
        cpuModel: 'AMD EPYC 7763',
        cpuCount: 4,
        kernel: '6.8.0',
        node: 'v24.22.0',
        runner: { name: 'GitHub Actions 9', image: 'ubuntu24', imageVersion: '20261201.1' },
      }),
      [
        'CPU model differs: Intel Xeon (this run) vs AMD EPYC 7763 (the baseline)',
        'CPU count differs: 2 (this run) vs 4 (the baseline)',
        'kernel differs: 6.1.0 (this run) vs 6.8.0 (the baseline)',
        'runner image differs: none (this run) vs ubuntu24 20261201.1 (the baseline)',
        'Node differs: v24.21.0 (this run) vs v24.22.0 (the baseline)',
      ],
    );
    assert.deepEqual(environmentDifferences(base, { ...base, memoryBytes: 16 * 2 ** 30, cpuStealPercent: 12 }, ['shard 1', 'shard 2']), [
      'memory differs: 8 GiB (shard 1) vs 16 GiB (shard 2)',
      "shard 2's machine had 12% of its CPU stolen by the hypervisor",
    ]);
    // The same runner image on two runners (the runner's name is a job slot, not a machine type).
    const runner = { name: 'GitHub Actions 7', image: 'ubuntu24', imageVersion: '20261124.1' };
    assert.deepEqual(environmentDifferences({ ...base, runner }, { ...base, runner: { ...runner, name: 'GitHub Actions 2' } }), []);
    assert.deepEqual(environmentDifferences(base, undefined), [
      'the baseline does not say where it ran: differences of machine cannot be checked',
    ]);
    assert.deepEqual(environmentDifferences(undefined, undefined), []);
  });

  it('warns of one image under two names in the same job, not of one name compared with itself', () => {
    const pr = { ...base, serviceImage: { image: 'model:pr', digest: 'sha256:aa', digestKind: 'image-id' as const } };
    const main = { ...base, serviceImage: { image: 'model:main', digest: 'sha256:aa', digestKind: 'image-id' as const } };
    assert.match(sameImageWarning(pr, main) ?? '', /model:pr\) and the baseline \(model:main\) are the same image \(sha256:aa\)/);
    assert.equal(sameImageWarning(pr, { ...main, serviceImage: { ...main.serviceImage, digest: 'sha256:bb' } }), undefined);
    assert.equal(sameImageWarning(pr, pr), undefined, 'the same name on both sides: a comparison of settings');
    assert.equal(sameImageWarning(pr, { ...main, serviceImage: { image: 'model:main' } }), undefined, 'a digest not known');
  });

  it('result.json keeps the environment and the generator, and an older result without them still reads', () => {
    const r = constructedResult();
    r.environment = base;
    r.generator = { cpu: 0.1, eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, exhausted: 0, limits: [] };
    const back = parseRunResult(serializeRunResult(r));
    assert.deepEqual(back.environment, base);
    assert.deepEqual(back.generator, r.generator);
    assert.equal(parseRunResult(serializeRunResult(constructedResult())).environment, undefined);
  });
});

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.end('ok'), 2));
});
let url = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

/** One real round of 300 ms against the local server. */
function round(): Promise<RunResult> {
  return runLoad({
    baseUrl: url,
    endpoints: [{ name: 'get', method: 'GET', path: '/', headers: {}, body: { kind: 'none' }, weight: 1, okStatus: [[200, 399]] }],
    load: { model: 'closed', perUserRate: 0, stages: [{ name: 'one', durationMs: 300, users: 1, spawnRate: 0 }] },
    timeoutMs: 2000,
    seed: 1,
  });
}

describe('where each side of a comparison ran', () => {
  it("each round records this machine, and a side's rounds merge into one record with the steal over all", async () => {
    const a = await round();
    const b = await round();
    assert.equal(a.environment?.cpuModel, cpus()[0]!.model.trim());
    const m = mergeRounds([
      { ...a, durationMs: 300, environment: { ...a.environment!, cpuStealPercent: 12 } },
      { ...b, durationMs: 100, environment: { ...b.environment!, cpuStealPercent: 0 } },
    ]);
    assert.equal(m.environment?.cpuStealPercent, 9, 'weighted by the time each round covered');
    assert.equal(m.environment?.generatorCpu, m.generatorCpu);
    assert.equal(m.environment?.kernel, release());
  });

  it("reads where a stored result ran from an older loadgate's roundsEnvironment, and says what it cannot check", async () => {
    const rounds: RoundRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await round();
      // An older loadgate recorded nothing of the machine in the rounds themselves.
      delete r.environment;
      rounds.push({ side: 'candidate', pair: i, seq: i, warmup: false, result: r });
    }
    const { environment: _, ...top } = toSerializable(mergeRounds(rounds.map((r) => r.result)));
    const file = writeFile(
      tempDir(),
      'old-result.json',
      JSON.stringify({
        ...top,
        rounds: serializeRounds(rounds),
        roundsEnvironment: {
          cpuModel: 'Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz',
          cores: 4,
          os: 'linux 6.5.0-1025-azure',
          loadgate: '0.0.9',
          image: 'ghcr.io/acme/model:main',
          at: '2026-10-01T12:00:00.000Z',
        },
      }),
    );
    const stored = readStoredBaseline(file);
    assert.equal(stored.rounds.length, 3);
    assert.deepEqual(stored.environment, {
      cpuModel: 'Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz',
      cpuCount: 4,
      kernel: '6.5.0-1025-azure',
      loadgate: '0.0.9',
      serviceImage: { image: 'ghcr.io/acme/model:main' },
    });
    const here = machineAfter(machineBefore(), 0.1, {});
    const d = environmentDifferences(here, stored.environment);
    assert.ok(
      d.includes(`CPU model differs: ${here.cpuModel} (this run) vs Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz (the baseline)`),
      d.join('\n'),
    );
    assert.ok(d.includes(`loadgate differs: ${VERSION} (this run) vs 0.0.9 (the baseline)`), d.join('\n'));
    assert.ok(
      d.includes('the baseline does not record its memory, architecture, OS, Node: differences there cannot be checked'),
      d.join('\n'),
    );
  });

  it('reads a stored result of this version from its environment, as a single run records it', async () => {
    const rounds = [await round(), await round()].map(
      (result, i): RoundRecord => ({ side: 'candidate', pair: i, seq: i, warmup: false, result }),
    );
    const merged = mergeRounds(rounds.map((r) => r.result));
    const env: Environment = {
      ...merged.environment!,
      serviceImage: { image: 'model:main', digest: `model@sha256:${'a'.repeat(64)}`, digestKind: 'repo-digest' },
    };
    const file = writeFile(
      tempDir(),
      'result.json',
      JSON.stringify({ ...toSerializable({ ...merged, environment: env }), rounds: serializeRounds(rounds) }),
    );
    assert.deepEqual(readStoredBaseline(file).environment, env);
    assert.deepEqual(environmentDifferences(machineAfter(machineBefore(), 0.3, {}), env), []);
  });

  it("the comparison's reports show both sides' images and digests, and a stored baseline's machine", async () => {
    const dir = tempDir();
    const cfg = writeFile(
      dir,
      'loadgate.yml',
      [
        'service: {url: "http://127.0.0.1:1"}',
        'baseline: {url: "http://127.0.0.1:2"}',
        'request: {path: /}',
        'load: {stages: [{duration: 1s, users: 1}]}',
        'compare: {rounds: 6}',
      ].join('\n'),
    );
    const cp = buildPlan(readConfigFile(cfg)).compare!;
    const rounds: RoundRecord[] = [];
    for (let i = 0; i < 2; i++) {
      rounds.push({ side: 'candidate', pair: i, seq: 2 * i, warmup: false, result: await round() });
      rounds.push({ side: 'baseline', pair: i, seq: 2 * i + 1, warmup: false, result: await round() });
    }
    const pr = `sha256:${'1'.repeat(64)}`;
    const main = `sha256:${'2'.repeat(64)}`;
    const candidate: Environment = {
      ...rounds[0]!.result.environment!,
      serviceImage: { image: 'model:pr', digest: pr, digestKind: 'image-id' },
    };
    const baseline: Environment = {
      ...rounds[1]!.result.environment!,
      serviceImage: { image: 'model:main', digest: main, digestKind: 'image-id' },
    };
    const same = judgeComparison(rounds, cp, { against: 'baseline', looks: 1, closed: true, environments: { candidate, baseline } });
    const md = compareMarkdown(same);
    assert.ok(
      md.includes(
        '| Service image | `model:main, sha256:222222222222… (image id: a local build)` | `model:pr, sha256:111111111111… (image id: a local build)` |',
      ),
      md,
    );
    assert.doesNotMatch(md, /\| CPU \|/, 'the same machine: only the images');
    const html = compareSection(same);
    assert.ok(
      html.includes(`<td>model:main, ${main} (image id: a local build)</td><td>model:pr, ${pr} (image id: a local build)</td>`),
      html,
    );
    assert.match(formatComparison(same), /images: baseline model:main, sha256:222222222222… .*; candidate model:pr, sha256:111111111111…/);

    // Against a stored result: its machine beside this one's, and what it did not record.
    const stored = { cpuModel: 'Old CPU', cpuCount: 4, kernel: '6.5.0', serviceImage: { image: 'model:main' } };
    const across = judgeComparison(rounds, cp, {
      against: 'history',
      looks: 1,
      closed: true,
      environments: { candidate, baseline: stored },
      baselineStartedAt: '2026-10-01T12:00:00.000Z',
    });
    const md2 = compareMarkdown(across);
    assert.match(md2, /Where each side was measured \(the stored baseline on 2026\\-10\\-01T12\\:00\\:00\\.000Z\)/);
    assert.match(md2, new RegExp(`\\| CPU \\| Old CPU × 4 \\| .* × ${candidate.cpuCount} \\|`));
    assert.ok(
      md2.includes('| Service image | `model:main (digest unknown)` | `model:pr, sha256:111111111111… (image id: a local build)` |'),
      md2,
    );
    assert.match(md2, /\| Memory \| _not recorded_ \| [\d\\.]+ GiB \|/);
    assert.ok(compareSection(across).includes('<th>CPU</th><td>Old CPU × 4</td>'));
  });
});

describe("the service image's digest, from what the engine says", () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  it('a repository digest of the image named when there is one, else the image id (a local build)', () => {
    // docker, a pulled image known in two repositories.
    assert.deepEqual(pickDigest('ghcr.io/acme/model:pr', `["mirror.io/model@sha256:${b}","ghcr.io/acme/model@sha256:${a}"]|sha256:${b}`), {
      digest: `ghcr.io/acme/model@sha256:${a}`,
      digestKind: 'repo-digest',
    });
    // docker, a local build: no repository digest.
    assert.deepEqual(pickDigest('model:pr', `[]|sha256:${a}`), { digest: `sha256:${a}`, digestKind: 'image-id' });
    // podman: a local build is named under localhost/, its id printed bare.
    assert.deepEqual(pickDigest('loadgate-test/example:1', `["localhost/loadgate-test/example@sha256:${b}"]|${a}`), {
      digest: `localhost/loadgate-test/example@sha256:${b}`,
      digestKind: 'repo-digest',
    });
    assert.deepEqual(pickDigest('model:pr', `null|${a}`), { digest: `sha256:${a}`, digestKind: 'image-id' });
    assert.deepEqual(pickDigest('model:pr', 'garbage'), {});
  });
});

describe('an invalid run', () => {
  it('fails the verdict saying the run did not measure the service, not as a breach', () => {
    const r = constructedResult();
    r.status = 'invalid';
    r.generator = {
      cpu: 0.97,
      eventLoopDelayP99Ms: 1,
      eventLoopDelayMaxMs: 2,
      exhausted: 0,
      limits: ['the generator used 97% of a core: it was the bottleneck'],
    };
    const v = evaluate(r, []);
    assert.equal(v.pass, false);
    assert.deepEqual(v.problems, ['the run did not measure the service: the generator used 97% of a core: it was the bottleneck']);
    assert.equal(runStatus(r, v, false), 'not-measured');
    assert.equal(STATUS_EXIT[runStatus(r, v, false)], 3, 'exit 3, not the breach code');
  });
});

describe('a merge whose shards ran on different machines', () => {
  const merged = (...envs: Environment[]): RunResult => ({
    ...constructedResult(),
    shardMachines: envs.map((environment, index) => ({ index, count: envs.length, generatorCpu: 0.1, environment })),
  });

  it('warns in the verdict and every report, naming the shards and what differs', () => {
    const r = merged(base, base, { ...base, cpuCount: 4, cpuModel: 'AMD EPYC' });
    const v = evaluate(r, []);
    assert.equal(v.warnings?.length, 1);
    const w = v.warnings![0]!;
    assert.match(w, /^The shards ran on different machines/);
    assert.match(w, /CPU model differs: Intel Xeon \(shard 1\/3\) vs AMD EPYC \(shard 3\/3\)/);
    assert.match(w, /CPU count differs: 2 \(shard 1\/3\) vs 4 \(shard 3\/3\)/);
    assert.ok(!w.includes('shard 2/3'), 'shard 2 ran where shard 1 did');
    assert.ok(renderMarkdown(r, v).includes('CPU count differs'));
    assert.ok(formatSummary(r).includes('CPU count differs'));
    assert.ok(renderHtmlReport(r, v).includes('CPU count differs'));
    assert.ok(renderJunit(r, v).includes('CPU count differs'));
  });

  it('says nothing when every shard ran on the same kind of machine, or for a single run', () => {
    assert.equal(evaluate(merged(base, { ...base, generatorCpu: 0.4 }, base), []).warnings, undefined);
    assert.equal(evaluate(constructedResult(), []).warnings, undefined);
  });
});
