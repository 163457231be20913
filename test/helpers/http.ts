// Small HTTP servers inside the test process, on 127.0.0.1 and an ephemeral port.
//
//   const srv = await startServer({ delayMs: 20 });   // every request: 200 "ok" after 20 ms
//   ... srv.url, srv.requests ...
//   await srv.close();

import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  port: number;
  /** Requests answered (or being answered) so far, by path. */
  readonly requests: number;
  readonly byPath: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Delay before answering, ms. */
  delayMs?: number;
  status?: number;
  body?: string;
  /** Full control instead: answer the request yourself. */
  handler?: (req: IncomingMessage, res: ServerResponse) => void;
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  let requests = 0;
  const byPath = new Map<string, number>();
  const server = createServer((req, res) => {
    requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    byPath.set(path, (byPath.get(path) ?? 0) + 1);
    if (opts.handler) return opts.handler(req, res);
    req.resume();
    req.on('end', () => {
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
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    byPath,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}

/** A port nothing listens on (it was free a moment ago): connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}
