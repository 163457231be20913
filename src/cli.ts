#!/usr/bin/env node
// loadgate's command line: `loadgate run --config loadgate.yml [flags]`. Wiring only: parse the flags the
// settings table declares (src/plan/settings.ts; the usage is written from it too) into config overrides,
// build the plan, run it, print. Exit codes (src/run/outcome.ts): 0 pass, 1 the verdict failed, 2 bad input
// (nothing started), 3 the service was not measured as planned, 4 internal error, 130 interrupted. Every
// report is written before the exit; everything printed is made inert (src/console-text.ts).

import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { type Override, type RawConfig, ConfigError, applyOverrides, buildPlan, emptyConfig, readConfigFile } from './plan/config.ts';
import { type FrontEnd, givenOn, missingWithoutFile, settingOverrides } from './plan/overrides.ts';
import { closest } from './plan/reader.ts';
import { type SettingFlag, type SettingName, describeSetting, nameOn, setting, settingsOn } from './plan/settings.ts';
import { formatComparison } from './report/compare-console.ts';
import { formatChecklist, formatProgress, formatSummary } from './report/console.ts';
import { ReportError } from './report/write.ts';
import { executeRun } from './run.ts';
import { mergeCommand } from './run/merge.ts';
import { workerCommand } from './run/worker-child.ts';
import { EXIT, STATUS_EXIT, runStatus } from './run/outcome.ts';
import { ServiceError } from './service/service.ts';
import { inert } from './console-text.ts';
import { VERSION } from './version.ts';

export { EXIT } from './run/outcome.ts';

/** The signals that stop a run as Ctrl-C does: a closed terminal or a dropped ssh session sends SIGHUP. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * stdout and stderr that may be closed under us (`loadgate run | head -1`): EPIPE is not an error of
 * the run, which goes on and writes its reports; what cannot be printed any more is dropped.
 */
const closed = new Set<NodeJS.WriteStream>();
function guard(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed.add(stream);
    else throw e;
  });
}
function print(stream: NodeJS.WriteStream, text: string, inertAlready = false): void {
  if (closed.has(stream) || stream.destroyed) return;
  guard(stream);
  stream.write(inertAlready ? text : inert(text));
}

/** The flags that are not settings of the run (those are in src/plan/settings.ts): what the command does around it. */
export const COMMAND_FLAGS = {
  config: { type: 'string', short: 'c', arg: 'FILE', about: 'the YAML config (see the README); the flags below override what it says' },
  'no-fail': { type: 'boolean', about: 'report breaches but exit 0' },
  help: { type: 'boolean', short: 'h', about: 'this help' },
  version: { type: 'boolean', short: 'V', about: 'print the version (-v too)' },
} as const;

/** Not in the usage: `-v` prints the version too (as `-V` and `--version`), the way most tools answer it. */
const HIDDEN_FLAGS: ParseArgsOptionsConfig = { 'version-v': { type: 'boolean', short: 'v' } };

type FlagName = SettingFlag | keyof typeof COMMAND_FLAGS;
export type Flags = Partial<Record<FlagName, string | boolean | string[]>>;

const OPTIONS: ParseArgsOptionsConfig = Object.fromEntries([
  ...settingsOn('flag').map((n) => [nameOn('flag', n)!, { type: 'string', multiple: setting(n).read === 'list' }]),
  ...Object.entries(COMMAND_FLAGS).map(([f, c]) => [f, { type: c.type, ...('short' in c ? { short: c.short } : {}) }]),
  ...Object.entries(HIDDEN_FLAGS),
]);

/** Node's "Unknown option '--userz'. To specify a positional argument..." as one line, with the nearest flag. */
function unknownFlag(e: Error): string {
  const m = /^Unknown option '(-{1,2})([^']+)'/.exec(e.message);
  if (!m) return e.message;
  const known = usageFlags().map((f) => f.flag);
  const near = m[1] === '--' ? closest(m[2]!, known) : undefined;
  return `unknown flag ${m[1]}${m[2]}${near ? ` (did you mean --${near}?)` : ''}`;
}

/**
 * On a terminal that takes colour (Node's hasColors: honours NO_COLOR, FORCE_COLOR and TERM=dumb), the
 * checklist's marks and the verdict in colour; anywhere else (a pipe, a CI log file) the same plain text.
 */
export function paint(text: string, colour: boolean): string {
  if (!colour) return text;
  const green = (s: string) => `\x1b[32m${s}\x1b[39m`;
  const red = (s: string) => `\x1b[31m${s}\x1b[39m`;
  const bold = (s: string) => `\x1b[1m${s}\x1b[22m`;
  return text
    .replace(/^( {2})\[pass\]/gm, (_, i: string) => `${i}${green('[pass]')}`)
    .replace(/^( {2})\[FAIL\]/gm, (_, i: string) => `${i}${red('[FAIL]')}`)
    .replace(/^PASS:/m, bold(green('PASS:')))
    .replace(/^FAIL:/m, bold(red('FAIL:')));
}

