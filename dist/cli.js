#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { a as againstText, f as formatValue, b as formatDelta, l as limitText, s as shardLabel, m as mergeHistograms, c as mergeStats, n as newHistogram, d as addEncodedCounts, e as setMaxUs, g as encodeCounts, p as percentileMs, h as formatSummary, i as formatChecklist, j as evaluate, w as writeReports, R as REPORT_FILES, k as parseRunResult, o as settingsOn, q as nameOn, r as setting, E as EXIT, t as missingWithoutFile, u as readConfigFile, v as emptyConfig, x as applyOverrides, y as buildPlan, z as executeRun, A as formatProgress, B as inert, C as runStatus, S as STATUS_EXIT, D as ReportError, F as describeSetting, G as givenOn, H as settingOverrides, V as VERSION } from './console-text.js';
import { C as ConfigError, S as ServiceError, c as closest } from './service.js';
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import 'node:net';
import 'node:fs/promises';
import 'node:crypto';
import 'node:perf_hooks';
import 'node:os';
import 'process';
import 'buffer';
import 'node:child_process';
import 'node:assert';
import 'node:http';
import 'node:stream';
import 'node:querystring';
import 'node:events';
import 'node:diagnostics_channel';
import 'node:zlib';
import 'node:util/types';
import 'node:worker_threads';
import 'node:sqlite';
import 'node:buffer';
import 'node:tls';
import 'node:stream/web';
import 'node:async_hooks';
import 'node:url';
import 'node:console';
import 'node:timers';
import 'node:dns';

// The comparison on the console: the answer, then one line per metric with both sides and the change.
function formatComparison(c) {
    const lines = [`Comparison: ${c.outcome} (${c.headline})`, `  against ${againstText(c)}; ${c.used.candidate} round(s) per side used`];
    for (const w of c.warnings)
        lines.push(`  warning: ${w}`);
    const width = Math.max(...c.metrics.map((m) => m.key.length));
    for (const m of c.metrics) {
        lines.push(`  ${m.gates ? '*' : ' '} ${m.key.padEnd(width)}  ${formatValue(m, m.baseline).padStart(12)} -> ${formatValue(m, m.candidate).padStart(12)}  ` +
            `${formatDelta(m)}  [min ${limitText(m)}] ${m.verdict}`);
    }
    if (c.calibration) {
        lines.push('  A/A noise floor (the largest shift the interval cannot rule out) and a suggested min-effect:');
        for (const k of c.calibration) {
            const pct = (v) => v === null ? 'n/a' : k.key === 'error-rate' ? `${(v * 100).toFixed(2)}pp` : `${(v * 100).toFixed(1)}%`;
            lines.push(`    ${k.key.padEnd(width)}  ±${pct(k.noiseFloor)}  suggested ${pct(k.suggested)}`);
        }
    }
    return lines.join('\n');
}

