// Shards (src/plan/shard.ts): over many seeded plans and 1 to 8 shards, the shards together are the plan.
// Closed model: users per stage sum to the plan's. Open model: the union of the shards' send times is the
// plan's schedule to the microsecond. Bodies partition; seeds differ; max-in-flight sums; the
// fingerprint is the whole plan's on every shard and leaves out only what it says it does.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { flagOverrides } from '../src/cli.ts';
import { applyOverrides, buildPlan, readConfigFile } from '../src/plan/config.ts';
import { planFingerprint } from '../src/plan/fingerprint.ts';
import { parseShard, partOf, shardPlan, shareOf, usersReached } from '../src/plan/shard.ts';
import type { EndpointConfig, LoadPlan, Plan, RateStage, UserStage } from '../src/plan/types.ts';
import { arrivalSchedule, stageSpans, usersAt } from '../src/load/shapes.ts';
import { mulberry32 } from '../src/payload/random.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const PLANS = 150;

function planWith(load: LoadPlan, endpoints: EndpointConfig[] = [endpoint('a', { kind: 'none' })], seed = 7): Plan {
  return {
    service: { kind: 'url', baseUrl: 'http://127.0.0.1:1' },
    readiness: { path: '/', timeoutMs: 1000, okStatus: [[200, 399]] },
    endpoints,
    load,
    monitors: [],
    slos: [],
    warmupMs: 0,
    timeoutMs: 5000,
    outputDir: '/tmp/out',
    seed,
    progressIntervalMs: 5000,
    baseDir: '/work/project',
  };
}

function endpoint(name: string, body: EndpointConfig['body']): EndpointConfig {
  return { name, method: 'POST', path: '/p', headers: {}, body, weight: 1, okStatus: [[200, 399]] };
}

/** A closed-model plan: 1 to 5 stages of 0 to 40 users, spawn rates from slow (ramps cut short) to at once. */
function closedPlan(rand: () => number): Plan {
  const stages: UserStage[] = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, k) => ({
    name: `s${k}`,
    durationMs: 500 + Math.floor(rand() * 40) * 100,
    users: Math.floor(rand() * 41),
    spawnRate: [0.5, 1, 3, 7.5, 20, 1000][Math.floor(rand() * 6)]!,
  }));
  return planWith({ model: 'closed', perUserRate: 0, stages });
}

/** An open-model plan: 1 to 4 stages of 0 to 60 req/s, held or ramped, with odd durations. */
function openPlan(rand: () => number): Plan {
  const stages: RateStage[] = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, k) => ({
    name: `r${k}`,
    durationMs: 300 + Math.floor(rand() * 3000),
    rate: rand() < 0.15 ? 0 : Math.round(rand() * 600) / 10,
    ramp: rand() < 0.5,
  }));
  return planWith({ model: 'open', maxInFlight: 1 + Math.floor(rand() * 50), stages });
}

describe('closed model: users split by user number mod n', () => {
  it('share(c) over the shards sums to c', () => {
    for (let n = 1; n <= 8; n++)
      for (let c = 0; c < 50; c++)
        assert.equal(
          [...Array(n).keys()].reduce((s, i) => s + shareOf(c, i, n), 0),
          c,
        );
  });

  it('the shards users sum to the plan users at every stage end and through every hold; mid-ramp within n - 1', () => {
    const rand = mulberry32(13);
    for (let p = 0; p < PLANS; p++) {
      const plan = closedPlan(rand);
      const stages = (plan.load as { stages: UserStage[] }).stages;
      for (let n = 1; n <= 8; n++) {
        const shards = [...Array(n).keys()].map((i) => (shardPlan(plan, i, n).load as { stages: UserStage[] }).stages);
        for (const [s, sp] of stageSpans(stages).entries()) {
          const sum = (t: number) => shards.reduce((acc, st) => acc + usersAt(st, t), 0);
          assert.equal(sum(sp.endMs - 1), usersAt(stages, sp.endMs - 1), `plan ${p}, ${n} shards, end of stage ${s}`);
          assert.equal(shards.reduce((acc, st) => acc + st[s]!.spawnRate, 0).toFixed(9), stages[s]!.spawnRate.toFixed(9));
          for (let t = sp.startMs; t < sp.endMs; t += 37) {
            const diff = sum(t) - usersAt(stages, t);
            assert.ok(Math.abs(diff) < n, `plan ${p}, ${n} shards, ${t} ms: off by ${diff}`);
            // Once the plan holds (its count at t is the stage's end count), so do the shards.
            if (usersAt(stages, t) === usersReached(stages)[s] && usersAt(stages, sp.startMs) === usersReached(stages)[s])
              assert.equal(diff, 0);
          }
        }
      }
    }
  });

  it('a ramp too slow to reach its target splits the count it reaches, not the target', () => {
    const plan = planWith({ model: 'closed', perUserRate: 0, stages: [{ name: 's', durationMs: 10_000, users: 100, spawnRate: 1 }] });
    const users = [0, 1, 2].map((i) => (shardPlan(plan, i, 3).load as { stages: UserStage[] }).stages[0]!.users);
    assert.deepEqual(users, [4, 3, 3]);
  });
});

