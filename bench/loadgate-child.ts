// Runs one loadgate load in its own process, so that a benchmark measures loadgate's CPU and memory
// and nothing of the parent's. Usage:
//   node bench/loadgate-child.ts '{"baseUrl":"http://127.0.0.1:8080","model":"closed","users":10,"durationMs":10000}'
// Prints JSON lines on stdout: {"type":"mem",...} every `memEveryMs` if asked, then one {"type":"result",...}.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { runLoad } from '../src/load/engine.ts';
import { percentileMs } from '../src/metrics/histogram.ts';
import { statsFor } from '../src/metrics/result.ts';
import type { LoadPlan } from '../src/plan/types.ts';

export interface ChildArgs {
  baseUrl: string;
  model: 'closed' | 'open';
  durationMs: number;
  /** Closed model: users, no wait between requests. */
  users?: number;
  /** Open model: requests/s, and the connection cap. */
  rate?: number;
  maxInFlight?: number;
  method?: string;
  path?: string;
  body?: string;
  timeoutMs?: number;
  /** Print heap and RSS every this many ms (memory benchmark); 0 = never. */
  memEveryMs?: number;
  /** The engine's HTTP client: 'auto' (H1Slot, h1-slot.ts, for http://) or 'undici'. */
  httpClient?: 'auto' | 'undici';
  /** Write a V8 CPU profile of the load phase only (not start-up) to this path. */
  cpuProfile?: string;
}

export interface ChildResult {
  type: 'result';
  status: string;
  requests: number;
  failures: number;
  errors: Record<string, number>;
  durationMs: number;
  rps: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** The engine's own figure: process CPU over the load phase as a share of one core. */
  generatorCpu: number;
  /** process.cpuUsage() over runLoad, µs. */
  loadCpuUserUs: number;
  loadCpuSystemUs: number;
  unsent: number;
  delayedByCap: number;
  /** Open model: how late requests left their intended time (timer granularity, event-loop delay). */
  sendLagP50Ms: number | null;
  sendLagP99Ms: number | null;
  /** Completed requests in each second of the run. */
  perSecond: number[];
  failuresSample: unknown[];
  rssBytes: number;
  heapUsedBytes: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
if (!args.baseUrl || !args.model || !args.durationMs) {
  console.error('usage: node bench/loadgate-child.ts \'{"baseUrl":...,"model":"closed"|"open","durationMs":...}\'');
  process.exit(2);
}

const load: LoadPlan =
  args.model === 'closed'
    ? {
        model: 'closed',
        perUserRate: 0,
        stages: [{ name: 'saturate', durationMs: args.durationMs, users: args.users ?? 10, spawnRate: 1000 }],
      }
    : {
        model: 'open',
        maxInFlight: args.maxInFlight ?? 100,
        stages: [{ name: 'fixed', durationMs: args.durationMs, rate: args.rate ?? 2000, ramp: false }],
      };

const t0 = performance.now();
let memTimer: NodeJS.Timeout | undefined;
if (args.memEveryMs && args.memEveryMs > 0) {
  const report = () => {
    const m = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({
        type: 'mem',
        t: Math.round(performance.now() - t0),
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      })}\n`,
    );
  };
  memTimer = setInterval(report, args.memEveryMs);
  report();
}

let session: Session | undefined;
if (args.cpuProfile) {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const cpu0 = process.cpuUsage();
const result = await runLoad({
  baseUrl: args.baseUrl,
  endpoints: [
    {
      name: 'predict',
      method: args.method ?? 'POST',
      path: args.path ?? '/',
      headers: {},
      body: args.body === undefined ? { kind: 'none' } : { kind: 'fixed', body: args.body },
      weight: 1,
      okStatus: [[200, 399]],
    },
  ],
  load,
  timeoutMs: args.timeoutMs ?? 5000,
  seed: 1,
  httpClient: args.httpClient ?? 'auto',
});
const cpu = process.cpuUsage(cpu0);
if (session && args.cpuProfile) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(args.cpuProfile, JSON.stringify(profile));
  session.disconnect();
}
if (memTimer) clearInterval(memTimer);

const all = statsFor(result);
const mem = process.memoryUsage();
const out: ChildResult = {
  type: 'result',
  status: result.status,
  requests: all.requests,
  failures: all.failures,
  errors: all.errors,
  durationMs: result.durationMs,
  rps: all.requests / (result.durationMs / 1000),
  p50Ms: percentileMs(all.latency, 50),
  p90Ms: percentileMs(all.latency, 90),
  p99Ms: percentileMs(all.latency, 99),
  maxMs: all.latency.totalCount ? all.latency.maxValue / 1000 : null,
  generatorCpu: result.generatorCpu,
  loadCpuUserUs: cpu.user,
  loadCpuSystemUs: cpu.system,
  unsent: result.unsent,
  delayedByCap: result.delayedByCap,
  sendLagP50Ms: result.sendLag ? percentileMs(result.sendLag, 50) : null,
  sendLagP99Ms: result.sendLag ? percentileMs(result.sendLag, 99) : null,
  perSecond: result.timeline.filter((p) => p.span === undefined).map((p) => p.requests),
  failuresSample: result.failures.slice(0, 5),
  rssBytes: mem.rss,
  heapUsedBytes: mem.heapUsed,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