// Shards' results merged into the result one run with the combined load would have produced. HDR
// histograms add exactly (same buckets, counts summed, exact min and max kept), so every statistic
// drawn from the cells is exact: counts are sums, percentiles come from the merged histograms.
//
//   cells[segment][endpoint]   mergeStats of the shards' cells (requests, failures, errors, bytes, latency sum, histogram)
//   failures                   rows with the same endpoint, kind and message add up (first seen: the earliest,
//                              last seen: the latest); past 200 rows (the recorder's cap) the rest are counted
//                              as not itemized, the earliest seen kept
//   unsent, delayedByCap, ...  sums; sendLag and serviceTime histograms merged
//   stages                     users, spawn rate and rate summed (the shards' shares add up to the plan's)
//   timeline                   by second since the earliest shard's start (each shard's seconds shifted by
//                              its own start after that one, rounded to whole seconds: 0 for shards that
//                              started together): requests, failures, users, target rate, in flight, CPU
//                              and memory summed; max and max send lag the largest; cumulative totals
//                              recomputed. p50, p95, p99 from the sum of the shards' per-second histograms
//                              (TimelinePoint.histogram), and totalP50 from the running sum of those: exact.
//                              totalMean is the shards' running means weighted by their latency counts
//                              (within 1 µs: each is rounded to it). A result without per-second histograms
//                              (written before they existed) still merges: its seconds' percentiles are then
//                              the request-weighted mean of the shards' (between their lowest and highest),
//                              and plan.estimated names the fields that are estimates
//   status                     the worst (invalid, aborted, interrupted, completed); each shard's start
//                              offset, duration, status and target are kept in plan.shards
//   generatorCpu               the busiest generator's (it says whether a generator was the bottleneck);
//                              each shard's generator and environment records are kept in shardMachines
//   resources, monitors        the first shard's that has them (each shard watched what it could see)
//   requestBodies              per endpoint: the shards' distinct bodies added up (their parts partition the
//                              plan's), the mean size weighted by them, the first shard's example
//
// Results of different plans (fingerprints), of different splits, or the same shard twice are refused.
class MergeError extends Error {
    name = 'MergeError';
}
/** As the recorder keeps them (src/metrics/recorder.ts). */
const MAX_FAILURE_ROWS = 200;
/** The timeline fields a merge of several results estimates when a result has no per-second histograms. */
const ESTIMATED_TIMELINE_FIELDS = ['p50', 'p95', 'p99', 'totalP50', 'totalMean'];
/** The timeline fields a merge of several results estimates when every result has them: the running mean, within 1 µs. */
const ROUNDED_TIMELINE_FIELDS = ['totalMean'];
// A shard whose generator was the limit did not measure its part of the service: the whole did not either.
const WORSE = { completed: 0, interrupted: 1, aborted: 2, invalid: 3, 'not-started': 4 };
/** Merges shards' results; `from` names each (its folder), for messages and the record. */
function mergeResults(results, from = results.map((_, k) => `result ${k + 1}`)) {
    if (results.length === 0)
        throw new MergeError('nothing to merge');
    const shards = checkMergeable(results, from);
    const order = shards.map((_, k) => k).sort((a, b) => shards[a].index - shards[b].index);
    const rs = order.map((k) => results[k]);
    const parts = order.map((k) => shards[k]);
    const names = order.map((k) => from[k]);
    const first = rs[0];
    // A shard that never reached the load measured nothing: it is named (plan.shards), not added.
    const measured = rs.filter((r) => r.status !== 'not-started');
    const base = measured[0] ?? first;
    const starts = rs.map((r) => Date.parse(r.startedAt));
    const t0 = Math.min(...(measured.length > 0 ? measured : rs).map((r) => Date.parse(r.startedAt)));
    const several = rs.length > 1;
    // Seconds since the earliest shard's start: a shard that started d s later fills second k + round(d).
    const shifts = starts.map((s, k) => (rs[k].status === 'not-started' ? 0 : Math.round((s - t0) / 1000)));
    const exact = rs.every((r) => hasSecondHistograms(r.timeline));
    const record = {
        fingerprint: first.plan.fingerprint,
        slos: first.plan.slos,
        shards: rs.map((r, k) => ({
            index: parts[k].index,
            count: parts[k].count,
            from: names[k],
            startedAt: r.startedAt,
            startOffsetMs: r.status === 'not-started' ? 0 : starts[k] - t0,
            durationMs: r.durationMs,
            status: r.status,
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
            target: r.target.baseUrl,
            plannedMs: r.stages[r.stages.length - 1]?.endMs ?? 0,
            ...(r.plan?.startAt !== undefined ? { startAt: r.plan.startAt } : {}),
            ...(shifts[k] !== 0 ? { shiftS: shifts[k] } : {}),
        })),
        ...(several ? { estimated: exact ? [...ROUNDED_TIMELINE_FIELDS] : [...ESTIMATED_TIMELINE_FIELDS] } : {}),
        ...(sameStartAt(rs) !== undefined ? { startAt: sameStartAt(rs) } : {}),
        ...(rs.every((r) => r.plan?.allowIncomplete) ? { allowIncomplete: true } : {}),
    };
    const machines = rs.map((r, k) => ({
        index: parts[k].index,
        count: parts[k].count,
        generatorCpu: r.generatorCpu,
        ...(r.generator ? { generator: r.generator } : {}),
        ...(r.environment ? { environment: r.environment } : {}),
    }));
    const worst = rs.reduce((w, r) => (WORSE[r.status] > WORSE[w.status] ? r : w), first);
    const reasons = rs.flatMap((r, k) => r.reason === undefined ? [] : [several ? `shard ${shardLabel(record.shards[k])}: ${r.reason}` : r.reason]);
    const abortedBy = rs.find((r) => r.abortedBy !== undefined)?.abortedBy;
    const service = rs.find((r) => r.service?.exit)?.service ?? first.service;
    const sendLags = rs.flatMap((r) => (r.sendLag ? [r.sendLag] : []));
    const serviceTimes = rs.flatMap((r) => (r.serviceTime ? [r.serviceTime] : []));
    const resources = rs.find((r) => r.resources)?.resources;
    const monitors = rs.find((r) => r.monitors)?.monitors;
    const failures = mergeFailures(rs);
    const bodies = rs.flatMap((r) => (r.requestBodies ? [r.requestBodies] : []));
    return {
        formatVersion: first.formatVersion,
        tool: first.tool,
        startedAt: new Date(t0).toISOString(),
        durationMs: Math.max(...rs.map((r) => r.durationMs)),
        status: worst.status,
        ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
        ...(abortedBy !== undefined ? { abortedBy } : {}),
        ...(service ? { service } : {}),
        target: first.target,
        load: first.load.model === 'open'
            ? { ...first.load, maxInFlight: sum(rs.map((r) => r.load.maxInFlight)) }
            : first.load,
        timeoutMs: first.timeoutMs,
        seed: first.seed,
        stages: first.stages.map((st, s) => mergeStage(st, rs.map((r) => r.stages[s]))),
        warmupMs: first.warmupMs,
        segments: base.segments,
        endpoints: base.endpoints,
        cells: base.cells.map((row, s) => row.map((_, e) => mergeStats(measured.map((r) => r.cells[s][e])))),
        failures: failures.rows,
        failuresNotItemized: sum(rs.map((r) => r.failuresNotItemized)) + failures.dropped,
        timeline: several
            ? mergeTimelines(rs.map((r) => r.timeline), shifts)
            : first.timeline,
        unsent: sum(rs.map((r) => r.unsent)),
        delayedByCap: sum(rs.map((r) => r.delayedByCap)),
        ...(sendLags.length > 0 ? { sendLag: several ? mergeHistograms(sendLags) : sendLags[0] } : {}),
        ...(serviceTimes.length > 0 ? { serviceTime: several ? mergeHistograms(serviceTimes) : serviceTimes[0] } : {}),
        generatorCpu: Math.max(...rs.map((r) => r.generatorCpu)),
        ...(resources ? { resources } : {}),
        ...(monitors ? { monitors } : {}),
        ...(bodies.length > 0 ? { requestBodies: several ? mergeBodies(bodies) : bodies[0] } : {}),
        plan: record,
        ...(several ? { shardMachines: machines } : shardMachinesOf(first)),
        ...(several && measured.some((r) => r.endedAt !== undefined) ? { endedAt: latestEnd(measured) } : {}),
        ...(several ? {} : sameAsOne(first)),
    };
}
/** One result merged is itself: its own generator, environment and end are kept as they were. */
function sameAsOne(r) {
    return {
        ...(r.generator ? { generator: r.generator } : {}),
        ...(r.environment ? { environment: r.environment } : {}),
        ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
    };
}
function shardMachinesOf(r) {
    return r.shardMachines ? { shardMachines: r.shardMachines } : {};
}
/** When the last shard's load ended (wall clock). */
function latestEnd(rs) {
    return new Date(Math.max(...rs.map((r) => Date.parse(r.endedAt ?? r.startedAt) || 0))).toISOString();
}
/** The start-at every shard was given, when they were all given the same one. */
function sameStartAt(rs) {
    const all = new Set(rs.map((r) => r.plan?.startAt));
    return all.size === 1 ? [...all][0] : undefined;
}
/** Every second that measured a latency carries its histogram (results written before they existed do not). */
function hasSecondHistograms(timeline) {
    return timeline.every((p) => p.max === null || p.histogram !== undefined);
}
/** Each result's shard (a whole run is shard 1 of 1), once the results are known to be parts of one plan. */
function checkMergeable(results, from) {
    const unmarked = results.flatMap((r, k) => (r.plan?.fingerprint ? [] : [from[k]]));
    if (unmarked.length > 0)
        throw new MergeError(`${unmarked.join(', ')}: no plan fingerprint in the result (written by an older loadgate): run it again`);
    const byPlan = new Map();
    for (const [k, r] of results.entries())
        byPlan.set(r.plan.fingerprint, [...(byPlan.get(r.plan.fingerprint) ?? []), from[k]]);
    if (byPlan.size > 1) {
        const groups = [...byPlan].map(([fp, names]) => `${names.join(', ')} (plan ${fp})`);
        throw new MergeError(`these are shards of different plans, not parts of one: ${groups.join(' and ')}`);
    }
    const shards = results.map((r) => r.plan.shard ?? { index: 0, count: 1 });
    const counts = new Set(shards.map((s) => s.count));
    if (counts.size > 1)
        throw new MergeError(`the shards split the plan differently: ${shards.map((s, k) => `${from[k]} is ${shardLabel(s)}`).join(', ')}`);
    const seen = new Map();
    shards.forEach((s, k) => {
        const other = seen.get(s.index);
        if (other !== undefined)
            throw new MergeError(`shard ${shardLabel(s)} is given twice: ${other} and ${from[k]} (merging it twice would count its load twice)`);
        seen.set(s.index, from[k]);
    });
    const shape = (r) => JSON.stringify([r.segments, r.endpoints, r.load.model, r.stages.map((s) => [s.name, s.startMs, s.endMs])]);
    // A shard that never reached the load has no segments to compare.
    const ran = results.flatMap((r, k) => (r.status === 'not-started' ? [] : [k]));
    const odd = ran.find((k) => shape(results[k]) !== shape(results[ran[0]]));
    if (odd !== undefined)
        throw new MergeError(`${from[odd]} has other stages, segments or endpoints than ${from[ran[0]]}, though its plan fingerprint is the same`);
    return shards;
}
function mergeStage(st, all) {
    const total = (k) => (st[k] === undefined ? {} : { [k]: round9(sum(all.map((s) => s[k] ?? 0))) });
    return { ...st, ...total('users'), ...total('spawnRate'), ...total('rate') };
}
function mergeBodies(lists) {
    return lists[0].map((first, e) => {
        const all = lists.map((l) => l[e] ?? { ...first, count: 0, meanBytes: 0 });
        const count = sum(all.map((b) => b.count));
        return { ...first, count, meanBytes: count > 0 ? sum(all.map((b) => b.meanBytes * b.count)) / count : 0 };
    });
}
function mergeFailures(rs) {
    const rows = new Map();
    for (const r of rs) {
        for (const f of r.failures) {
            const key = `${f.endpoint}\u0000${f.kind}\u0000${f.error}`;
            const row = rows.get(key);
            if (!row)
                rows.set(key, { ...f });
            else {
                row.count += f.count;
                row.firstSeenMs = Math.min(row.firstSeenMs, f.firstSeenMs);
                row.lastSeenMs = Math.max(row.lastSeenMs, f.lastSeenMs);
                if (row.sample === undefined && f.sample !== undefined)
                    row.sample = f.sample;
            }
        }
    }
    let all = [...rows.values()];
    let dropped = 0;
    if (all.length > MAX_FAILURE_ROWS) {
        all.sort((a, b) => a.firstSeenMs - b.firstSeenMs);
        dropped = sum(all.slice(MAX_FAILURE_ROWS).map((f) => f.count));
        all = all.slice(0, MAX_FAILURE_ROWS);
    }
    return { rows: all.sort((a, b) => b.count - a.count), dropped };
}
/**
 * The shards' timelines, second by second since the earliest shard's start: line j's points move by
 * `shifts[j]` whole seconds (a point at t covers the second ending at t; the last, partial one ends
 * before ceil(t)). When every second that measured a latency has its histogram, the percentiles are
 * those of the summed histograms: exactly what one recorder fed every request would have said.
 */
