// What the config falls back on when it leaves a setting out. One list, so the readers of each section
// and the tests agree on the same numbers.

export const DEFAULTS = {
  timeoutMs: 10_000,
  readyTimeoutMs: 60_000,
  seed: 1,
  output: 'loadgate-report',
  progressIntervalMs: 5_000,
  maxInFlight: 1_000,
};
