// The baseline from a stored result.json (baseline: {result: FILE}): its rounds become the baseline's, for
// a comparison across runs and machines. The file must have rounds (a run with compare: records them);
// its environment is read where recorded, so a report can warn where the two machines differ.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../plan/config.ts';
import { type RoundRecord, type SerializedRound, parseRounds } from '../metrics/rounds.ts';
import type { Environment } from '../verdict/compare.ts';

/** What is read of a stored result.json besides its rounds: the environment, wherever it was recorded. */
interface StoredJson {
  verdict?: { comparison?: { environments?: { candidate?: Environment } } };
  /** Written by loadgate beside the rounds. */
  roundsEnvironment?: Record<string, unknown>;
  /** An environment record of the result itself, should one be there. */
  environment?: Record<string, unknown>;
  startedAt?: string;
}

export interface StoredBaseline {
  rounds: RoundRecord[];
  environment: Environment;
}

export function readStoredBaseline(file: string): StoredBaseline {
  let raw: StoredJson & { rounds?: SerializedRound[] };
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(`baseline result ${file}: cannot read it (${why})`);
  }
  if (!Array.isArray(raw.rounds) || raw.rounds.length === 0) {
    throw new ConfigError(
      `baseline result ${file}: it has no rounds to compare with; record them with compare: {rounds: 10} in the run that writes it`,
    );
  }
  let rounds: RoundRecord[];
  try {
    rounds = parseRounds(raw.rounds);
  } catch (e) {
    throw new ConfigError(`baseline result ${file}: its rounds cannot be read (${(e as Error).message})`);
  }
  // The stored run's own service (its candidate) is this run's baseline.
  const used = rounds
    .filter((r) => r.side === 'candidate' && !r.warmup && !r.excluded)
    .map((r, i): RoundRecord => ({ ...r, side: 'baseline', pair: i }));
  if (used.length < 2) throw new ConfigError(`baseline result ${file}: only ${used.length} usable round(s); a comparison needs several`);
  return { rounds: used, environment: environmentOf(raw) };
}

/** The environment a stored result recorded: loadgate's own (comparison.environments) or a top-level one, else what little the result says. */
function environmentOf(raw: StoredJson): Environment {
  const own = raw.verdict?.comparison?.environments?.candidate;
  if (own) return own;
  const e = raw.roundsEnvironment ?? raw.environment ?? {};
  const str = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
  const num = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : undefined);
  const out: Environment = {};
  const cpu = str('cpuModel') ?? str('cpu');
  if (cpu !== undefined) out.cpuModel = cpu;
  const cores = num('cores') ?? num('cpus');
  if (cores !== undefined) out.cores = cores;
  const os = str('os');
  if (os !== undefined) out.os = os;
  const v = str('loadgate') ?? str('version');
  if (v !== undefined) out.loadgate = v;
  if (raw.startedAt) out.at = raw.startedAt;
  return out;
}

/** Sentences for each recorded difference between the two environments (nothing where one side did not record it). */
export function environmentDifferences(a: Environment, b: Environment): string[] {
  const out: string[] = [];
  const keys: Array<[keyof Environment, string]> = [
    ['cpuModel', 'CPU model'],
    ['cores', 'cores'],
    ['os', 'OS'],
    ['loadgate', 'loadgate version'],
    ['image', 'image'],
  ];
  for (const [k, name] of keys) {
    if (a[k] !== undefined && b[k] !== undefined && a[k] !== b[k])
      out.push(`the ${name} differs: ${String(b[k])} (baseline) vs ${String(a[k])} (this run)`);
  }
  const missing = keys.filter(([k]) => b[k] === undefined && a[k] !== undefined).map(([, n]) => n);
  if (missing.length > 0) out.push(`the stored result does not record its ${missing.join(', ')}: differences there cannot be checked`);
  return out;
}