function mergeTimelines(lines, shifts = []) {
    const bySecond = new Map();
    lines.forEach((line, j) => {
        const shift = shifts[j] ?? 0;
        for (const p0 of line) {
            const p = shift === 0 ? p0 : { ...p0, t: round9(p0.t + shift) };
            const k = Math.ceil(p.t - 1e-9);
            const here = bySecond.get(k);
            if (here)
                here.push({ p, line: j });
            else
                bySecond.set(k, [{ p, line: j }]);
        }
    });
    const exact = lines.every(hasSecondHistograms);
    // The running sum of every second's histogram, as the recorder's cumulative one, and its exact max (µs).
    const cumulative = newHistogram();
    let cumulativeMaxUs = 0;
    // One histogram for the second at hand, cleared for the next: never one per second (~180 KB of counts each).
    const second = newHistogram();
    const out = [];
    let totalRequests = 0;
    let totalFailures = 0;
    // Each line's cumulative figures as of the last second it had: carried into seconds it has no point for.
    const lastOf = lines.map(() => undefined);
    const latencyCount = lines.map(() => 0);
    for (const k of [...bySecond.keys()].sort((a, b) => a - b)) {
        const here = bySecond.get(k);
        for (const { p, line } of here)
            lastOf[line] = p;
        const ps = here.map((h) => h.p);
        const requests = sum(ps.map((p) => p.requests));
        const failures = sum(ps.map((p) => p.failures));
        totalRequests += requests;
        totalFailures += failures;
        const whole = ps.some((p) => p.span === undefined);
        const w = ps.map((p) => p.requests);
        const max = largest(ps.map((p) => p.max));
        let percentiles;
        if (exact) {
            second.reset();
            for (const { p, line } of here) {
                if (p.histogram === undefined)
                    continue;
                const n = addEncodedCounts(second, p.histogram);
                addEncodedCounts(cumulative, p.histogram);
                latencyCount[line] += n;
            }
            if (max !== null) {
                const maxUs = Math.round(max * 1000);
                setMaxUs(second, maxUs);
                cumulativeMaxUs = Math.max(cumulativeMaxUs, maxUs);
                setMaxUs(cumulative, cumulativeMaxUs);
            }
            percentiles = {
                p50: percentileMs(second, 50),
                p95: percentileMs(second, 95),
                p99: percentileMs(second, 99),
                ...(second.totalCount > 0 ? { histogram: encodeCounts(second) } : {}),
            };
        }
        else {
            percentiles = {
                p50: blend(ps.map((p) => p.p50), w),
                p95: blend(ps.map((p) => p.p95), w),
                p99: blend(ps.map((p) => p.p99), w),
            };
        }
        const cumulativeLines = lastOf.flatMap((p, j) => (p === undefined ? [] : [{ p, j }]));
        const point = {
            t: whole ? k : Math.max(...ps.map((p) => p.t)),
            ...(whole ? {} : { span: Math.max(...ps.map((p) => p.span ?? 1)) }),
            stage: ps[0].stage,
            ...summed(ps, 'users'),
            ...summed(ps, 'targetRate'),
            requests,
            failures,
            p50: percentiles.p50,
            p95: percentiles.p95,
            p99: percentiles.p99,
            max,
            ...(percentiles.histogram !== undefined ? { histogram: percentiles.histogram } : {}),
            inFlight: sum(ps.map((p) => p.inFlight)),
            ...(ps.some((p) => p.maxSendLag !== undefined) ? { maxSendLag: largest(ps.map((p) => p.maxSendLag ?? null)) } : {}),
            totalRequests,
            totalFailures,
            totalP50: exact
                ? percentileMs(cumulative, 50)
                : blend(cumulativeLines.map(({ p }) => p.totalP50), cumulativeLines.map(({ p }) => p.totalRequests)),
            // Weighted by what each mean is over (its latencies), when the histograms say; else by requests.
            totalMean: blend(cumulativeLines.map(({ p }) => p.totalMean), cumulativeLines.map(({ p, j }) => (exact ? latencyCount[j] : p.totalRequests))),
            ...summed(ps, 'cpuPercent'),
            ...summed(ps, 'memoryBytes'),
            ...(ps.some((p) => p.monitors) ? { monitors: ps.find((p) => p.monitors).monitors } : {}),
        };
        out.push(point);
    }
    return out;
}
function summed(ps, k) {
    const vs = ps.flatMap((p) => (p[k] === undefined ? [] : [p[k]]));
    return vs.length === 0 ? {} : { [k]: vs.length === 1 ? vs[0] : round9(sum(vs)) };
}
/** The weighted mean of the values present (one value: itself, exactly); null when none is. */
function blend(values, weights) {
    const present = values.flatMap((v, k) => (v === null ? [] : [{ v, w: weights[k] ?? 0 }]));
    if (present.length === 0)
        return null;
    if (present.length === 1)
        return present[0].v;
    const wsum = sum(present.map((p) => p.w));
    const mean = wsum > 0 ? sum(present.map((p) => p.v * p.w)) / wsum : sum(present.map((p) => p.v)) / present.length;
    return Math.round(mean * 1000) / 1000;
}
function largest(values) {
    const vs = values.filter((v) => v !== null);
    return vs.length === 0 ? null : Math.max(...vs);
}
function sum(xs) {
    return xs.reduce((a, b) => a + b, 0);
}
function round9(x) {
    return Math.round(x * 1e9) / 1e9;
}

