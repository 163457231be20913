// The floor for a paced generator in Node on this machine: what the open model must pay whatever
// its code does. It sends the same pre-serialized POST at the same schedule as loadgate's open model
// (the n-th request due at n / rate, one setTimeout to the next due time, every due request sent at
// a wake-up, on up to `connections` keep-alive sockets), reads responses with net's `onread` into
// one buffer and only counts bytes: no parsing beyond the first response's length, no histogram,
// no timeline, no timeout sweeper (requests that find every connection busy wait, as in loadgate). loadgate's CPU per request minus this one's is what loadgate's
// own code (parser, recorder, engine) adds. Prints one JSON line. It only works against a target
// whose responses all have the same length (bench/nginx.conf).
//   node bench/paced-floor-child.ts '{"baseUrl":"http://127.0.0.1:8080","rate":2000,"connections":10,"durationMs":20000,"body":"..."}'

import { connect, type Socket } from 'node:net';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  baseUrl: string;
  rate: number;
  connections: number;
  durationMs: number;
  body: string;
};
const url = new URL(args.baseUrl);
const body = Buffer.from(args.body);
const request = Buffer.concat([
  Buffer.from(`POST / HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, 'latin1'),
  body,
]);
const readBuffer = Buffer.allocUnsafe(64 * 1024);
const total = Math.floor((args.rate * args.durationMs) / 1000);
const interval = 1000 / args.rate;
let responseLength = 0; // learnt from the first response
let next = 0;
let done = 0;
let delayed = 0;
let t0 = 0;

interface Conn {
  socket: Socket;
  got: number;
}
const idle: Conn[] = [];
const all: Conn[] = [];
for (let i = 0; i < args.connections; i++) {
  const c: Conn = { socket: null as unknown as Socket, got: 0 };
  c.socket = connect({
    host: url.hostname,
    port: Number(url.port),
    noDelay: true,
    onread: {
      buffer: readBuffer,
      callback: (n: number): boolean => {
        if (responseLength === 0) {
          const head = readBuffer.indexOf('\r\n\r\n');
          const m = /content-length: *(\d+)/i.exec(readBuffer.toString('latin1', 0, head));
          responseLength = head + 4 + Number(m![1]);
        }
        c.got += n;
        if (c.got >= responseLength) {
          c.got = 0;
          done++;
          // A request that fell due while every connection was busy goes out at once (as in loadgate).
          if (next < total && next * interval <= performance.now() - t0) {
            next++;
            delayed++;
            c.socket.write(request);
          } else {
            idle.push(c);
          }
        }
        return true;
      },
    },
  });
  c.socket.on('error', (e) => {
    console.error(String(e));
    process.exit(1);
  });
  idle.push(c);
  all.push(c);
}

const c0 = process.cpuUsage();
t0 = performance.now();
await new Promise<void>((resolve) => {
  const pump = () => {
    const t = performance.now() - t0;
    while (next < total && next * interval <= t) {
      const c = idle.pop();
      if (!c) break; // every connection busy: responses send the backlog
      c.socket.write(request);
      next++;
    }
    if (next < total) setTimeout(pump, Math.max(0, next * interval - t));
    else setTimeout(resolve, 200);
  };
  pump();
});
const cpu = process.cpuUsage(c0);
const elapsedMs = performance.now() - t0 - 200; // the run, without the 200 ms wait for the last responses
for (const c of all) c.socket.destroy();
process.stdout.write(
  `${JSON.stringify({
    type: 'result',
    requests: done,
    unsent: total - next,
    delayed,
    durationMs: elapsedMs,
    rps: done / (elapsedMs / 1000),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
  })}\n`,
);
