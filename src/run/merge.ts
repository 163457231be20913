// `loadgate merge DIR... --out DIR`: the shards' results (each DIR's result.json, written by
// `loadgate run --shard i/n`) merged into one result (src/metrics/merge.ts), judged, and every report
// written as one run with the combined load would have written them.
//
// The SLOs come from the results: every result records the SLOs its plan had (RunResult.plan), and the
// plan fingerprint, which covers them, is the same on every shard or the merge is refused. So the merged
// verdict is judged on exactly what the shards ran with, the merge job needs neither the config nor a
// checkout, and a config edited since cannot change the verdict.
//
// An incomplete run fails as not measured as planned (exit 3, src/run/outcome.ts) unless
// --allow-incomplete (or every shard's plan said allow-incomplete: true): a shard missing; a shard that
// started late (more than 1 s after its start-at, or after the earliest shard's start when there was no
// start-at: the shards did not load the service together); one that stopped early (its load ended before
// its planned length); one that failed or did not measure (interrupted, aborted, never started, or its
// generator was the limit). The reasons are the merged verdict's problems, in every report. With
// --allow-incomplete the merge judges what was measured and only says what was missing.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MergeError, mergeResults } from '../metrics/merge.ts';
import { type RunResult, parseRunResult } from '../metrics/result.ts';
import { shardLabel } from '../plan/shard.ts';
import type { MergedShard } from '../plan/fingerprint.ts';
import type { RunStatusWord } from './outcome.ts';
import { formatChecklist, formatSummary } from '../report/console.ts';
import { REPORT_FILES, type WrittenReports, writeReports } from '../report/write.ts';
import { evaluate } from '../verdict/evaluate.ts';
import type { Verdict } from '../verdict/types.ts';

export { MergeError } from '../metrics/merge.ts';

export interface MergeOutput {
  result: RunResult;
  verdict: Verdict;
  reports: WrittenReports;
  /** Why the run is incomplete (missing, late, stopped early or failed shards), whether or not that was allowed. */
  incomplete: string[];
  /** Whether an incomplete run was allowed (--allow-incomplete, or every shard's plan said so). */
  incompleteAllowed: boolean;
  /** How the merged run ends, as a run does (src/run/outcome.ts): an incomplete run not allowed is 'not-measured' (exit 3). */
  status: RunStatusWord;
}

export interface MergeOptions {
  allowIncomplete?: boolean;
  /** What the shards are called in messages and the record (default: the inputs). `workers: N` names its workers. */
  names?: readonly string[];
  /** Adds what the caller knows to the merged result before it is judged: `workers: N` adds the service it started and watched. */
  amend?: (merged: RunResult) => RunResult;
  /** Why the run is incomplete beyond what the results show (a worker that died before writing its result). */
  problems?: readonly string[];
}

/** Reads each folder's result.json (or the file itself), merges, judges, writes every report to `outDir`. */
export function mergeShards(inputs: readonly string[], outDir: string, opts: MergeOptions = {}): MergeOutput {
  const results = inputs.map(readResult);
  const merged = mergeResults(results, opts.names ?? inputs);
  const result = opts.amend ? opts.amend(merged) : merged;
  const incomplete = [...(opts.problems ?? []), ...shardProblems(result)];
  const allowed = opts.allowIncomplete === true || result.plan?.allowIncomplete === true;
  const slos = result.plan?.slos ?? [];
  // A failed shard is named below, once, as what makes the run incomplete: its status is not judged again.
  let verdict = evaluate(asIfComplete(result), slos);
  if (!allowed && incomplete.length > 0) {
    verdict = { ...verdict, pass: false, problems: [...incomplete.map((p) => `incomplete run: ${p}`), ...verdict.problems] };
  }
  const reports = writeReports(outDir, result, verdict);
  const status: RunStatusWord = !allowed && incomplete.length > 0 ? 'not-measured' : verdict.pass ? 'pass' : 'fail';
  return { result, verdict, reports, incomplete, incompleteAllowed: allowed, status };
}

function readResult(input: string): RunResult {
  const file = existsSync(input) && statSync(input).isDirectory() ? join(input, REPORT_FILES.json) : input;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MergeError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return parseRunResult(text);
  } catch (e) {
    throw new MergeError(`${file}: not a loadgate result (${(e as Error).message})`);
  }
}

/** A shard's load that started more than this after its start-at (or the earliest shard's start) is late. */
export const LATE_MS = 1000;
/** A completed shard whose load ended more than this before its planned length stopped early. */
export const EARLY_MS = 100;

