// The HTTP/1.1 response parser (src/load/h1-parser.ts) on byte fixtures, no sockets. Every read is
// copied into one reused buffer whose stale bytes are "\r\n\r\n" over and over, as the slot's shared
// read buffer would hold old responses: a parser that looked past the bytes it was given would find
// heads and line ends that are not there.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FeedResult, ResponseParser } from '../src/load/h1-parser.ts';

interface Parsed {
  /** What each feed said. */
  results: FeedResult[];
  status: number;
  keepAlive: boolean;
  /** Heads reported (1xx are not), and the Keep-Alive timeouts seen. */
  heads: number[];
  timeouts: number[];
  body: string;
  error: string;
  endsAtClose: boolean;
}

const STALE = Buffer.alloc(64 * 1024, '\r\n\r\n', 'latin1');
const readBuffer = Buffer.alloc(STALE.length);

/** Feeds the pieces one read each, as the slot does, to a parser expecting a response (to HEAD if `headRequest`). */
function parse(pieces: ReadonlyArray<string | Buffer>, headRequest = false): Parsed {
  const heads: number[] = [];
  const timeouts: number[] = [];
  const body: Buffer[] = [];
  const parser = new ResponseParser({
    onHead: (status) => void heads.push(status),
    onBody: (buf, from, to) => {
      assert.ok(to > from, 'no empty body range');
      body.push(Buffer.from(buf.subarray(from, to)));
    },
    onKeepAliveTimeout: (s) => void timeouts.push(s),
  });
  parser.start(headRequest);
  const results: FeedResult[] = [];
  for (const piece of pieces) {
    const bytes = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
    STALE.copy(readBuffer);
    bytes.copy(readBuffer);
    results.push(parser.feed(readBuffer, bytes.length));
    if (results.at(-1) !== 'more') break;
  }
  return {
    results,
    status: parser.status,
    keepAlive: parser.keepAlive,
    heads,
    timeouts,
    body: Buffer.concat(body).toString('latin1'),
    error: parser.error,
    endsAtClose: parser.endsAtClose,
  };
}

/** The outcome of a whole response, whatever the reads: the last result and what was reported. */
function outcome(p: Parsed) {
  return {
    result: p.results.at(-1),
    status: p.status,
    keepAlive: p.keepAlive,
    heads: p.heads,
    timeouts: p.timeouts,
    body: p.body,
    error: p.error,
  };
}

/** Every way to cut `text` in two reads, and one byte per read. */
function splits(text: string): string[][] {
  const out: string[][] = [];
  for (let k = 1; k < text.length; k++) out.push([text.slice(0, k), text.slice(k)]);
  out.push(text.split(''));
  return out;
}

const OK_HEAD = 'HTTP/1.1 200 OK\r\nServer: test\r\nContent-Type: application/json\r\n';

