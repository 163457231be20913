// How a run ends, as a status word and an exit code, the same for the CLI and the action (its `status`
// output): 0 pass; 1 the verdict failed; 2 bad input, nothing started; 3 the run did not measure the
// service as planned; 4 an internal error (a bug); 130 interrupted.

import type { RunResult } from '../metrics/result.ts';
import type { Verdict } from '../verdict/types.ts';

export const EXIT = { ok: 0, breach: 1, usage: 2, notMeasured: 3, internal: 4, interrupted: 130 } as const;

export type RunStatusWord = 'pass' | 'fail' | 'bad-input' | 'not-measured' | 'internal-error' | 'interrupted';

export const STATUS_EXIT: Record<RunStatusWord, number> = {
  pass: EXIT.ok,
  fail: EXIT.breach,
  'bad-input': EXIT.usage,
  'not-measured': EXIT.notMeasured,
  'internal-error': EXIT.internal,
  interrupted: EXIT.interrupted,
};

/**
 * The status of a run that produced a result. Interrupted wins (the user asked); then a run that did not
 * measure the service as planned (it never reached the load, or the service died during it); then the verdict.
 */
export function runStatus(r: RunResult, v: Verdict, interrupted: boolean): RunStatusWord {
  if (interrupted || r.status === 'interrupted') return 'interrupted';
  if (r.status === 'not-started' || r.status === 'invalid' || r.service?.exit) return 'not-measured';
  if (r.status === 'aborted' && !r.abortedBy) return 'not-measured';
  return v.pass ? 'pass' : 'fail';
}
