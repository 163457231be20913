// Streaming at scale (issue 12): loadgate's engine holding 1,000 concurrent SSE streams for minutes
// against the stream test server in a process of its own on 127.0.0.1, its RSS and V8 heap sampled
// every few seconds (memory must stay bounded); then, in the same run, the client's CPU per streamed
// event against a bare SSE reader (node:http, text split on blank lines, JSON.parse of each data line,
// as vLLM's benchmark client reads), in pairs whose order alternates, each side a fresh process of
// its own. The figures are ratios from one run: the machine is shared.
//
//   node bench/streams.ts [--streams 1000] [--minutes 3] [--pairs 2] [--compare-seconds 30]
//                         [--first-token-ms 100] [--interval-ms 100] [--tokens 100] [--out bench/results]
//   node bench/streams.ts --minutes 0.5 --pairs 1 --compare-seconds 10    # smoke run
//
// Each stream: the role delta at once, the first token after --first-token-ms, then one token every
// --interval-ms, finish, usage, [DONE]: tokens + 4 events. Every user sends its next request as soon as
// its stream ends (closed model, no wait), so --streams streams are in flight all along; each run stops
// after its time and lets the streams in flight end. CPU is the child's process.cpuUsage() (user +
// system) from before its first request to after its last stream ended, divided by the events it read.

import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from '../src/load/engine.ts';
import { percentileMs } from '../src/metrics/histogram.ts';
import { statsFor } from '../src/metrics/result.ts';
import { startStreamServerProcess } from '../test/helpers/stream-server-process.ts';
import { BENCH_DIR, fmt, machine, median, stamp, table } from './lib.ts';

interface ChildArgs {
  role: 'loadgate' | 'bare';
  url: string;
  streams: number;
  seconds: number;
  tokens: number;
  /** Sample memory this often, ms (0: not at all). */
  sampleMs: number;
}

interface MemorySample {
  t: number;
  rss: number;
  heapUsed: number;
  streamsInFlight?: number;
}

interface ChildResult {
  role: ChildArgs['role'];
  wallMs: number;
  cpuUs: number;
  streams: number;
  failures: number;
  events: number;
  cpuUsPerEvent: number;
  samples: MemorySample[];
  ttftP50?: number | null;
  ttftP99?: number | null;
  itlP50?: number | null;
  itlP99?: number | null;
  /** The bare reader: events with generated text. */
  contentEvents?: number;
}

/** New streams started per second at the start (1,000 connections at once would be a connect storm). */
const RAMP_PER_S = 250;
const REQUEST_BODY = '{"model":"stream-test","messages":[{"role":"user","content":"Tell me a story."}],"stream":true}';

// ---- the children ----

async function loadgateChild(a: ChildArgs): Promise<ChildResult> {
  const samples: MemorySample[] = [];
  const t0 = performance.now();
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({ t: Math.round(performance.now() - t0), rss: m.rss, heapUsed: m.heapUsed });
  };
  const timer = a.sampleMs > 0 ? setInterval(sample, a.sampleMs) : undefined;
  const cpu0 = process.cpuUsage();
  const r = await runLoad({
    baseUrl: a.url,
    endpoints: [
      {
        name: 'chat',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: {},
        body: { kind: 'fixed', body: REQUEST_BODY },
        weight: 1,
        okStatus: [[200, 299]],
        stream: true,
      },
    ],
    load: {
      model: 'closed',
      perUserRate: 0,
      stages: [{ name: 'hold', durationMs: a.seconds * 1000, users: a.streams, spawnRate: RAMP_PER_S }],
    },
    timeoutMs: 120_000,
    seed: 1,
  });
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  if (a.sampleMs > 0) sample();
  const s = statsFor(r);
  const st = s.stream!;
  // Every complete stream is tokens + 4 events (role, tokens, finish, usage, [DONE]).
  const events = st.streams * (a.tokens + 4);
  const cpuUs = cpu.user + cpu.system;
  return {
    role: 'loadgate',
    wallMs: performance.now() - t0,
    cpuUs,
    streams: st.streams,
    failures: s.failures,
    events,
    cpuUsPerEvent: cpuUs / events,
    samples,
    ttftP50: percentileMs(st.ttft, 50),
    ttftP99: percentileMs(st.ttft, 99),
    itlP50: percentileMs(st.itl, 50),
    itlP99: percentileMs(st.itl, 99),
  };
}

