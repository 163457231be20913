// JUnit XML for CI test-report views (GitHub check annotations through a JUnit action, GitLab, Jenkins): one
// test case per SLO, named by the SLO as written, that fails with the verdict's sentence when breached, and one
// test case for the run itself, which fails when the run had problems (the service died, the run was
// interrupted) or was stopped early. Pure: RunResult + Verdict in, text out. Every string from the run, the
// config or the service goes through `xml()` (escapeXml after replacing lone surrogates, which no XML document can
// hold); attribute values also have their line breaks folded (a parser would turn them into spaces anyway).

import { percentileMs } from '../metrics/histogram.ts';
import { type RunResult, statsFor } from '../metrics/result.ts';
import type { SloOutcome, Verdict } from '../verdict/types.ts';
import { fmtMs, fmtPct } from '../format.ts';
import { compareCases } from './compare-junit.ts';
import { escapeXml, truncate } from './escape.ts';
import { describeBodiesOf } from './console.ts';
import { runWarnings, streamHeadline, streamNotes, streamWarnings } from './stream.ts';

export const SLO_CLASSNAME = 'loadgate.slo';
export const RUN_CLASSNAME = 'loadgate.run';

export function renderJunit(r: RunResult, verdict: Verdict): string {
  const seconds = secs(r.durationMs);
  const run = runCase(r, verdict, seconds);
  const regressions = verdict.comparison ? compareCases(verdict.comparison) : { xml: [], failures: 0 };
  const cases = [run.xml, ...regressions.xml, ...verdict.outcomes.map(sloCase)];
  const tests = cases.length;
  const failures = (run.failed ? 1 : 0) + regressions.failures + verdict.outcomes.filter((o) => !o.pass).length;
  const counts = `tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${seconds}"`;
  // JUnit's timestamp is a local date-time without a zone (the Ant/Jenkins schema): the UTC time, zone dropped.
  const stamp = new Date(Date.parse(r.startedAt));
  const timestamp = Number.isNaN(stamp.getTime()) ? '' : ` timestamp="${stamp.toISOString().slice(0, 19)}"`;
  const props: Array<[string, string]> = [
    ['tool', `${r.tool.name} ${r.tool.version}`],
    ['target', r.target.baseUrl],
    ['status', r.status],
    ['load-model', r.load.model],
    ['verdict', verdict.pass ? 'pass' : 'fail'],
    // What each endpoint sent: where its bodies came from, and the first one.
    ...(r.requestBodies ?? [])
      .filter((b) => b.kind !== 'none')
      .flatMap(
        (b): Array<[string, string]> => [
          [`request-bodies ${b.endpoint}`, describeBodiesOf(b)],
          ...(b.example === undefined ? [] : [[`example-body ${b.endpoint}`, b.example] as [string, string]]),
        ],
      ),
    // Streamed answers: the headline numbers, and the warning when most answers did not stream.
    ...(streamHeadline(r) !== null ? [['stream', streamHeadline(r)!] as [string, string]] : []),
    ...runWarnings(r).map((w): [string, string] => ['warning', w]),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="loadgate" ${counts}>`,
    `  <testsuite name="loadgate" ${counts}${timestamp}>`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`),
    '    </properties>',
    ...cases,
    `    <system-out>${xml([summary(r), ...streamLines(r)].join('\n'))}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function runCase(r: RunResult, v: Verdict, seconds: string): { xml: string; failed: boolean } {
  const reasons: string[] = [];
  if (v.abortedBy !== undefined) reasons.push(`stopped early: the SLO "${v.abortedBy}" failed during the run (abort-on-fail)`);
  else if (r.status === 'aborted') reasons.push(`the run was aborted${r.reason ? `: ${r.reason}` : ''}`);
  reasons.push(...v.problems);
  const open = `    <testcase name="run" classname="${RUN_CLASSNAME}" time="${seconds}"`;
  if (reasons.length === 0) return { xml: `${open}/>`, failed: false };
  const message = reasons.length === 1 ? reasons[0]! : `${reasons.length} problems: ${reasons[0]!}; ...`;
  return {
    xml:
      `${open}>\n` +
      `      <failure message="${attr(truncate(message, 1000))}" type="run">${xml(reasons.join('\n'))}</failure>\n` +
      '    </testcase>',
    failed: true,
  };
}

function sloCase(o: SloOutcome): string {
  // The SLO is judged over the run, not timed on its own: time 0, so summed test times stay the run's.
  const open = `    <testcase name="${attr(o.slo.text)}" classname="${SLO_CLASSNAME}" time="0"`;
  if (o.pass) return `${open}/>`;
  const details = [
    o.sentence,
    `observed: ${o.labels.observed}`,
    `objective: ${o.labels.metric} ${o.labels.objective}`,
    `scope: ${o.labels.scope}`,
    ...(o.slo.source ? [`declared at ${o.slo.source.file}:${o.slo.source.line}`] : []),
  ];
  return (
    `${open}>\n` +
    `      <failure message="${attr(truncate(o.sentence, 1000))}" type="slo">${xml(details.join('\n'))}</failure>\n` +
    '    </testcase>'
  );
}

function summary(r: RunResult): string {
  const s = statsFor(r);
  const h = s.latency;
  return (
    `${s.requests} requests, ${s.failures} failed (${fmtPct(s.requests ? s.failures / s.requests : 0)}), ` +
    `p50 ${fmtMs(percentileMs(h, 50))}, p95 ${fmtMs(percentileMs(h, 95))}, p99 ${fmtMs(percentileMs(h, 99))}, ` +
    `over ${secs(r.durationMs)} s against ${r.target.baseUrl}`
  );
}

/** A stream run's numbers and warnings, after the summary line; none for other runs. */
function streamLines(r: RunResult): string[] {
  const head = streamHeadline(r);
  if (head === null) return [];
  return [`streamed answers: ${head}`, ...streamNotes(r), ...streamWarnings(r).map((w) => `warning: ${w}`)];
}

function secs(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** Text content. */
function xml(s: string): string {
  return escapeXml(s.toWellFormed());
}

/** An attribute value: line breaks and tabs folded to spaces, as an XML parser would normalize them. */
function attr(s: string): string {
  return xml(s.replace(/\r\n|[\r\n\t]/g, ' '));
}
