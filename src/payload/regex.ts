// Strings that match a JSON Schema `pattern`: a small, honest generator for the regular expressions
// schemas actually use (pydantic's constr(regex=...), OpenAPI patterns): literals and escapes, `.`,
// classes ([a-z0-9_], [^...], \d \w \s and their negations), groups ((...), (?:...), (?<name>...)),
// alternation, quantifiers (* + ? {n} {n,} {n,m}, lazy or not) and the anchors ^ and $.
//
// What it cannot honour it refuses (RegexUnsupported, with the reason): lookarounds, backreferences,
// word boundaries, inline flags, Unicode property escapes. Every string it produces is checked
// against the real RegExp (the `u` flag, as JSON Schema validators use), so a subtle mismatch is a
// retry, never a wrong value.

export class RegexUnsupported extends Error {
  override readonly name = 'RegexUnsupported';
}

type Ranges = Array<[lo: number, hi: number]>;

type RNode =
  | { t: 'alt'; alts: RNode[][] }
  | { t: 'set'; ranges: Ranges; neg: boolean }
  | { t: 'rep'; node: RNode; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

/** Printable ASCII: what `.`, negated classes and \S, \W, \D draw from (realistic, and safe in any JSON). */
const PRINTABLE: Ranges = [[0x20, 0x7e]];
const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
// \s matches much more, but a space (and tab) is what a generated string should contain.
const SPACE: Ranges = [[0x20, 0x20]];
const SPACE_ALL: Ranges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x2028, 0x2029],
  [0xfeff, 0xfeff],
];

/** Extra repetitions of an unbounded quantifier (`*`, `+`, `{n,}`), unless a length asks for more. */
const DEFAULT_STRETCH = 6;

class Parser {
  private readonly src: string;
  private readonly cps: number[];
  private i = 0;
  constructor(src: string) {
    this.src = src;
    this.cps = Array.from(src, (c) => c.codePointAt(0)!);
  }

  parse(): RNode {
    const node = this.alternation();
    if (this.i < this.cps.length) throw new RegexUnsupported(`unbalanced ")" at offset ${this.i}`);
    return node;
  }

  private peek(k = 0): number | undefined {
    return this.cps[this.i + k];
  }
  private ch(k = 0): string {
    const c = this.peek(k);
    return c === undefined ? '' : String.fromCodePoint(c);
  }

