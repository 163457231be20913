// Locust-compatible CSV files, so whatever reads locust's `--csv` output (`*_stats.csv`,
// `*_stats_history.csv`, `*_failures.csv`, `*_exceptions.csv`) reads ours. Pure functions: RunResult in, text out.
//
// Format, as locust (2.x, stats.py: StatsCSV / StatsCSVFileWriter) writes it with Python's csv module:
// - CRLF after every row (Python's csv default line terminator), minimal RFC 4180 quoting: a field is quoted when
//   it holds a comma, a double quote, CR or LF, and quotes inside are doubled.
// - Counts are integers. Percentile columns are integers (locust writes int(...) of its rounded buckets; ours
//   come from the HDR histogram, rounded to the nearest ms), or `N/A` when nothing was measured. The median is
//   written like the percentiles (an integer number of ms). Average, min and max response time, average content
//   size and requests/s are floats at full precision, in Python's repr style (`5.0`, `31.512`), or 0 when there
//   is no data, as locust writes them.
// - Requests/s and Failures/s in `*_stats.csv` divide by the measured run duration, for every row (locust divides
//   by the time from the start of the run to its last request).
//
// Where we differ, on purpose:
// - Statistics cover the whole run, warm-up included (like locust without --reset-stats); result.json has the split.
// - Every configured endpoint gets a row, even with no requests (then with N/A percentiles, like locust's own
//   `Aggregated` row before the first request). Locust lists only names that were requested.
// - Name: the endpoint's name. When the config gave no name, loadgate names it "METHOD path"; locust names an
//   unnamed request by its URL path, so such a row is written with the path alone (the method is in Type).
// - Spreadsheet formula injection: a text field that starts with `=`, `+`, `-`, `@`, TAB or CR (a name from the
//   config, an error text or body sample from the service) is prefixed with `'`, as OWASP recommends for CSV
//   exports. Locust does not do this; the CSVs are in an artifact that people open in spreadsheets, and a
//   hostile service (or a fork's config) must not be able to plant a formula there. Numbers are never prefixed.
// - `*_failures.csv` appends newer locust's `First Seen,Last Seen` columns (UTC ISO 8601) after the four
//   classic ones: readers that index by column name or by position of the first four columns are unaffected,
//   and the columns match what newer locust writes. Failures the recorder could not itemize (its table is capped)
//   are one last row with empty Method and Name, so the Occurrences add up to the failure count.
// - `*_exceptions.csv` is the header alone: locust fills it with exceptions raised in the user's Python task
//   code; loadgate runs no user code. Transport errors (timeouts, refused, reset) are failures of requests,
//   and locust reports those in the failures file too, so that is where they are.
// - `*_stats_history.csv`: see renderStatsHistoryCsv.

import { maxMs, minMs, percentileMs } from '../metrics/histogram.ts';
import { type EndpointInfo, type RunResult, type Stats, meanMs, statsFor } from '../metrics/result.ts';

/** Locust's percentile columns; the HTML report's percentile table shows the same. */
export const PERCENTILES = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100] as const;
const PERCENTILE_HEADERS = PERCENTILES.map((p) => `${p}%`);
const NA = 'N/A';
const EOL = '\r\n';

export const STATS_HEADER = [
  'Type',
  'Name',
  'Request Count',
  'Failure Count',
  'Median Response Time',
  'Average Response Time',
  'Min Response Time',
  'Max Response Time',
  'Average Content Size',
  'Requests/s',
  'Failures/s',
  ...PERCENTILE_HEADERS,
];

export const STATS_HISTORY_HEADER = [
  'Timestamp',
  'User Count',
  'Type',
  'Name',
  'Requests/s',
  'Failures/s',
  ...PERCENTILE_HEADERS,
  'Total Request Count',
  'Total Failure Count',
  'Total Median Response Time',
  'Total Average Response Time',
  'Total Min Response Time',
  'Total Max Response Time',
  'Total Average Content Size',
];

