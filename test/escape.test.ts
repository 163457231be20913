// Unit tests of src/report/escape.ts. Where cmark-gfm (GitHub's Markdown library; Debian package `cmark-gfm`) is
// installed, escaped text is also rendered and must read back as exactly the original text.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { skipUnless } from './helpers/tools.ts';
import { describe, it } from 'node:test';
import { escapeHtml, escapeMarkdown, escapeXml, markdownCode, truncate } from '../src/report/escape.ts';

function cmark(md: string): string | null {
  try {
    return execFileSync('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough'], { input: md, encoding: 'utf8' });
  } catch {
    return null;
  }
}
const hasCmark = cmark('x') !== null;
const noCmark = skipUnless(hasCmark, 'cmark-gfm');

function decodeHtml(s: string): string {
  return s.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}

/** Renders `cell` in a one-column GFM table and returns the cell's HTML and the number of cells in the row. */
function renderCell(cell: string): { html: string; cells: number } {
  const html = cmark(`| h |\n|---|\n| ${cell} |\n`)!;
  const row = html.split('<tbody>')[1]!.split('</tbody>')[0]!;
  const cells = row.match(/<td>([\s\S]*?)<\/td>/g) ?? [];
  return { html: cells[0]!.replace(/^<td>|<\/td>$/g, ''), cells: cells.length };
}

const fold = (s: string) => s.replace(/\r\n|\r|\n/g, ' ');

const HOSTILE = [
  'plain text',
  '<script>alert(1)</script>',
  '<!-- hidden',
  '[x](javascript:alert(1))',
  '![img](http://x/y.png)',
  '](javascript:alert(1))',
  'a | b | c',
  '`code` and ``two``',
  '*em* **strong** _u_ __uu__ ~~s~~',
  '# heading',
  '> quote',
  '- item',
  '1. item',
  '+ item',
  '\\ backslash \\| and \\\\',
  'line\nbreak\r\nand\rcr',
  'https://evil.example/x www.evil.example',
  'a & b &amp; &copy; &#60;',
  '"double"',
  '{braces} (parens) [brackets] #hash !bang . : ~',
  '<https://autolink.example>',
  '***',
  'trailing backslash \\',
];

describe('escapeHtml', () => {
  it('escapes the five HTML specials and nothing else', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(escapeHtml('plain ✓ text\n'), 'plain ✓ text\n');
    assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'escapes an existing entity again (it is text)');
  });
});

describe('escapeXml', () => {
  it('escapes like HTML and replaces characters XML 1.0 cannot carry', () => {
    assert.equal(escapeXml('<a b="c">&\'</a>'), '&lt;a b=&quot;c&quot;&gt;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeXml('\u0000\u0001\u0008\u000B\u000C\u000E\u001F\uFFFE\uFFFF'), '\uFFFD'.repeat(9));
    assert.equal(escapeXml('tab\tlf\ncr\r'), 'tab\tlf\ncr\r', 'TAB, LF and CR are allowed');
    assert.equal(escapeXml('😀 \uE000 \uFFFD \u007F'), '😀 \uE000 \uFFFD \u007F', 'astral, private use, U+FFFD and DEL are allowed');
    assert.equal(escapeXml(']]>'), ']]&gt;');
  });

  it('replaces lone surrogates, which no XML document can hold', () => {
    assert.equal(escapeXml('a\uD800b\uDC00'), 'a\uFFFDb\uFFFD');
  });
});

describe('escapeMarkdown', () => {
  it('HTML-escapes, backslash-escapes Markdown punctuation and folds line breaks', () => {
    assert.equal(escapeMarkdown('<b>'), '&lt;b&gt;');
    assert.equal(escapeMarkdown('[x](y)'), '\\[x\\]\\(y\\)');
    assert.equal(escapeMarkdown('a|b'), 'a\\|b');
    assert.equal(escapeMarkdown('`x`'), '\\`x\\`');
    assert.equal(escapeMarkdown('a\r\nb\nc\rd'), 'a b c d');
    assert.equal(escapeMarkdown('\\'), '\\\\');
    assert.equal(escapeMarkdown('https://x.y'), 'https\\://x\\.y');
    for (const s of HOSTILE) {
      const out = escapeMarkdown(s);
      assert.ok(!/[<>\n\r]/.test(out), `no raw < > or line break: ${out}`);
      assert.ok(!/(^|[^\\])[[\]|`*_]/.test(out.replace(/\\\\/g, '')), `punctuation escaped: ${out}`);
    }
  });

  it('renders back to exactly the original text, in one table cell, with no HTML', { skip: noCmark }, () => {
    for (const s of HOSTILE) {
      const { html, cells } = renderCell(escapeMarkdown(s));
      assert.equal(cells, 1, `one cell for ${JSON.stringify(s)}`);
      assert.ok(!/<(?!\/?code>)[a-z!]/i.test(html), `no markup: ${html}`);
      // Zero-width spaces (against @mentions and issue references) are invisible: compare without them.
      assert.equal(decodeHtml(html).replace(/\u200B/g, ''), fold(s), `reads as itself: ${JSON.stringify(s)} -> ${html}`);
    }
  });

  it('renders an apostrophe as an apostrophe', {
    skip: noCmark,
  }, () => {
    const { html } = renderCell(escapeMarkdown("it's"));
    assert.equal(decodeHtml(html), "it's");
  });

  it('neutralizes @mentions and issue references', {}, () => {
    assert.ok(!/@[a-z]/i.test(escapeMarkdown('@octocat')));
  });
});

describe('markdownCode', () => {
  it('wraps in a fence longer than any backtick run inside, escapes pipes, folds line breaks', () => {
    assert.equal(markdownCode('x'), '`x`');
    assert.equal(markdownCode('a `b` c'), '``a `b` c``');
    assert.equal(markdownCode('``x``'), '``` ``x`` ```', 'padded when it starts or ends with a backtick');
    assert.equal(markdownCode('a|b'), '`a\\|b`');
    assert.equal(markdownCode('a\r\nb\nc'), '`a b c`');
    assert.equal(markdownCode('<script>'), '`<script>`', 'HTML is literal inside a code span');
  });

  it('renders back to the original text as code, in one table cell', { skip: noCmark }, () => {
    for (const s of [...HOSTILE, '`', '``', 'a\\|b', 'x\\', '|']) {
      const { html, cells } = renderCell(markdownCode(s));
      assert.equal(cells, 1, `one cell for ${JSON.stringify(s)}`);
      const m = html.match(/^<code>([\s\S]*)<\/code>$/);
      assert.ok(m, `a code span: ${html}`);
      assert.equal(decodeHtml(m[1]!), fold(s), `reads as itself: ${JSON.stringify(s)}`);
    }
  });

  it('an empty string is an empty-looking cell, not two literal backticks', () => {
    assert.notEqual(markdownCode(''), '``');
  });
});

describe('truncate', () => {
  it('keeps short text, cuts long text to max code points with an ellipsis', () => {
    assert.equal(truncate('abc', 3), 'abc');
    assert.equal(truncate('abcd', 3), 'ab…');
    assert.equal(Array.from(truncate('x'.repeat(1000), 100)).length, 100);
    assert.equal(truncate('😀😀😀😀', 3), '😀😀…', 'counts code points, never splits a surrogate pair');
    assert.equal(truncate('', 5), '');
  });

  it('never returns more than max characters', () => {
    assert.ok(Array.from(truncate('abc', 0)).length <= 0);
  });
});