// `loadgate merge DIR... --out DIR`: the shards' results (each DIR's result.json, written by
// `loadgate run --shard i/n`) merged into one result (src/metrics/merge.ts), judged, and every report
// written as one run with the combined load would have written them.
//
// The SLOs come from the results: every result records the SLOs its plan had (RunResult.plan), and the
// plan fingerprint, which covers them, is the same on every shard or the merge is refused. So the merged
// verdict is judged on exactly what the shards ran with, the merge job needs neither the config nor a
// checkout, and a config edited since cannot change the verdict.
//
// An incomplete run fails as not measured as planned (exit 3, src/run/outcome.ts) unless
// --allow-incomplete (or every shard's plan said allow-incomplete: true): a shard missing; a shard that
// started late (more than 1 s after its start-at, or after the earliest shard's start when there was no
// start-at: the shards did not load the service together); one that stopped early (its load ended before
// its planned length); one that failed or did not measure (interrupted, aborted, never started, or its
// generator was the limit). The reasons are the merged verdict's problems, in every report. With
// --allow-incomplete the merge judges what was measured and only says what was missing.
/** Reads each folder's result.json (or the file itself), merges, judges, writes every report to `outDir`. */
function mergeShards(inputs, outDir, opts = {}) {
    const results = inputs.map(readResult);
    const result = mergeResults(results, inputs);
    const incomplete = shardProblems(result);
    const allowed = opts.allowIncomplete === true || result.plan?.allowIncomplete === true;
    const slos = result.plan?.slos ?? [];
    // A failed shard is named below, once, as what makes the run incomplete: its status is not judged again.
    let verdict = evaluate(asIfComplete(result), slos);
    if (!allowed && incomplete.length > 0) {
        verdict = { ...verdict, pass: false, problems: [...incomplete.map((p) => `incomplete run: ${p}`), ...verdict.problems] };
    }
    const reports = writeReports(outDir, result, verdict);
    const status = !allowed && incomplete.length > 0 ? 'not-measured' : verdict.pass ? 'pass' : 'fail';
    return { result, verdict, reports, incomplete, incompleteAllowed: allowed, status };
}
function readResult(input) {
    const file = existsSync(input) && statSync(input).isDirectory() ? join(input, REPORT_FILES.json) : input;
    let text;
    try {
        text = readFileSync(file, 'utf8');
    }
    catch (e) {
        throw new MergeError(`cannot read ${file}: ${e.code ?? String(e)}`);
    }
    try {
        return parseRunResult(text);
    }
    catch (e) {
        throw new MergeError(`${file}: not a loadgate result (${e.message})`);
    }
}
/** A shard's load that started more than this after its start-at (or the earliest shard's start) is late. */
const LATE_MS = 1000;
/** A completed shard whose load ended more than this before its planned length stopped early. */
const EARLY_MS = 100;
/** What makes a merged run incomplete: shards missing, started late, stopped early, failed or not measured. */
function shardProblems(merged) {
    const shards = merged.plan?.shards ?? [];
    const count = shards[0]?.count ?? 1;
    const out = [];
    for (let i = 0; i < count; i++) {
        if (!shards.some((s) => s.index === i))
            out.push(`shard ${shardLabel({ index: i, count })} is missing`);
    }
    const ran = shards.filter((s) => s.status !== 'not-started');
    const startAts = new Set(ran.map((s) => s.startAt));
    const shared = startAts.size === 1 ? [...startAts][0] : undefined;
    if (startAts.size > 1)
        out.push(`the shards were given different start-at times: ${ran.map((s) => `${shardLabel(s)} ${s.startAt ?? 'none'}`).join(', ')}`);
    const earliest = Math.min(...ran.map((s) => Date.parse(s.startedAt)));
    for (const s of shards) {
        const name = `shard ${shardLabel(s)} (${s.from})`;
        const ranFor = `after ${secs(s.durationMs)} of ${secs(s.plannedMs ?? merged.durationMs)}`;
        if (s.status === 'not-started') {
            out.push(`${name} never started its load: ${s.reason ?? 'no reason given'}`);
            continue;
        }
        if (s.status === 'invalid')
            out.push(`${name} did not measure the service: ${s.reason ?? 'no reason given'}`);
        else if (s.status !== 'completed')
            out.push(`${name} ${s.status} ${ranFor}: ${s.reason ?? 'no reason given'}`);
        else if (s.plannedMs !== undefined && s.durationMs < s.plannedMs - EARLY_MS)
            out.push(`${name} stopped early: its load ended ${ranFor}`);
        const late = lateness(s, shared, earliest);
        if (late !== undefined)
            out.push(`${name} ${late}`);
    }
    return out;
}
/** "started 3.1 s after start-at ...", or undefined when it started in time. */
function lateness(s, sharedStartAt, earliestMs) {
    const started = Date.parse(s.startedAt);
    if (sharedStartAt !== undefined) {
        const lateMs = started - Date.parse(sharedStartAt);
        return lateMs > LATE_MS ? `started ${secs(lateMs)} after start-at ${sharedStartAt} (more than ${LATE_MS / 1000} s)` : undefined;
    }
    const lateMs = started - earliestMs;
    return lateMs > LATE_MS
        ? `started ${secs(lateMs)} after the first shard (more than ${LATE_MS / 1000} s; no start-at was given)`
        : undefined;
}
function secs(ms) {
    return `${(ms / 1000).toFixed(1)} s`;
}
/** The merged result judged on what was measured: a failed shard's status is not held against it (an SLO abort still is). */
function asIfComplete(r) {
    if (r.status === 'completed' || r.abortedBy !== undefined)
        return r;
    const { reason: _reason, ...rest } = r;
    return { ...rest, status: 'completed' };
}
const USAGE$1 = [
    'Usage: loadgate merge DIR... --out DIR [--allow-incomplete] [--no-fail]',
    '',
    'Merges the results of `loadgate run --shard i/n` (each DIR holds one result.json) into the result of',
    'the whole load, judges it on the SLOs the shards ran with, and writes every report to --out.',
    '',
    '  --out DIR             the folder for the merged reports',
    '  --allow-incomplete    judge what was measured when a shard is missing, started late, stopped early',
    '                        or failed (else the merged run fails as incomplete: exit 3)',
    '  --no-fail             report breaches but exit 0',
    '  -h, --help            this help',
    '',
].join('\n');
/**
 * The command: 'ok' (exit 0), 'breach' (the verdict failed), 'usage' (bad arguments, or results that cannot
 * merge), 'notMeasured' (an incomplete run, not allowed: exit 3). Keys of EXIT (src/run/outcome.ts).
 */
