// The action's inputs, read once: what the run is (a config file and the settings that override it, as
// config overrides that name their input) and what the action does around it (token, comment, artifact
// name, gate). The settings are the table's (src/plan/settings.ts), shared with the CLI's flags: this file
// only reads them by their input names. action.yml's inputs are written from both lists (npm run docs).
//
// Pure apart from reading the config file in `planFromInputs`: inputs come in through `get`, so tests
// need no runner. Errors are InputErrors (or ConfigErrors from the plan) whose message names the input.

import { createHash } from 'node:crypto';
import { type Override, type RawConfig, applyOverrides, buildPlan, emptyConfig, readConfigFile } from '../plan/config.ts';
import type { Plan } from '../plan/types.ts';
import { type FrontEnd, givenOn, missingWithoutFile, settingOverrides } from '../plan/overrides.ts';
import { readsLines } from '../plan/setting-values.ts';
import { type SettingInput, nameOn, setting, settingsOn } from '../plan/settings.ts';

export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Inputs that shape the run: the settings the action has (each becomes config overrides). */
export const RUN_INPUTS: readonly SettingInput[] = settingsOn('input').map((n) => nameOn('input', n) as SettingInput);
export type RunInput = SettingInput;

/** The inputs that are not settings of the run: what the action does around it. `default` goes into action.yml. */
export const ACTION_INPUTS: Record<string, { about: string; default?: string }> = {
  config: {
    about:
      'a loadgate YAML config (see Configuration); optional: the inputs can describe a whole run, and an input given overrides the same setting in the file',
  },
  'github-token': {
    about: 'the token for the PR comment; the job\'s token needs "permissions: pull-requests: write"',
    default: '${{ github.token }}',
  },
  comment: { about: 'keep one sticky comment with the results on the pull request (true or false)', default: 'true' },
  'artifact-name': {
    about:
      "the report artifact's name; by default loadgate-<job>[-<step>][-<matrix hash>]-<attempt>, unique per job, step, matrix leg and run attempt",
  },
  'fail-on-breach': { about: 'fail the step when an SLO is breached (true), or only report it and pass (false)', default: 'true' },
  matrix: { about: 'leave as is: tells matrix legs apart in the artifact name and the PR comment', default: '${{ toJSON(matrix) }}' },
  merge: {
    about:
      "true: run no load, but merge the shard jobs' results (this workflow run's artifacts named like merge-pattern) into one " +
      "report, artifact, job summary, PR comment, outputs and verdict, judged on the shards' SLOs; give the job needs: on the shard jobs",
    default: 'false',
  },
  'merge-pattern': {
    about:
      'with merge: true, the names of the shard artifacts to merge, * matching any characters; default loadgate-shard-*, ' +
      'the names shard jobs upload theirs under (loadgate-shard-<i>-of-<n>)',
  },
};

/** The shard artifacts a merge job takes when merge-pattern is not given: the names shard jobs upload under. */
export const DEFAULT_MERGE_PATTERN = 'loadgate-shard-*';

export interface ActionInputs {
  /** The YAML config file, when one is named. */
  config?: string;
  /** The run inputs as given ('' = not set). */
  values: Record<RunInput, string>;
  githubToken: string;
  comment: boolean;
  /** The input, or undefined to derive one per job, matrix leg and attempt. */
  artifactName?: string;
  failOnBreach: boolean;
  /** `toJSON(matrix)` ('null' outside a matrix): tells matrix legs apart in artifact names and comments. */
  matrix: string;
  /** A merge job: no load, the shard jobs' artifacts matching `mergePattern` merged and published (src/action/merge-job.ts). */
  merge?: { pattern: string; allowIncomplete: boolean };
}

/** An input's value, as `core.getInput` gives it; `trim: false` keeps leading blank lines. */
type GetInput = (name: string, opts?: { trim: boolean }) => string;

/**
 * Reads every input. One that still holds `${{` was never evaluated (a runner emulator such as
 * `@github/local-action` passes action.yml's defaults as written): it counts as unset, and `warn` says so,
 * rather than sending `${{ github.token }}` as a token or hashing `${{ toJSON(matrix) }}` into names.
 */
