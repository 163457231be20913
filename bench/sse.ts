// CPU per streamed event of src/load/sse.ts (SseParser + StreamAccumulator) against bare readers,
// in the same run: the reader vLLM's benchmark client uses (decode, split('\n\n'), strip "data: ",
// JSON.parse), and the same without JSON.parse (the framing alone, a floor no real client stays
// at since it must look inside the JSON to tell content from role and usage chunks).
//
//   node bench/sse.ts [--seconds 0.4] [--rounds 5]
//
// The stream is a vLLM chat stream of 200 tokens (role delta, 200 content chunks, finish, usage,
// [DONE]; 204 events, ~230 bytes each), fed from pre-built Buffers either one event per read (a
// server writing each token as it comes, read as it arrives) or in 16 KiB reads (a client that
// fell behind). Readers are interleaved and rotated each round; the figure is the median over
// rounds of process CPU time (user + system) / events. One process, one core, no I/O.
//
// Measured on the 2-core dev machine (Node 24, load average ~6 from other work; two runs of 5
// rounds of 0.4 s): one event per read, sse.ts 1.40-1.44 µs per event, bare split + JSON.parse
// 1.31-1.40, bare split alone 0.26-0.27; 16 KiB reads, sse.ts 1.37-1.38, bare + JSON.parse
// 1.63-1.67, split alone 0.54. JSON.parse is most of either real reader: sse.ts, which also
// classifies every event and keeps the stream's metrics, costs what the bare reader costs
// (within 10%), and less once reads carry many events (no string concatenation and re-split).
import { StringDecoder } from 'node:string_decoder';
import { parseArgs } from 'node:util';
import { SseParser, StreamAccumulator } from '../src/load/sse.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.4' }, rounds: { type: 'string', default: '5' } } });
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const TOKENS = 200;

const WORDS = ['In', ' the', ' beginning', ' God', ' created', ' heaven', ' and', ' earth', '.', ' —', ' café'];
const head =
  '{"id":"chatcmpl-8d1e0c2b6f2a4e7c9b1d","object":"chat.completion.chunk","created":1796049827,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[';
const events: string[] = [`data: ${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`];
for (let i = 0; i < TOKENS; i++) {
  events.push(
    `data: ${head}{"index":0,"delta":{"content":${JSON.stringify(WORDS[i % WORDS.length])}},"logprobs":null,"finish_reason":null}]}\n\n`,
  );
}
events.push(`data: ${head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]}\n\n`);
events.push(`data: ${head}],"usage":{"prompt_tokens":12,"completion_tokens":${TOKENS},"total_tokens":${TOKENS + 12}}}\n\n`);
events.push('data: [DONE]\n\n');
const EVENTS = events.length;
const whole = Buffer.from(events.join(''));
const perEvent = events.map((e) => Buffer.from(e));
const reads16k: Buffer[] = [];
for (let i = 0; i < whole.length; i += 16384) reads16k.push(whole.subarray(i, i + 16384));

type Reader = (reads: Buffer[]) => number;

/** vLLM's benchmark client's way: text, split on blank lines, strip "data: ", JSON.parse. */
function bare(parse: boolean): Reader {
  return (reads) => {
    const decoder = new StringDecoder('utf8');
    let buf = '';
    let content = 0;
    for (const chunk of reads) {
      buf += decoder.write(chunk);
      const parts = buf.split('\n\n');
      buf = parts.pop()!;
      for (const part of parts) {
        if (!part.startsWith('data: ')) continue;
        const data = part.slice(6);
        if (data === '[DONE]') break;
        if (parse) {
          const v = JSON.parse(data) as { choices: Array<{ delta?: { content?: string } }> };
          if (v.choices[0]?.delta?.content) content++;
        } else content++;
      }
    }
    return content;
  };
}

const acc = new StreamAccumulator();
const parser = new SseParser(acc.onEvent);
const loadgate: Reader = (reads) => {
  parser.reset();
  acc.reset(0);
  for (let i = 0; i < reads.length; i++) parser.push(reads[i]!, i);
  parser.end(reads.length);
  return acc.finish(reads.length).contentEvents;
};

const readers: Array<[string, Reader]> = [
  ['sse.ts', loadgate],
  ['bare split + JSON.parse', bare(true)],
  ['bare split alone', bare(false)],
];
const patterns: Array<[string, Buffer[]]> = [
  ['one event per read', perEvent],
  ['16 KiB reads', reads16k],
];

// Each reader must see the same stream: 200 content events (the bare floor counts every data event).
for (const [name, read] of readers) {
  for (const [, reads] of patterns) {
    const n = read(reads);
    if (n !== TOKENS && !(name === 'bare split alone' && n === EVENTS - 1)) throw new Error(`${name} saw ${n} content events`);
  }
}

/** CPU µs per event for `seconds` of repeated streams. */
function measure(read: Reader, reads: Buffer[]): number {
  const deadline = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  let streams = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 20; i++) read(reads);
    streams += 20;
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / (streams * EVENTS);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const results = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < readers.length; k++) {
    const [name, read] = readers[(k + round) % readers.length]!;
    for (const [pattern, reads] of patterns) {
      const key = `${pattern}\t${name}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key)!.push(measure(read, reads));
    }
  }
}
console.log(`${EVENTS} events per stream, ${whole.length} bytes; ${ROUNDS} rounds of ${SECONDS} s; CPU µs per event (median, min-max)`);
for (const [key, xs] of results) {
  const [pattern, name] = key.split('\t');
  console.log(
    `${pattern!.padEnd(20)} ${name!.padEnd(26)} ${median(xs).toFixed(2)}  (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`,
  );
}
