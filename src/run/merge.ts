// `loadgate merge DIR... --out DIR`: the shards' results (each DIR's result.json, written by
// `loadgate run --shard i/n`) merged into one result (src/metrics/merge.ts), judged, and every report
// written as one run with the combined load would have written them.
//
// The SLOs come from the results: every result records the SLOs its plan had (RunResult.plan), and the
// plan fingerprint, which covers them, is the same on every shard or the merge is refused. So the merged
// verdict is judged on exactly what the shards ran with, the merge job needs neither the config nor a
// checkout, and a config edited since cannot change the verdict.
//
// An incomplete run fails the verdict unless --allow-incomplete: a shard missing, a shard whose load
// started late (more than max(2 s, 5% of the planned duration) after the first shard's: the shards
// did not load the service together), or a shard that failed (interrupted, or aborted other than by an
// abort-on-fail SLO; the run's own problem then names it). With --allow-incomplete the merge judges what
// was measured and only says what was missing.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MergeError, mergeResults } from '../metrics/merge.ts';
import { type RunResult, parseRunResult } from '../metrics/result.ts';
import { shardLabel } from '../plan/shard.ts';
import { formatChecklist, formatSummary } from '../report/console.ts';
import { REPORT_FILES, type WrittenReports, writeReports } from '../report/write.ts';
import { evaluate } from '../verdict/evaluate.ts';
import type { Verdict } from '../verdict/types.ts';

export { MergeError } from '../metrics/merge.ts';

export interface MergeOutput {
  result: RunResult;
  verdict: Verdict;
  reports: WrittenReports;
  /** Why the run is incomplete (missing, late or failed shards), whether or not that was allowed. */
  incomplete: string[];
}

/** Reads each folder's result.json (or the file itself), merges, judges, writes every report to `outDir`. */
export function mergeShards(inputs: readonly string[], outDir: string, opts: { allowIncomplete?: boolean } = {}): MergeOutput {
  const results = inputs.map(readResult);
  const result = mergeResults(results, inputs);
  const incomplete = shardProblems(result);
  const slos = result.plan?.slos ?? [];
  let verdict = evaluate(opts.allowIncomplete ? asIfComplete(result) : result, slos);
  // A failed shard already fails the run's own verdict (its status and reason name the shard).
  const missing = incomplete.filter((p) => !/ (interrupted|aborted)\b/.test(p));
  if (!opts.allowIncomplete && missing.length > 0) {
    verdict = { ...verdict, pass: false, problems: [...missing.map((p) => `incomplete run: ${p}`), ...verdict.problems] };
  }
  const reports = writeReports(outDir, result, verdict);
  return { result, verdict, reports, incomplete };
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

/** What makes a merged run incomplete: shards missing, started late, or failed. */
export function shardProblems(merged: RunResult): string[] {
  const shards = merged.plan?.shards ?? [];
  const count = shards[0]?.count ?? 1;
  const planned = merged.stages[merged.stages.length - 1]?.endMs ?? merged.durationMs;
  const lateMs = Math.max(2000, planned * 0.05);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (!shards.some((s) => s.index === i)) out.push(`shard ${shardLabel({ index: i, count })} is missing`);
  }
  for (const s of shards) {
    const name = `shard ${shardLabel(s)} (${s.from})`;
    if (s.startOffsetMs > lateMs)
      out.push(`${name} started ${(s.startOffsetMs / 1000).toFixed(1)} s after the first (more than ${lateMs / 1000} s)`);
    if (s.status !== 'completed') out.push(`${name} ${s.status}: ${s.reason ?? 'no reason given'}`);
  }
  return out;
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
  '  --allow-incomplete    judge what was measured when a shard is missing, started late or failed',
  '  --no-fail             report breaches but exit 0',
  '  -h, --help            this help',
  '',
].join('\n');

/** The command: 'ok' (exit 0), 'breach' (the verdict failed), 'usage' (bad arguments, or results that cannot merge). */
export function mergeCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): 'ok' | 'breach' | 'usage' {
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
  const { result, verdict, reports, incomplete } = merged;
  for (const s of result.plan?.shards ?? []) {
    out(
      `shard ${shardLabel(s)} from ${s.from}: ${s.status}, ${(s.durationMs / 1000).toFixed(1)} s, started +${(s.startOffsetMs / 1000).toFixed(1)} s, ${s.target}`,
    );
  }
  if (new Set((result.plan?.shards ?? []).map((s) => s.target)).size > 1) out('Note: the shards loaded different targets.');
  if (incomplete.length > 0) out(`${values['allow-incomplete'] ? 'Allowed, incomplete' : 'Incomplete'}: ${incomplete.join('; ')}`);
  out('');
  out(formatSummary(result));
  out('');
  out(formatChecklist(result, verdict));
  out(`\nReports: ${reports.dir} (${reports.files.map((f) => f.slice(reports.dir.length + 1)).join(', ')})`);
  if (verdict.pass) return 'ok';
  if (values['no-fail']) {
    out('--no-fail: exiting 0 despite the verdict.');
    return 'ok';
  }
  return 'breach';
}
