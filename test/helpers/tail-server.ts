// A tiny service for tail-only regressions: every request waits `--base-ms`, except every `--every`-th,
// which waits `--slow-ms`. With every = 20 (5% slow) the median is the base and the p99 is the slow
// value: raising --slow-ms moves p99 and leaves p50 where it was.
//
//   node test/helpers/tail-server.ts --port 0 --base-ms 4 --slow-ms 10 --every 20

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string' }, 'base-ms': { type: 'string' }, 'slow-ms': { type: 'string' }, every: { type: 'string' } },
});
const baseMs = Number(values['base-ms'] ?? 4);
const slowMs = Number(values['slow-ms'] ?? 10);
const every = Number(values.every ?? 40);
let n = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    n++;
    setTimeout(() => res.end('{"ok":true}'), n % every === 0 ? slowMs : baseMs);
  });
});
server.listen(Number(values.port ?? 0), '127.0.0.1', () => {
  const a = server.address();
  console.log(`listening on ${typeof a === 'object' && a ? a.port : '?'}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
