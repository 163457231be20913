// SLOs as data, and the verdict on a run. Parsing lives in slo.ts, evaluation in evaluate.ts.

export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';

export type SloMetric =
  | { kind: 'latency'; stat: 'percentile'; percentile: number }
  | { kind: 'latency'; stat: 'mean' | 'max' | 'min' }
  /** Failed requests / requests, as a fraction (0.001 = 0.1%). */
  | { kind: 'error-rate' }
  /** Failed requests, a count. */
  | { kind: 'errors' }
  /** Requests per second: mean over the scope, or the highest / lowest whole second. */
  | { kind: 'throughput'; stat: 'mean' | 'peak' | 'min' };

export interface Slo {
  /** The line as written. */
  text: string;
  metric: SloMetric;
  op: Comparison;
  /** In the metric's unit: ms for latency, a fraction for error-rate, a count for errors, req/s for throughput. */
  threshold: number;
  /** Resolved stage index, when scoped to a stage. */
  stage?: number;
  /** Resolved endpoint index, when scoped to an endpoint. */
  endpoint?: number;
  /** Leave the warm-up out (default true when the run has a warm-up). */
  excludeWarmup: boolean;
  /** Stop the run as soon as this SLO fails on the data so far (k6's abortOnFail)... */
  abortOnFail: boolean;
  /** ...but not before this many ms into the run. */
  abortAfterMs?: number;
  /** Where it was declared, for annotations: a config file and line, or an input name and line. */
  source?: { file: string; line: number };
}

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
  /** Every SLO met, and the run not aborted. A run with no SLOs passes unless it was aborted. */
  pass: boolean;
  outcomes: SloOutcome[];
  /** When the run was stopped early by an abort-on-fail SLO, its text. */
  abortedBy?: string;
  /** Problems with the run itself that fail the verdict (e.g. the service died during it). */
  problems: string[];
}
