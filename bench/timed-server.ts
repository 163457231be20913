// A target whose own timings are known, for bench/accuracy.ts: every request is answered after
// --delay-ms (a Node timer, so ~20.5 ms for 20), and the server measures each request itself, from
// the moment its head is parsed to the moment the response is handed to the kernel ('finish'). A
// stall can be armed: every request that arrives in it is held until it ends.
//
//   node bench/timed-server.ts --delay-ms 20
//   GET /__stats       -> {"count":N,"p50":ms,"p99":ms} of the requests measured since the last call, then forgets them
//   GET /__stall?in=5000&ms=1000  -> requests arriving 5 s from now, for 1 s, wait until the stall ends
// Prints "listening on http://127.0.0.1:PORT" once it listens.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { 'delay-ms': { type: 'string', default: '20' } } });
const delayMs = Number(values['delay-ms']);
let took: number[] = [];
let stallFrom = Infinity;
let stallTo = -Infinity;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : null;
};

const server = createServer((req, res) => {
  const t0 = performance.now();
  if (req.url === '/__stats') {
    res.end(JSON.stringify({ count: took.length, p50: pct(took, 50), p99: pct(took, 99) }));
    took = [];
    return;
  }
  if (req.url?.startsWith('/__stall')) {
    const q = new URL(req.url, 'http://x').searchParams;
    stallFrom = t0 + Number(q.get('in'));
    stallTo = stallFrom + Number(q.get('ms'));
    res.end('armed');
    return;
  }
  req.resume();
  req.on('end', () => {
    const wait = t0 >= stallFrom && t0 < stallTo ? stallTo - t0 + delayMs : delayMs;
    setTimeout(() => {
      res.on('finish', () => took.push(performance.now() - t0));
      res.end('{"charges":8640.78}');
    }, wait);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
