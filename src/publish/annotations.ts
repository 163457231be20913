// Each breached SLO as an error annotation, pointing at its line in the config file when it came from one.
// The runner shows at most 10 error annotations per step: the 10th says how many more there are.

import { isAbsolute, relative, sep } from 'node:path';
import * as core from '@actions/core';
import { describeShift } from '../verdict/compare.ts';
import type { Verdict } from '../verdict/types.ts';

export const MAX_ANNOTATIONS = 10;

export interface Annotation {
  title: string;
  message: string;
  file?: string;
  line?: number;
}

/** Pure: the annotations for a verdict; files are made relative to the workspace (where GitHub resolves them). */
export function breachAnnotations(verdict: Verdict, workspace: string): Annotation[] {
  const all: Annotation[] = [];
  for (const o of verdict.outcomes) {
    if (o.pass) continue;
    const src = o.slo.source;
    all.push({
      title: `SLO breached: ${o.slo.text}`,
      message: o.sentence,
      ...(src ? { file: workspacePath(src.file, workspace), line: src.line } : {}),
    });
  }
  for (const m of verdict.comparison?.fails ? verdict.comparison.metrics : []) {
    if (!m.gates || (m.verdict !== 'regressed' && !(m.verdict === 'inconclusive' && verdict.comparison?.failOnInconclusive))) continue;
    const src = m.objective?.source;
    all.push({
      title: `Regression: ${m.objective?.text ?? m.key}`,
      message: `${describeShift(m)} against the baseline: ${m.verdict}`,
      ...(src ? { file: workspacePath(src.file, workspace), line: src.line } : {}),
    });
  }
  for (const p of verdict.problems) all.push({ title: 'loadgate: the run failed', message: p });
  if (all.length <= MAX_ANNOTATIONS) return all;
  const kept = all.slice(0, MAX_ANNOTATIONS - 1);
  const rest = all.length - kept.length;
  kept.push({ title: `${rest} more breaches`, message: `${rest} more SLO breaches or problems: see the job summary and the full report.` });
  return kept;
}

function workspacePath(file: string, workspace: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(workspace, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split(sep).join('/');
}

export function annotate(list: readonly Annotation[]): void {
  for (const a of list) {
    core.error(a.message, { title: a.title, ...(a.file ? { file: a.file } : {}), ...(a.line !== undefined ? { startLine: a.line } : {}) });
  }
}
