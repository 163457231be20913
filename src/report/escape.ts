// Text that came from the service under test (error messages, bodies, endpoint names from configs)
// goes into HTML, Markdown and XML. A hostile service must not be able to inject markup, links or
// hidden comments into the report or the PR comment, so every such string passes through here.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML[c]!);
}

/** For XML text and attributes (JUnit): also drops characters XML 1.0 cannot carry at all. */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeHtml(s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD'));
}

/**
 * For untrusted text inside Markdown (GitHub-flavoured), in prose or a table cell: HTML-escapes it
 * (GitHub renders inline HTML, and `<!--` could hide the rest of a comment), backslash-escapes
 * Markdown punctuation (links, emphasis, code spans, tables), and folds line breaks, so the text
 * reads as itself and cannot end the table row or open a block.
 */
export function escapeMarkdown(s: string): string {
  return escapeHtml(s)
    .replace(/[\\`*_{}[\]()#+\-.!|~:]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, ' ');
}

/**
 * Untrusted text as inline code in a Markdown table cell: a code span whose fence is longer than any
 * backtick run inside. Inside a code span HTML and Markdown are literal; only a pipe would still end
 * the cell (GFM splits rows before inline parsing), so it is escaped.
 */
export function markdownCode(s: string): string {
  const flat = s.replace(/\r\n|\r|\n/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** Truncates to at most `max` characters (code points), marking the cut. */
export function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
