// The baseline from a stored result.json (baseline: {result: FILE}): its rounds become the baseline's, for
// a comparison across runs and machines. The file must have rounds (a run with compare: records them);
// where it was measured is read from its `environment` (src/metrics/environment.ts), or, in a file an
// older loadgate wrote, from `roundsEnvironment` or the comparison's own record, so that the report can
// warn where the two machines differ.

import { readFileSync } from 'node:fs';
import type { Environment } from '../metrics/environment.ts';
import { type RoundRecord, type SerializedRound, parseRounds } from '../metrics/rounds.ts';
import { ConfigError } from '../plan/config.ts';

/** What is read of a stored result.json besides its rounds. */
interface StoredJson {
  environment?: unknown;
  /** Older loadgate: {cpuModel, cores, os: "linux 6.1.0", loadgate, image, at} beside the rounds. */
  roundsEnvironment?: unknown;
  /** Older loadgate: the same short record, in the comparison. */
  verdict?: { comparison?: { environments?: { candidate?: unknown } } };
  startedAt?: string;
}

export interface StoredBaseline {
  rounds: RoundRecord[];
  /** Where the stored run measured: partial for a file an older loadgate wrote; undefined when it says nothing. */
  environment?: Partial<Environment>;
  startedAt?: string;
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
  const environment = storedEnvironment(raw);
  return {
    rounds: used,
    ...(environment ? { environment } : {}),
    ...(typeof raw.startedAt === 'string' ? { startedAt: raw.startedAt } : {}),
  };
}

/**
 * Where a stored result was measured: its `environment`, completed by an older file's short record
 * (which alone named the service's image in a comparison); undefined when neither is there.
 */
export function storedEnvironment(raw: StoredJson): Partial<Environment> | undefined {
  const legacy = legacyEnvironment(raw.roundsEnvironment ?? raw.verdict?.comparison?.environments?.candidate);
  const own = recordedEnvironment(raw.environment);
  if (!own && !legacy) return undefined;
  return { ...legacy, ...own };
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (o: Json, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const num = (o: Json, k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);

/** The fields of an Environment that a file holds with the right types (a hand-edited file may hold anything). */
function recordedEnvironment(x: unknown): Partial<Environment> | undefined {
  if (!isObject(x)) return undefined;
  const out: Partial<Environment> = {};
  for (const k of ['cpuModel', 'os', 'kernel', 'arch', 'node', 'loadgate'] as const) {
    const v = str(x, k);
    if (v !== undefined) out[k] = v;
  }
  for (const k of ['cpuCount', 'memoryBytes', 'cpuStealPercent', 'generatorCpu'] as const) {
    const v = num(x, k);
    if (v !== undefined) out[k] = v;
  }
  if (isObject(x.runner)) {
    const r = x.runner;
    const runner = Object.fromEntries(
      (['name', 'os', 'arch', 'image', 'imageVersion'] as const).flatMap((k) => (str(r, k) !== undefined ? [[k, str(r, k)!]] : [])),
    );
    if (Object.keys(runner).length > 0) out.runner = runner;
  }
  if (isObject(x.serviceImage) && str(x.serviceImage, 'image') !== undefined) {
    const si = x.serviceImage;
    const kind = str(si, 'digestKind');
    out.serviceImage = {
      image: str(si, 'image')!,
      ...(str(si, 'digest') !== undefined ? { digest: str(si, 'digest')! } : {}),
      ...(kind === 'repo-digest' || kind === 'image-id' ? { digestKind: kind } : {}),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * An older loadgate's short record: its os was `${platform()} ${release()}` ("linux 6.1.0-13-amd64"),
 * so only the kernel is kept from it (the OS is named differently now, and would differ for nothing).
 */
function legacyEnvironment(x: unknown): Partial<Environment> | undefined {
  if (!isObject(x)) return undefined;
  const out: Partial<Environment> = {};
  const cpu = str(x, 'cpuModel');
  if (cpu !== undefined) out.cpuModel = cpu.trim();
  const cores = num(x, 'cores');
  if (cores !== undefined) out.cpuCount = cores;
  const kernel = str(x, 'os')?.split(' ').slice(1).join(' ');
  if (kernel) out.kernel = kernel;
  const loadgate = str(x, 'loadgate');
  if (loadgate !== undefined) out.loadgate = loadgate;
  const image = str(x, 'image');
  if (image !== undefined) out.serviceImage = { image };
  return Object.keys(out).length > 0 ? out : undefined;
}
