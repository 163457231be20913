// Where a run ran (src/metrics/environment.ts) as rows of text, for the HTML report's "Where it ran" table
// and for the comparison's side-by-side table of both sides (HTML and Markdown), so they say it alike.

import type { Environment } from '../metrics/environment.ts';
import type { CompareVerdict } from '../verdict/compare.ts';
import type { ServiceImage } from '../service/running-service.ts';
import { fmtNum, fmtPct } from '../format.ts';

export interface EnvironmentRow {
  label: string;
  /** Undefined when the record does not say (a stored result from an older loadgate records less). */
  value: string | undefined;
}

/** Every row, in a fixed order, so that two records line up; a value is undefined where the record is silent. */
export function environmentRows(e: Partial<Environment>, o: { shortDigest?: boolean } = {}): EnvironmentRow[] {
  const cpu =
    e.cpuModel !== undefined || e.cpuCount !== undefined
      ? `${e.cpuModel ?? 'CPU'}${e.cpuCount !== undefined ? ` × ${e.cpuCount}` : ''}`
      : undefined;
  const os = [e.os, e.kernel !== undefined ? `kernel ${e.kernel}` : undefined, e.arch].filter((x) => x !== undefined).join(', ');
  const versions = e.node !== undefined || e.loadgate !== undefined ? `${e.node ?? '?'} / ${e.loadgate ?? '?'}` : undefined;
  const rn = e.runner;
  const runner = rn
    ? [rn.name, rn.os, rn.arch, rn.image && `image ${rn.image} ${rn.imageVersion ?? ''}`.trim()].filter(Boolean).join(', ')
    : undefined;
  return [
    { label: 'CPU', value: cpu },
    { label: 'Memory', value: e.memoryBytes !== undefined ? `${fmtNum(Math.round((e.memoryBytes / 2 ** 30) * 10) / 10)} GiB` : undefined },
    { label: 'OS', value: os || undefined },
    { label: 'CI runner', value: runner },
    { label: 'Node / loadgate', value: versions },
    { label: 'Service image', value: e.serviceImage ? imageText(e.serviceImage, o.shortDigest) : undefined },
    {
      label: 'CPU steal during the load',
      value: e.cpuStealPercent !== undefined ? `${fmtNum(e.cpuStealPercent)}% of the machine` : undefined,
    },
    { label: 'Generator CPU', value: e.generatorCpu !== undefined ? `${fmtPct(e.generatorCpu)} of one core` : undefined },
  ];
}

/** "model:pr, sha256:0123… (image id: a local build)"; the digest cut to 12 hex digits when `short`. */
export function imageText(si: ServiceImage, short = false): string {
  if (!si.digest) return `${si.image} (digest unknown)`;
  const digest = short ? si.digest.replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}/, '$1…') : si.digest;
  const kind = si.digestKind === 'repo-digest' ? 'repository digest' : si.digestKind === 'image-id' ? 'image id: a local build' : undefined;
  return `${si.image}, ${digest}${kind ? ` (${kind})` : ''}`;
}

/**
 * Both sides of a comparison, row by row, leaving out rows neither side recorded. Against a stored
 * result every row (the machines may differ); in the same job only the service image: the machine is
 * the same one, and the run's own "Where it ran" says it.
 */
export function sideRows(
  c: Pick<CompareVerdict, 'environments' | 'against'>,
  o: { shortDigest?: boolean } = {},
): Array<{ label: string; baseline: string | undefined; candidate: string | undefined }> {
  const env = c.environments;
  if (!env || (!env.baseline && !env.candidate)) return [];
  const b = environmentRows(env.baseline ?? {}, o);
  const k = environmentRows(env.candidate ?? {}, o);
  return b
    .map((row, i) => ({ label: row.label, baseline: row.value, candidate: k[i]!.value }))
    .filter((r) => (r.baseline !== undefined || r.candidate !== undefined) && (c.against === 'history' || r.label === 'Service image'));
}
