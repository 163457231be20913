// A tiny HTTP service to start as a child process (a stand-in for a model service):
//
//   node test/helpers/server.ts --port 0 [--delay-ms 20] [--status 200] [--ready-path /ready --ready-status 503]
//                               [--exit-after-ms 1000 --exit-code 4] [--sigterm-delay-ms 300 | --ignore-sigterm]
//                               [--log-flood]
//
// Prints "listening on http://127.0.0.1:PORT" once it listens. On SIGTERM it exits at once, or
// prints "got SIGTERM" and exits after --sigterm-delay-ms printing "bye", or ignores it.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'delay-ms': { type: 'string', default: '0' },
    status: { type: 'string', default: '200' },
    'ready-path': { type: 'string' },
    'ready-status': { type: 'string', default: '200' },
    'exit-after-ms': { type: 'string' },
    'exit-code': { type: 'string', default: '1' },
    'sigterm-delay-ms': { type: 'string' },
    'ignore-sigterm': { type: 'boolean', default: false },
    'log-flood': { type: 'boolean', default: false },
  },
});

const delayMs = Number(values['delay-ms']);
const status = Number(values.status);
const readyStatus = Number(values['ready-status']);

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (values['ready-path'] !== undefined && req.url === values['ready-path']) {
      res.statusCode = readyStatus;
      res.end(readyStatus < 400 ? 'ready' : 'not ready');
      return;
    }
    const answer = () => {
      res.statusCode = status;
      res.end('{"ok":true}');
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

if (values['exit-after-ms'] !== undefined) {
  setTimeout(() => {
    console.error(`exiting on purpose with code ${values['exit-code']}`);
    process.exit(Number(values['exit-code']));
  }, Number(values['exit-after-ms']));
}

if (values['ignore-sigterm']) {
  process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
} else if (values['sigterm-delay-ms'] !== undefined) {
  process.on('SIGTERM', () => {
    console.log('got SIGTERM');
    setTimeout(() => {
      console.log('bye');
      process.exit(0);
    }, Number(values['sigterm-delay-ms']));
  });
}

// A service that logs without pause: 64 KiB of lines per write, as fast as its stdout takes them.
if (values['log-flood']) {
  const block = Buffer.from('flood: a log line the service prints without pause, again and again\n'.repeat(1000));
  const flood = () => {
    while (process.stdout.write(block)) {
      // Until the pipe pushes back; then on the next drain.
    }
    process.stdout.once('drain', flood);
  };
  setImmediate(flood);
}
