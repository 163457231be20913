// The verdict on a run: an outcome per SLO (the SLOs themselves are plan vocabulary, src/plan/types.ts;
// parsed in src/plan/slo.ts), judged by evaluate.ts.

import type { Slo } from '../plan/types.ts';
import type { CompareVerdict } from './compare.ts';

export interface SloOutcome {
  slo: Slo;
  /** Observed value in the threshold's unit; null when nothing in scope was measured. */
  observed: number | null;
  pass: boolean;
  /** A sentence a person understands: "p99 latency 180 ms is above 100 ms over the whole run". */
  sentence: string;
  /** Short labels for tables and checklists. */
  labels: { metric: string; objective: string; observed: string; scope: string };
}

export interface Verdict {
  /** Every SLO met, and the run not aborted. With no SLOs, a run passes when at least one request succeeded. */
  pass: boolean;
  outcomes: SloOutcome[];
  /** When the run was stopped early by an abort-on-fail SLO, its text. */
  abortedBy?: string;
  /** Problems with the run itself that fail the verdict (e.g. the service died during it). */
  problems: string[];
  /**
   * What a reader must know to trust the numbers, without failing the verdict: most answers of a stream
   * did not stream (src/verdict/stream.ts streamWarnings; reports render them from the result).
   */
  warnings?: string[];
  /** The comparison with a baseline, when the run had one (its `fails` is part of `pass`). */
  comparison?: CompareVerdict;
}