export const FAILURES_HEADER = ['Method', 'Name', 'Error', 'Occurrences', 'First Seen', 'Last Seen'];
export const EXCEPTIONS_HEADER = ['Count', 'Message', 'Traceback', 'Nodes'];

/** A cell: a number (written as is), a string from us (quoted as needed), or text from outside (also neutralized). */
type Cell = number | string | { text: string };

/** `*_stats.csv`: a row per endpoint (sorted by name, then method, as locust sorts), then `Aggregated`. */
export function renderStatsCsv(r: RunResult): string {
  const seconds = r.durationMs / 1000;
  const rows: Cell[][] = [STATS_HEADER];
  const order = r.endpoints.map((ep, i) => ({ ep, i, name: locustName(ep) }));
  order.sort((a, b) => cmp(a.name, b.name) || cmp(a.ep.method, b.ep.method));
  for (const { ep, i, name } of order) {
    rows.push(statsRow({ text: ep.method }, { text: name }, statsFor(r, { endpoint: i }), seconds));
  }
  rows.push(statsRow('', 'Aggregated', statsFor(r), seconds));
  return rows.map(csvRow).join('');
}

function statsRow(type: Cell, name: Cell, s: Stats, seconds: number): Cell[] {
  const h = s.latency;
  const has = h.totalCount > 0;
  return [
    type,
    name,
    s.requests,
    s.failures,
    has ? Math.round(percentileMs(h, 50)!) : 0,
    has ? pyFloat(meanMs(s)!) : '0.0',
    has ? pyFloat(minMs(h)!) : 0,
    has ? pyFloat(maxMs(h)!) : 0,
    s.requests > 0 ? pyFloat(s.bytes / s.requests) : 0,
    seconds > 0 ? pyFloat(s.requests / seconds) : '0.0',
    seconds > 0 ? pyFloat(s.failures / seconds) : '0.0',
    ...PERCENTILES.map((p) => (has ? Math.round(percentileMs(h, p)!) : NA)),
  ];
}

/**
 * `*_stats_history.csv`: one `Aggregated` row per timeline point (one per second of the run; locust writes one
 * per second too, with `--csv-full-history` adding a row per endpoint, which our timeline does not keep).
 *
 * What each column holds, and why (the honest reading of our per-second timeline in locust's columns):
 * - Timestamp: unix seconds at the end of the second the row covers (startedAt + t, rounded down, as locust
 *   writes int(time.time())). The run's last, partial second could round onto its predecessor; it is then
 *   moved one second on, so timestamps are strictly increasing (a plotting key).
 * - User Count: the planned users at the end of the second (closed model). The open model has no users: the
 *   column holds its planned arrival rate in requests/s, rounded, so plots of the load curve still work.
 * - Requests/s, Failures/s: this second's counts (divided by the span when the last second is partial), with
 *   six decimals as locust formats them. Locust writes a moving average over about ten seconds; ours is exact
 *   per second.
 * - Percentiles: this second's (requests completed in it) 50%, 95%, 99% and 100% (the max). The timeline keeps
 *   no other percentiles per second, and inventing them (interpolating) would be dishonest, so 66%, 75%, 80%,
 *   90%, 98%, 99.9% and 99.99% are `N/A`, the value locust itself writes where it has none (and which CSV
 *   readers such as pandas take as missing). A second in which no latency was measured is all `N/A`.
 *   (Locust's Aggregated history row holds cumulative percentiles unless --csv-full-history; per-second
 *   values are what one plots.)
 * - Total Request/Failure Count, Total Median, Total Average: cumulative since the start, as locust's.
 * - Total Max: the running maximum of the per-second maxima (exact). Total Min and Total Average Content Size:
 *   `N/A`, the timeline does not keep them per second.
 */
