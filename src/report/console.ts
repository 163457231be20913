// What the CLI prints: one progress line every few seconds (plain lines, fine in CI logs) and the
// end-of-run summary table. Pure functions from engine values to text.

import type { Progress } from '../metrics/progress.ts';
import { maxMs, percentileMs } from '../metrics/histogram.ts';
import { type RequestBodies, type RunResult, type StageInfo, type Stats, meanMs, statsFor } from '../metrics/result.ts';
import type { Verdict } from '../verdict/types.ts';
import { fmtBytes, fmtMs, fmtNum, fmtPct, fmtSecs, round } from '../format.ts';
import { fmtOutput, fmtRate, hasStreams, streamFigures, streamNotes, streamRows, runWarnings } from './stream.ts';

export function formatProgress(p: Progress, stageCount: number): string {
  const load = p.users !== undefined ? `users ${p.users}` : `rate ${fmtNum(p.targetRate ?? 0)}/s`;
  const errPct = p.requests > 0 ? ` (${fmtPct(p.failures / p.requests)})` : '';
  return (
    `[${fmtSecs(p.elapsedMs)}/${fmtSecs(p.totalMs)}] stage ${p.stage + 1}/${stageCount} ${p.stageName}: ${load}, ` +
    `${fmtNum(p.rps)} req/s, p95 ${fmtMs(p.p95)}, errors ${p.failures}${errPct}, in flight ${p.inFlight}`
  );
}

interface Row {
  label: string;
  stats: Stats;
  seconds: number;
}

/** The end-of-run table: a row per stage, per endpoint (when several) and the total. */
export function formatSummary(r: RunResult): string {
  const rows: Row[] = [];
  r.stages.forEach((st, i) => {
    // A run that stopped early ran only part of its stages: rates are over the time each actually ran.
    const ran = Math.max(0, Math.min(st.endMs, r.durationMs) - st.startMs);
    rows.push({ label: `${i + 1}. ${st.name}`, stats: statsFor(r, { stage: i }), seconds: ran / 1000 });
  });
  const seconds = r.durationMs / 1000;
  if (r.endpoints.length > 1) {
    r.endpoints.forEach((ep, i) => rows.push({ label: ep.name, stats: statsFor(r, { endpoint: i }), seconds }));
  }
  rows.push({ label: 'Total', stats: statsFor(r), seconds });
  const header = ['', 'requests', 'failures', 'req/s', 'p50', 'p95', 'p99', 'max', 'mean'];
  const body = rows.map(({ label, stats, seconds: s }) => [
    label,
    String(stats.requests),
    stats.failures === 0 ? '0' : `${stats.failures} (${fmtPct(stats.failures / Math.max(1, stats.requests))})`,
    fmtNum(s > 0 ? stats.requests / s : 0),
    fmtMs(percentileMs(stats.latency, 50)),
    fmtMs(percentileMs(stats.latency, 95)),
    fmtMs(percentileMs(stats.latency, 99)),
    fmtMs(maxMs(stats.latency)),
    fmtMs(meanMs(stats)),
  ]);
  const lines = [table([header, ...body])];
  if (hasStreams(r)) lines.push(streamTable(r));
  const total = statsFor(r);
  const errs = Object.entries(total.errors).filter(([, n]) => n > 0);
  if (errs.length) lines.push(`Errors by kind: ${errs.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const f of r.failures.slice(0, 5)) {
    lines.push(`  ${f.count} x ${f.endpoint}: ${f.error}${f.sample ? ` ${JSON.stringify(f.sample.slice(0, 120))}` : ''}`);
  }
  if (r.failures.length > 5) lines.push(`  ... ${r.failures.length - 5} more kinds of failure in the report`);
  if (r.load.model === 'open') {
    const lagP99 = r.sendLag ? percentileMs(r.sendLag, 99) : null;
    lines.push(
      `Open model: ${r.delayedByCap} requests waited for a free connection (max in flight ${r.load.maxInFlight}), ` +
        `${r.unsent} due requests were never sent; send lag p99 ${fmtMs(lagP99)}.`,
    );
    // Latencies above count from the intended send (a stall shows); this is the service alone.
    if (r.serviceTime && r.serviceTime.totalCount > 0) {
      const st = r.serviceTime;
      lines.push(
        `Service time from the actual send (without the generator's send lag): ` +
          `p50 ${fmtMs(percentileMs(st, 50))}, p95 ${fmtMs(percentileMs(st, 95))}, p99 ${fmtMs(percentileMs(st, 99))}.`,
      );
    }
  }
  for (const line of invalidSummary(r)) lines.push(line);
  for (const line of bodiesLines(r)) lines.push(line);
  lines.push(`Generator CPU: ${fmtPct(r.generatorCpu)} of one core.`);
  for (const w of generatorWarnings(r)) lines.push(`Warning: ${w}`);
  for (const w of runWarnings(r)) lines.push(`Warning: ${w}`);
  for (const w of watchSummary(r)) lines.push(w.warning ? `Warning: ${w.text}` : w.text);
  if (r.status !== 'completed') lines.push(`Run ${r.status}: ${r.reason ?? ''}`);
  return lines.join('\n');
}

