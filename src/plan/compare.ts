// The baseline: and compare: sections: what the candidate (service:) is compared with, and how the run
// is cut into rounds (issue 11).
//
//   baseline:  image: my/model:base            (any service kind; settings it leaves out are the candidate's,
//              command: ... | url: ...          so both containers get the same port, env, cpus and memory)
//              result: main-result.json        (or: a stored result.json with rounds: a comparison across runs)
//   compare:   rounds: 10 (at least 6), warm-up-rounds: 1, round: 20s (default: the stages' total),
//              order: random | alternate, mode: interleaved | parallel, min-effect: 5%,
//              max-rounds: 10, max-time: 10m (more rounds while inconclusive), fail-on-inconclusive: false,
//              calibrate: false (A/A: the baseline, or the service, against a second instance of itself)
//
// `compare:` without a baseline runs the candidate alone in rounds, so its result.json can later serve
// as a baseline: {result: FILE}.

import { resolve } from 'node:path';
import { type Path, type Reader, describeValue } from './reader.ts';
import type { RegressionObjective } from './regression.ts';
import { readService } from './service.ts';
import type { ComparePlan, LoadPlan, ReadinessPlan, ServicePlan } from './types.ts';

const COMPARE_KEYS = [
  'rounds',
  'warm-up-rounds',
  'round',
  'order',
  'mode',
  'min-effect',
  'max-rounds',
  'max-time',
  'fail-on-inconclusive',
  'calibrate',
];
/** Keys that say what kind of service it is: the baseline's own replace the candidate's. */
const KIND_KEYS = ['url', 'command', 'image', 'build'];

export const COMPARE_DEFAULTS = {
  rounds: 10,
  minRounds: 6,
  warmupRounds: 1,
  minEffect: 0.05,
  /** One percentage point. */
  minEffectErrorRate: 0.01,
  maxTimeMs: 30 * 60_000,
};

export interface CompareContext {
  baseDir: string;
  presetReadyPath?: string;
  /** The candidate's service: section as written, whose settings a baseline of the same kind inherits. */
  serviceRaw: unknown;
  load: LoadPlan;
  warmupMs: number;
  objectives: RegressionObjective[];
}

export function readCompare(r: Reader, top: Record<string, unknown>, ctx: CompareContext): ComparePlan | undefined {
  const b = top['baseline'];
  const c = top['compare'];
  if (b === undefined && c === undefined) {
    const first = ctx.objectives[0];
    if (first)
      r.fail(
        ['slos'],
        `"${first.text}" compares with a baseline, and there is none: add baseline: (an image, a command, a url or a result file)`,
      );
    return undefined;
  }
  const o = c === undefined ? {} : r.object(c, ['compare'], COMPARE_KEYS);
  const at = (k: string): Path => ['compare', k];
  const calibrate = o['calibrate'] === undefined ? false : r.boolean(o['calibrate'], at('calibrate'));
  const rounds =
    o['rounds'] === undefined
      ? COMPARE_DEFAULTS.rounds
      : r.number(o['rounds'], at('rounds'), { integer: true, min: COMPARE_DEFAULTS.minRounds });
  const maxRounds = o['max-rounds'] === undefined ? rounds : r.number(o['max-rounds'], at('max-rounds'), { integer: true, min: rounds });
  const warmupRounds =
    o['warm-up-rounds'] === undefined
      ? COMPARE_DEFAULTS.warmupRounds
      : r.number(o['warm-up-rounds'], at('warm-up-rounds'), { integer: true, min: 0, max: 10 });
  const totalMs = ctx.load.stages.reduce((t, s) => t + s.durationMs, 0);
  const roundMs = o['round'] === undefined ? totalMs : r.duration(o['round'], at('round'));
  if (roundMs < 500) r.fail(at('round'), `a round must last at least 500ms (enough requests for a percentile), got ${roundMs} ms`);
  const minEffect = o['min-effect'] === undefined ? COMPARE_DEFAULTS.minEffect : readPercent(r, o['min-effect'], at('min-effect'));
  let baseline: ComparePlan['baseline'];
  let resultFile: string | undefined;
  if (b !== undefined) {
    const raw = r.object(b, ['baseline'], [...Object.keys((b ?? {}) as object)]);
    if (raw['result'] !== undefined) {
      const others = Object.keys(raw).filter((k) => k !== 'result');
      if (others.length > 0) r.fail(['baseline', others[0]!], 'a stored result is the whole baseline: result: takes no service settings');
      if (calibrate)
        r.fail(['compare', 'calibrate'], 'calibration runs a service against itself: it needs a baseline service, not a stored result');
      resultFile = resolve(ctx.baseDir, r.string(raw['result'], ['baseline', 'result']));
    } else {
      baseline = readBaselineService(r, raw, ctx);
    }
  }
  if (calibrate && !baseline) {
    // A/A of the candidate's own service: the service: section read a second time.
    const s = readService(r, ctx.serviceRaw, ctx.baseDir, ctx.presetReadyPath);
    baseline = { service: s.service, readiness: s.readiness };
  }
  const against: ComparePlan['against'] = calibrate ? 'calibration' : resultFile ? 'history' : baseline ? 'baseline' : 'none';
  const mode = o['mode'] === undefined ? 'interleaved' : r.oneOf(o['mode'], at('mode'), ['interleaved', 'parallel'] as const);
  if (mode === 'parallel' && against === 'history') r.fail(at('mode'), 'parallel runs both services at once: a stored result cannot run');
  const first = ctx.objectives[0];
  if (against === 'none' && first)
    r.fail(
      ['slos'],
      `"${first.text}" compares with a baseline, and there is none: add baseline: (an image, a command, a url or a result file)`,
    );
  const scale = roundMs / totalMs;
  return {
    against,
    ...(baseline ? { baseline } : {}),
    ...(resultFile ? { resultFile } : {}),
    rounds,
    maxRounds,
    maxTimeMs: o['max-time'] === undefined ? COMPARE_DEFAULTS.maxTimeMs : r.duration(o['max-time'], at('max-time')),
    warmupRounds,
    roundLoad: scaleLoad(ctx.load, scale),
    roundMs,
    roundWarmupMs: Math.round(ctx.warmupMs * scale),
    order: o['order'] === undefined ? 'random' : r.oneOf(o['order'], at('order'), ['random', 'alternate'] as const),
    mode,
    minEffect,
    minEffectErrorRate: COMPARE_DEFAULTS.minEffectErrorRate,
    failOnInconclusive: o['fail-on-inconclusive'] === undefined ? false : r.boolean(o['fail-on-inconclusive'], at('fail-on-inconclusive')),
    objectives: ctx.objectives,
  };
}

