// What the engine says while the load runs, every few seconds: the CLI prints it, the action logs it.

/** A snapshot of the run so far. */
export interface Progress {
  elapsedMs: number;
  totalMs: number;
  stage: number;
  stageName: string;
  users?: number;
  targetRate?: number;
  rps: number;
  p95: number | null;
  requests: number;
  failures: number;
  inFlight: number;
}