export function renderStatsHistoryCsv(r: RunResult): string {
  const rows: Cell[][] = [STATS_HISTORY_HEADER];
  const start = Date.parse(r.startedAt) / 1000;
  let lastTs = -Infinity;
  let runningMax: number | null = null;
  for (const p of r.timeline) {
    let ts = Math.floor(start + p.t + 1e-9);
    if (ts <= lastTs) ts = lastTs + 1;
    lastTs = ts;
    const span = p.span ?? 1;
    if (p.max !== null) runningMax = runningMax === null ? p.max : Math.max(runningMax, p.max);
    const users = r.load.model === 'open' ? Math.round(p.targetRate ?? 0) : (p.users ?? 0);
    const perSecond = new Map<number, number | null>([
      [50, p.p50],
      [95, p.p95],
      [99, p.p99],
      [100, p.max],
    ]);
    rows.push([
      ts,
      users,
      '',
      'Aggregated',
      (span > 0 ? p.requests / span : 0).toFixed(6),
      (span > 0 ? p.failures / span : 0).toFixed(6),
      ...PERCENTILES.map((q) => {
        const v = perSecond.get(q);
        return v === undefined || v === null || p.p50 === null ? NA : Math.round(v);
      }),
      p.totalRequests,
      p.totalFailures,
      p.totalP50 === null ? 0 : Math.round(p.totalP50),
      p.totalMean === null ? '0.0' : pyFloat(p.totalMean),
      NA,
      runningMax === null ? 0 : pyFloat(runningMax),
      NA,
    ]);
  }
  return rows.map(csvRow).join('');
}

/**
 * `*_failures.csv`: a row per distinct failure (endpoint, kind, message), most frequent first. Error is our
 * message, with the first bytes of the failing body when there was one, JSON-quoted (so it stays on one line,
 * as locust's repr()-formatted errors do).
 */
export function renderFailuresCsv(r: RunResult): string {
  const rows: Cell[][] = [FAILURES_HEADER];
  const byName = new Map(r.endpoints.map((ep) => [ep.name, ep]));
  const start = Date.parse(r.startedAt);
  for (const f of r.failures) {
    const ep = byName.get(f.endpoint);
    rows.push([
      { text: ep?.method ?? '' },
      { text: ep ? locustName(ep) : f.endpoint },
      { text: f.sample !== undefined ? `${f.error}: ${JSON.stringify(f.sample)}` : f.error },
      f.count,
      isoAt(start, f.firstSeenMs),
      isoAt(start, f.lastSeenMs),
    ]);
  }
  if (r.failuresNotItemized > 0) {
    rows.push(['', '', 'other failures, not itemized (the failure table was full)', r.failuresNotItemized, '', '']);
  }
  return rows.map(csvRow).join('');
}

/** `*_exceptions.csv`: the header alone (loadgate runs no user code that could raise; see the top of the file). */
export function renderExceptionsCsv(_r: RunResult): string {
  return csvRow(EXCEPTIONS_HEADER);
}

// ---- helpers ----

/** The row name locust would use: the request's name, or its path when it was not named. */
function locustName(ep: EndpointInfo): string {
  return ep.name === `${ep.method} ${ep.path}` ? ep.path : ep.name;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isoAt(startMs: number, offsetMs: number): string {
  const t = startMs + offsetMs;
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/** A float as Python's repr writes it for ordinary magnitudes: integral values keep a `.0`. */
function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  return Number.isInteger(x) && Math.abs(x) < 1e16 ? `${x}.0` : String(x);
}

/** Formula-injection guard for text from outside: see the top of the file. */
export function neutralizeFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** RFC 4180 quoting, minimal (as Python's csv.QUOTE_MINIMAL): only fields that need it. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(cells: readonly Cell[]): string {
  return (
    cells
      .map((c) => (typeof c === 'number' ? String(c) : typeof c === 'string' ? csvField(c) : csvField(neutralizeFormula(c.text))))
      .join(',') + EOL
  );
}
