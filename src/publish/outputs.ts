// The step's outputs: the verdict and the key numbers (over the run after the warm-up, as the report
// shows them), and where everything went. Pure: the caller sets them. Their names are declared once,
// here (below the action, which sets them, and beside runOutputs); action.yml lists them from here.

import { percentileMs } from '../metrics/histogram.ts';
import { type RunResult, statsFor } from '../metrics/result.ts';
import { round } from '../format.ts';
import type { Verdict } from '../verdict/types.ts';

/** Every output the step sets, with what it says (action.yml's descriptions). */
export const OUTPUTS = {
  verdict: 'pass or fail (every SLO met and the run completed); error when the run could not start',
  status:
    'how the run ended, as the CLI exit code says it: pass (0), fail (1: the verdict failed), bad-input (2: nothing started), not-measured (3: the service never reached or did not survive the load), internal-error (4), interrupted (130)',
  'p50-ms': 'median latency in ms, over the run after the warm-up',
  'p95-ms': '95th percentile latency in ms, over the run after the warm-up',
  'p99-ms': '99th percentile latency in ms, over the run after the warm-up',
  rps: 'completed requests per second, over the run after the warm-up',
  'error-rate': 'failed requests / requests, as a fraction (0.001 = 0.1%)',
  comparison: 'with a baseline: same, improved, regressed or inconclusive (empty without one)',
  'comparison-deltas':
    'with a baseline: JSON of each metric\'s change against it, {"p99": {"change": 0.12, "low": 0.08, "high": 0.16, "answer": "regressed"}, ...} ' +
    '(fractions; points of error rate as fractions)',
  'report-dir': 'the folder the reports were written to',
  'result-file': 'the path of result.json (the whole result, histograms included)',
  'artifact-id': 'the id of the uploaded report artifact (empty when there is none)',
  'artifact-url': 'the URL of the uploaded report artifact, which downloads it (empty when there is none)',
  'comment-url': 'the URL of the pull request comment (empty when there is none)',
} as const;

export type OutputName = keyof typeof OUTPUTS;

/** The outputs that follow from the result and the verdict. */
export function runOutputs(
  r: RunResult,
  verdict: Verdict,
): Record<'verdict' | 'p50-ms' | 'p95-ms' | 'p99-ms' | 'rps' | 'error-rate' | 'comparison' | 'comparison-deltas', string> {
  const warm = r.warmupMs > 0;
  const s = statsFor(r, { excludeWarmup: warm });
  const seconds = Math.max(0, r.durationMs - (warm ? r.warmupMs : 0)) / 1000;
  const ms = (p: number) => {
    const v = percentileMs(s.latency, p);
    return v === null ? '' : String(round(v, 3));
  };
  return {
    verdict: r.status === 'not-started' ? 'error' : verdict.pass ? 'pass' : 'fail',
    'p50-ms': ms(50),
    'p95-ms': ms(95),
    'p99-ms': ms(99),
    rps: String(round(seconds > 0 ? s.requests / seconds : 0, 3)),
    'error-rate': String(s.requests > 0 ? round(s.failures / s.requests, 6) : 0),
    ...comparisonOutputs(verdict),
  };
}

function comparisonOutputs(verdict: Verdict): { comparison: string; 'comparison-deltas': string } {
  const c = verdict.comparison;
  if (!c) return { comparison: '', 'comparison-deltas': '' };
  const r6 = (v: number | null) => (v === null ? null : round(v, 6));
  const deltas = Object.fromEntries(
    c.metrics.map((m) => [m.key, { change: r6(m.estimate), low: r6(m.low), high: r6(m.high), answer: m.verdict }]),
  );
  return { comparison: c.outcome, 'comparison-deltas': JSON.stringify(deltas) };
}