/** The bare reader: node:http, the body as text, split on blank lines, JSON.parse of each `data: `. */
function bareChild(a: ChildArgs): Promise<ChildResult> {
  return new Promise((resolve) => {
    const url = new URL('/v1/chat/completions', a.url);
    const agent = new Agent({ keepAlive: true, maxSockets: a.streams });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let events = 0;
    // Counted so that the reader looks inside each event as a real client must (content or not).
    let content = 0;
    let streams = 0;
    let failures = 0;
    let running = 0;
    let stopping = false;
    const finish = () => {
      const cpu = process.cpuUsage(cpu0);
      agent.destroy();
      const cpuUs = cpu.user + cpu.system;
      resolve({
        role: 'bare',
        wallMs: performance.now() - t0,
        cpuUs,
        streams,
        failures,
        events,
        cpuUsPerEvent: cpuUs / events,
        samples: [],
        contentEvents: content,
      });
    };
    const loop = () => {
      if (stopping) {
        if (--running === 0) finish();
        return;
      }
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.setEncoding('utf8');
        let buf = '';
        let done = false;
        res.on('data', (s: string) => {
          buf += s;
          const parts = buf.split('\n\n');
          buf = parts.pop()!;
          for (const p of parts) {
            events++;
            if (!p.startsWith('data: ')) continue;
            const d = p.slice(6);
            if (d === '[DONE]') {
              done = true;
              continue;
            }
            const j = JSON.parse(d) as { choices?: Array<{ delta?: { content?: string } }> };
            if (j.choices?.[0]?.delta?.content) content++;
          }
        });
        res.on('end', () => {
          if (done) streams++;
          else failures++;
          loop();
        });
      });
      req.on('error', () => {
        failures++;
        setImmediate(loop);
      });
      req.end(REQUEST_BODY);
    };
    let started = 0;
    const ramp = setInterval(() => {
      for (let k = 0; k < RAMP_PER_S / 10 && started < a.streams; k++, started++, running++) loop();
      if (started >= a.streams) clearInterval(ramp);
    }, 100);
    setTimeout(() => {
      stopping = true;
      clearInterval(ramp);
    }, a.seconds * 1000);
  });
}

if (process.argv[2] === '--child') {
  const a = JSON.parse(process.argv[3]!) as ChildArgs;
  const out = await (a.role === 'loadgate' ? loadgateChild(a) : bareChild(a));
  process.send!(out);
  process.disconnect();
} else {
  await main();
}

// ---- the parent ----

