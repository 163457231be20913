// Text on its way to a terminal or a CI log, made inert: loadgate prints what a service said (its last
// output lines, error messages, response samples), and a hostile or broken service must not drive the
// terminal (CSI/OSC escapes, 8-bit C1 controls, bidi overrides) or issue GitHub workflow commands (the
// runner trims leading whitespace, then parses `::name::` and the legacy `##[name]` at a line's start).

/** C0 controls but tab and newline, DEL, C1 controls, and the bidi marks and overrides that reorder text. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A line that would be read as a workflow command, once its leading whitespace is trimmed. */
const COMMAND_START = /^(\s*)(::|##\[)/gm;

/**
 * `text` with control characters shown as escapes (`\x1b`, `\u202e`) and workflow commands defused (a
 * backslash before the `::` or `##[` that would start one). Newlines and tabs are kept.
 */
export function inert(text: string): string {
  return text
    .replace(CONTROL, (c) => {
      const code = c.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    })
    .replace(COMMAND_START, '$1\\$2');
}
