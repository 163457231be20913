// A loopback HTTP proxy, as on a self-hosted runner behind a corporate proxy: CONNECT tunnels (what
// @actions/http-client's ProxyAgent sends, for http:// targets too) and plain forwarding of absolute-URI
// requests. It records what went through it, so a test can tell "through the proxy" from "direct".
//
//   const proxy = await startProxy();
//   env: HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url; proxy.seen -> ['CONNECT 0.0.0.0:4321', ...]
//
// @actions/http-client never proxies a host that starts with `127.` (or localhost, [::1]); the target is
// then named `0.0.0.0`, which Linux connects to this machine's loopback listeners (see viaProxyName).
// `[::ffff:127.0.0.1]` is not exempt either, but undici cannot connect to it directly (EHOSTUNREACH to
// `::7f00:1` here), so NO_PROXY could not be tested with it.

import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';

export interface LoopbackProxy {
  url: string;
  /** "CONNECT host:port" for a tunnel, "METHOD absolute-url" for a forwarded request. */
  seen: string[];
  /** "METHOD /path?query" of the plain-HTTP requests seen inside the tunnels (targets here are http://). */
  tunnelled: string[];
  /** "METHOD /path?query" of every request that went through, tunnelled or forwarded (undici 8's ProxyAgent forwards http://). */
  requests(): string[];
  close(): Promise<void>;
}

export async function startProxy(): Promise<LoopbackProxy> {
  const seen: string[] = [];
  const tunnelled: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '/');
    const up = request(
      {
        host: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(req.url ?? '');
    const upstream = connect(Number(m?.[2]), m?.[1] ?? '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      client.on('data', (b: Buffer) => {
        for (const m of b.toString('latin1').matchAll(/(?:^|\r\n)(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP\/1\.1\r\n/g))
          tunnelled.push(`${m[1]} ${m[2]}`);
      });
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    tunnelled,
    requests: () => [
      ...tunnelled,
      ...seen
        .filter((s) => !s.startsWith('CONNECT '))
        .map((s) => {
          const [method, url] = s.split(' ');
          const u = new URL(url ?? '/');
          return `${method} ${u.pathname}${u.search}`;
        }),
    ],
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A loopback URL that @actions/http-client does not exempt from the proxy (not `127.`, not localhost). */
export function viaProxyName(url: string): string {
  return url.replace('//127.0.0.1:', '//0.0.0.0:');
}