describe('open model: arrivals k go to shard k mod n', () => {
  /**
   * Shard i's send times as the engine makes them (src/load/open.ts): the shard's schedule (rates / n),
   * its count started at -arrivalOffset (index/count).
   */
  function shardTimes(shard: Plan): number[] {
    const load = shard.load as { stages: RateStage[]; arrivalOffset?: number };
    const sch = arrivalSchedule(load.stages, load.arrivalOffset ?? 0);
    const out: number[] = [];
    for (let m = 0; ; m++) {
      const t = sch.timeOf(m);
      if (!Number.isFinite(t)) return out;
      out.push(t);
    }
  }

  it('the union of the shards send times is the plan schedule, to the microsecond', () => {
    const rand = mulberry32(29);
    for (let p = 0; p < PLANS; p++) {
      const plan = openPlan(rand);
      const sch = arrivalSchedule((plan.load as { stages: RateStage[] }).stages);
      const want = Array.from({ length: sch.total }, (_, k) => sch.timeOf(k));
      for (let n = 1; n <= 8; n++) {
        const per = [...Array(n).keys()].map((i) => shardTimes(shardPlan(plan, i, n)));
        for (const [i, times] of per.entries()) {
          assert.equal(times.length, shareOf(sch.total, i, n), `plan ${p}: shard ${i} of ${n} sends its share`);
          // Shard i's m-th arrival is the plan's arrival i + m n.
          for (const [m, t] of times.entries()) {
            assert.ok(Math.abs(t - want[i + m * n]!) < 1e-3, `plan ${p}, shard ${i}/${n}, arrival ${m}: ${t} vs ${want[i + m * n]}`);
          }
        }
        const union = per.flat().sort((a, b) => a - b);
        assert.equal(union.length, want.length);
        for (const [k, t] of union.entries()) assert.ok(Math.abs(t - want[k]!) < 1e-3);
      }
    }
  });

  it('the shards rates add up to the plan rate at every instant, and max-in-flight splits', () => {
    const rand = mulberry32(31);
    for (let p = 0; p < 40; p++) {
      const plan = openPlan(rand);
      const whole = arrivalSchedule((plan.load as { stages: RateStage[] }).stages);
      for (let n = 1; n <= 8; n++) {
        const shards = [...Array(n).keys()].map((i) => shardPlan(plan, i, n));
        const scheds = shards.map((s) => arrivalSchedule((s.load as { stages: RateStage[] }).stages));
        for (let t = 0; t < whole.durationMs; t += 53) {
          assert.ok(Math.abs(scheds.reduce((a, s) => a + s.rateAt(t), 0) - whole.rateAt(t)) < 1e-9);
        }
        const caps = shards.map((s) => (s.load as { maxInFlight: number }).maxInFlight);
        const m = (plan.load as { maxInFlight: number }).maxInFlight;
        assert.ok(caps.every((c) => c >= 1));
        if (m >= n)
          assert.equal(
            caps.reduce((a, b) => a + b, 0),
            m,
          );
      }
    }
  });
});

