// Whether the generator, not the service, was the limit of a run: its own figures over the load
// (CPU, event-loop delay, schedule error, file descriptors it could not get), and the rule that
// turns them into reasons the run did not measure the service (status `invalid`, exit 3). A gate is
// only worth what its red means: a generator that spent a whole core, sent off schedule or could not
// open connections measured itself. Requests that waited because every connection was busy are the
// service's doing (it answers too slowly for the cap), so they are not a reason here; counted as
// delayed, they show in the service's latency.

/** The generator's own figures over the load phase. */
export interface GeneratorInfo {
  /** CPU of loadgate's process over the load, as a share of one core (1 = a whole core). */
  cpu: number;
  /** Event-loop delay (perf_hooks monitorEventLoopDelay, 50 ms resolution), ms. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** Open model: p99 of |actual send - due time| of the requests the generator sent on its own, ms. */
  scheduleErrorP99Ms?: number;
  /** Connections the generator could not open for want of file descriptors or local ports (EMFILE, ENFILE, EADDRNOTAVAIL). */
  exhausted: number;
  /** Why the run did not measure the service; empty when it did. */
  limits: string[];
}

/** A generator above this share of one core is the bottleneck: its single thread is busy all the time. */
export const CPU_LIMIT = 0.9;
/**
 * Runs shorter than this are not judged on CPU: start-up (compiling, first connections) dominates their
 * figure. Runs of 0.3-2.5 s against servers in the same process read 90-103% and measured correctly.
 */
export const CPU_MIN_RUN_MS = 5000;
/**
 * Requests off schedule by more than this at p99 (ms): the planned rate was not what the service saw.
 * Latency no longer includes the schedule error, so only a gross one distorts the load; 10 ms tripped
 * on a shared 2-vCPU machine running two shards at once (11.4 ms), where the load was still as planned.
 */
export const SCHEDULE_ERROR_LIMIT_MS = 50;
/** The event loop held back for this long (ms) at p99, or once for LOOP_MAX_LIMIT_MS: measurements waited on the generator. */
export const LOOP_P99_LIMIT_MS = 250;
export const LOOP_MAX_LIMIT_MS = 1000;

/** The reasons a run did not measure the service, in words a person acts on; empty when it did. */
export function generatorLimits(g: Omit<GeneratorInfo, 'limits'>, o: { mostlyUnanswered?: boolean; durationMs?: number } = {}): string[] {
  const out: string[] = [];
  if (g.exhausted > 0) {
    out.push(
      `the generator ran out of file descriptors or local ports (${g.exhausted} connection${g.exhausted === 1 ? '' : 's'} could not be opened): raise the open-file limit (ulimit -n) or plan fewer users or max-in-flight`,
    );
  }
  // A service that fails fast (refuses, resets) spins a closed model's users: the CPU is then spent on
  // its errors, which are the finding, not on a measurement it distorted.
  if (g.cpu >= CPU_LIMIT && !o.mostlyUnanswered && (o.durationMs ?? Infinity) >= CPU_MIN_RUN_MS)
    out.push(`the generator used ${Math.round(g.cpu * 100)}% of a core: it was the bottleneck (fewer users or a lower rate per generator)`);
  if (g.scheduleErrorP99Ms !== undefined && g.scheduleErrorP99Ms > SCHEDULE_ERROR_LIMIT_MS) {
    out.push(
      `requests left ${round1(g.scheduleErrorP99Ms)} ms off their schedule at p99 (limit ${SCHEDULE_ERROR_LIMIT_MS} ms): the generator could not keep the planned rate`,
    );
  }
  if (g.eventLoopDelayP99Ms > LOOP_P99_LIMIT_MS || g.eventLoopDelayMaxMs > LOOP_MAX_LIMIT_MS) {
    out.push(
      `the generator's event loop was blocked (delay p99 ${round1(g.eventLoopDelayP99Ms)} ms, max ${round1(g.eventLoopDelayMaxMs)} ms): responses waited on the generator`,
    );
  }
  return out;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
