// Small HTTP servers inside the test process, on 127.0.0.1 and an ephemeral port, that remember
// what arrived (when, which path, which body). One helper for every test that needs a service.
//
//   const srv = await startServer({ delayMs: 20 });   // every request: 200 "ok" after 20 ms
//   const srv = await startServer({ handler: (req, res, body) => res.end(body) });   // answer it yourself
//   ... srv.url, srv.requests, srv.arrivals, srv.paths, srv.bodies ...
//   await srv.close();   // or after(closeAllServers) once per file

import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  port: number;
  /** Requests answered (or being answered) so far, by path. */
  readonly requests: number;
  readonly byPath: ReadonlyMap<string, number>;
  /** By request, in order of arrival: performance.now() when it arrived, its URL (path and query), its body once read. */
  readonly arrivals: readonly number[];
  readonly paths: readonly string[];
  readonly bodies: readonly string[];
  /** Closes the server and every connection to it, idle or not. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Delay before answering, ms. */
  delayMs?: number;
  status?: number;
  body?: string;
  /** Full control instead: answer the request yourself, once its body (utf-8) has arrived. */
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void;
}

const open = new Set<TestServer>();

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  let requests = 0;
  const byPath = new Map<string, number>();
  const arrivals: number[] = [];
  const paths: string[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const index = arrivals.length;
    arrivals.push(performance.now());
    paths.push(req.url ?? '');
    requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    byPath.set(path, (byPath.get(path) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      bodies[index] = body;
      if (opts.handler) return opts.handler(req, res, body);
      const answer = () => {
        res.statusCode = opts.status ?? 200;
        res.end(opts.body ?? 'ok');
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const srv: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    byPath,
    arrivals,
    paths,
    bodies,
    close: () =>
      new Promise<void>((res) => {
        open.delete(srv);
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
  open.add(srv);
  return srv;
}

/** Closes every server still open: `after(closeAllServers)` in a file that starts many. */
export async function closeAllServers(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

/** A port nothing listens on (it was free a moment ago): connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}