function mergeCommand(argv, out, err) {
    let values;
    let dirs;
    try {
        ({ values, positionals: dirs } = parseArgs({
            args: argv,
            options: {
                out: { type: 'string' },
                'allow-incomplete': { type: 'boolean' },
                'no-fail': { type: 'boolean' },
                help: { type: 'boolean', short: 'h' },
            },
            allowPositionals: true,
            strict: true,
        }));
    }
    catch (e) {
        err(`${e.message}\n${USAGE$1}`);
        return 'usage';
    }
    if (values.help) {
        out(USAGE$1);
        return 'ok';
    }
    if (dirs.length === 0 || values.out === undefined) {
        err(`merge: give the shards' folders and --out DIR\n${USAGE$1}`);
        return 'usage';
    }
    let merged;
    try {
        merged = mergeShards(dirs, values.out, { allowIncomplete: values['allow-incomplete'] === true });
    }
    catch (e) {
        if (e instanceof MergeError) {
            err(e.message);
            return 'usage';
        }
        throw e;
    }
    const { result, verdict, reports, incomplete, incompleteAllowed, status } = merged;
    for (const s of result.plan?.shards ?? []) {
        out(`shard ${shardLabel(s)} from ${s.from}: ${s.status}, ${(s.durationMs / 1000).toFixed(1)} s, started +${(s.startOffsetMs / 1000).toFixed(1)} s, ${s.target}`);
    }
    if (new Set((result.plan?.shards ?? []).map((s) => s.target)).size > 1)
        out('Note: the shards loaded different targets.');
    if (incomplete.length > 0)
        out(`${incompleteAllowed ? 'Allowed, incomplete' : 'Incomplete'}: ${incomplete.join('; ')}`);
    out('');
    out(formatSummary(result));
    out('');
    out(formatChecklist(result, verdict));
    out(`\nReports: ${reports.dir} (${reports.files.map((f) => f.slice(reports.dir.length + 1)).join(', ')})`);
    if (status === 'not-measured') {
        // As a run that did not measure the service as planned: the last word, exit 3 (--no-fail does not cover it).
        err(`incomplete run, not measured as planned: ${incomplete.join('; ')} (--allow-incomplete judges what was measured)`);
        return 'notMeasured';
    }
    if (verdict.pass)
        return 'ok';
    if (values['no-fail']) {
        out('--no-fail: exiting 0 despite the verdict.');
        return 'ok';
    }
    return 'breach';
}

