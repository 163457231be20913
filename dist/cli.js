#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { r as readConfigFile, e as emptyConfig, a as applyOverrides, b as buildPlan, c as executeRun, f as formatProgress, d as formatSummary, g as formatChecklist, C as ConfigError, s as serviceOverrides, h as readyOverrides, i as requestReshape, l as loadReshape, V as VERSION } from './run.js';
import { S as ServiceError } from './service.js';
import 'node:fs';
import 'node:path';
import 'node:net';
import 'node:fs/promises';
import 'process';
import 'buffer';
import 'node:crypto';
import 'node:child_process';
import 'node:assert';
import 'node:http';
import 'node:stream';
import 'node:querystring';
import 'node:events';
import 'node:diagnostics_channel';
import 'node:zlib';
import 'node:perf_hooks';
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
import 'node:os';

// loadgate's command line: `loadgate run --config loadgate.yml [flags]`. Wiring only: parse flags into
// config overrides, build the plan, run it, print. Exit codes: 0 the SLOs are met, 1 an SLO is breached or
// the run failed (the service died, an abort-on-fail SLO stopped it), 2 bad configuration or the service
// could not start, 130 interrupted. Every report is written before the exit.
const EXIT = { ok: 0, breach: 1, usage: 2, interrupted: 130 };
const USAGE = `Usage: loadgate run [--config FILE] [flags]

Load-tests a model service with a staged load, checks the SLOs, and writes the reports to the output folder.

Flags (each overrides the config file):
  -c, --config FILE          YAML config (see README)
      --url URL              test a running service at URL (instead of the config's service)
      --command CMD          start this command as the service ({port} = a free port)
      --image IMAGE          run this container image as the service (with --port, the port inside it)
      --port N               the port the started command or container listens on
      --path PATH            request path          --method METHOD   request method
      --body JSON            fixed request body    --bodies FILE     JSONL or CSV file of bodies
      --schema FILE|auto     generate bodies from a JSON Schema / OpenAPI file, or from the preset's server
      --preset NAME          a model server: rest-model-service, open-inference, kserve-v1, mlflow,
                             torchserve, bentoml   --model NAME  the model it serves
      --generate N           how many bodies to generate before the load (default 1000)
      --users N              one stage of N users (needs --duration)
      --spawn-rate R         users started per second (with --users)
      --pacing P             requests per user, e.g. 1/s, or none
      --rate R               one stage at R requests/s, open model (needs --duration)
      --duration D           stage duration, e.g. 30s or 2m
      --max-in-flight N      connection cap for the open model
      --timeout D            per-request timeout (default 10s)
      --ready-path PATH      readiness path        --ready-timeout D  startup timeout
      --seed N               random seed           --out DIR         output folder
      --progress-interval D  progress line period (default 5s)
      --slo LINE             an SLO, e.g. "p99 < 100ms" (repeat for several; replaces the file's)
      --warm-up D            leave the first D out of the SLOs
      --no-fail              report breaches but exit 0
  -h, --help                 this help             --version         print the version
`;
const OPTIONS = {
    config: { type: 'string', short: 'c' },
    url: { type: 'string' },
    command: { type: 'string' },
    image: { type: 'string' },
    port: { type: 'string' },
    path: { type: 'string' },
    method: { type: 'string' },
    body: { type: 'string' },
    bodies: { type: 'string' },
    schema: { type: 'string' },
    preset: { type: 'string' },
    model: { type: 'string' },
    generate: { type: 'string' },
    users: { type: 'string' },
    'spawn-rate': { type: 'string' },
    pacing: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    'max-in-flight': { type: 'string' },
    timeout: { type: 'string' },
    'ready-path': { type: 'string' },
    'ready-timeout': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'progress-interval': { type: 'string' },
    slo: { type: 'string', multiple: true },
    'warm-up': { type: 'string' },
    'no-fail': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
};
class UsageError extends Error {
    name = 'UsageError';
}
/**
 * Flags become overrides on the raw config, each remembering its flag for error messages. Where a flag
 * replaces part of a section, the section is first reshaped without an origin (so an error in what
 * the file still says points at the file, not at a flag), then each flag's value is set under its name.
 */
