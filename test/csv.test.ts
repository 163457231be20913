// Locust-compatible CSV: exact headers, numbers that agree with the histograms, quoting that round-trips hostile
// text through an RFC 4180 parser, and a result from the real engine against a local server.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { runLoad } from '../src/load/engine.ts';
import { maxMs, minMs, percentileMs } from '../src/metrics/histogram.ts';
import { type RunResult, type TimelinePoint, meanMs, statsFor } from '../src/metrics/result.ts';
import { renderExceptionsCsv, renderFailuresCsv, renderStatsCsv, renderStatsHistoryCsv } from '../src/report/csv.ts';
import { constructedResult } from './fixtures/result.ts';

// The headers as locust writes them (../shared/FACTS.md, "Locust's CSV columns"), as plain strings.
const PCT = '50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%';
const STATS =
  'Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,' +
  `Max Response Time,Average Content Size,Requests/s,Failures/s,${PCT}`;
const HISTORY =
  `Timestamp,User Count,Type,Name,Requests/s,Failures/s,${PCT},Total Request Count,Total Failure Count,` +
  'Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,' +
  'Total Average Content Size';
const FAILURES_BASE = 'Method,Name,Error,Occurrences';
const EXCEPTIONS = 'Count,Message,Traceback,Nodes';
const PERCENTILES = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100];

