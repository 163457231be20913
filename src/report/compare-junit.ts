// JUnit test cases for the comparison: one per metric that gates it (a regression line as written, or the
// default gates), failing when it regressed (or, with fail-on-inconclusive, when it is inconclusive).

import type { CompareVerdict } from '../verdict/compare.ts';
import { describeShift } from '../verdict/compare.ts';
import { escapeXml, truncate } from './escape.ts';

export const COMPARE_CLASSNAME = 'loadgate.regression';

export function compareCases(c: CompareVerdict): { xml: string[]; failures: number } {
  let failures = 0;
  const xml = c.metrics
    .filter((m) => m.gates)
    .map((m) => {
      const name = m.objective?.text ?? `${m.key} regression (min effect ${m.minEffect})`;
      const open = `    <testcase name="${attr(name)}" classname="${COMPARE_CLASSNAME}" time="0"`;
      const failed = c.against !== 'calibration' && (m.verdict === 'regressed' || (c.failOnInconclusive && m.verdict === 'inconclusive'));
      if (!failed) return `${open}/>`;
      failures++;
      const sentence = `${describeShift(m)} vs the baseline: ${m.verdict}`;
      return `${open}>\n      <failure message="${attr(truncate(sentence, 1000))}" type="regression">${escapeXml(sentence)}</failure>\n    </testcase>`;
    });
  return { xml, failures };
}

function attr(s: string): string {
  return escapeXml(s).replace(/[\r\n\t]/g, ' ');
}