describe('bodies, seeds, identity', () => {
  it('a body list is partitioned: every body on exactly one shard', () => {
    const rand = mulberry32(3);
    for (let p = 0; p < 40; p++) {
      const count = 8 + Math.floor(rand() * 50);
      const bodies = Array.from({ length: count }, (_, k) => `{"k":${k}}`);
      const plan = planWith(openPlan(rand).load, [
        endpoint('a', { kind: 'list', bodies, origin: '/work/project/b.jsonl' }),
        endpoint('b', { kind: 'fixed', body: '{}' }),
      ]);
      for (let n = 1; n <= 8; n++) {
        const parts = [...Array(n).keys()].map((i) => shardPlan(plan, i, n).endpoints[0]!.body as { bodies: string[] });
        const all = parts.flatMap((b) => b.bodies);
        assert.equal(all.length, count);
        assert.deepEqual([...all].sort(), [...bodies].sort());
        assert.ok(parts.every((b) => b.bodies.length >= 1));
        for (let i = 0; i < n; i++) assert.deepEqual(shardPlan(plan, i, n).endpoints[1]!.body, { kind: 'fixed', body: '{}' });
      }
    }
    assert.deepEqual(partOf(['a', 'b', 'c', 'd', 'e'], { index: 1, count: 2 }), ['b', 'd']);
  });

  it('too few bodies to split without overlap is a configuration error', () => {
    const plan = planWith(closedPlan(mulberry32(1)).load, [endpoint('a', { kind: 'list', bodies: ['1', '2'], origin: 'x.jsonl' })]);
    assert.throws(
      () => shardPlan(plan, 0, 3),
      (e: Error) => e.name === 'ConfigError' && /2 bodies \(x\.jsonl\) cannot be split over 3 shards/.test(e.message),
    );
    const gen = planWith(closedPlan(mulberry32(1)).load, [
      endpoint('g', {
        kind: 'generate',
        sources: [{ kind: 'inline', schema: {} }],
        count: 3,
        wrap: 'none',
        batch: 1,
        where: 'config request',
      }),
    ]);
    assert.throws(() => shardPlan(gen, 0, 4), /3 generated bodies/);
    assert.equal(shardPlan(gen, 2, 3).shard!.planSeed, 7, 'generated bodies come from the whole plan seed');
  });

  it('seeds differ per shard, shard 1 keeps the plan seed; 1 shard of 1 is the plan', () => {
    const plan = closedPlan(mulberry32(5));
    for (let n = 1; n <= 8; n++) {
      const seeds = [...Array(n).keys()].map((i) => shardPlan(plan, i, n).seed);
      assert.equal(new Set(seeds).size, n);
      assert.equal(seeds[0], plan.seed);
    }
    const { shard, ...one } = shardPlan(plan, 0, 1);
    assert.deepEqual(one, plan);
    assert.deepEqual(shard, { index: 0, count: 1, planSeed: plan.seed, fingerprint: planFingerprint(plan) });
  });

  it('every shard carries the whole plan fingerprint; what it leaves out does not change it, the load does', () => {
    const plan = openPlan(mulberry32(9));
    const fp = planFingerprint(plan);
    assert.match(fp, /^[0-9a-f]{16}$/);
    for (let i = 0; i < 4; i++) assert.equal(planFingerprint(shardPlan(plan, i, 4)), fp);
    const moved: Plan = {
      ...plan,
      outputDir: '/elsewhere',
      progressIntervalMs: 1,
      service: { kind: 'url', baseUrl: 'https://other' },
      baseDir: '/home/runner/project',
      configPath: '/home/runner/project/loadgate.yml',
    };
    assert.equal(planFingerprint(moved), fp);
    const withFile = (base: string): Plan => ({
      ...plan,
      baseDir: base,
      endpoints: [
        endpoint('g', {
          kind: 'generate',
          sources: [{ kind: 'file', file: `${base}/schema.json` }],
          count: 10,
          wrap: 'none',
          batch: 1,
          where: 'x',
        }),
      ],
    });
    assert.equal(planFingerprint(withFile('/a/b')), planFingerprint(withFile('/c')), 'a checkout in another folder is the same plan');
    const faster = {
      ...plan,
      load: { ...plan.load, stages: (plan.load as { stages: RateStage[] }).stages.map((s) => ({ ...s, rate: s.rate + 1 })) },
    } as Plan;
    assert.notEqual(planFingerprint(faster), fp);
    assert.notEqual(planFingerprint({ ...plan, seed: plan.seed + 1 }), fp);
    assert.notEqual(planFingerprint({ ...plan, warmupMs: 100 }), fp);
  });
});

