// The comparison's statistics (src/verdict/shift.ts), pure: critical values against published tables,
// the intervals' coverage by seeded simulation, and the three-valued rule on hand-made intervals.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../src/payload/random.ts';
import {
  fromScale,
  judgeShift,
  normalQuantile,
  onScale,
  pairedShift,
  rankSumCritical,
  signedRankCritical,
  unpairedShift,
  walshAverages,
  type Shift,
} from '../src/verdict/shift.ts';

/** A standard normal from a seeded uniform (Box-Muller). */
function normals(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

describe('critical values (exact distributions)', () => {
  it('signed-rank: the published two-sided 5% table', () => {
    // Wilcoxon signed-rank, two-sided alpha = 0.05: n -> critical T.
    const table: Record<number, number> = { 6: 0, 7: 2, 8: 3, 9: 5, 10: 8, 12: 13, 15: 25, 20: 52, 25: 89, 30: 137 };
    for (const [n, t] of Object.entries(table)) assert.equal(signedRankCritical(Number(n), 0.05).t, t, `n = ${n}`);
    assert.equal(signedRankCritical(5, 0.05).t, -1, 'five pairs cannot give a 95% interval');
  });

  it('rank-sum: the published two-sided 5% table of U', () => {
    const table: Array<[number, number, number]> = [
      [5, 5, 2],
      [8, 12, 22],
      [10, 10, 23],
      [15, 15, 64],
      [20, 20, 127],
    ];
    for (const [m, n, u] of table) assert.equal(rankSumCritical(m, n, 0.05).t, u, `${m} x ${n}`);
  });

  it('the normal approximation takes over smoothly where the exact one stops', () => {
    const exact = signedRankCritical(300, 0.05).t;
    const approx = signedRankCritical(301, 0.05).t;
    // T's mean grows by 150.5 from n = 300 to 301 and its sd by ~56: the critical value moves by ~134.
    assert.ok(Math.abs(approx - exact - 134) < 10, `${exact} -> ${approx}`);
    assert.ok(Math.abs(rankSumCritical(101, 100, 0.05).t - rankSumCritical(100, 100, 0.05).t - 44) < 10);
  });

  it('normalQuantile', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.001) + 3.090232) < 1e-6);
    assert.equal(normalQuantile(0.5), 0);
  });
});