// loadgate's command line: `loadgate run --config loadgate.yml [flags]`. Wiring only: parse the flags the
// settings table declares (src/plan/settings.ts; the usage is written from it too) into config overrides,
// build the plan, run it, print. Exit codes (src/run/outcome.ts): 0 pass, 1 the verdict failed, 2 bad input
// (nothing started), 3 the service was not measured as planned, 4 internal error, 130 interrupted. Every
// report is written before the exit; everything printed is made inert (src/console-text.ts).
/** The signals that stop a run as Ctrl-C does: a closed terminal or a dropped ssh session sends SIGHUP. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/**
 * stdout and stderr that may be closed under us (`loadgate run | head -1`): EPIPE is not an error of
 * the run, which goes on and writes its reports; what cannot be printed any more is dropped.
 */
const closed = new Set();
function guard(stream) {
    if (stream.listenerCount('error') > 0)
        return;
    stream.on('error', (e) => {
        if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED')
            closed.add(stream);
        else
            throw e;
    });
}
function print(stream, text, inertAlready = false) {
    if (closed.has(stream) || stream.destroyed)
        return;
    guard(stream);
    stream.write(inertAlready ? text : inert(text));
}
/** The flags that are not settings of the run (those are in src/plan/settings.ts): what the command does around it. */
const COMMAND_FLAGS = {
    config: { type: 'string', short: 'c', arg: 'FILE', about: 'the YAML config (see the README); the flags below override what it says' },
    'no-fail': { type: 'boolean', about: 'report breaches but exit 0' },
    help: { type: 'boolean', short: 'h', about: 'this help' },
    version: { type: 'boolean', short: 'V', about: 'print the version (-v too)' },
};
/** Not in the usage: `-v` prints the version too (as `-V` and `--version`), the way most tools answer it. */
const HIDDEN_FLAGS = { 'version-v': { type: 'boolean', short: 'v' } };
const OPTIONS = Object.fromEntries([
    ...settingsOn('flag').map((n) => [nameOn('flag', n), { type: 'string', multiple: setting(n).read === 'list' }]),
    ...Object.entries(COMMAND_FLAGS).map(([f, c]) => [f, { type: c.type, ...('short' in c ? { short: c.short } : {}) }]),
    ...Object.entries(HIDDEN_FLAGS),
]);
/** Node's "Unknown option '--userz'. To specify a positional argument..." as one line, with the nearest flag. */
function unknownFlag(e) {
    const m = /^Unknown option '(-{1,2})([^']+)'/.exec(e.message);
    if (!m)
        return e.message;
    const known = usageFlags().map((f) => f.flag);
    const near = m[1] === '--' ? closest(m[2], known) : undefined;
    return `unknown flag ${m[1]}${m[2]}${near ? ` (did you mean --${near}?)` : ''}`;
}
/**
 * On a terminal that takes colour (Node's hasColors: honours NO_COLOR, FORCE_COLOR and TERM=dumb), the
 * checklist's marks and the verdict in colour; anywhere else (a pipe, a CI log file) the same plain text.
 */