/** Streamed answers: a row per stage, per streaming endpoint and the total; output in tokens or chunks. */
function streamTable(r: RunResult): string {
  const header = [
    'Streamed answers',
    'streams',
    'TTFT p50',
    'TTFT p99',
    'ITL p50',
    'ITL p99',
    'TPOT mean',
    'E2E p99',
    'output/s',
    'output',
  ];
  const body = streamRows(r).map((row) => {
    const f = streamFigures(row.scope.stream, row.seconds);
    return [
      row.label,
      String(f.streams),
      fmtMs(f.ttftP50),
      fmtMs(f.ttftP99),
      fmtMs(f.itlP50),
      fmtMs(f.itlP99),
      fmtMs(f.tpotMean),
      fmtMs(f.e2eP99),
      fmtRate(f),
      fmtOutput(f),
    ];
  });
  return [table([header, ...body]), ...streamNotes(r)].join('\n');
}

/**
 * The SLO checklist, k6 style: a mark, the SLO as written, what was observed. Then the verdict line.
 * Plain ASCII marks, so logs read the same everywhere.
 */
export function formatChecklist(r: RunResult, v: Verdict): string {
  const lines: string[] = [];
  if (v.outcomes.length > 0) {
    lines.push('SLOs:');
    const width = Math.max(...v.outcomes.map((o) => o.slo.text.length));
    for (const o of v.outcomes) {
      lines.push(
        `  ${o.pass ? '[pass]' : '[FAIL]'} ${o.slo.text.padEnd(width)}  observed ${o.labels.observed}${o.pass ? '' : `: ${o.sentence}`}`,
      );
    }
  }
  for (const p of v.problems) lines.push(`Problem: ${p}`);
  if (v.abortedBy) lines.push(`Stopped early: SLO "${v.abortedBy}" failed during the run.`);
  lines.push(`${v.pass ? 'PASS' : 'FAIL'}: ${verdictParts(r, v).join(', ')}.`);
  return lines.join('\n');
}

/**
 * Deliberately invalid requests, apart from the totals: how many the service rejected as it should.
 * One line per such endpoint.
 */
export function invalidSummary(r: RunResult): string[] {
  const out: string[] = [];
  r.endpoints.forEach((ep, i) => {
    if (ep.role !== 'invalid') return;
    const s = statsFor(r, { endpoint: i });
    const rejected = s.requests - s.failures;
    out.push(
      `Invalid requests ("${ep.name}", outside the totals and SLOs): ${s.requests} sent, ${rejected} rejected as expected` +
        (s.failures
          ? `, ${s.failures} not (${Object.entries(s.errors)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')})`
          : '') +
        '.',
    );
  });
  return out;
}

/**
 * The verdict in a few words, the same in every report: "2 of 4 SLOs breached", "1 problem with the run",
 * "stopped early" or "run interrupted". Our words only: safe in Markdown and HTML as they are.
 */
export function verdictParts(r: RunResult, v: Verdict): string[] {
  const total = v.outcomes.length;
  const breached = v.outcomes.filter((o) => !o.pass).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  // A comparison's answer leads: "p99 +12% (95% CI +8% to +16%) vs base: regressed".
  const parts: string[] = v.comparison ? [v.comparison.headline] : [];
  if (total === 0) parts.push('no SLOs set');
  else if (breached === 0) parts.push(`all ${plural(total, 'SLO')} met`);
  else parts.push(`${breached} of ${plural(total, 'SLO')} breached`);
  if (v.problems.length) parts.push(`${plural(v.problems.length, 'problem')} with the run`);
  if (v.abortedBy !== undefined) parts.push('stopped early');
  else if (r.status !== 'completed') parts.push(`run ${r.status}`);
  return parts;
}

/** Signs that the numbers describe the load generator rather than the service. */
export function generatorWarnings(r: RunResult): string[] {
  const out: string[] = [];
  if (r.generatorCpu >= 0.8) {
    out.push(`loadgate used ${fmtPct(r.generatorCpu)} of a CPU core: it may have been the bottleneck, not the service.`);
  }
  const lagP99 = r.sendLag ? percentileMs(r.sendLag, 99) : null;
  if (lagP99 !== null && lagP99 > 10) {
    out.push(`requests left up to ${fmtMs(lagP99)} off their planned time (p99): the generator could not keep the schedule.`);
  }
  if (r.delayedByCap > 0) {
    out.push(
      `${r.delayedByCap} requests were held back by the service (due while all ${r.load.model === 'open' ? r.load.maxInFlight : 0} connections were busy, timed from then): the service is saturated, or raise max-in-flight.`,
    );
  }
  return out;
}