  private alternation(): RNode {
    const alts: RNode[][] = [this.sequence()];
    while (this.ch() === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return { t: 'alt', alts };
  }

  private sequence(): RNode[] {
    const seq: RNode[] = [];
    while (this.i < this.cps.length && this.ch() !== '|' && this.ch() !== ')') {
      const atom = this.atom();
      seq.push(this.quantified(atom));
    }
    return seq;
  }

  private quantified(atom: RNode): RNode {
    const c = this.ch();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.offsetOf(this.i)));
      if (!m) return atom; // a literal "{" (as JavaScript without the u flag reads it)
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new RegexUnsupported(`quantifier ${m[0]} has its numbers out of order`);
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (this.ch() === '?') this.i++; // lazy: the same strings match
    if (atom.t === 'bol' || atom.t === 'eol') throw new RegexUnsupported('a quantifier on an anchor');
    return { t: 'rep', node: atom, min, max };
  }

  /** Offset in the UTF-16 source of code point index `cp` (patterns are mostly ASCII; this keeps the rest right). */
  private offsetOf(cp: number): number {
    let off = 0;
    for (let k = 0; k < cp; k++) off += this.cps[k]! > 0xffff ? 2 : 1;
    return off;
  }

  private atom(): RNode {
    const c = this.ch();
    switch (c) {
      case '^':
        this.i++;
        return { t: 'bol' };
      case '$':
        this.i++;
        return { t: 'eol' };
      case '.':
        this.i++;
        return { t: 'set', ranges: PRINTABLE, neg: false };
      case '[':
        return this.charClass();
      case '(':
        return this.group();
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
        throw new RegexUnsupported(`nothing to repeat before "${c}" at offset ${this.i}`);
      default:
        this.i++;
        return lit(this.cps[this.i - 1]!);
    }
  }

  private group(): RNode {
    this.i++; // (
    if (this.ch() === '?') {
      const next = this.ch(1);
      if (next === ':') this.i += 2;
      else if (next === '<' && this.ch(2) !== '=' && this.ch(2) !== '!') {
        const close = this.cps.indexOf(0x3e /* > */, this.i);
        if (close < 0) throw new RegexUnsupported('unterminated group name');
        this.i = close + 1;
      } else if (next === 'P' && this.ch(2) === '<') {
        throw new RegexUnsupported('Python-style named groups "(?P<name>...)" are not JavaScript regular expressions');
      } else if (next === '=' || next === '!' || (next === '<' && (this.ch(2) === '=' || this.ch(2) === '!'))) {
        throw new RegexUnsupported('lookahead and lookbehind assertions are not supported');
      } else {
        throw new RegexUnsupported(`"(?${next}" (inline flags or modifiers) is not supported`);
      }
    }
    const body = this.alternation();
    if (this.ch() !== ')') throw new RegexUnsupported('missing ")"');
    this.i++;
    return body;
  }

  private charClass(): RNode {
    this.i++; // [
    let neg = false;
    if (this.ch() === '^') {
      neg = true;
      this.i++;
    }
    const ranges: Ranges = [];
    let first = true;
    while (true) {
      const c = this.ch();
      if (c === '') throw new RegexUnsupported('missing "]"');
      if (c === ']' && !first) break;
      first = false;
      const lo = this.classAtom();
      if (this.ch() === '-' && this.ch(1) !== ']' && this.ch(1) !== '' && typeof lo === 'number') {
        this.i++;
        const hi = this.classAtom();
        if (typeof hi !== 'number') throw new RegexUnsupported('a class escape cannot end a range');
        if (hi < lo) throw new RegexUnsupported('a character range is out of order');
        ranges.push([lo, hi]);
      } else if (typeof lo === 'number') ranges.push([lo, lo]);
      else ranges.push(...lo);
    }
    this.i++; // ]
    return { t: 'set', ranges, neg };
  }

  /** One member of a class: a code point, or the ranges of a class escape (\d, \w, \s, ...). */
  private classAtom(): number | Ranges {
    if (this.ch() !== '\\') {
      this.i++;
      return this.cps[this.i - 1]!;
    }
    if (this.ch(1) === 'b') {
      this.i += 2;
      return 0x08;
    }
    const node = this.escape(true);
    if (node.t !== 'set') throw new RegexUnsupported('unexpected escape in a class');
    if (node.neg) {
      // [\D] and the like: spell out the complement within printable ASCII.
      return complement(node.ranges);
    }
    return node.ranges.length === 1 && node.ranges[0]![0] === node.ranges[0]![1] ? node.ranges[0]![0] : node.ranges;
  }

  private escape(inClass: boolean): RNode {
    this.i++; // backslash
    const c = this.ch();
    if (c === '') throw new RegexUnsupported('a pattern cannot end with "\\"');
    this.i++;
    switch (c) {
      case 'd':
        return { t: 'set', ranges: DIGIT, neg: false };
      case 'D':
        return { t: 'set', ranges: DIGIT, neg: true };
      case 'w':
        return { t: 'set', ranges: WORD, neg: false };
      case 'W':
        return { t: 'set', ranges: WORD, neg: true };
      case 's':
        return { t: 'set', ranges: inClass ? SPACE_ALL : SPACE, neg: false };
      case 'S':
        return { t: 'set', ranges: SPACE_ALL, neg: true };
      case 'n':
        return lit(0x0a);
      case 'r':
        return lit(0x0d);
      case 't':
        return lit(0x09);
      case 'f':
        return lit(0x0c);
      case 'v':
        return lit(0x0b);
      case '0':
        if (/\d/.test(this.ch())) throw new RegexUnsupported('octal escapes are not supported');
        return lit(0);
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.offsetOf(this.i)));
        if (!m) throw new RegexUnsupported('"\\x" needs two hex digits');
        this.i += 2;
        return lit(parseInt(m[0], 16));
      }
      case 'u': {
        const rest = this.src.slice(this.offsetOf(this.i));
        const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(rest) ?? /^([0-9a-fA-F]{4})/.exec(rest);
        if (!m) throw new RegexUnsupported('"\\u" needs four hex digits or {hex}');
        this.i += m[0].length;
        return lit(parseInt(m[1]!, 16));
      }
      case 'b':
      case 'B':
        throw new RegexUnsupported(`word boundaries ("\\${c}") are not supported`);
      case 'p':
      case 'P':
        throw new RegexUnsupported(`Unicode property escapes ("\\${c}{...}") are not supported`);
      case 'c':
        throw new RegexUnsupported('control escapes ("\\c") are not supported');
      case 'k':
        throw new RegexUnsupported('backreferences are not supported');
      default:
        if (/[1-9]/.test(c)) throw new RegexUnsupported('backreferences are not supported');
        if (/[a-zA-Z]/.test(c)) throw new RegexUnsupported(`unknown escape "\\${c}"`);
        return lit(c.codePointAt(0)!);
    }
  }
}