function runChild(a: ChildArgs): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(import.meta.filename, ['--child', JSON.stringify(a)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ChildResult | undefined;
    child.on('message', (m) => {
      result = m as ChildResult;
    });
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${a.role} child exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const { values: opt } = parseArgs({
    options: {
      streams: { type: 'string', default: '1000' },
      minutes: { type: 'string', default: '3' },
      pairs: { type: 'string', default: '2' },
      'compare-seconds': { type: 'string', default: '30' },
      'first-token-ms': { type: 'string', default: '100' },
      'interval-ms': { type: 'string', default: '100' },
      tokens: { type: 'string', default: '100' },
      out: { type: 'string', default: join(BENCH_DIR, 'results') },
    },
  });
  const STREAMS = Number(opt.streams);
  const MINUTES = Number(opt.minutes);
  const PAIRS = Number(opt.pairs);
  const COMPARE_S = Number(opt['compare-seconds']);
  const TOKENS = Number(opt.tokens);
  // Bounded: a run this script starts ends on its own.
  if (
    !(STREAMS >= 1 && STREAMS <= 5000 && MINUTES > 0 && MINUTES <= 15 && PAIRS >= 0 && PAIRS <= 5 && COMPARE_S >= 5 && COMPARE_S <= 120)
  ) {
    throw new Error('--streams 1..5000, --minutes up to 15, --pairs 0..5, --compare-seconds 5..120');
  }
  const server = await startStreamServerProcess({
    firstTokenMs: Number(opt['first-token-ms']),
    intervalMs: Number(opt['interval-ms']),
    tokens: TOKENS,
    // A thousand streams: timers alone (the spin to each due time is for accuracy tests of a few).
    precise: false,
  });
  console.log(`stream server pid ${server.pid} at ${server.url}; ${STREAMS} streams of ${TOKENS} tokens every ${opt['interval-ms']} ms`);
  try {
    console.log(`\n== memory: loadgate, ${STREAMS} concurrent streams for ${MINUTES} min ==`);
    const long = await runChild({
      role: 'loadgate',
      url: server.url,
      streams: STREAMS,
      seconds: MINUTES * 60,
      tokens: TOKENS,
      sampleMs: 5000,
    });
    const mb = (b: number) => fmt(b / 2 ** 20, 1);
    const at = (ms: number) => long.samples.find((s) => s.t >= ms) ?? long.samples.at(-1)!;
    const marks = [30_000, 60_000, 120_000, MINUTES * 60_000 - 5000].filter((ms, k, xs) => ms <= MINUTES * 60_000 && xs.indexOf(ms) === k);
    console.log(
      table(
        ['at', 'RSS MB', 'heap used MB'],
        [...marks.map((ms) => at(ms)), long.samples.at(-1)!].map((s) => [`${fmt(s.t / 1000, 0)} s`, mb(s.rss), mb(s.heapUsed)]),
      ),
    );
    const after60 = at(60_000);
    const late = long.samples.filter((s) => s.t >= 60_000);
    const maxRss = Math.max(...late.map((s) => s.rss));
    const maxHeap = Math.max(...late.map((s) => s.heapUsed));
    console.log(
      `streams ${long.streams}, failures ${long.failures}, events ${long.events}; RSS max after 1 min ${mb(maxRss)} MB = ${fmt(maxRss / after60.rss, 3)} x RSS at 1 min; heap max ${mb(maxHeap)} MB = ${fmt(maxHeap / after60.heapUsed, 3)} x`,
    );
    console.log(
      `CPU ${fmt(long.cpuUsPerEvent, 2)} µs/event; TTFT p50 ${long.ttftP50} ms p99 ${long.ttftP99} ms; ITL p50 ${long.itlP50} ms p99 ${long.itlP99} ms`,
    );

    const pairs: Array<{ pair: number; loadgate: ChildResult; bare: ChildResult; ratio: number }> = [];
    if (PAIRS > 0) console.log(`\n== CPU per event: loadgate vs a bare SSE reader, ${PAIRS} pairs of ${COMPARE_S} s runs ==`);
    for (let p = 1; p <= PAIRS; p++) {
      const order: Array<ChildArgs['role']> = p % 2 ? ['loadgate', 'bare'] : ['bare', 'loadgate'];
      const got: Partial<Record<ChildArgs['role'], ChildResult>> = {};
      for (const role of order) {
        const r = await runChild({ role, url: server.url, streams: STREAMS, seconds: COMPARE_S, tokens: TOKENS, sampleMs: 0 });
        got[role] = r;
        console.log(
          `  pair ${p} ${role.padEnd(8)} ${r.streams} streams, ${r.failures} failures, ${r.events} events, ${fmt(r.cpuUs / 1000, 0)} ms CPU in ${fmt(r.wallMs / 1000, 1)} s: ${fmt(r.cpuUsPerEvent, 2)} µs/event`,
        );
      }
      pairs.push({ pair: p, loadgate: got.loadgate!, bare: got.bare!, ratio: got.loadgate!.cpuUsPerEvent / got.bare!.cpuUsPerEvent });
    }
    if (pairs.length > 0) {
      const ratios = pairs.map((x) => x.ratio);
      console.log(
        `  loadgate/bare CPU per event, per pair: ${ratios.map((x) => fmt(x, 2)).join(', ')} (median ${fmt(median(ratios), 2)}); µs/event median loadgate ${fmt(median(pairs.map((x) => x.loadgate.cpuUsPerEvent)), 2)}, bare ${fmt(median(pairs.map((x) => x.bare.cpuUsPerEvent)), 2)}`,
      );
    }
    mkdirSync(opt.out, { recursive: true });
    const file = join(opt.out, `streams-${stamp()}.json`);
    writeFileSync(file, `${JSON.stringify({ machine: machine(), options: opt, long, pairs }, null, 1)}\n`);
    console.log(`\nraw results: ${file}`);
  } finally {
    await server.close();
  }
}