/**
 * The baseline's section, read as a service: section. Of the same kind as the candidate (both images, both
 * commands), it inherits every setting it leaves out (port, env, cpus, memory, ready, ...): the two sides
 * differ only in what the user says differs. Of another kind, only the readiness check is shared.
 */
function readBaselineService(
  r: Reader,
  raw: Record<string, unknown>,
  ctx: CompareContext,
): { service: ServicePlan; readiness: ReadinessPlan } {
  const cand = ctx.serviceRaw !== null && typeof ctx.serviceRaw === 'object' ? (ctx.serviceRaw as Record<string, unknown>) : {};
  const kind = (o: Record<string, unknown>) =>
    o['image'] !== undefined ? 'image' : o['command'] !== undefined ? 'command' : o['url'] !== undefined ? 'url' : undefined;
  const bk = kind(raw);
  if (bk === undefined) r.fail(['baseline'], `expected image:, command:, url: or result:, got ${describeValue(raw)}`);
  let merged: Record<string, unknown> = { ...raw };
  if (bk === kind(cand) && bk !== 'url') {
    const inherited = Object.fromEntries(Object.entries(cand).filter(([k]) => !KIND_KEYS.includes(k)));
    merged = { ...inherited, ...raw };
  } else if (raw['ready'] === undefined && cand['ready'] !== undefined) {
    merged = { ...raw, ready: cand['ready'] };
  }
  const s = readService(r, merged, ctx.baseDir, ctx.presetReadyPath, 'baseline');
  return { service: s.service, readiness: s.readiness };
}

/** "5%" or a fraction (0.05). */
function readPercent(r: Reader, v: unknown, at: Path): number {
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v) : null;
  const n = m ? Number(m[1]) / 100 : typeof v === 'number' ? v : NaN;
  if (!(n > 0 && n < 1)) r.fail(at, `expected a percentage like 5% (above 0, below 100%), got ${describeValue(v)}`);
  return n;
}

/** The stages with every duration scaled (a round shorter than the configured run keeps its shape). */
export function scaleLoad(load: LoadPlan, scale: number): LoadPlan {
  if (scale === 1) return load;
  const scaled = <T extends { durationMs: number }>(stages: readonly T[]): T[] =>
    stages.map((s) => ({ ...s, durationMs: Math.max(1, Math.round(s.durationMs * scale)) }));
  return load.model === 'closed' ? { ...load, stages: scaled(load.stages) } : { ...load, stages: scaled(load.stages) };
}