function lit(c: number): RNode {
  return { t: 'set', ranges: [[c, c]], neg: false };
}

/** Printable ASCII minus `ranges`. */
function complement(ranges: Ranges): Ranges {
  const out: Ranges = [];
  for (const [plo, phi] of PRINTABLE) {
    let start = plo;
    const sorted = ranges.filter(([lo, hi]) => hi >= plo && lo <= phi).sort((a, b) => a[0] - b[0]);
    for (const [lo, hi] of sorted) {
      if (lo > start) out.push([start, lo - 1]);
      start = Math.max(start, hi + 1);
    }
    if (start <= phi) out.push([start, phi]);
  }
  return out;
}

function size(ranges: Ranges): number {
  let n = 0;
  for (const [lo, hi] of ranges) n += hi - lo + 1;
  return n;
}

/** A compiled pattern: generates candidates and checks them against the real RegExp. */
export interface PatternGenerator {
  readonly source: string;
  /** A matching string, trying to respect the length bounds; null if none was found in the tries. */
  generate(rand: () => number, minLength: number, maxLength: number): string | null;
  test(s: string): boolean;
}

const compiled = new Map<string, PatternGenerator>();

/** Compiles a pattern, or throws RegexUnsupported (also for a pattern that is not a valid regular expression). */
export function compilePattern(source: string): PatternGenerator {
  const hit = compiled.get(source);
  if (hit) return hit;
  let re: RegExp;
  try {
    re = new RegExp(source, 'u');
  } catch (e) {
    try {
      re = new RegExp(source);
    } catch {
      throw new RegexUnsupported(`not a valid regular expression (${(e as Error).message})`);
    }
  }
  const ast = new Parser(source).parse();
  // Sets are resolved once: negated ones become their printable-ASCII complement.
  const resolve = (n: RNode): RNode => {
    switch (n.t) {
      case 'set': {
        const ranges = n.neg ? complement(n.ranges) : n.ranges;
        if (size(ranges) === 0) throw new RegexUnsupported('a character class that matches no printable character');
        return { t: 'set', ranges, neg: false };
      }
      case 'rep':
        return { ...n, node: resolve(n.node) };
      case 'alt':
        return { t: 'alt', alts: n.alts.map((seq) => seq.map(resolve)) };
      default:
        return n;
    }
  };
  const root = resolve(ast);
  // Unanchored ends may carry extra characters: that is how a too-short match reaches a minLength.
  const openStart = !source.startsWith('^');
  const openEnd = !/(^|[^\\])(\\\\)*\$$/.test(source);

  const gen = (n: RNode, rand: () => number, stretch: number, out: number[]): void => {
    switch (n.t) {
      case 'set': {
        let k = Math.floor(rand() * size(n.ranges));
        for (const [lo, hi] of n.ranges) {
          const w = hi - lo + 1;
          if (k < w) {
            out.push(lo + k);
            return;
          }
          k -= w;
        }
        return;
      }
      case 'rep': {
        const hi = n.max === Infinity ? n.min + stretch : n.max;
        const count = n.min + Math.floor(rand() * (hi - n.min + 1));
        for (let k = 0; k < count; k++) gen(n.node, rand, stretch, out);
        return;
      }
      case 'alt': {
        const seq = n.alts[Math.floor(rand() * n.alts.length)]!;
        for (const part of seq) gen(part, rand, stretch, out);
        return;
      }
      default:
        return;
    }
  };

  const pg: PatternGenerator = {
    source,
    test: (s) => {
      re.lastIndex = 0;
      return re.test(s);
    },
    generate(rand, minLength, maxLength) {
      for (let attempt = 0; attempt < 200; attempt++) {
        // Later attempts stretch unbounded quantifiers towards the minimum length, or not at all.
        const stretch =
          attempt < 50 ? DEFAULT_STRETCH : attempt < 100 ? Math.max(minLength, DEFAULT_STRETCH) : attempt % 2 ? 0 : minLength + 2;
        const cps: number[] = [];
        gen(root, rand, stretch, cps);
        let s = String.fromCodePoint(...cps);
        let len = cps.length;
        if (len < minLength && (openStart || openEnd)) {
          const pad = Array.from({ length: minLength - len }, () => String.fromCharCode(0x61 + Math.floor(rand() * 26))).join('');
          s = openEnd ? s + pad : pad + s;
          len = minLength;
        }
        if (len < minLength || len > maxLength) continue;
        if (pg.test(s)) return s;
      }
      return null;
    },
  };
  compiled.set(source, pg);
  return pg;
}
