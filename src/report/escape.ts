// Text that came from the service under test (error messages, bodies, endpoint names from configs)
// goes into HTML, Markdown and XML. A hostile service must not be able to inject markup, links or
// hidden comments into the report or the PR comment, so every such string passes through here.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]!);
}

/** For XML text and attributes (JUnit): also replaces what XML 1.0 cannot carry (controls, lone surrogates). */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeHtml(s.toWellFormed().replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD'));
}

/** C0 controls (but tab and line breaks), DEL, and bidi overrides/isolates (which can reorder what a reader sees). */
export function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.toWellFormed().replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g, '\uFFFD');
}

/**
 * For untrusted text inside Markdown (GitHub-flavoured), in prose or a table cell: backslash-escapes
 * Markdown punctuation (links, emphasis, code spans, tables), then HTML-escapes (GitHub renders inline
 * HTML, and `<!--` could hide the rest of a comment; the two character sets are disjoint, so the
 * entities stay intact), folds line breaks so the text cannot end a table row or open a block, and
 * puts a zero-width space after `@` and between `#`/`GH-` and a digit, so GitHub neither pings a user
 * or team nor cross-references an issue.
 */
export function escapeMarkdown(s: string): string {
  return escapeHtml(cleanText(s).replace(/[\\`*_{}[\]()#+\-.!|~:]/g, (c) => `\\${c}`))
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/@/g, '@\u200B')
    .replace(/(\\#|GH\\-)(?=\d)/gi, '$1\u200B');
}

/**
 * Untrusted text as inline code in a Markdown table cell: a code span whose fence is longer than any
 * backtick run inside. Inside a code span HTML and Markdown are literal; only a pipe would still end
 * the cell (GFM splits rows before inline parsing), so it is escaped.
 */
export function markdownCode(s: string): string {
  const flat = cleanText(s).replace(/\r\n|\r|\n/g, ' ');
  if (flat === '') return '';
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** Truncates to at most `max` characters (code points), marking the cut. */
export function truncate(s: string, max: number): string {
  if (max < 1) return '';
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