/**
 * The service's CPU and memory (when loadgate watched it) and each monitor command, a sentence each.
 * Monitor names, commands and errors come from configs and command output: renderers escape `text`.
 */
export function watchSummary(r: RunResult): Array<{ text: string; warning?: boolean }> {
  const out: Array<{ text: string; warning?: boolean }> = [];
  const res = r.resources;
  if (res) {
    const from =
      res.source === 'proc'
        ? 'its processes in /proc'
        : res.via === 'engine stats'
          ? "the container engine's stats"
          : "its container's cgroup";
    const parts: string[] = [];
    if (res.peakCpuPercent !== undefined)
      parts.push(`CPU peak ${fmtNum(res.peakCpuPercent)}% of one core (mean ${fmtNum(res.meanCpuPercent ?? 0)}%)`);
    if (res.peakMemoryBytes !== undefined) parts.push(`memory peak ${fmtBytes(res.peakMemoryBytes)}`);
    if (parts.length)
      out.push({ text: `Service: ${parts.join(', ')} (${res.samples} sample${res.samples === 1 ? '' : 's'} from ${from}).` });
    if (res.problem) out.push({ text: res.problem, warning: true });
  }
  for (const m of r.monitors ?? []) {
    if (m.samples > 0) {
      // A monitor prints counts (replicas) as often as fractions: shown as printed, to 3 decimals at most.
      const v = (x: number) => String(round(x, 3));
      const range =
        m.min === m.max
          ? `${v(m.min!)} throughout`
          : `${v(m.first!)} at the start, ${v(m.last!)} at the end (min ${v(m.min!)}, max ${v(m.max!)})`;
      out.push({ text: `Monitor "${m.name}": ${range}, ${m.samples} sample${m.samples === 1 ? '' : 's'}.` });
    }
    if (m.failures > 0) {
      out.push({
        text: `monitor "${m.name}" failed ${m.failures} of ${m.failures + m.samples} times: ${m.lastError ?? ''}`,
        warning: true,
      });
    }
  }
  return out;
}

function table(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** The load model in a sentence, for report headers: "Closed model: 9 stages, up to 5 users, 1.0 req/s per user". */
export function describeLoad(r: RunResult): string {
  const n = r.stages.length;
  const stages = `${n} stage${n === 1 ? '' : 's'}`;
  if (r.load.model === 'closed') {
    const peak = Math.max(0, ...r.stages.map((s) => s.users ?? 0));
    const pacing = r.load.perUserRate > 0 ? `${fmtNum(r.load.perUserRate)} req/s per user` : 'no pacing';
    return `Closed model: ${stages}, up to ${peak} user${peak === 1 ? '' : 's'}, ${pacing}`;
  }
  const peak = Math.max(0, ...r.stages.map((s) => s.rate ?? 0));
  return `Open model: ${stages}, up to ${fmtNum(peak)} req/s, at most ${r.load.maxInFlight} in flight`;
}

/** A closed-model stage's ramp: "instant" when no spawn rate was set (the default moves within a millisecond), else users/s. */
export function spawnLabel(s: Pick<StageInfo, 'users' | 'spawnRate'>): string {
  if (s.spawnRate === undefined) return '-';
  return s.spawnRate >= Math.max(1, s.users ?? 0) * 1000 ? 'instant' : `${fmtNum(s.spawnRate)} users/s`;
}

/** An endpoint as a reader knows it: its name, with METHOD /path after it only when the name is something else. */
export function endpointLabel(e: { name: string; method: string; path: string }): string {
  return e.name === `${e.method} ${e.path}` ? e.name : `${e.name} (${e.method} ${e.path})`;
}

/**
 * Where one endpoint's request bodies came from, as a sentence without the example:
 * 1000 bodies generated from GET http://.../metadata: input_schema (preset rest-model-service, model m), seed 7, mean 83 bytes
 */
export function describeBodiesOf(b: RequestBodies): string {
  if (b.kind === 'none') return 'no body';
  const mean = `mean ${Math.round(b.meanBytes)} bytes`;
  if (b.kind === 'fixed') return `one fixed body from the config, ${mean}`;
  const n = `${b.count} ${b.count === 1 ? 'body' : 'bodies'}`;
  if (b.kind === 'file') return `${n} replayed in turn from ${b.source}, ${mean}`;
  const source = b.source.replace(/^generated from /, '');
  return `${n} generated from ${source}${b.preset ? ` (preset ${b.preset})` : ''}, seed ${b.seed ?? '-'}, ${mean}`;
}

/** A line per endpoint that sent anything: what it sent. The example body is left to the reports. */
export function bodiesLines(r: RunResult): string[] {
  return (r.requestBodies ?? []).filter((b) => b.kind !== 'none').map((b) => `Request bodies of "${b.endpoint}": ${describeBodiesOf(b)}.`);
}