function flagOverrides(flags, raw) {
    const o = [];
    const set = (flag, path, value) => o.push({ path, value, origin: `--${flag}` });
    const str = (k) => (typeof flags[k] === 'string' ? flags[k] : undefined);
    const json = (flag, text) => {
        try {
            return JSON.parse(text);
        }
        catch (err) {
            throw new UsageError(`--${flag}: not valid JSON (${err.message})`);
        }
    };
    const url = str('url');
    const command = str('command');
    const image = str('image');
    const kinds = [url !== undefined && '--url', command !== undefined && '--command', image !== undefined && '--image'].filter(Boolean);
    if (kinds.length > 1)
        throw new UsageError(`${kinds[0]} and ${kinds[1]} exclude each other: test a running service, or start one`);
    if (url !== undefined)
        o.push(...serviceOverrides(raw, 'url', url, '--url'));
    else if (command !== undefined)
        o.push(...serviceOverrides(raw, 'command', command, '--command'));
    else if (image !== undefined)
        o.push(...serviceOverrides(raw, 'image', image, '--image'));
    if (str('port') !== undefined)
        set('port', ['service', 'port'], str('port'));
    o.push(...readyOverrides(raw, {
        ...(str('ready-path') !== undefined ? { path: [str('ready-path'), '--ready-path'] } : {}),
        ...(str('ready-timeout') !== undefined ? { timeout: [str('ready-timeout'), '--ready-timeout'] } : {}),
    }));
    const reqFlags = ['path', 'method', 'body', 'bodies', 'schema', 'preset', 'model', 'generate'];
    if (reqFlags.some((k) => str(k) !== undefined)) {
        if (raw['requests'] !== undefined)
            throw new UsageError('--path/--method/--body/--bodies/--schema/--preset apply to a config with one request:, not requests:');
        const bodyFlags = ['body', 'bodies', 'schema'].filter((k) => str(k) !== undefined);
        if (bodyFlags.length > 1)
            throw new UsageError(`--${bodyFlags[0]} and --${bodyFlags[1]} exclude each other`);
        // A body flag replaces whatever the file said the body is.
        o.push(requestReshape(raw, bodyFlags.length > 0));
        if (str('path') !== undefined)
            set('path', ['request', 'path'], str('path'));
        if (str('method') !== undefined)
            set('method', ['request', 'method'], str('method'));
        if (str('body') !== undefined)
            set('body', ['request', 'body'], json('body', str('body')));
        if (str('bodies') !== undefined)
            set('bodies', ['request', 'bodies'], str('bodies'));
        if (str('schema') !== undefined)
            set('schema', ['request', 'schema'], str('schema'));
        if (str('preset') !== undefined)
            set('preset', ['request', 'preset'], str('preset'));
        if (str('model') !== undefined)
            set('model', ['request', 'model'], str('model'));
        if (str('generate') !== undefined)
            set('generate', ['request', 'generate'], str('generate'));
    }
    const users = str('users');
    const rate = str('rate');
    const duration = str('duration');
    const spawnRate = str('spawn-rate');
    if (users !== undefined && rate !== undefined)
        throw new UsageError('--users (closed model) and --rate (open model) exclude each other');
    if ((users !== undefined || rate !== undefined) && duration === undefined) {
        throw new UsageError(`--${users !== undefined ? 'users' : 'rate'} needs --duration (e.g. --duration 30s)`);
    }
    if (duration !== undefined && users === undefined && rate === undefined)
        throw new UsageError('--duration needs --users or --rate');
    if (spawnRate !== undefined && users === undefined)
        throw new UsageError('--spawn-rate needs --users');
    if (users !== undefined || rate !== undefined) {
        // One stage from the flags replaces the file's stages, and what only applies to the other model.
        o.push(loadReshape(raw, users !== undefined));
        if (users !== undefined) {
            set('users', ['load', 'stages'], [{ duration, users, ...(spawnRate !== undefined ? { 'spawn-rate': spawnRate } : {}) }]);
            if (spawnRate !== undefined)
                set('spawn-rate', ['load', 'stages', 0, 'spawn-rate'], spawnRate);
        }
        else {
            set('rate', ['load', 'stages'], [{ duration, rate }]);
        }
        set('duration', ['load', 'stages', 0, 'duration'], duration);
    }
    if (str('pacing') !== undefined)
        set('pacing', ['load', 'pacing'], str('pacing'));
    if (str('max-in-flight') !== undefined)
        set('max-in-flight', ['load', 'max-in-flight'], str('max-in-flight'));
    if (str('timeout') !== undefined)
        set('timeout', ['timeout'], str('timeout'));
    if (str('seed') !== undefined)
        set('seed', ['seed'], str('seed'));
    if (str('out') !== undefined)
        set('out', ['output'], str('out'));
    if (str('progress-interval') !== undefined)
        set('progress-interval', ['progress-interval'], str('progress-interval'));
    if (str('warm-up') !== undefined)
        set('warm-up', ['warm-up'], str('warm-up'));
    if (Array.isArray(flags.slo))
        set('slo', ['slos'], flags.slo);
    return o;
}
async function main(argv) {
    const out = (s) => process.stdout.write(s + '\n');
    const err = (s) => process.stderr.write(`loadgate: ${s}\n`);
    let flags;
    let positionals;
    try {
        ({ values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    }
    catch (e) {
        err(`${e.message}\n${USAGE}`);
        return EXIT.usage;
    }
    if (flags.help)
        return out(USAGE), EXIT.ok;
    if (flags.version)
        return out(VERSION), EXIT.ok;
    const [command = 'run', ...extra] = positionals;
    if (command !== 'run' || extra.length > 0) {
        err(`unknown command "${[command, ...extra].join(' ')}" (expected: run)\n${USAGE}`);
        return EXIT.usage;
    }
    if (flags.config === undefined) {
        // Without a file, say which flags are missing (not "config service: missing", about a file there is none of).
        const missing = [
            ...(flags.url === undefined && flags.command === undefined && flags.image === undefined ? ['--url, --command or --image'] : []),
            ...(flags.path === undefined && flags.preset === undefined ? ['--path (or --preset with --model)'] : []),
            ...(flags.users === undefined && flags.rate === undefined ? ['--users or --rate, with --duration'] : []),
        ];
        if (missing.length > 0) {
            err(`without --config, give ${missing.join('; ')}\n${USAGE}`);
            return EXIT.usage;
        }
    }
    const stop = new AbortController();
    const onSignal = (sig) => {
        if (stop.signal.aborted) {
            err(`${sig} again: exiting now`);
            process.exit(EXIT.interrupted);
        }
        err(`${sig}: stopping the load, writing what was measured, stopping the service`);
        stop.abort(new Error(`interrupted by ${sig}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
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
        out('');
        out(formatSummary(result));
        out('');
        out(formatChecklist(result, verdict));
        out(`\nReports: ${reports.dir} (${reports.files.map((f) => f.slice(reports.dir.length + 1)).join(', ')})`);
        if (result.status === 'interrupted')
            return EXIT.interrupted;
        if (result.status === 'aborted' && !result.abortedBy)
            err(`run aborted: ${result.reason ?? 'the service stopped'}`);
        if (verdict.pass)
            return EXIT.ok;
        if (flags['no-fail']) {
            out('--no-fail: exiting 0 despite the verdict.');
            return EXIT.ok;
        }
        return EXIT.breach;
    }
    catch (e) {
        if (e instanceof ConfigError || e instanceof UsageError || e instanceof ServiceError) {
            err(e.message);
            return stop.signal.aborted ? EXIT.interrupted : EXIT.usage;
        }
        throw e;
    }
    finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
    }
}
// Run when executed directly (node src/cli.ts, or the bundle), not when imported by tests.
const entry = process.argv[1] ?? '';
if (import.meta.url === `file://${entry}` || /(?:^|[\\/])(?:cli\.(?:ts|js)|loadgate)$/.test(entry)) {
    main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
        process.stderr.write(`loadgate: internal error: ${e?.stack ?? String(e)}\n`);
        process.exit(3);
    });
}

export { EXIT, UsageError, flagOverrides, main };