/** What makes a merged run incomplete: shards missing, started late, stopped early, failed or not measured. */
export function shardProblems(merged: RunResult): string[] {
  const shards = merged.plan?.shards ?? [];
  const count = shards[0]?.count ?? 1;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (!shards.some((s) => s.index === i)) out.push(`shard ${shardLabel({ index: i, count })} is missing`);
  }
  const ran = shards.filter((s) => s.status !== 'not-started');
  const startAts = new Set(ran.map((s) => s.startAt));
  const shared = startAts.size === 1 ? [...startAts][0] : undefined;
  if (startAts.size > 1)
    out.push(`the shards were given different start-at times: ${ran.map((s) => `${shardLabel(s)} ${s.startAt ?? 'none'}`).join(', ')}`);
  const earliest = Math.min(...ran.map((s) => Date.parse(s.startedAt)));
  for (const s of shards) {
    const name = `shard ${shardLabel(s)} (${s.from})`;
    const ranFor = `after ${secs(s.durationMs)} of ${secs(s.plannedMs ?? merged.durationMs)}`;
    if (s.status === 'not-started') {
      out.push(`${name} never started its load: ${s.reason ?? 'no reason given'}`);
      continue;
    }
    if (s.status === 'invalid') out.push(`${name} did not measure the service: ${s.reason ?? 'no reason given'}`);
    else if (s.status !== 'completed') out.push(`${name} ${s.status} ${ranFor}: ${s.reason ?? 'no reason given'}`);
    else if (s.plannedMs !== undefined && s.durationMs < s.plannedMs - EARLY_MS)
      out.push(`${name} stopped early: its load ended ${ranFor}`);
    const late = lateness(s, shared, earliest);
    if (late !== undefined) out.push(`${name} ${late}`);
  }
  return out;
}

/** "started 3.1 s after start-at ...", or undefined when it started in time. */
function lateness(s: MergedShard, sharedStartAt: string | undefined, earliestMs: number): string | undefined {
  const started = Date.parse(s.startedAt);
  if (sharedStartAt !== undefined) {
    const lateMs = started - Date.parse(sharedStartAt);
    return lateMs > LATE_MS ? `started ${secs(lateMs)} after start-at ${sharedStartAt} (more than ${LATE_MS / 1000} s)` : undefined;
  }
  const lateMs = started - earliestMs;
  return lateMs > LATE_MS
    ? `started ${secs(lateMs)} after the first shard (more than ${LATE_MS / 1000} s; no start-at was given)`
    : undefined;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The merged result judged on what was measured: a failed shard's status is not held against it (an SLO abort still is). */
function asIfComplete(r: RunResult): RunResult {
  if (r.status === 'completed' || r.abortedBy !== undefined) return r;
  const { reason: _reason, ...rest } = r;
  return { ...rest, status: 'completed' };
}

const USAGE = [
  'Usage: loadgate merge DIR... --out DIR [--allow-incomplete] [--no-fail]',
  '',
  'Merges the results of `loadgate run --shard i/n` (each DIR holds one result.json) into the result of',
  'the whole load, judges it on the SLOs the shards ran with, and writes every report to --out.',
  '',
  '  --out DIR             the folder for the merged reports',
  '  --allow-incomplete    judge what was measured when a shard is missing, started late, stopped early',
  '                        or failed (else the merged run fails as incomplete: exit 3)',
  '  --no-fail             report breaches but exit 0',
  '  -h, --help            this help',
  '',
].join('\n');

/**
 * The command: 'ok' (exit 0), 'breach' (the verdict failed), 'usage' (bad arguments, or results that cannot
 * merge), 'notMeasured' (an incomplete run, not allowed: exit 3). Keys of EXIT (src/run/outcome.ts).
 */
export function mergeCommand(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
): 'ok' | 'breach' | 'usage' | 'notMeasured' {
  let values: { out?: string; 'allow-incomplete'?: boolean; 'no-fail'?: boolean; help?: boolean };
  let dirs: string[];
  try {
    ({ values, positionals: dirs } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        'allow-incomplete': { type: 'boolean' },
        'no-fail': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 'usage';
  }
  if (values.help) {
    out(USAGE);
    return 'ok';
  }
  if (dirs.length === 0 || values.out === undefined) {
    err(`merge: give the shards' folders and --out DIR\n${USAGE}`);
    return 'usage';
  }
  let merged: MergeOutput;
  try {
    merged = mergeShards(dirs, values.out, { allowIncomplete: values['allow-incomplete'] === true });
  } catch (e) {
    if (e instanceof MergeError) {
      err(e.message);
      return 'usage';
    }
    throw e;
  }
  const { result, verdict, reports, incomplete, incompleteAllowed, status } = merged;
  for (const s of result.plan?.shards ?? []) {
    out(
      `shard ${shardLabel(s)} from ${s.from}: ${s.status}, ${(s.durationMs / 1000).toFixed(1)} s, started +${(s.startOffsetMs / 1000).toFixed(1)} s, ${s.target}`,
    );
  }
  if (new Set((result.plan?.shards ?? []).map((s) => s.target)).size > 1) out('Note: the shards loaded different targets.');
  if (incomplete.length > 0) out(`${incompleteAllowed ? 'Allowed, incomplete' : 'Incomplete'}: ${incomplete.join('; ')}`);
  out('');
  out(formatSummary(result));
  out('');
  out(formatChecklist(result, verdict));
  out(`\nReports: ${reports.dir} (${reports.files.map((f) => f.slice(reports.dir.length + 1)).join(', ')})`);
  if (status === 'not-measured') {
    // As a run that did not measure the service as planned: the last word, exit 3 (--no-fail does not cover it).
    err(`incomplete run, not measured as planned: ${incomplete.join('; ')} (--allow-incomplete judges what was measured)`);
    return 'notMeasured';
  }
  if (verdict.pass) return 'ok';
  if (values['no-fail']) {
    out('--no-fail: exiting 0 despite the verdict.');
    return 'ok';
  }
  return 'breach';
}