describe('Hodges-Lehmann shifts', () => {
  it('walsh averages and the estimate of a small sample', () => {
    assert.deepEqual(walshAverages([3, 1, 2]), [1, 1.5, 2, 2, 2.5, 3]);
    const s = pairedShift([0.1, 0.12, 0.08, 0.11, 0.09, 0.1, 0.5]);
    // One wild round moves the estimate by little: the mean would be 0.157.
    assert.ok(s.estimate > 0.09 && s.estimate < 0.12, String(s.estimate));
    assert.ok(s.low !== null && s.high !== null && s.low > 0 && s.low <= s.estimate && s.estimate <= s.high);
  });

  it('paired: too few pairs give no interval', () => {
    const s = pairedShift([0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.equal(s.low, null);
    assert.equal(judgeShift(s, { scale: 'ratio', worse: 'higher', minEffect: 0.05 }), 'inconclusive');
  });

  it('paired: the 95% interval covers the true shift at least 95% of the time (2,000 seeded samples of 10 pairs)', () => {
    const z = normals(42);
    let covered = 0;
    const trials = 2000;
    for (let k = 0; k < trials; k++) {
      // Heavy-ish tails: a normal plus, one round in ten, a shock of four times the spread.
      const d = Array.from({ length: 10 }, () => 0.1 + 0.03 * z() + (z() > 1.28 ? 0.12 * z() : 0));
      const s = pairedShift(d);
      if (s.low! <= 0.1 && 0.1 <= s.high!) covered++;
    }
    // Exact coverage is 95.1% for a symmetric distribution; 2,000 trials have a standard error of 0.5%.
    assert.ok(covered / trials >= 0.935, `coverage ${covered / trials}`);
    assert.ok(covered / trials <= 0.975, `coverage ${covered / trials} (an interval far too wide is wrong too)`);
  });

  it('unpaired: the interval covers the true shift, and its width shrinks with more rounds', () => {
    const z = normals(7);
    let covered = 0;
    const trials = 1000;
    for (let k = 0; k < trials; k++) {
      const x = Array.from({ length: 10 }, () => 1 + 0.05 * z());
      const y = Array.from({ length: 10 }, () => 1.2 + 0.05 * z());
      const s = unpairedShift(x, y);
      if (s.low! <= 0.2 && 0.2 <= s.high!) covered++;
    }
    assert.ok(covered / trials >= 0.93 && covered / trials <= 0.98, `coverage ${covered / trials}`);
    const width = (n: number) => {
      const s = unpairedShift(
        Array.from({ length: n }, () => 1 + 0.05 * z()),
        Array.from({ length: n }, () => 1 + 0.05 * z()),
      );
      return s.high! - s.low!;
    };
    assert.ok(width(40) < width(10));
  });
});

describe('the three-valued rule', () => {
  const latency = { scale: 'ratio', worse: 'higher', minEffect: 0.05 } as const;
  const throughput = { scale: 'ratio', worse: 'lower', minEffect: 0.05 } as const;
  const shift = (estimate: number, low: number, high: number): Shift => ({ n: 10, estimate, low, high, confidence: 0.95 });
  const pct = (p: number) => Math.log(1 + p / 100);

  it('latency: regressed only when significant AND beyond the minimum effect', () => {
    assert.equal(judgeShift(shift(pct(12), pct(8), pct(16)), latency), 'regressed');
    assert.equal(judgeShift(shift(pct(6), pct(1), pct(11)), latency), 'regressed');
    // Significant, but smaller than what matters, and not shown to be within it: more rounds would tell.
    assert.equal(judgeShift(shift(pct(3), pct(1), pct(6)), latency), 'inconclusive');
    // Within +-5% all the way: the same, even though it is "significant".
    assert.equal(judgeShift(shift(pct(2), pct(1), pct(3)), latency), 'same');
    assert.equal(judgeShift(shift(pct(0.5), pct(-2), pct(3)), latency), 'same');
    assert.equal(judgeShift(shift(pct(-10), pct(-14), pct(-6)), latency), 'improved');
    // A wide interval around a big estimate is not enough: it may be noise.
    assert.equal(judgeShift(shift(pct(10), pct(-2), pct(25)), latency), 'inconclusive');
  });

  it('throughput: worse is lower, and a 5% drop is a ratio of 0.95', () => {
    const ln = Math.log;
    assert.equal(judgeShift(shift(ln(0.94), ln(0.92), ln(0.96)), throughput), 'regressed');
    assert.equal(judgeShift(shift(ln(0.955), ln(0.93), ln(0.98)), throughput), 'inconclusive');
    assert.equal(judgeShift(shift(ln(1.1), ln(1.07), ln(1.13)), throughput), 'improved');
  });

  it('error rate: differences in percentage points', () => {
    const errors = { scale: 'difference', worse: 'higher', minEffect: 0.005 } as const;
    assert.equal(judgeShift(shift(0.02, 0.01, 0.03), errors), 'regressed');
    assert.equal(judgeShift(shift(0, -0.001, 0.002), errors), 'same');
    assert.deepEqual([onScale('difference', 0.75, 0.25), onScale('ratio', 0, 5), onScale('ratio', 2, 1)], [0.5, null, Math.log(2)]);
    assert.ok(Math.abs(fromScale('ratio', Math.log(1.25)) - 0.25) < 1e-12);
  });

  it('end to end on rounds: +10% per pair with 3% round noise is regressed; no change is same', () => {
    const z = normals(3);
    const base = Array.from({ length: 10 }, () => 20 * (1 + 0.03 * z()));
    const slower = base.map((b) => b * 1.1 * (1 + 0.01 * z()));
    const equal = base.map((b) => b * (1 + 0.01 * z()));
    const d = (c: number[]) => c.map((v, i) => onScale('ratio', v, base[i]!)!);
    assert.equal(judgeShift(pairedShift(d(slower)), latency), 'regressed');
    assert.equal(judgeShift(pairedShift(d(equal)), latency), 'same');
  });
});