/** A strict RFC 4180 parser: CRLF (or LF) records, quoted fields with doubled quotes; throws on malformed input. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quotedField = false;
  const endField = () => {
    row.push(field);
    field = '';
    quotedField = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && field === '' && !quotedField) {
      quotedField = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    if (c === '"') throw new Error(`stray quote at ${i}`);
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r') {
        if (text[i + 1] !== '\n') throw new Error(`bare CR at ${i}`);
        i++;
      }
      i++;
      endField();
      rows.push(row);
      row = [];
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length) throw new Error('last record has no line terminator');
  return rows;
}

function table(text: string): { header: string[]; rows: Array<Record<string, string>> } {
  const [header, ...rows] = parseCsv(text);
  for (const r of rows) assert.equal(r.length, header!.length, `row width: ${r.join('|')}`);
  return { header: header!, rows: rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!]))) };
}

const num = (s: string | undefined) => {
  assert.ok(s !== undefined && /^-?\d+(\.\d+)?(e-?\d+)?$/.test(s), `a number: ${s}`);
  return Number(s);
};

describe('stats CSV', () => {
  it("has locust's exact header, CRLF line ends, an endpoint row each and the Aggregated row last", () => {
    const text = renderStatsCsv(constructedResult());
    assert.ok(text.startsWith(`${STATS}\r\n`));
    assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text));
    const { rows } = table(text);
    assert.deepEqual(
      rows.map((r) => [r['Type'], r['Name']]),
      [
        ['POST', 'a'],
        ['GET', 'b'],
        ['', 'Aggregated'],
      ],
    );
  });

  it('agrees with statsFor and the histogram (percentileMs, minMs, maxMs, meanMs)', () => {
    const r = constructedResult();
    const { rows } = table(renderStatsCsv(r));
    const seconds = r.durationMs / 1000;
    const cases: Array<[Record<string, string>, ReturnType<typeof statsFor>]> = [
      [rows[0]!, statsFor(r, { endpoint: 0 })],
      [rows[1]!, statsFor(r, { endpoint: 1 })],
      [rows[2]!, statsFor(r)],
    ];
    for (const [row, s] of cases) {
      assert.equal(num(row['Request Count']), s.requests);
      assert.equal(num(row['Failure Count']), s.failures);
      assert.equal(num(row['Median Response Time']), Math.round(percentileMs(s.latency, 50)!));
      assert.equal(num(row['Average Response Time']), meanMs(s));
      assert.equal(num(row['Min Response Time']), minMs(s.latency));
      assert.equal(num(row['Max Response Time']), maxMs(s.latency));
      assert.equal(num(row['Average Content Size']), s.bytes / s.requests);
      assert.equal(num(row['Requests/s']), s.requests / seconds);
      assert.equal(num(row['Failures/s']), s.failures / seconds);
      for (const p of PERCENTILES) {
        const cell = row[`${p}%`]!;
        assert.match(cell, /^\d+$/, `percentiles are integers, as locust writes them: ${cell}`);
        assert.equal(Number(cell), Math.round(percentileMs(s.latency, p)!), `${p}%`);
      }
    }
    // Spot values: endpoint a saw 5 ms and a 1 s timeout.
    assert.equal(rows[0]!['Min Response Time'], '5.0');
    assert.equal(rows[0]!['100%'], '1000');
  });

  it('writes N/A percentiles and zeros, as locust does, for an endpoint with no requests', () => {
    const r = constructedResult();
    r.endpoints.push({ name: 'idle', method: 'GET', path: '/idle' });
    for (const row of r.cells) row.push(statsFor(r, { endpoint: 99 })); // an empty cell
    const { rows } = table(renderStatsCsv(r));
    const idle = rows.find((x) => x['Name'] === 'idle')!;
    assert.deepEqual(
      PERCENTILES.map((p) => idle[`${p}%`]),
      PERCENTILES.map(() => 'N/A'),
    );
    assert.deepEqual(
      ['Request Count', 'Failure Count', 'Median Response Time', 'Min Response Time', 'Max Response Time', 'Average Content Size'].map(
        (k) => idle[k],
      ),
      ['0', '0', '0', '0', '0', '0'],
    );
    assert.equal(num(idle['Average Response Time']), 0);
    assert.equal(num(idle['Requests/s']), 0);
  });

  it('names an unnamed request by its path, as locust does, and sorts rows by name then method', () => {
    const r = constructedResult();
    r.endpoints = [
      { name: 'zeta', method: 'POST', path: '/z' },
      { name: 'GET /api/v1/predict', method: 'GET', path: '/api/v1/predict' },
    ];
    const { rows } = table(renderStatsCsv(r));
    assert.deepEqual(
      rows.map((x) => x['Name']),
      ['/api/v1/predict', 'zeta', 'Aggregated'],
    );
    assert.deepEqual(
      rows.map((x) => x['Type']),
      ['GET', 'POST', ''],
    );
  });
});

describe('quoting', () => {
  const hostile = [
    'plain',
    'comma, inside',
    'a "quoted" word',
    'line\nbreak',
    'crlf\r\nbreak',
    '"',
    '',
    ' leading and trailing ',
    'unicode ✓ and \u2028',
  ];
  // Formula injection: text starting with = + - @ TAB CR gets a leading apostrophe.
  const formulas = ['=HYPERLINK("http://evil","x")', '+1+1', '-2', '@SUM(A1)', '\tTAB', '\rCR'];

  it('round-trips hostile endpoint names and failure text through an RFC 4180 parser', () => {
    const r = constructedResult();
    const names = [...hostile, ...formulas].filter((n) => n !== '');
    r.endpoints = names.map((name, i) => ({ name, method: 'POST', path: `/p${i}` }));
    r.cells = r.cells.map(() => names.map((_, i) => statsFor(r, { endpoint: i })));
    r.failures = names.map((name, i) => ({
      endpoint: name,
      kind: 'status',
      error: hostile[i % hostile.length]!,
      sample: formulas[i % formulas.length]!,
      count: i + 1,
      firstSeenMs: i,
      lastSeenMs: 10 * i,
    }));
    const expectName = (n: string) => (/^[=+\-@\t\r]/.test(n) ? `'${n}` : n);

    const stats = table(renderStatsCsv(r));
    assert.deepEqual(stats.rows.map((x) => x['Name']).sort(), [...names.map(expectName), 'Aggregated'].sort());
    const failures = table(renderFailuresCsv(r));
    assert.deepEqual(failures.header.slice(0, 4), FAILURES_BASE.split(','));
    assert.equal(failures.rows.length, names.length);
    failures.rows.forEach((row, i) => {
      const f = r.failures[i]!;
      assert.equal(row['Name'], expectName(f.endpoint));
      assert.equal(row['Method'], 'POST');
      // The error, then the body sample JSON-quoted (one line, like locust's repr()-formatted errors).
      assert.equal(row['Error'], expectName(`${f.error}: ${JSON.stringify(f.sample)}`));
      assert.ok(!/[\r\n]/.test(row['Error']!.slice(f.error.length)), 'the sample part stays on one line');
      assert.equal(row['Occurrences'], String(f.count));
    });
  });

  it('neutralizes formulas only in text fields, never in numbers', () => {
    const r = constructedResult();
    r.endpoints[0]!.name = '=cmd|" /C calc"!A0';
    r.failures[0]!.endpoint = r.endpoints[0]!.name;
    const stats = table(renderStatsCsv(r));
    assert.ok(stats.rows.some((x) => x['Name'] === `'=cmd|" /C calc"!A0`));
    for (const row of stats.rows) for (const k of stats.header.slice(2)) assert.ok(!row[k]!.startsWith("'"), k);
  });
});

describe('stats history CSV', () => {
  it("has locust's exact header and one Aggregated row per timeline point", () => {
    const r = constructedResult();
    const text = renderStatsHistoryCsv(r);
    assert.ok(text.startsWith(`${HISTORY}\r\n`));
    const { rows } = table(text);
    assert.equal(rows.length, r.timeline.length);
    for (const row of rows) {
      assert.equal(row['Type'], '');
      assert.equal(row['Name'], 'Aggregated');
    }
  });

  it('maps each timeline point: timestamp, users, per-second rates and percentiles, cumulative totals', () => {
    const r = constructedResult();
    const { rows } = table(renderStatsHistoryCsv(r));
    const start = Date.parse(r.startedAt) / 1000;
    let prev = -Infinity;
    let runningMax = 0;
    rows.forEach((row, i) => {
      const p = r.timeline[i]!;
      const ts = num(row['Timestamp']);
      assert.ok(Number.isInteger(ts) && ts > prev, 'integer unix seconds, strictly increasing');
      assert.ok(ts >= Math.floor(start + p.t) && ts <= Math.floor(start + p.t) + 1);
      prev = ts;
      assert.equal(num(row['User Count']), p.users);
      assert.match(row['Requests/s']!, /^\d+\.\d{6}$/, 'six decimals, as locust formats it');
      assert.ok(Math.abs(num(row['Requests/s']) - p.requests / (p.span ?? 1)) < 1e-6);
      assert.ok(Math.abs(num(row['Failures/s']) - p.failures / (p.span ?? 1)) < 1e-6);
      const want = (v: number | null) => (v === null ? 'N/A' : String(Math.round(v)));
      assert.equal(row['50%'], want(p.p50));
      assert.equal(row['95%'], want(p.p95));
      assert.equal(row['99%'], want(p.p99));
      assert.equal(row['100%'], want(p.max));
      for (const q of ['66%', '75%', '80%', '90%', '98%', '99.9%', '99.99%']) assert.equal(row[q], 'N/A', `${q}: not kept per second`);
      assert.equal(num(row['Total Request Count']), p.totalRequests);
      assert.equal(num(row['Total Failure Count']), p.totalFailures);
      assert.equal(num(row['Total Median Response Time']), Math.round(p.totalP50 ?? 0));
      assert.equal(num(row['Total Average Response Time']), p.totalMean ?? 0);
      runningMax = Math.max(runningMax, p.max ?? 0);
      assert.equal(num(row['Total Max Response Time']), runningMax);
      assert.equal(row['Total Min Response Time'], 'N/A');
      assert.equal(row['Total Average Content Size'], 'N/A');
    });
    // The fixture's last point is a partial second (span 0.6): rates divide by the span.
    assert.equal(rows[2]!['Requests/s'], (2 / 0.6).toFixed(6));
  });

  it("writes the open model's target rate, rounded, as the user count", () => {
    const r = constructedResult();
    r.load = { model: 'open', maxInFlight: 10 };
    r.timeline = r.timeline.map((p): TimelinePoint => {
      const { users: _u, ...rest } = p;
      return { ...rest, targetRate: 12.6 };
    });
    const { rows } = table(renderStatsHistoryCsv(r));
    assert.deepEqual(
      rows.map((x) => x['User Count']),
      ['13', '13', '13'],
    );
  });
});

describe('failures and exceptions CSV', () => {
  it("failures: locust's four columns, then First Seen and Last Seen (UTC ISO), and the not-itemized rest", () => {
    const r = constructedResult();
    r.failuresNotItemized = 7;
    const { header, rows } = table(renderFailuresCsv(r));
    assert.equal(header.join(','), `${FAILURES_BASE},First Seen,Last Seen`);
    assert.equal(rows.length, r.failures.length + 1);
    const refused = rows.find((x) => x['Error'] === 'connect ECONNREFUSED')!;
    assert.deepEqual(refused, {
      Method: 'GET',
      Name: 'b',
      Error: 'connect ECONNREFUSED',
      Occurrences: '2',
      'First Seen': '2026-11-25T00:00:02.200Z',
      'Last Seen': '2026-11-25T00:00:02.300Z',
    });
    assert.ok(rows.some((x) => x['Error'] === 'HTTP 503: "<html>busy</html>"'));
    const total = rows.reduce((a, x) => a + num(x['Occurrences']), 0);
    assert.equal(total, r.failures.reduce((a, f) => a + f.count, 0) + 7);
  });

  it('exceptions: the header alone', () => {
    assert.equal(renderExceptionsCsv(constructedResult()), `${EXCEPTIONS}\r\n`);
  });
});

describe('a result from the real engine', () => {
  let server: Server | undefined;
  after(() => new Promise<void>((res) => (server ? server.close(() => res()) : res())));

  it('writes CSVs whose numbers add up', async () => {
    let n = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        n++;
        if (req.url === '/flaky' && n % 3 === 0) {
          res.statusCode = 503;
          res.end('=1+1, "busy"\nretry');
        } else setTimeout(() => res.end('{"charges":1.5}'), 2);
      });
    });
    await new Promise<void>((res) => server!.listen(0, '127.0.0.1', res));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const r: RunResult = await runLoad({
      baseUrl: url,
      endpoints: [
        {
          name: 'predict',
          method: 'POST',
          path: '/predict',
          headers: {},
          body: { kind: 'fixed', body: '{}' },
          weight: 1,
          okStatus: [[200, 399]],
        },
        { name: 'GET /flaky', method: 'GET', path: '/flaky', headers: {}, body: { kind: 'none' }, weight: 1, okStatus: [[200, 399]] },
      ],
      load: { model: 'closed', perUserRate: 20, stages: [{ name: 's0', durationMs: 1500, users: 3, spawnRate: 1000 }] },
      timeoutMs: 2000,
      seed: 1,
    });
    const total = statsFor(r);
    assert.ok(total.requests > 30 && total.failures > 0, `${total.requests} requests, ${total.failures} failures`);

    const stats = table(renderStatsCsv(r));
    assert.equal(stats.header.join(','), STATS);
    const agg = stats.rows.at(-1)!;
    assert.equal(agg['Name'], 'Aggregated');
    assert.equal(num(agg['Request Count']), total.requests);
    assert.equal(num(agg['Failure Count']), total.failures);
    assert.equal(num(agg['99%']), Math.round(percentileMs(total.latency, 99)!));
    const endpointRows = stats.rows.slice(0, -1);
    assert.deepEqual(
      endpointRows.map((x) => x['Name']),
      ['/flaky', 'predict'],
    );
    assert.equal(
      endpointRows.reduce((a, x) => a + num(x['Request Count']), 0),
      total.requests,
    );
    assert.ok(Math.abs(num(agg['Requests/s']) - total.requests / (r.durationMs / 1000)) < 1e-9);

    const history = table(renderStatsHistoryCsv(r));
    assert.equal(history.header.join(','), HISTORY);
    assert.equal(history.rows.length, r.timeline.length);
    assert.equal(num(history.rows.at(-1)!['Total Request Count']), total.requests);
    assert.equal(
      history.rows.reduce((a, x, i) => a + num(x['Requests/s']) * (r.timeline[i]!.span ?? 1), 0).toFixed(3),
      total.requests.toFixed(3),
    );
    assert.ok(history.rows.every((x) => x['User Count'] === '3'));

    const failures = table(renderFailuresCsv(r));
    assert.equal(
      failures.rows.reduce((a, x) => a + num(x['Occurrences']), 0),
      total.failures,
    );
    const row = failures.rows[0]!;
    assert.equal(row['Method'], 'GET');
    assert.equal(row['Name'], '/flaky');
    assert.equal(row['Error'], 'HTTP 503: "=1+1, \\"busy\\"\\nretry"');

    assert.equal(renderExceptionsCsv(r), `${EXCEPTIONS}\r\n`);
  });
});
