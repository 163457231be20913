#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { a as againstText, s as sideRows, f as formatValue, b as formatDelta, l as limitText, L as LoadStop, c as shardPlan, e as executeRun, d as statsFor, g as settingsOn, n as nameOn, h as setting, E as EXIT, m as mergeCommand, i as missingWithoutFile, r as readConfigFile, j as emptyConfig, k as applyOverrides, o as buildPlan, p as formatProgress, q as formatSummary, t as inert, u as formatChecklist, v as runStatus, S as STATUS_EXIT, R as ReportError, w as describeSetting, x as givenOn, y as settingOverrides, V as VERSION } from './console-text.js';
import { C as ConfigError, S as ServiceError, c as closest } from './service.js';
import 'node:fs';
import 'node:path';
import 'node:net';
import 'node:fs/promises';
import 'node:crypto';
import 'node:perf_hooks';
import 'node:os';
import 'process';
import 'buffer';
import 'node:child_process';
import 'node:url';
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
import 'node:console';
import 'node:timers';
import 'node:dns';

// The comparison on the console: the answer, then one line per metric with both sides and the change.
function formatComparison(c) {
    const lines = [`Comparison: ${c.outcome} (${c.headline})`, `  against ${againstText(c)}; ${c.used.candidate} round(s) per side used`];
    for (const w of c.warnings)
        lines.push(`  warning: ${w}`);
    const image = sideRows(c, { shortDigest: true }).find((r) => r.label === 'Service image');
    if (image)
        lines.push(`  images: baseline ${image.baseline ?? 'not recorded'}; candidate ${image.candidate ?? 'not recorded'}`);
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

// One worker of `workers: N` (src/run/workers.ts tells the whole story): `loadgate worker`, started by
// the parent with an IPC channel. It runs its shard of the parent's plan against the service the parent
// started (at its URL), waits at the start line until the parent says go, writes its result to the
// folder it was given and says done. It stops as a run stops (what was measured is written) when the
// parent says stop, on SIGINT, SIGTERM or SIGHUP, or when the channel closes (the parent is gone).
const STOP_SIGNALS$1 = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** The command: resolves with the exit code (0 once the result is written; the parent reads the result, not the code). */
async function workerCommand(err) {
    const send = process.send?.bind(process);
    if (!send) {
        err('`loadgate worker` is started by a run with workers: N (it talks to it over an IPC channel), not by hand');
        return 2;
    }
    const say = (m) => {
        if (process.connected)
            send(m);
    };
    const stop = new AbortController();
    let go;
    const start = new Promise((resolve) => {
        process.on('message', (m) => {
            if (m.type === 'start')
                resolve(m);
            else if (m.type === 'go')
                go?.(m.at);
            else if (m.type === 'stop' && !stop.signal.aborted)
                stop.abort(m.status === 'aborted' ? new LoadStop('aborted', m.reason) : new Error(m.reason));
        });
    });
    // The parent gone (killed): nobody will read the result, but the load must not go on.
    process.on('disconnect', () => {
        if (!stop.signal.aborted)
            stop.abort(new Error('the parent process is gone'));
        // Whatever is still pending (a slow report), this process ends soon after.
        setTimeout(() => process.exit(130), 5000).unref();
    });
    // A terminal's Ctrl-C reaches the whole process group: the parent says stop too, both are fine.
    const onSignal = (sig) => {
        if (!stop.signal.aborted)
            stop.abort(new Error(`interrupted by ${sig}`));
    };
    for (const sig of STOP_SIGNALS$1)
        process.on(sig, onSignal);
    const m = await start;
    const { workers: _workers, ...whole } = m.plan;
    const part = shardPlan(whole, m.index, m.count);
    // The parent started the service and watches it (CPU, memory, monitors, its exit): here it is a URL.
    const plan = { ...part, service: { kind: 'url', baseUrl: m.baseUrl }, monitors: [], outputDir: m.outDir };
    const out = await executeRun(plan, {
        signal: stop.signal,
        log: (line) => say({ type: 'log', line }),
        onProgress: (progress) => say({ type: 'progress', progress }),
        beforeLoad: () => new Promise((resolve) => {
            if (stop.signal.aborted)
                return resolve();
            // With start-at, every worker waits for that instant itself (src/run.ts does): no go to wait for.
            if (plan.startAt !== undefined) {
                say({ type: 'ready' });
                return resolve();
            }
            go = (at) => setTimeout(resolve, Math.max(0, at - Date.now()));
            stop.signal.addEventListener('abort', () => resolve(), { once: true });
            say({ type: 'ready' });
        }),
    });
    const s = statsFor(out.result);
    const done = {
        type: 'done',
        status: out.result.status,
        requests: s.requests,
        failures: s.failures,
        durationMs: out.result.durationMs,
    };
    // Delivered before the exit (a message still queued would be lost with the process).
    if (process.connected)
        await new Promise((resolve) => send(done, () => resolve()));
    for (const sig of STOP_SIGNALS$1)
        process.off(sig, onSignal);
    return 0;
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
    // Internal: one of the processes of `workers: N` (src/run/worker-child.ts), started by the run itself.
    if (argv[0] === 'worker')
        return workerCommand(err);
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
        const { result, verdict, reports, status: known, } = await executeRun(plan, {
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
        const status = stop.signal.aborted ? 'interrupted' : (known ?? runStatus(result, verdict, false));
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
