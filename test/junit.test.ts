// JUnit XML: counts, failure messages, escaping of hostile text, and well-formedness, checked by a strict
// minimal XML parser written here (and by xmllint too when it is installed: Debian's libxml2-utils).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { renderJunit } from '../src/report/junit.ts';
import type { Verdict } from '../src/verdict/types.ts';
import { constructedResult } from './fixtures/result.ts';
import { failingVerdict, passingVerdict } from './fixtures/verdict.ts';

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes references; throws on a bare `&` or an unknown entity. */
function decode(s: string, where: string): string {
  return s.replace(/&([^;]*);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare & in ${where}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const n = /^#x[0-9a-fA-F]+$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]+$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
    if (Number.isNaN(n)) throw new Error(`unknown entity ${m} in ${where}`);
    return String.fromCodePoint(n);
  });
}

/** XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; no lone surrogates. */
function checkChars(s: string): void {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const ok =
      c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (!ok) throw new Error(`character U+${c.toString(16).toUpperCase()} is not allowed in XML`);
  }
}

/** A strict, minimal XML parser for what JUnit files use: declaration, elements, attributes, text, comments. */
function parseXml(xml: string): El {
  checkChars(xml);
  let i = 0;
  const decl = xml.match(/^<\?xml version="1\.0" encoding="UTF-8"\?>/);
  if (!decl) throw new Error('missing XML declaration');
  i = decl[0].length;
  const skipMisc = () => {
    for (;;) {
      const ws = xml.slice(i).match(/^\s+/);
      if (ws) i += ws[0].length;
      if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i + 4);
        if (end < 0 || xml.slice(i + 4, end).includes('--')) throw new Error('bad comment');
        i = end + 3;
      } else return;
    }
  };
  const element = (): El => {
    if (xml[i] !== '<') throw new Error(`expected < at ${i}`);
    i++;
    const name = xml.slice(i).match(NAME)?.[0];
    if (!name) throw new Error(`bad element name at ${i}`);
    i += name.length;
    const el: El = { name, attrs: {}, children: [], text: '' };
    for (;;) {
      const ws = xml.slice(i).match(/^\s*/)![0];
      i += ws.length;
      if (xml.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      if (!ws) throw new Error(`expected whitespace before an attribute at ${i}`);
      const an = xml.slice(i).match(NAME)?.[0];
      if (!an) throw new Error(`bad attribute name at ${i}: ${xml.slice(i, i + 20)}`);
      i += an.length;
      const q = xml.slice(i).match(/^\s*=\s*(["'])/);
      if (!q) throw new Error(`expected ="..." after ${an}`);
      i += q[0].length;
      const end = xml.indexOf(q[1]!, i);
      if (end < 0) throw new Error('unterminated attribute');
      const raw = xml.slice(i, end);
      if (raw.includes('<')) throw new Error(`< in attribute ${an}`);
      if (an in el.attrs) throw new Error(`duplicate attribute ${an}`);
      el.attrs[an] = decode(raw, `attribute ${an}`).replace(/[\t\n\r]/g, ' ');
      i = end + 1;
    }
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) throw new Error(`unclosed <${name}>`);
      const raw = xml.slice(i, lt);
      if (raw.includes(']]>')) throw new Error(']]> in text');
      el.text += decode(raw, `text of <${name}>`);
      i = lt;
      if (xml.startsWith('</', i)) {
        i += 2;
        if (!xml.startsWith(name, i)) throw new Error(`mismatched end tag for <${name}> at ${i}`);
        i += name.length;
        const close = xml.slice(i).match(/^\s*>/);
        if (!close) throw new Error(`bad end tag </${name}`);
        i += close[0].length;
        return el;
      }
      if (xml.startsWith('<!--', i)) {
        skipMisc();
        continue;
      }
      el.children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== xml.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

function all(el: El, name: string): El[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
}

function xmllint(xml: string): string | null {
  try {
    execFileSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return 'ok';
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    return err.code === 'ENOENT' ? null : `xmllint: ${err.stderr ?? String(e)}`;
  }
}
// Under CI, xmllint must be there (.ci/run installs libxml2-utils): a missing one fails the checks below.
const hasXmllint = xmllint('<?xml version="1.0" encoding="UTF-8"?><a/>') === 'ok' || Boolean(process.env['CI']);

describe('JUnit XML', () => {
  it('the parser here rejects what is not well-formed', () => {
    const bad = [
      '<?xml version="1.0" encoding="UTF-8"?><a><b></a>',
      '<?xml version="1.0" encoding="UTF-8"?><a x="1" x="2"/>',
      '<?xml version="1.0" encoding="UTF-8"?><a x="<"/>',
      '<?xml version="1.0" encoding="UTF-8"?><a>&</a>',
      '<?xml version="1.0" encoding="UTF-8"?><a>&nbsp;</a>',
      '<?xml version="1.0" encoding="UTF-8"?><a>\u0001</a>',
      '<?xml version="1.0" encoding="UTF-8"?><a>\uD800</a>',
      '<?xml version="1.0" encoding="UTF-8"?><a/><b/>',
      '<?xml version="1.0" encoding="UTF-8"?><a>]]></a>',
    ];
    for (const x of bad) assert.throws(() => parseXml(x), Error, x);
    assert.equal(parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a k="&lt;&#10;">t&amp;<b/></a>\n').attrs['k'], '< ');
  });

  it('counts tests and failures: one case per SLO plus one for the run', () => {
    const r = constructedResult();
    const v = failingVerdict();
    const root = parseXml(renderJunit(r, v));
    assert.equal(root.name, 'testsuites');
    const [suite] = all(root, 'testsuite');
    for (const el of [root, suite!]) {
      assert.equal(el.attrs['tests'], '5');
      assert.equal(el.attrs['failures'], '2');
      assert.equal(el.attrs['errors'], '0');
      assert.equal(el.attrs['time'], '2.600');
    }
    assert.equal(suite!.attrs['timestamp'], '2026-11-25T00:00:00');
    const cases = all(root, 'testcase');
    assert.deepEqual(
      cases.map((c) => [c.attrs['classname'], c.attrs['name']]),
      [['loadgate.run', 'run'], ...v.outcomes.map((o) => ['loadgate.slo', o.slo.text])],
    );
    assert.equal(cases[0]!.attrs['time'], '2.600');
    assert.ok(cases.slice(1).every((c) => c.attrs['time'] === '0'));
    // Breaches fail with the verdict's sentence; passes have no failure.
    v.outcomes.forEach((o, i) => {
      const failures = all(cases[i + 1]!, 'failure');
      if (o.pass) assert.equal(failures.length, 0);
      else {
        assert.equal(failures.length, 1);
        assert.equal(failures[0]!.attrs['message'], o.sentence);
        assert.equal(failures[0]!.attrs['type'], 'slo');
        assert.ok(failures[0]!.text.includes(`observed: ${o.labels.observed}`));
        assert.ok(failures[0]!.text.includes('declared at loadgate.yml:'));
      }
    });
    assert.equal(all(cases[0]!, 'failure').length, 0, 'the run itself had no problem');
    assert.match(all(root, 'system-out')[0]!.text, /^4 requests, 3 failed/);
    if (hasXmllint) assert.equal(xmllint(renderJunit(r, v)), 'ok');
  });

  it('passes: no failures', () => {
    const root = parseXml(renderJunit(constructedResult(), passingVerdict()));
    assert.equal(root.attrs['tests'], '3');
    assert.equal(root.attrs['failures'], '0');
    assert.equal(all(root, 'failure').length, 0);
    assert.deepEqual(all(root, 'property').find((p) => p.attrs['name'] === 'verdict')?.attrs['value'], 'pass');
  });

  it('fails the run case on problems, on an abort, and on an abort-on-fail stop', () => {
    const r = constructedResult();
    const withProblems: Verdict = {
      ...passingVerdict(),
      pass: false,
      problems: ['the service exited with code 137 during the run', 'second'],
    };
    let root = parseXml(renderJunit(r, withProblems));
    let run = all(root, 'testcase')[0]!;
    assert.equal(root.attrs['failures'], '1');
    assert.equal(all(run, 'failure')[0]!.attrs['message'], '2 problems: the service exited with code 137 during the run; ...');
    assert.equal(all(run, 'failure')[0]!.text, 'the service exited with code 137 during the run\nsecond');

    r.status = 'aborted';
    r.reason = 'the service stopped answering';
    root = parseXml(renderJunit(r, { ...passingVerdict(), pass: false }));
    run = all(root, 'testcase')[0]!;
    assert.equal(all(run, 'failure')[0]!.attrs['message'], 'the run was aborted: the service stopped answering');

    r.abortedBy = 'p99 < 100ms';
    root = parseXml(renderJunit(r, { ...failingVerdict(), abortedBy: 'p99 < 100ms' }));
    run = all(root, 'testcase')[0]!;
    assert.equal(all(run, 'failure')[0]!.attrs['message'], 'stopped early: the SLO "p99 < 100ms" failed during the run (abort-on-fail)');
    assert.equal(root.attrs['failures'], '3');
  });

  it('escapes hostile text and stays well-formed', () => {
    const r = constructedResult();
    r.target.baseUrl = 'http://x/?a=1&b="2"<3>';
    r.tool.version = "it's \u0000\u001b";
    const v = failingVerdict();
    const nasty =
      'p99 < 100ms ]]> <!-- --> <x y="z"> & &amp; \'q\' \u0001\u0008\u000b\u000c\u001f\uFFFE\uFFFF lone \uD800 surrogate 😀\nnext\tline';
    v.outcomes[0] = { ...v.outcomes[0]!, slo: { ...v.outcomes[0]!.slo, text: nasty }, sentence: `${nasty} sentence` };
    v.problems = [`</failure></testcase><testcase name="injected"> ${nasty}`];
    v.pass = false;
    const xml = renderJunit(r, v);
    const root = parseXml(xml);
    if (hasXmllint) assert.equal(xmllint(xml), 'ok');
    const cases = all(root, 'testcase');
    assert.equal(cases.length, 5, 'no injected test case');
    assert.ok(!cases.some((c) => c.attrs['name'] === 'injected'));
    const expected = nasty
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace('\uD800', '\uFFFD')
      .replace(/[\n\t]/g, ' ');
    assert.equal(cases[1]!.attrs['name'], expected);
    assert.equal(all(cases[1]!, 'failure')[0]!.attrs['message'], `${expected} sentence`);
    assert.ok(all(cases[1]!, 'failure')[0]!.text.includes('\n'), 'line breaks kept in the failure text');
    assert.ok(all(cases[0]!, 'failure')[0]!.text.startsWith('</failure></testcase><testcase name="injected">'));
    const props = Object.fromEntries(all(root, 'property').map((p) => [p.attrs['name'], p.attrs['value']]));
    assert.equal(props['target'], 'http://x/?a=1&b="2"<3>');
    assert.equal(props['tool'], "loadgate it's \uFFFD\uFFFD");
  });
});