describe('the shard: setting', () => {
  const dir = tempDir('loadgate-shard-');
  const yaml =
    'service: {url: "http://127.0.0.1:1"}\nrequest: {path: /p}\nload:\n  stages:\n    - {duration: 2s, users: 10, spawn-rate: 5}\n';

  it('the config key and the --shard flag give shard i of n (written 1-based)', () => {
    const file = writeFile(dir, 'a.yml', `${yaml}shard: 2/4\n`);
    const plan = buildPlan(readConfigFile(file));
    assert.equal(plan.shard?.index, 1);
    assert.equal(plan.shard?.count, 4);
    assert.equal((plan.load as { stages: UserStage[] }).stages[0]!.users, 3);
    const cfg = readConfigFile(writeFile(dir, 'b.yml', yaml));
    const flagged = buildPlan(applyOverrides(cfg, flagOverrides({ shard: '4/4' }, cfg.raw)));
    assert.equal(flagged.shard?.index, 3);
    assert.equal(flagged.shard?.fingerprint, planFingerprint(buildPlan(cfg)));
  });

  it('a bad value names the setting', () => {
    const cfg = readConfigFile(writeFile(dir, 'c.yml', yaml));
    for (const bad of ['0/4', '5/4', 'two', '1/0']) {
      assert.throws(() => buildPlan(applyOverrides(cfg, flagOverrides({ shard: bad }, cfg.raw))), /--shard.*expected i\/n/);
    }
    assert.deepEqual(parseShard(' 3 / 8 '), { index: 2, count: 8 });
  });
});

describe('the start-at: setting', () => {
  const dir = tempDir('loadgate-start-at-');
  const yaml = 'service: {url: "http://127.0.0.1:1"}\nrequest: {path: /p}\nload:\n  stages:\n    - {duration: 20s, rate: 5}\n';
  const withFlag = (value: string) => {
    const cfg = readConfigFile(writeFile(dir, 'a.yml', yaml));
    return buildPlan(applyOverrides(cfg, flagOverrides({ 'start-at': value }, cfg.raw)));
  };

  it('reads ISO 8601 with its zone, epoch seconds and epoch ms as the same instant', () => {
    const at = Math.floor((Date.now() + 120_000) / 1000) * 1000;
    const iso = new Date(at).toISOString();
    const plus2 = new Date(at + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    for (const v of [iso, plus2, String(at / 1000), String(at)]) assert.equal(withFlag(v).startAt, at, v);
    const fromFile = buildPlan(readConfigFile(writeFile(dir, 'b.yml', `${yaml}start-at: ${iso}\n`)));
    assert.equal(fromFile.startAt, at);
  });

  it('a start-at in the past, within the run, is taken (the shard starts at once and the merge calls it late)', () => {
    const at = Date.now() - 10_000;
    assert.equal(withFlag(String(at)).startAt, at);
  });

  it('is not part of the fingerprint: shards given it, or not, are parts of one plan', () => {
    const at = String(Date.now() + 60_000);
    const cfg = readConfigFile(writeFile(dir, 'c.yml', yaml));
    assert.equal(planFingerprint(withFlag(at)), planFingerprint(buildPlan(cfg)));
  });

  it('a comparison in rounds cannot take one', () => {
    const cfg = readConfigFile(writeFile(dir, 'd.yml', `${yaml}baseline: {url: "http://127.0.0.1:2"}\nstart-at: ${Date.now() + 60_000}\n`));
    assert.throws(() => buildPlan(cfg), /start-at.*cannot wait for a shared start/);
  });
});
