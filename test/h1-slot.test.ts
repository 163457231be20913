// The minimal HTTP/1.1 client (H1Slot, src/load/h1-slot.ts) against raw TCP servers on 127.0.0.1 that
// send scripted bytes: the requests it writes, framing over real reads (split, one byte at a time,
// close-delimited), keep-alive and Connection: close, and every way a request can end badly. The
// parser's framing rules on their own, byte by byte: test/h1-parser.test.ts.

import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { H1Slot, RequestBytes } from '../src/load/h1-slot.ts';
import type { PreparedEndpoint } from '../src/load/requests.ts';
import { RequestTimeout, RunStopped, type SlotListener } from '../src/load/slot.ts';

interface Outcome {
  kind: 'response' | string;
  status?: number;
  ok?: boolean;
  bytes?: number;
  sample?: string | undefined;
  mismatch?: string | undefined;
  message?: string;
}

const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

interface Server {
  url: URL;
  /** The raw bytes of each request as received, per connection. */
  connections: number;
  received: string[];
}

/** A TCP server that answers each request (a read that ends a head, plus its body) with `reply`. */
async function server(reply: (s: Socket, request: string, n: number) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const st: Server = { url: new URL('http://127.0.0.1'), connections: 0, received: [] };
  let n = 0;
  const srv = createServer((s) => {
    st.connections++;
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let pending = '';
    s.on('data', (d) => {
      pending += d.toString('latin1');
      const headEnd = pending.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const m = /content-length: (\d+)/i.exec(pending.slice(0, headEnd));
      const total = headEnd + 4 + (m ? Number(m[1]) : 0);
      if (pending.length < total) return;
      const req = pending.slice(0, total);
      pending = pending.slice(total);
      st.received.push(req);
      reply(s, req, n++);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  st.url = new URL(`http://127.0.0.1:${(srv.address() as { port: number }).port}`);
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return st;
}

/** Writes the pieces one by one, `gapMs` apart, so the client reads them separately. */
function dribble(s: Socket, pieces: Array<string | Buffer>, gapMs = 15, then?: () => void): void {
  let i = 0;
  const next = () => {
    if (s.destroyed) return;
    if (i === pieces.length) return then?.();
    s.write(pieces[i++]!);
    setTimeout(next, gapMs);
  };
  next();
}

function endpoint(over: Partial<PreparedEndpoint> = {}): PreparedEndpoint {
  const body = Buffer.from('{"age":42}');
  return {
    index: 0,
    method: 'POST',
    path: '/predict',
    headers: ['content-type', 'application/json', 'x-trace', 'abc'],
    ok: (s) => s < 400,
    nextBody: () => body,
    ...over,
  };
}

/** A slot on `url` and a way to send one request on it and await how it ended. */
function client(url: URL) {
  let resolve: (o: Outcome) => void = () => {};
  const listener: SlotListener = {
    response(_slot, status, ok, bytes, _end, sample, mismatch) {
      resolve({ kind: 'response', status, ok, bytes, sample, mismatch });
    },
    error(_slot, kind, message) {
      resolve({ kind, message });
    },
  };
  const slot = new H1Slot(url, new RequestBytes(url.host), listener, () => performance.now());
  closers.push(() => slot.close());
  return {
    slot,
    request(ep: PreparedEndpoint = endpoint()): Promise<Outcome> {
      const p = new Promise<Outcome>((r) => (resolve = r));
      slot.send(ep, 0, performance.now());
      return p;
    },
  };
}

const OK_HEAD = 'HTTP/1.1 200 OK\r\nServer: test\r\nContent-Type: application/json\r\n';

describe('h1 client: requests', () => {
  it('writes one well-formed request with host, headers, content-length and body, and reuses the connection', async () => {
    const srv = await server((s) => s.write(`${OK_HEAD}Content-Length: 2\r\n\r\nok`));
    const c = client(srv.url);
    assert.deepEqual(await c.request(), { kind: 'response', status: 200, ok: true, bytes: 2, sample: undefined, mismatch: undefined });
    assert.equal((await c.request()).status, 200);
    const get = await c.request(endpoint({ method: 'GET', path: '/health', headers: [], nextBody: () => null }));
    assert.equal(get.status, 200);
    assert.equal(srv.connections, 1, 'keep-alive: one connection');
    assert.equal(
      srv.received[0],
      `POST /predict HTTP/1.1\r\nhost: ${srv.url.host}\r\ncontent-type: application/json\r\nx-trace: abc\r\ncontent-length: 10\r\n\r\n{"age":42}`,
    );
    assert.equal(srv.received[2], `GET /health HTTP/1.1\r\nhost: ${srv.url.host}\r\n\r\n`);
  });

  it('refuses header values that would inject lines, without sending anything', async () => {
    const srv = await server((s) => s.write(`${OK_HEAD}Content-Length: 0\r\n\r\n`));
    const c = client(srv.url);
    const o = await c.request(endpoint({ headers: ['x-evil', 'a\r\nx-injected: 1'] }));
    assert.equal(o.kind, 'other');
    assert.match(o.message!, /invalid value for header x-evil/);
    assert.equal(srv.received.length, 0);
  });
});

describe('h1 client: response framing', () => {
  it('reads a head and a Content-Length body split over many reads', async () => {
    const body = JSON.stringify({ charges: 8640.78, padding: 'x'.repeat(300) });
    const full = `${OK_HEAD}Content-Length: ${body.length}\r\n\r\n${body}`;
    // Pieces cut inside the status line, inside a header name, across the blank line and in the body.
    const cuts = [3, 20, 40, full.indexOf('\r\n\r\n') + 1, full.indexOf('\r\n\r\n') + 3, full.length - 100];
    const pieces = cuts.map((c, i) => full.slice(i === 0 ? 0 : cuts[i - 1], c)).concat(full.slice(cuts.at(-1)));
    const srv = await server((s) => dribble(s, pieces));
    const c = client(srv.url);
    const o = await c.request();
    assert.equal(o.status, 200);
    assert.equal(o.bytes, body.length);
    // The connection is still in step: the next response parses.
    assert.equal((await c.request()).bytes, body.length);
  });

  it('decodes chunked bodies (extensions, trailers, one byte per read) and checks the decoded body', async () => {
    const chunked = `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n4;name=v\r\n{"ch\r\nA\r\narges":1.5\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    let n = 0;
    const srv = await server((s) => (n++ === 0 ? dribble(s, chunked.split(''), 1) : s.write(chunked)));
    let checked = '';
    const ep = endpoint({
      check: (b) => {
        checked = b;
        return b === '{"charges":1.5}' ? null : 'unexpected body';
      },
    });
    const c = client(srv.url);
    const split = await c.request(ep);
    assert.deepEqual([split.kind, split.status, split.bytes, split.mismatch], ['response', 200, 15, undefined]);
    assert.equal(checked, '{"charges":1.5}');
    const whole = await c.request(ep);
    assert.deepEqual([whole.status, whole.bytes, whole.mismatch], [200, 15, undefined]);
    assert.equal(srv.connections, 1);
  });

  it('reads bodies far larger than the read buffer (1 MiB, by length and chunked)', async () => {
    const big = 'x'.repeat(1 << 20);
    let n = 0;
    const srv = await server((s) =>
      s.write(
        n++ === 0
          ? `${OK_HEAD}Content-Length: ${big.length}\r\n\r\n${big}`
          : `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n${(big.length / 2).toString(16)}\r\n${big.slice(0, big.length / 2)}\r\n${(big.length / 2).toString(16)}\r\n${big.slice(big.length / 2)}\r\n0\r\n\r\n`,
      ),
    );
    let checked = 0;
    const ep = endpoint({ check: (b) => ((checked = b.length), b === big ? null : 'differs') });
    const c = client(srv.url);
    for (let i = 0; i < 2; i++) {
      const o = await c.request(ep);
      assert.deepEqual([o.status, o.bytes, o.mismatch], [200, big.length, undefined]);
      assert.equal(checked, big.length);
    }
  });

  it('reads a body delimited by the connection closing, then opens a new connection', async () => {
    const srv = await server((s) => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'));
    const c = client(srv.url);
    const o = await c.request();
    assert.deepEqual([o.kind, o.status, o.bytes], ['response', 200, 'until the end'.length]);
    assert.equal((await c.request()).status, 200);
    assert.equal(srv.connections, 2);
  });

  it('keeps an HTTP/1.0 connection that says keep-alive', async () => {
    const srv = await server((s) => s.write('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok'));
    const c = client(srv.url);
    assert.equal((await c.request()).status, 200);
    assert.equal((await c.request()).status, 200);
    assert.equal(srv.connections, 1);
  });

  it('does not reuse a connection the server may be closing (Keep-Alive: timeout=N, less a second)', async () => {
    const srv = await server((s) => s.write(`${OK_HEAD}Keep-Alive: timeout=2\r\nContent-Length: 2\r\n\r\nok`));
    const c = client(srv.url);
    assert.equal((await c.request()).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await c.request()).status, 200);
    assert.equal(srv.connections, 1, 'idle 0.3 s: reused');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await c.request()).status, 200);
    assert.equal(srv.connections, 2, 'idle 1.1 s, over 2 s - 1 s: a new connection');
  });

  it('honours Connection: close with a Content-Length body', async () => {
    const srv = await server((s) => s.write(`${OK_HEAD}Connection: close\r\nContent-Length: 2\r\n\r\nok`));
    const c = client(srv.url);
    assert.equal((await c.request()).status, 200);
    assert.equal((await c.request()).status, 200);
    assert.equal(srv.connections, 2);
  });

  it('skips 1xx interim responses; 204, 304 and HEAD have no body', async () => {
    const replies = [
      `HTTP/1.1 100 Continue\r\n\r\n${OK_HEAD}Content-Length: 2\r\n\r\nok`,
      'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n',
      `${OK_HEAD}Content-Length: 50\r\n\r\n`, // HEAD
      `${OK_HEAD}Content-Length: 2\r\n\r\nok`,
    ];
    const srv = await server((s, _r, n) => s.write(replies[n]!));
    const c = client(srv.url);
    assert.deepEqual([(await c.request()).status, (await c.request()).status, (await c.request()).status], [200, 204, 304]);
    const head = await c.request(endpoint({ method: 'HEAD', nextBody: () => null }));
    assert.deepEqual([head.status, head.bytes], [200, 0]);
    assert.equal((await c.request()).bytes, 2, 'still in step after bodiless responses');
    assert.equal(srv.connections, 1);
  });

  it('keeps a sample of a failing body, and judges the status with the endpoint', async () => {
    const body = '{"detail":"overloaded"}';
    const srv = await server((s) =>
      dribble(s, [`HTTP/1.1 503 Service Unavailable\r\nContent-Length: ${body.length}\r\n\r\n{"detail"`, ':"overloaded"}']),
    );
    const o = await client(srv.url).request();
    assert.deepEqual([o.status, o.ok, o.sample, o.bytes], [503, false, body, body.length]);
  });
});

describe('h1 client: errors', () => {
  const bad = async (reply: string | Array<string>, gap = 10) => {
    const srv = await server((s) => (typeof reply === 'string' ? s.write(reply) : dribble(s, reply, gap)));
    return client(srv.url).request();
  };

  it('garbage instead of a status line is a bad response', async () => {
    const o = await bad('HELLO THERE\r\n\r\n');
    assert.equal(o.kind, 'bad-response');
    assert.match(o.message!, /status line/);
  });

  it('bytes after the end of the response (pipelined garbage) make it a bad response', async () => {
    const o = await bad(`${OK_HEAD}Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n`);
    assert.equal(o.kind, 'bad-response');
    assert.match(o.message!, /after the end of the response/);
    const o2 = await bad(`${OK_HEAD}Content-Length: 2\r\n\r\nok and more`);
    assert.equal(o2.kind, 'bad-response');
  });

  it('bad framing is a bad response: invalid or conflicting lengths, bad chunk sizes, header lines', async () => {
    for (const reply of [
      `${OK_HEAD}Content-Length: 1x\r\n\r\nok`,
      `${OK_HEAD}Content-Length: 2\r\nContent-Length: 3\r\n\r\nok`,
      `${OK_HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n`,
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n1\r\nok\r\n0\r\n\r\n`,
      `${OK_HEAD}no colon here\r\n\r\n`,
      'HTTP/1.1 2000 OK\r\n\r\n',
      'HTTP/2.0 200 OK\r\n\r\n',
    ]) {
      const o = await bad(reply);
      assert.equal(o.kind, 'bad-response', `${JSON.stringify(reply)}: ${JSON.stringify(o)}`);
    }
  });

  it('the connection closing mid-body, mid-chunk or mid-head is a reset', async () => {
    for (const reply of [
      `${OK_HEAD}Content-Length: 100\r\n\r\nonly some`,
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n10\r\nonly`,
      'HTTP/1.1 200 OK\r\nContent-Le',
    ]) {
      const srv = await server((s) => s.end(reply));
      const o = await client(srv.url).request();
      assert.equal(o.kind, 'reset', `${JSON.stringify(reply)}: ${JSON.stringify(o)}`);
      assert.match(o.message!, /closed/);
    }
    // Closed before answering at all.
    const srv = await server((s) => s.end());
    assert.equal((await client(srv.url).request()).kind, 'reset');
  });

  it('a TCP reset is a reset; a refused connection is refused', async () => {
    const srv = await server((s) => s.resetAndDestroy());
    const o = await client(srv.url).request();
    assert.equal(o.kind, 'reset');
    assert.match(o.message!, /ECONNRESET/);
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const refused = await client(new URL(`http://127.0.0.1:${port}`)).request();
    assert.equal(refused.kind, 'refused');
  });

  it('a response head larger than 80 KiB is a bad response', async () => {
    const o = await bad([`${OK_HEAD}X-Big: ${'a'.repeat(50_000)}`, 'b'.repeat(40_000)]);
    assert.equal(o.kind, 'bad-response');
    assert.match(o.message!, /too large/);
  });

  it('an abort ends the request at once (timeout or stopped), and the slot works again afterwards', async () => {
    let n = 0;
    const srv = await server((s) => {
      if (n++ >= 2) s.write(`${OK_HEAD}Content-Length: 2\r\n\r\nok`); // the first two never answer
    });
    const c = client(srv.url);
    const p = c.request();
    setTimeout(() => c.slot.abort(new RequestTimeout('timeout after 50 ms')), 50);
    assert.deepEqual(await p, { kind: 'timeout', message: 'timeout after 50 ms' });
    const p2 = c.request();
    setTimeout(() => c.slot.abort(new RunStopped('stopped')), 50);
    assert.equal((await p2).kind, 'stopped');
    assert.equal((await c.request()).status, 200);
    assert.equal(srv.connections, 3);
  });
});
