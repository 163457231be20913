// The step's outputs: the verdict and the key numbers (over the run after the warm-up, as the report
// shows them), and where everything went. Pure: the caller sets them.

import { percentileMs } from '../metrics/histogram.ts';
import { type RunResult, statsFor } from '../metrics/result.ts';
import { round } from '../format.ts';
import type { Verdict } from '../verdict/types.ts';

export function runOutputs(r: RunResult, verdict: Verdict): Record<string, string> {
  const warm = r.warmupMs > 0;
  const s = statsFor(r, { excludeWarmup: warm });
  const seconds = Math.max(0, r.durationMs - (warm ? r.warmupMs : 0)) / 1000;
  const ms = (p: number) => {
    const v = percentileMs(s.latency, p);
    return v === null ? '' : String(round(v, 3));
  };
  return {
    verdict: verdict.pass ? 'pass' : 'fail',
    'p50-ms': ms(50),
    'p95-ms': ms(95),
    'p99-ms': ms(99),
    rps: String(round(seconds > 0 ? s.requests / seconds : 0, 3)),
    'error-rate': String(s.requests > 0 ? round(s.failures / s.requests, 6) : 0),
  };
}