function paint(text, colour) {
    if (!colour)
        return text;
    const green = (s) => `\x1b[32m${s}\x1b[39m`;
    const red = (s) => `\x1b[31m${s}\x1b[39m`;
    const bold = (s) => `\x1b[1m${s}\x1b[22m`;
    return text
        .replace(/^( {2})\[pass\]/gm, (_, i) => `${i}${green('[pass]')}`)
        .replace(/^( {2})\[FAIL\]/gm, (_, i) => `${i}${red('[FAIL]')}`)
        .replace(/^PASS:/m, bold(green('PASS:')))
        .replace(/^FAIL:/m, bold(red('FAIL:')));
}
/** The flags the usage (and the README) lists, in its order: the config, the settings in table order, then the rest. */
function usageFlags() {
    const command = (f) => {
        const c = COMMAND_FLAGS[f];
        return { flag: f, ...(c.short ? { short: c.short } : {}), ...(c.arg ? { arg: c.arg } : {}), about: c.about };
    };
    return [
        command('config'),
        ...settingsOn('flag').map((n) => ({
            flag: nameOn('flag', n),
            arg: setting(n).arg,
            about: describeSetting(n, 'flag'),
            setting: n,
        })),
        command('no-fail'),
        command('help'),
        command('version'),
    ];
}
const USAGE_WIDTH = 100;
function usage() {
    const lines = usageFlags().map((f) => {
        const left = `${f.short ? `-${f.short}, ` : '    '}--${f.flag}${f.arg ? ` ${f.arg}` : ''}`;
        return wrap(`  ${left.padEnd(27)} `, f.about, USAGE_WIDTH);
    });
    return [
        'Usage: loadgate run [--config FILE] [flags]',
        '       loadgate merge DIR... --out DIR [--allow-incomplete] [--no-fail]',
        '',
        'Load-tests a model service with a staged load, checks the SLOs, and writes the reports to the output',
        'folder. `merge` joins the results of shards (run --shard i/n) into the result of the whole load,',
        'judged and reported as one run (loadgate merge --help).',
        '',
        'Flags (each overrides the config file):',
        ...lines,
        '',
    ].join('\n');
}
/** `text` after `lead`, wrapped at spaces to `width`, continued under its first word. */
function wrap(lead, text, width) {
    const out = [];
    let line = lead;
    for (const word of text.split(' ')) {
        if (line.length > lead.length && line.length + 1 + word.length > width) {
            out.push(line);
            line = ' '.repeat(lead.length) + word;
        }
        else {
            line += (line.length > lead.length ? ' ' : '') + word;
        }
    }
    return [...out, line].join('\n');
}
const USAGE = usage();
class UsageError extends Error {
    name = 'UsageError';
}
const CLI = { side: 'flag', error: UsageError };
function givenFlags(flags) {
    return givenOn('flag', (f) => {
        const v = flags[f];
        return typeof v === 'string' || Array.isArray(v) ? v : undefined;
    });
}
/** Flags become overrides on the raw config, each naming its flag (the rules: src/plan/overrides.ts). */
function flagOverrides(flags, raw) {
    return settingOverrides(givenFlags(flags), raw, CLI);
}
async function main(argv) {
    const out = (s) => print(process.stdout, `${s}\n`);
    // Text made inert before loadgate's own colours went on (the checklist on a terminal).
    const outPainted = (s) => print(process.stdout, `${s}\n`, true);
    const err = (s) => print(process.stderr, `loadgate: ${s}\n`);
    if (argv[0] === 'merge')
        return EXIT[mergeCommand(argv.slice(1), out, err)];
    let flags;
    let positionals;
    try {
        ({ values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    }
    catch (e) {
        err(`${unknownFlag(e)}\n${USAGE}`);
        return EXIT.usage;
    }
    if (flags.help)
        return (out(USAGE), EXIT.ok);
    if (flags.version || flags['version-v'])
        return (out(VERSION), EXIT.ok);
    const [command = 'run', ...extra] = positionals;
    if (command !== 'run' || extra.length > 0) {
        err(`unknown command "${[command, ...extra].join(' ')}" (expected: run or merge)\n${USAGE}`);
        return EXIT.usage;
    }
    if (flags.config === undefined) {
        // Without a file, say which flags are missing (not "config service: missing", about a file there is none of).
        const missing = missingWithoutFile(givenFlags(flags), 'flag');
        if (missing) {
            err(`${missing}\n${USAGE}`);
            return EXIT.usage;
        }
    }
    const stop = new AbortController();
    const onSignal = (sig) => {
        if (stop.signal.aborted) {
            // The service's process group is killed on the way out (src/service/service.ts); a container is not
            // waited for, but its removal was already asked for by the first signal.
            err(`${sig} again: exiting now`);
            process.exit(EXIT.interrupted);
        }
        err(`${sig}: stopping the load, writing what was measured, stopping the service`);
        stop.abort(new Error(`interrupted by ${sig}`));
    };
    for (const sig of STOP_SIGNALS)
        process.on(sig, onSignal);
    try {
        let cfg = typeof flags.config === 'string' ? readConfigFile(flags.config) : emptyConfig();
        cfg = applyOverrides(cfg, flagOverrides(flags, cfg.raw));
        const plan = buildPlan(cfg);
        const stages = plan.load.stages.length;
        const { result, verdict, reports } = await executeRun(plan, {
            log: out,
            signal: stop.signal,
            onProgress: (p) => out(formatProgress(p, stages)),
        });
        // Nothing was measured when the load never started: no table of zeros, only why (below) and the SLOs.
        if (result.status !== 'not-started')
            out(`\n${formatSummary(result)}`);
        out('');
        outPainted(paint(inert(formatChecklist(result, verdict)), process.stdout.isTTY === true && process.stdout.hasColors()));
        if (verdict.comparison) {
            out('');
            out(formatComparison(verdict.comparison));
            if (verdict.comparison.outcome === 'inconclusive' && !verdict.comparison.fails && verdict.comparison.against !== 'calibration') {
                err('warning: the comparison is inconclusive (neither a regression nor the same was shown): more rounds, or fail-on-inconclusive, decide it');
            }
        }
        out(`\nReports: ${reports.dir} (${reports.files.map((f) => f.slice(reports.dir.length + 1)).join(', ')})`);
        const status = runStatus(result, verdict, stop.signal.aborted);
        // Why the service was not measured as planned, as the last word (exit 3).
        if (status === 'not-measured')
            err(result.reason ?? result.service?.exit?.summary ?? 'the service was not measured as planned (see the report)');
        if (status === 'fail' && flags['no-fail']) {
            out('--no-fail: exiting 0 despite the verdict.');
            return EXIT.ok;
        }
        return STATUS_EXIT[status];
    }
    catch (e) {
        if (e instanceof ConfigError || e instanceof UsageError) {
            err(e.message);
            return stop.signal.aborted ? EXIT.interrupted : EXIT.usage;
        }
        if (e instanceof ReportError) {
            // Before the run (the folder cannot be made): bad input; after it, the run's reports are lost.
            err(e.message);
            return stop.signal.aborted ? EXIT.interrupted : e.afterRun ? EXIT.notMeasured : EXIT.usage;
        }
        if (e instanceof ServiceError) {
            err(e.message);
            return stop.signal.aborted ? EXIT.interrupted : EXIT.notMeasured;
        }
        throw e;
    }
    finally {
        for (const sig of STOP_SIGNALS)
            process.off(sig, onSignal);
    }
}
/** A bug: one line asking to report it; the stack only with LOADGATE_DEBUG=1. */
function internalErrorMessage(e) {
    const detail = process.env.LOADGATE_DEBUG === '1' ? (e?.stack ?? String(e)) : (e?.message ?? String(e));
    return (`internal error: ${detail}\n` +
        'This is a bug in loadgate: please report it with the command and config that caused it' +
        (process.env.LOADGATE_DEBUG === '1' ? '.' : ' (LOADGATE_DEBUG=1 prints the stack trace).'));
}
// Run when executed directly (node src/cli.ts, the bundle, or the installed bin/loadgate.js shim that imports
// it), not when imported by tests.
const entry = process.argv[1] ?? '';
if (import.meta.url === `file://${entry}` || /(?:^|[\\/])(?:cli\.(?:ts|js)|loadgate(?:\.js)?)$/.test(entry)) {
    main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
        print(process.stderr, `loadgate: ${internalErrorMessage(e)}\n`);
        process.exit(EXIT.internal);
    });
}

export { COMMAND_FLAGS, EXIT, USAGE, UsageError, flagOverrides, internalErrorMessage, main, paint, usageFlags };