/** The flags the usage (and the README) lists, in its order: the config, the settings in table order, then the rest. */
export function usageFlags(): Array<{ flag: string; short?: string; arg?: string; about: string; setting?: SettingName }> {
  const command = (f: keyof typeof COMMAND_FLAGS) => {
    const c: { short?: string; arg?: string; about: string } = COMMAND_FLAGS[f];
    return { flag: f, ...(c.short ? { short: c.short } : {}), ...(c.arg ? { arg: c.arg } : {}), about: c.about };
  };
  return [
    command('config'),
    ...settingsOn('flag').map((n) => ({
      flag: nameOn('flag', n)!,
      arg: setting(n).arg,
      about: describeSetting(n, 'flag', { withDefault: true }),
      setting: n,
    })),
    command('no-fail'),
    command('help'),
    command('version'),
  ];
}

const USAGE_WIDTH = 100;

function usage(): string {
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
function wrap(lead: string, text: string, width: number): string {
  const out: string[] = [];
  let line = lead;
  for (const word of text.split(' ')) {
    if (line.length > lead.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = ' '.repeat(lead.length) + word;
    } else {
      line += (line.length > lead.length ? ' ' : '') + word;
    }
  }
  return [...out, line].join('\n');
}

export const USAGE = usage();

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const CLI: FrontEnd = { side: 'flag', error: UsageError };

function givenFlags(flags: Flags) {
  return givenOn('flag', (f) => {
    const v = flags[f as FlagName];
    return typeof v === 'string' || Array.isArray(v) ? v : undefined;
  });
}

/** Flags become overrides on the raw config, each naming its flag (the rules: src/plan/overrides.ts). */
export function flagOverrides(flags: Flags, raw: Record<string, unknown>): Override[] {
  return settingOverrides(givenFlags(flags), raw, CLI);
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => print(process.stdout, `${s}\n`);
  // Text made inert before loadgate's own colours went on (the checklist on a terminal).
  const outPainted = (s: string) => print(process.stdout, `${s}\n`, true);
  const err = (s: string) => print(process.stderr, `loadgate: ${s}\n`);
  if (argv[0] === 'merge') return EXIT[mergeCommand(argv.slice(1), out, err)];
  // Internal: one of the processes of `workers: N` (src/run/worker-child.ts), started by the run itself.
  if (argv[0] === 'worker') return workerCommand(err);
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    err(`${unknownFlag(e as Error)}\n${USAGE}`);
    return EXIT.usage;
  }
  if (flags.help) return (out(USAGE), EXIT.ok);
  if (flags.version || (flags as Record<string, unknown>)['version-v']) return (out(VERSION), EXIT.ok);
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
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      // The service's process group is killed on the way out (src/service/service.ts); a container is not
      // waited for, but its removal was already asked for by the first signal.
      err(`${sig} again: exiting now`);
      process.exit(EXIT.interrupted);
    }
    err(`${sig}: stopping the load, writing what was measured, stopping the service`);
    stop.abort(new Error(`interrupted by ${sig}`));
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  try {
    let cfg: RawConfig = typeof flags.config === 'string' ? readConfigFile(flags.config) : emptyConfig();
    cfg = applyOverrides(cfg, flagOverrides(flags, cfg.raw));
    const plan = buildPlan(cfg);
    const stages = plan.load.stages.length;
    const {
      result,
      verdict,
      reports,
      status: known,
    } = await executeRun(plan, {
      log: out,
      signal: stop.signal,
      onProgress: (p) => out(formatProgress(p, stages)),
    });
    // Nothing was measured when the load never started: no table of zeros, only why (below) and the SLOs.
    if (result.status !== 'not-started') out(`\n${formatSummary(result)}`);
    out('');
    outPainted(paint(inert(formatChecklist(result, verdict)), process.stdout.isTTY === true && process.stdout.hasColors()));
    if (verdict.comparison) {
      out('');
      out(formatComparison(verdict.comparison));
      if (verdict.comparison.outcome === 'inconclusive' && !verdict.comparison.fails && verdict.comparison.against !== 'calibration') {
        err(
          'warning: the comparison is inconclusive (neither a regression nor the same was shown): more rounds, or fail-on-inconclusive, decide it',
        );
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
  } catch (e) {
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
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
  }
}

/** A bug: one line asking to report it; the stack only with LOADGATE_DEBUG=1. */
export function internalErrorMessage(e: unknown): string {
  const detail = process.env.LOADGATE_DEBUG === '1' ? ((e as Error)?.stack ?? String(e)) : ((e as Error)?.message ?? String(e));
  return (
    `internal error: ${detail}\n` +
    'This is a bug in loadgate: please report it with the command and config that caused it' +
    (process.env.LOADGATE_DEBUG === '1' ? '.' : ' (LOADGATE_DEBUG=1 prints the stack trace).')
  );
}

// Run when executed directly (node src/cli.ts, the bundle, or the installed bin/loadgate.js shim that imports
// it), not when imported by tests.
const entry = process.argv[1] ?? '';
if (import.meta.url === `file://${entry}` || /(?:^|[\\/])(?:cli\.(?:ts|js)|loadgate(?:\.js)?)$/.test(entry)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      print(process.stderr, `loadgate: ${internalErrorMessage(e)}\n`);
      process.exit(EXIT.internal);
    },
  );
}
