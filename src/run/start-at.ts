// The shared start (start-at): once the service is ready, the run waits until the planned instant, so
// that shards on several machines load the service together. The wait ends at once on the run's signal
// (INT, TERM, HUP, the runner's cancel): the service is then stopped as after any interruption.

/** Waits until `startAtMs` (epoch ms); false when the signal came first. A start-at already passed starts at once. */
export async function waitForStart(startAtMs: number, signal: AbortSignal | undefined, log: (line: string) => void): Promise<boolean> {
  if (signal?.aborted) return false;
  const at = new Date(startAtMs).toISOString();
  const aheadMs = startAtMs - Date.now();
  if (aheadMs <= 0) {
    log(
      `start-at ${at} passed ${(-aheadMs / 1000).toFixed(1)} s ago: starting the load now` +
        (aheadMs < -1000 ? ' (a merge names this shard late: more than 1 s after start-at)' : ''),
    );
    return true;
  }
  log(`Waiting ${(aheadMs / 1000).toFixed(1)} s for start-at ${at}`);
  return new Promise<boolean>((resolve) => {
    const done = (started: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(started);
    };
    const onAbort = () => done(false);
    // A timer can fire a little early on some clocks: wait out the rest so the load never starts before start-at.
    const check = () => {
      const left = startAtMs - Date.now();
      if (left <= 0) done(true);
      else timer = setTimeout(check, left);
    };
    let timer = setTimeout(check, aheadMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