describe('h1 parser: framing', () => {
  it('a Content-Length body: the head, then the body, done on its last byte', () => {
    const p = parse([`${OK_HEAD}Content-Length: 15\r\n\r\n{"charges"`, ':1.5}']);
    assert.deepEqual(p.results, ['more', 'done']);
    assert.deepEqual(outcome(p), {
      result: 'done',
      status: 200,
      keepAlive: true,
      heads: [200],
      timeouts: [],
      body: '{"charges":1.5}',
      error: '',
    });
  });

  it('Content-Length: 0, and the same length given twice, are a complete response', () => {
    assert.deepEqual(parse([`${OK_HEAD}Content-Length: 0\r\n\r\n`]).results, ['done']);
    assert.equal(parse([`${OK_HEAD}Content-Length: 2\r\ncontent-length:2\r\n\r\nok`]).body, 'ok');
  });

  it('a chunked body, its extensions and trailers skipped, the chunk framing removed', () => {
    const p = parse([
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n4;name=v\r\n{"ch\r\nA \r\narges":1.5\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n`,
    ]);
    assert.deepEqual(outcome(p), {
      result: 'done',
      status: 200,
      keepAlive: true,
      heads: [200],
      timeouts: [],
      body: '{"charges":1.5}',
      error: '',
    });
    assert.equal(
      parse([`${OK_HEAD}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`]).body,
      'ok',
      'chunked as the last coding',
    );
    assert.equal(
      parse([`${OK_HEAD}transfer-encoding: Chunked\r\n\r\nB\r\nhello world\r\n0\r\n\r\n`]).body,
      'hello world',
      'any case, hex digits too',
    );
  });

  it('no length, or a coding other than chunked last: the body runs until the connection closes', () => {
    for (const head of ['HTTP/1.0 200 OK\r\n\r\n', `${OK_HEAD}\r\n`, `${OK_HEAD}Transfer-Encoding: gzip\r\n\r\n`]) {
      const p = parse([`${head}until `, 'the end']);
      assert.deepEqual(p.results, ['more', 'more'], head);
      assert.equal(p.body, 'until the end');
      assert.equal(p.endsAtClose, true, 'a close completes it');
      assert.equal(p.keepAlive, false);
    }
    assert.equal(parse([`${OK_HEAD}Content-Length: 2\r\n\r\no`]).endsAtClose, false, 'a close would cut a length-delimited body short');
  });

  it('skips 1xx interim heads (their Keep-Alive counts); a 101 is a bad response', () => {
    const p = parse([
      `HTTP/1.1 100 Continue\r\nKeep-Alive: timeout=9\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK_HEAD}Content-Length: 2\r\n\r\nok`,
    ]);
    assert.deepEqual(outcome(p), { result: 'done', status: 200, keepAlive: true, heads: [200], timeouts: [9], body: 'ok', error: '' });
    const upgrade = parse(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']);
    assert.deepEqual([upgrade.results, upgrade.error], [['bad'], 'unexpected 101 Switching Protocols']);
  });

  it('204, 304 and the answer to HEAD have no body, whatever their headers say', () => {
    for (const [reply, headRequest] of [
      ['HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', false],
      ['HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', false],
      ['HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', false],
      [`${OK_HEAD}Content-Length: 50\r\n\r\n`, true],
    ] as const) {
      const p = parse([reply], headRequest);
      assert.deepEqual([p.results, p.body], [['done'], ''], reply);
    }
  });

  it('keep-alive: HTTP/1.1 keeps the connection unless it says close; HTTP/1.0 closes unless it says keep-alive', () => {
    const kept = (head: string) => parse([`${head}Content-Length: 0\r\n\r\n`]).keepAlive;
    assert.equal(kept('HTTP/1.1 200 OK\r\n'), true);
    assert.equal(kept('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n'), true);
    assert.equal(kept('HTTP/1.1 200 OK\r\nConnection: close\r\n'), false);
    assert.equal(kept('HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\n'), false);
    assert.equal(kept('HTTP/1.0 200 OK\r\n'), false);
    assert.equal(kept('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n'), true);
    assert.equal(kept('HTTP/1.0 200 OK\r\nConnection: TE, keep-alive\r\n'), true);
  });

  it("reports the server's Keep-Alive timeout in whole seconds", () => {
    assert.deepEqual(parse([`${OK_HEAD}Keep-Alive: max=100, timeout=7\r\nContent-Length: 0\r\n\r\n`]).timeouts, [7]);
    assert.deepEqual(parse([`${OK_HEAD}Keep-Alive: timeout=\r\nContent-Length: 0\r\n\r\n`]).timeouts, [], 'no digits: nothing said');
  });

  it("ignores the reused buffer's stale bytes past the read, and says so when the read ends mid-head", () => {
    const p = parse([`${OK_HEAD}Content-Length: 2\r\n`, '\r\nok']);
    assert.deepEqual(p.results, ['more', 'done'], 'the stale "\\r\\n\\r\\n" after the first read did not end the head');
    assert.equal(p.body, 'ok');
  });

  it('parses the next response after start(), whatever the last one left', () => {
    const bodies: string[] = [];
    const parser = new ResponseParser({
      onHead: () => {},
      onBody: (b, f, t) => void bodies.push(b.toString('latin1', f, t)),
      onKeepAliveTimeout: () => {},
    });
    for (const reply of [
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n`,
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n`,
      `${OK_HEAD}Content-Length: 5\r\n\r\nthree`,
    ]) {
      parser.start(false);
      assert.equal(parser.midResponse, false);
      assert.equal(parser.feed(Buffer.from(reply, 'latin1')), 'done');
    }
    assert.deepEqual(bodies, ['one', 'two', 'three']);
  });

  it('says whether a close now would cut the response short (not before its first byte, nor after a 1xx)', () => {
    const parser = new ResponseParser({ onHead: () => {}, onBody: () => {}, onKeepAliveTimeout: () => {} });
    parser.start(false);
    assert.equal(parser.midResponse, false);
    assert.equal(parser.feed(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n')), 'more');
    assert.equal(parser.midResponse, false, 'after an interim head, the response has not begun');
    assert.equal(parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le')), 'more');
    assert.equal(parser.midResponse, true);
    assert.equal(parser.feed(Buffer.from('ngth: 4\r\n\r\nok')), 'more');
    assert.equal(parser.midResponse, true);
  });
});

describe('h1 parser: a response cut into reads anywhere', () => {
  const fixtures = {
    'content-length': `${OK_HEAD}Keep-Alive: timeout=5\r\nContent-Length: 15\r\n\r\n{"charges":1.5}`,
    'chunked with extensions and trailers': `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n4;name=v\r\n{"ch\r\na\t;x\r\narges":1.5\r\n1\r\n}\r\n0;last\r\nX-Trailer: t\r\n\r\n`,
    '1xx, then HTTP/1.0 keep-alive': `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 201 Created\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nnew`,
    'a 503 with a body': 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 23\r\n\r\n{"detail":"overloaded"}',
  };
  for (const [name, text] of Object.entries(fixtures)) {
    it(`${name}: the same outcome at every cut and one byte per read`, () => {
      const whole = outcome(parse([text]));
      assert.equal(whole.result, 'done');
      for (const pieces of splits(text)) {
        const p = parse(pieces);
        assert.deepEqual(outcome(p), whole, `cut ${JSON.stringify(pieces.length === 2 ? pieces[0] : 'per byte')}`);
        assert.ok(
          p.results.slice(0, -1).every((r) => r === 'more'),
          'done only on the last byte',
        );
      }
    });
  }

  it('close-delimited: the same body at every cut', () => {
    const text = 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end';
    for (const pieces of splits(text)) {
      const p = parse(pieces);
      assert.deepEqual([p.results.at(-1), p.body, p.endsAtClose], ['more', 'until the end', true]);
    }
  });

  it('bytes after the end of the response are a bad response, in the same read or the next', () => {
    const text = `${OK_HEAD}Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n`;
    const end = text.indexOf('ok') + 2;
    for (const p of [parse([text]), parse([text.slice(0, end - 1), text.slice(end - 1)])]) {
      assert.deepEqual([p.results.at(-1), p.error], ['bad', 'data after the end of the response']);
    }
    assert.equal(parse([`${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`]).error, 'data after the end of the response');
  });
});

describe('h1 parser: bad responses', () => {
  const bad = (text: string | string[]) => {
    const p = parse(typeof text === 'string' ? [text] : text);
    assert.equal(p.results.at(-1), 'bad', `${JSON.stringify(text).slice(0, 200)}: ${JSON.stringify(p.results)}`);
    return p.error;
  };

  it('garbage, or a status line that is not HTTP/1.x with three digits', () => {
    assert.equal(bad('HELLO THERE\r\n\r\n'), 'invalid HTTP status line');
    assert.equal(bad('HTTP/2.0 200 OK\r\n\r\n'), 'invalid HTTP status line');
    assert.equal(bad('HTTP/1.1 200 OK\nServer: x\r\n\r\n'), 'invalid HTTP status line');
    assert.equal(bad('HTTP/1.1 2000 OK\r\n\r\n'), 'invalid HTTP status code');
    assert.equal(bad('HTTP/1.1 600 Odd\r\n\r\n'), 'invalid HTTP status code');
    assert.equal(bad('HTTP/1.1 2x0 OK\r\n\r\n'), 'invalid HTTP status code');
    assert.equal(bad('HTTP/1.1 20\r\n\r\n'), 'invalid HTTP status line', 'too short to hold a status line');
    assert.deepEqual(parse(['HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n']).results, ['done'], 'no reason phrase is fine');
  });

  it('header lines without a colon, with space before the colon, or ending in a bare LF', () => {
    assert.equal(bad(`${OK_HEAD}no colon here\r\n\r\n`), 'invalid header line');
    assert.equal(bad(`${OK_HEAD}: no name\r\n\r\n`), 'invalid header line');
    assert.equal(bad(`${OK_HEAD}Content-Length : 2\r\n\r\nok`), 'invalid header name');
    assert.equal(bad(`${OK_HEAD}X-A: 1\nX-B: 2\r\n\r\n`), 'invalid header line');
  });

  it('invalid or conflicting lengths', () => {
    assert.equal(bad(`${OK_HEAD}Content-Length: 1x\r\n\r\nok`), 'invalid content-length');
    assert.equal(bad(`${OK_HEAD}Content-Length: -1\r\n\r\n`), 'invalid content-length');
    assert.equal(bad(`${OK_HEAD}Content-Length:\r\n\r\n`), 'invalid content-length');
    assert.equal(bad(`${OK_HEAD}Content-Length: 2\r\nContent-Length: 3\r\n\r\nok`), 'invalid content-length');
    assert.equal(
      bad(`${OK_HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`),
      'both content-length and chunked transfer-encoding',
    );
  });

  it('bad chunk framing', () => {
    const chunked = `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n`;
    assert.equal(bad(`${chunked}zz\r\nok\r\n0\r\n\r\n`), 'invalid chunk size');
    assert.equal(bad(`${chunked};ext\r\nok\r\n0\r\n\r\n`), 'invalid chunk size');
    assert.equal(bad(`${chunked}2x\r\nok\r\n0\r\n\r\n`), 'invalid chunk size');
    assert.equal(bad(`${chunked}2\rxok\r\n0\r\n\r\n`), 'invalid chunk size line');
    assert.equal(bad(`${chunked}1\r\nok\r\n0\r\n\r\n`), 'chunk data longer than its size');
    assert.equal(bad(`${chunked}2\r\nok\rx0\r\n\r\n`), 'chunk data longer than its size');
    assert.equal(bad(`${chunked}${'f'.repeat(13)}\r\n`), 'chunk size too large');
  });

  it('a head over 80 KiB, in one read or many; trailers over 80 KiB', () => {
    assert.equal(bad(`${OK_HEAD}X-Big: ${'a'.repeat(81 * 1024)}`), 'response headers too large');
    assert.equal(bad([`${OK_HEAD}X-Big: ${'a'.repeat(50_000)}`, 'b'.repeat(40_000)]), 'response headers too large');
    const near = parse([`${OK_HEAD}X-Big: ${'a'.repeat(40_000)}`, `${'b'.repeat(39_000)}\r\nContent-Length: 2\r\n\r\nok`]);
    assert.deepEqual([near.results.at(-1), near.body], ['done', 'ok'], 'just under the limit');
    assert.equal(bad(`${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n0\r\nX-Big: ${'t'.repeat(81 * 1024)}\r\n\r\n`), 'trailers too large');
  });
});