export function readInputs(raw: GetInput, warn: (message: string) => void = () => {}): ActionInputs {
  const get: GetInput = (name, opts) => {
    const v = raw(name, opts);
    if (!v.includes('${{')) return v;
    warn(`input "${name}" holds an expression that was not evaluated (${v.trim().slice(0, 60)}): treated as unset`);
    return '';
  };
  const values = {} as Record<RunInput, string>;
  for (const n of settingsOn('input')) {
    const name = nameOn('input', n) as RunInput;
    const v = get(name, { trim: !readsLines(setting(n).read) });
    values[name] = v.trim() === '' ? '' : v;
  }
  const config = get('config', { trim: true });
  const artifactName = get('artifact-name', { trim: true });
  if (artifactName && /[":<>|*?\r\n\\/]/.test(artifactName)) {
    throw new InputError(
      `input "artifact-name": "${artifactName}" holds a character artifact names cannot have (one of " : < > | * ? \\ / or a line break)`,
    );
  }
  const merge = mergeInputs(get, config, values);
  return {
    ...(config ? { config } : {}),
    values,
    githubToken: get('github-token', { trim: true }),
    comment: booleanInput(get, 'comment', true),
    ...(artifactName ? { artifactName } : {}),
    failOnBreach: booleanInput(get, 'fail-on-breach', true),
    matrix: get('matrix', { trim: true }) || 'null',
    ...(merge ? { merge } : {}),
  };
}

/** merge and merge-pattern: a merge job runs nothing, so it takes no input that shapes a run. */
function mergeInputs(get: GetInput, config: string, values: Readonly<Record<RunInput, string>>): ActionInputs['merge'] {
  const merge = booleanInput(get, 'merge', false);
  const pattern = get('merge-pattern', { trim: true });
  if (!merge) {
    if (pattern) throw new InputError('input "merge-pattern" needs merge: true (it names the shard artifacts a merge job takes)');
    return undefined;
  }
  // Where the merged reports go, and whether an incomplete run is allowed: the two settings a merge has.
  const own: readonly string[] = ['report-dir', 'allow-incomplete'];
  const given = [...(config ? ['config'] : []), ...RUN_INPUTS.filter((n) => !own.includes(n) && values[n] !== '')];
  if (given.length > 0) {
    throw new InputError(
      `input "merge" is true: the job merges the shard jobs' results and runs nothing, so it takes no ${given.map((n) => `"${n}"`).join(', ')} ` +
        '(the SLOs are the ones the shards ran with, recorded in their results)',
    );
  }
  if (/[":<>|\\/\r\n]/.test(pattern)) {
    throw new InputError(
      `input "merge-pattern": "${pattern}" holds a character artifact names cannot have (one of " : < > | \\ / or a line break)`,
    );
  }
  const allowIncomplete = values['allow-incomplete'].trim();
  if (allowIncomplete !== '' && !/^(true|false)$/.test(allowIncomplete))
    throw new InputError(`input "allow-incomplete": expected true or false, got "${allowIncomplete}"`);
  return { pattern: pattern || DEFAULT_MERGE_PATTERN, allowIncomplete: allowIncomplete === 'true' };
}

function booleanInput(get: GetInput, name: string, dflt: boolean): boolean {
  const v = get(name, { trim: true });
  if (v === '') return dflt;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^(false|no|off)$/i.test(v)) return false;
  throw new InputError(`input "${name}": expected true or false, got "${v}"`);
}

/** The config file (if any) with the inputs applied, as one validated plan. */
export function planFromInputs(inputs: ActionInputs, baseDir = process.cwd()): Plan {
  if (!inputs.config) {
    // Without a file, say which inputs are missing (not "config service: missing", about a file there is none of).
    const missing = missingWithoutFile(givenInputs(inputs.values), 'input');
    if (missing) throw new InputError(missing);
  }
  let cfg: RawConfig = inputs.config ? readConfigFile(inputs.config) : emptyConfig(baseDir);
  cfg = applyOverrides(cfg, inputOverrides(inputs.values, cfg.raw));
  return buildPlan(cfg);
}

const ACTION: FrontEnd = { side: 'input', error: InputError };

/** An input left empty is not given: the runner passes every input declared in action.yml. */
function givenInputs(values: Readonly<Record<RunInput, string>>) {
  return givenOn('input', (name) => values[name as RunInput] || undefined);
}

/** Inputs become overrides on the raw config, each naming its input (the rules: src/plan/overrides.ts). */
export function inputOverrides(values: Readonly<Record<RunInput, string>>, raw: Record<string, unknown>): Override[] {
  return settingOverrides(givenInputs(values), raw, ACTION);
}

/** Tells matrix legs apart: a short hash of `toJSON(matrix)`, or '' outside a matrix. */
export function matrixKey(matrix: string): string {
  const m = matrix.trim();
  if (m === '' || m === 'null' || m === '{}') return '';
  let canonical = m;
  try {
    canonical = JSON.stringify(JSON.parse(m));
  } catch {
    // Not JSON (set by hand): hash it as written.
  }
  return createHash('sha256').update(canonical).digest('hex').slice(0, 8);
}
