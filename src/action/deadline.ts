// How long the steps after the run may take (the artifact upload, the PR comment). Each has its own limit;
// once the step is cancelled, every one of them ends within what is left of the cancel budget, counted from
// the signal, so the reports are published (or given up on) before the runner's SIGTERM 7.5 s later.

export class Deadline {
  private readonly signal: AbortSignal;
  private readonly cancelBudgetMs: number;
  private cancelledAt = 0;

  constructor(signal: AbortSignal, cancelBudgetMs: number) {
    this.signal = signal;
    this.cancelBudgetMs = cancelBudgetMs;
    // Registered before any bound(): the time is known when their own listeners run.
    if (signal.aborted) this.cancelledAt = performance.now();
    else signal.addEventListener('abort', () => (this.cancelledAt = performance.now()), { once: true });
  }

  /** `p`, or an error after `ms`, or sooner once cancelled (what is left of the cancel budget). */
  bound<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    const signal = this.signal;
    return new Promise<T>((res, rej) => {
      let timer = setTimeout(() => rej(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
      const onCancel = () => {
        clearTimeout(timer);
        const left = Math.max(0, this.cancelBudgetMs - (performance.now() - this.cancelledAt));
        timer = setTimeout(() => rej(new Error(`${what} did not finish in time after the cancel`)), left);
      };
      if (signal.aborted) onCancel();
      else signal.addEventListener('abort', onCancel, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onCancel);
      };
      p.then(
        (v) => (done(), res(v)),
        (e: unknown) => (done(), rej(e)),
      );
    });
  }
}
