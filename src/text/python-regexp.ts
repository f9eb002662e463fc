/**
 * Python `re` patterns, compiled the way Ansible's lineinfile compiles them: `re.compile(to_bytes(regexp))`, a
 * *bytes* pattern searched in the raw bytes of each line (its terminator included). The pattern is translated into a
 * JavaScript RegExp that runs on a "byte string" (each byte one char, U+0000..U+00FF: `buffer.toString('latin1')`),
 * so `.` matches one byte, `é` in a pattern is its two UTF-8 bytes, and bytes that are not UTF-8 are matched like any
 * other byte — as Python does.
 *
 * What differs between the dialects is translated, never passed through: `(?P<name>…)`, `(?P=name)`, global and scoped
 * inline flags (`(?i)`, `(?i:…)`, `(?-i:…)`: i m s x a), `\A`, `\Z`, Python's `$` (end, or before a final `\n`),
 * `.` (everything but `\n`, so `\r` too), `\s` (ASCII whitespace only), ASCII-only IGNORECASE (expanded to `[aA]`),
 * `{,n}`, `[]…]`, octal escapes, literal `{`. What rig cannot reproduce exactly is refused with an error saying so
 * (`unsupported`), and what Python itself rejects is an error too (`invalid`) — a pattern never silently matches
 * another line than it would in Ansible.
 */

export class PythonRegexpProblem {
  constructor(readonly kind: 'invalid' | 'unsupported', readonly message: string) {}
}

/** A compiled pattern: the JS RegExp (no flags; searches a latin1 byte string), its groups and group names. */
export interface ByteRegExp {
  readonly regexp: RegExp;
  /** Number of capturing groups. */
  readonly groups: number;
  readonly groupIndex: Readonly<Record<string, number>>;
}

interface Flags { readonly i: boolean; readonly m: boolean; readonly s: boolean; readonly x: boolean }

/** A group being parsed, for the "does this group always take part in the match" check of backreferences. */
interface Frame {
  readonly parent: Frame | undefined;
  alternation: boolean;
  optional: boolean;
  /** Index of the alternative being parsed (0, then 1 after the first `|`, …). */
  branch: number;
  /** Capturing group number, 0 for others. */
  readonly group: number;
}

/** A closed capturing group: its frame and, for each enclosing frame, the alternative it was in. */
interface ClosedGroup { readonly frame: Frame; readonly branches: ReadonlyMap<Frame, number> }

/**
 * A translated piece: `width` is its fixed width in bytes (null when variable), `min` the fewest bytes it can match
 * (default: its width, or 0), `captures` whether it holds a capturing group.
 */
interface Piece {
  readonly src: string; readonly width: number | null; readonly repeatable: boolean; readonly frame?: Frame;
  readonly min?: number; readonly captures?: boolean;
}
const minOf = (p: Piece): number => p.min ?? p.width ?? 0;

const hex2 = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`;
const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const isOct = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '7';
const WHITESPACE = ' \t\n\r\v\f';
const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const ANY = '[\\x00-\\xff]';
const START = '(?<![\\x00-\\xff])';
const END = `(?!${ANY})`;
const SPACE_SET = '\\t\\n\\x0b\\x0c\\r ';

class Parser {
  pos = 0;
  groups = 0;
  readonly names: Record<string, number> = {};
  readonly closed = new Map<number, ClosedGroup>();
  /** No atom parsed yet: global flags are still allowed. */
  atStart = true;
  readonly open = new Set<number>();
  lookbehind = 0;

  constructor(readonly src: string, public flags: Flags) {}

  invalid(msg: string): never { throw new PythonRegexpProblem('invalid', `${msg} at position ${this.pos}`); }
  unsupported(msg: string): never { throw new PythonRegexpProblem('unsupported', msg); }
  peek(n = 0): string | undefined { return this.pos + n < this.src.length ? this.src[this.pos + n] : undefined; }
  next(): string { return this.src[this.pos++]!; }
  eat(s: string): boolean { if (this.src.startsWith(s, this.pos)) { this.pos += s.length; return true; } return false; }

  skipVerbose(flags: Flags): void {
    if (!flags.x) return;
    for (;;) {
      const ch = this.peek();
      if (ch !== undefined && WHITESPACE.includes(ch)) { this.pos++; continue; }
      if (ch === '#') { while (this.peek() !== undefined && this.peek() !== '\n') this.pos++; continue; }
      return;
    }
  }

  /** Alternatives up to `)` or the end. */
  parseAlternation(flags: Flags, frame: Frame): Piece {
    const branches: Piece[] = [this.parseSequence(flags, frame)];
    while (this.peek() === '|') {
      this.pos++;
      frame.alternation = true;
      frame.branch++;
      branches.push(this.parseSequence(flags, frame));
    }
    const w = branches[0]!.width;
    const width = branches.every((b) => b.width === w) ? w : null;
    return { src: branches.map((b) => b.src).join('|'), width, repeatable: true, min: Math.min(...branches.map(minOf)), captures: branches.some((b) => b.captures) };
  }

  parseSequence(flags: Flags, frame: Frame): Piece {
    let src = '';
    let width: number | null = 0;
    let min = 0;
    let captures = false;
    for (;;) {
      this.skipVerbose(flags);
      const ch = this.peek();
      if (ch === undefined || ch === '|' || ch === ')') break;
      if ('*+?'.includes(ch) || (ch === '{' && this.quantifierAhead())) this.invalid('nothing to repeat');
      const atom = this.parseAtom(flags, frame);
      if (atom === undefined) continue;
      this.atStart = false;
      const q = this.parseQuantifier(flags);
      let piece = atom;
      if (q) {
        if (!atom.repeatable) {
          if (atom.src.startsWith('(?=') || atom.src.startsWith('(?!') || atom.src.startsWith('(?<')) this.unsupported('a quantifier on a lookaround assertion');
          this.invalid('nothing to repeat');
        }
        // An iteration that matches nothing: Python accepts it, JavaScript rejects it and backtracks (`(?:F*?)?` on
        // "F" matches "" in Python, "F" in JavaScript), so spans and groups can differ.
        if (minOf(atom) === 0) this.unsupported('a quantifier on a group or item that can match an empty string (Python and JavaScript repeat it differently)');
        if (q.min === 0 && atom.frame) atom.frame.optional = true;
        const w = atom.width === null ? null : q.min === q.max ? atom.width * q.min : atom.width === 0 ? 0 : null;
        piece = { src: `(?:${atom.src})${q.text}`, width: w, repeatable: false, min: minOf(atom) * q.min, captures: atom.captures ?? false };
      }
      min += minOf(piece);
      captures ||= piece.captures ?? false;
      src += piece.src;
      width = width === null || piece.width === null ? null : width + piece.width;
    }
    return { src, width, repeatable: true, min, captures };
  }

  /** True when a `{` here starts a valid `{m}`, `{m,}`, `{,n}`, `{m,n}` (otherwise Python reads a literal `{`). */
  quantifierAhead(): boolean {
    return /^\{(\d*)(,\d*)?\}/.test(this.src.slice(this.pos)) && this.src[this.pos + 1] !== '}';
  }

  parseQuantifier(flags: Flags): { text: string; min: number; max: number } | undefined {
    this.skipVerbose(flags);
    const ch = this.peek();
    let min: number; let max: number; let text: string;
    if (ch === '*') { this.pos++; min = 0; max = Infinity; text = '*'; }
    else if (ch === '+') { this.pos++; min = 1; max = Infinity; text = '+'; }
    else if (ch === '?') { this.pos++; min = 0; max = 1; text = '?'; }
    else if (ch === '{' && this.quantifierAhead()) {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos))!;
      this.pos += m[0].length;
      min = m[1] ? Number(m[1]) : 0;
      max = m[2] ? (m[3] ? Number(m[3]) : Infinity) : min;
      if (min >= 4294967295 || (max !== Infinity && max >= 4294967295)) this.invalid('the repetition number is too large');
      if (max < min) this.invalid('min repeat greater than max repeat');
      text = `{${min},${max === Infinity ? '' : max}}`;
    } else return undefined;
    if (this.peek() === '?') { this.pos++; text += '?'; }
    else if (this.peek() === '+') this.unsupported('possessive quantifiers (*+, ++, ?+, {m,n}+)');
    this.skipVerbose(flags);
    const after = this.peek();
    if (after !== undefined && ('*+?'.includes(after) || (after === '{' && this.quantifierAhead()))) this.invalid('multiple repeat');
    return { text, min, max };
  }

  literal(c: number, flags: Flags): Piece {
    if (flags.i && isLetter(c)) return { src: `[${hex2(c)}${hex2(c ^ 0x20)}]`, width: 1, repeatable: true };
    return { src: hex2(c), width: 1, repeatable: true };
  }

  parseAtom(flags: Flags, frame: Frame): Piece | undefined {
    const ch = this.next();
    switch (ch) {
      case '(': return this.parseGroup(flags, frame);
      case '[': return this.parseClass(flags);
      case '.': return { src: flags.s ? ANY : '[^\\n]', width: 1, repeatable: true };
      case '^': return { src: flags.m ? '(?<![^\\n])' : START, width: 0, repeatable: false };
      case '$': return { src: flags.m ? `(?=\\n|${END})` : `(?=\\n?${END})`, width: 0, repeatable: false };
      case '\\': return this.parseEscape(flags, frame);
      default: return this.literal(ch.charCodeAt(0), flags);
    }
  }

  parseEscape(flags: Flags, frame: Frame): Piece {
    const ch = this.peek();
    if (ch === undefined) this.invalid('bad escape (end of pattern)');
    this.pos++;
    const set = (src: string): Piece => ({ src, width: 1, repeatable: true });
    switch (ch) {
      case 'd': case 'D': case 'w': case 'W': return set(`\\${ch}`);
      case 's': return set(`[${SPACE_SET}]`);
      case 'S': return set(`[^${SPACE_SET}]`);
      case 'b': return { src: '\\b', width: 0, repeatable: false };
      // Python's \B never matches in an empty string; JavaScript's does.
      case 'B': return { src: `\\B(?!${START}${END})`, width: 0, repeatable: false };
      case 'A': return { src: START, width: 0, repeatable: false };
      case 'Z': return { src: END, width: 0, repeatable: false };
      case 'x': return this.literal(this.hexEscape(), flags);
      case '0': {
        let digits = '0';
        if (isOct(this.peek())) { digits += this.next(); if (isOct(this.peek())) digits += this.next(); }
        return this.literal(parseInt(digits, 8), flags);
      }
      default:
        break;
    }
    if (isDigit(ch)) {
      let esc = ch;
      if (isDigit(this.peek())) {
        esc += this.next();
        if (isOct(esc[0]) && isOct(esc[1]) && isOct(this.peek())) {
          esc += this.next();
          const v = parseInt(esc, 8);
          if (v > 0o377) this.invalid(`octal escape value \\${esc} outside of range 0-0o377`);
          return this.literal(v, flags);
        }
      }
      return this.backreference(Number(esc), flags, frame);
    }
    if (SIMPLE_ESCAPES[ch] !== undefined) return this.literal(SIMPLE_ESCAPES[ch]!, flags);
    if (isLetter(ch.charCodeAt(0))) this.invalid(`bad escape \\${ch}`);
    return this.literal(ch.charCodeAt(0), flags);
  }

  hexEscape(): number {
    const h = this.src.slice(this.pos, this.pos + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) this.invalid('incomplete escape \\x');
    this.pos += 2;
    return parseInt(h, 16);
  }

  backreference(n: number, flags: Flags, frame: Frame): Piece {
    if (n > this.groups || n === 0) this.invalid(`invalid group reference ${n}`);
    if (this.open.has(n)) this.invalid('cannot refer to an open group');
    if (this.lookbehind) this.unsupported('a backreference inside a lookbehind');
    if (flags.i) this.unsupported('a backreference under IGNORECASE ((?i))');
    // Python fails the match when the group did not take part; JavaScript matches an empty string. Accept only
    // backreferences to groups that always take part when the backreference is reached.
    const ancestors = new Set<Frame>();
    for (let f: Frame | undefined = frame; f; f = f.parent) ancestors.add(f);
    const closed = this.closed.get(n)!;
    const refuse = () => this.unsupported(`a backreference to group ${n}, which may not take part in the match (optional, in another alternative or in a negative lookaround)`);
    let f: Frame | undefined = closed.frame;
    for (; f && !ancestors.has(f); f = f.parent) if (f.optional || (f !== closed.frame && f.alternation)) refuse();
    if (f && closed.branches.get(f) !== f.branch) refuse();
    return { src: `(?:\\${n})`, width: null, repeatable: true, min: 0 };
  }

  parseGroup(flags: Flags, frame: Frame): Piece | undefined {
    if (this.peek() !== '?') return this.capture(flags, frame, undefined);
    this.pos++;
    const ch = this.peek();
    if (ch === 'P') {
      this.pos++;
      if (this.eat('<')) {
        const name = this.groupName('>');
        if (this.names[name] !== undefined) this.invalid(`redefinition of group name '${name}'`);
        return this.capture(flags, frame, name);
      }
      if (this.eat('=')) {
        const name = this.groupName(')');
        const n = this.names[name];
        if (n === undefined) this.invalid(`unknown group name '${name}'`);
        return this.backreference(n, flags, frame);
      }
      if (this.peek() === '>') this.unsupported('recursive patterns (?P>…)');
      this.invalid(`unknown extension ?P${this.peek() ?? ''}`);
    }
    if (ch === ':') { this.pos++; return this.wrap('(?:', flags, frame, 0, true); }
    if (ch === '=' || ch === '!') { this.pos++; return this.wrap(`(?${ch}`, flags, frame, 0, false); }
    if (ch === '<' && (this.peek(1) === '=' || this.peek(1) === '!')) {
      this.pos += 2;
      this.lookbehind++;
      const inner = this.wrap(`(?<${this.src[this.pos - 1]}`, flags, frame, 0, false);
      this.lookbehind--;
      return inner;
    }
    if (ch === '#') {
      while (this.peek() !== undefined && this.peek() !== ')') this.pos++;
      if (!this.eat(')')) this.invalid('missing ), unterminated comment');
      return undefined;
    }
    if (ch === '>') this.unsupported('atomic groups (?>…)');
    if (ch === '(') this.unsupported('conditional patterns (?(…)…|…)');
    if (ch === '<') this.unsupported(`named groups written (?<name>…): Python's syntax is (?P<name>…)`);
    // Inline flags: (?aiLmsux) global at the very start, (?aiLmsux-imsx:…) scoped.
    const on = this.flagLetters();
    let off = '';
    if (this.eat('-')) { off = this.flagLetters(); if (!off) this.invalid('missing flag'); }
    const bad = (s: string) => s.includes('u') ? this.invalid(`bad inline flags: cannot use 'u' flag with a bytes pattern`) : s.includes('L') ? this.unsupported('the LOCALE flag (?L)') : undefined;
    bad(on); bad(off);
    if (/[aLu]/.test(off)) this.invalid('bad inline flags: cannot turn off flags \'a\', \'u\' and \'L\'');
    const apply = (f: Flags): Flags => {
      const r = { ...f } as { i: boolean; m: boolean; s: boolean; x: boolean };
      for (const k of ['i', 'm', 's', 'x'] as const) { if (on.includes(k)) r[k] = true; if (off.includes(k)) r[k] = false; }
      return r;
    };
    if (this.eat(')')) {
      if (off) this.invalid('missing :');
      if (!on) this.invalid('missing -, : or )');
      if (!this.atStart || frame.parent !== undefined) this.invalid('global flags not at the start of the expression');
      this.flags = apply(this.flags);
      Object.assign(flags, this.flags);
      return undefined;
    }
    if (this.eat(':')) {
      if (!on && !off) this.invalid('missing flag');
      return this.wrap('(?:', apply(flags), frame, 0, true);
    }
    this.invalid(`unknown extension ?${this.peek() ?? ''}`);
  }

  flagLetters(): string {
    let s = '';
    while (this.peek() !== undefined && 'aiLmsux'.includes(this.peek()!)) s += this.next();
    return s;
  }

  groupName(end: string): string {
    const close = this.src.indexOf(end, this.pos);
    if (close < 0) this.invalid('missing group name terminator');
    const name = this.src.slice(this.pos, close);
    if (!name) this.invalid('missing group name');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      if (/^[\x00-\x7f]*$/.test(name)) this.invalid(`bad character in group name '${name}'`);
      this.unsupported('group names with non-ASCII characters');
    }
    this.pos = close + 1;
    return name;
  }

  capture(flags: Flags, frame: Frame, name: string | undefined): Piece {
    const n = ++this.groups;
    if (name !== undefined) this.names[name] = n;
    this.open.add(n);
    const inner: Frame = { parent: frame, alternation: false, optional: false, branch: 0, group: n };
    const branches = new Map<Frame, number>();
    for (let f: Frame | undefined = frame; f; f = f.parent) branches.set(f, f.branch);
    const body = this.parseAlternation(flags, inner);
    if (!this.eat(')')) this.invalid('missing ), unterminated subpattern');
    this.open.delete(n);
    this.closed.set(n, { frame: inner, branches });
    return { src: name !== undefined ? `(?<${name}>${body.src})` : `(${body.src})`, width: body.width, repeatable: true, frame: inner, min: minOf(body), captures: true };
  }

  wrap(open: string, flags: Flags, frame: Frame, group: number, repeatable: boolean): Piece {
    // Groups inside a negative lookaround never keep a value (Python fails a backreference to them).
    const inner: Frame = { parent: frame, alternation: false, optional: open === '(?!' || open === '(?<!', branch: 0, group };
    const body = this.parseAlternation(flags, inner);
    if (!this.eat(')')) this.invalid('missing ), unterminated subpattern');
    if (open.startsWith('(?<') && body.width === null) this.invalid('look-behind requires fixed-width pattern');
    const lookaround = !repeatable;
    return { src: `${open}${body.src})`, width: lookaround ? 0 : body.width, repeatable, frame: inner, min: lookaround ? 0 : minOf(body), captures: body.captures ?? false };
  }

  /** `[…]`: ranges of bytes plus \d \w \D \W (ASCII in both dialects). */
  parseClass(flags: Flags): Piece {
    const negate = this.eat('^');
    const ranges: Array<[number, number]> = [];
    const sets: string[] = [];
    let first = true;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.invalid('unterminated character set');
      if (ch === ']' && !first) { this.pos++; break; }
      first = false;
      const lo = this.classItem();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.classItem();
        if (typeof lo === 'string' || typeof hi === 'string') this.invalid('bad character range');
        if (hi < lo) this.invalid('bad character range');
        ranges.push([lo, hi]);
      } else if (typeof lo === 'string') sets.push(lo);
      else ranges.push([lo, lo]);
    }
    if (flags.i) {
      for (const [lo, hi] of [...ranges]) {
        for (const [a, z, d] of [[0x41, 0x5a, 0x20], [0x61, 0x7a, -0x20]] as const) {
          const l = Math.max(lo, a); const h = Math.min(hi, z);
          if (l <= h) ranges.push([l + d, h + d]);
        }
      }
    }
    const body = ranges.map(([l, h]) => (l === h ? hex2(l) : `${hex2(l)}-${hex2(h)}`)).join('') + sets.join('');
    return { src: `[${negate ? '^' : ''}${body}]`, width: 1, repeatable: true };
  }

  /** One class member: a byte, or a set escape (as JS class text). */
  classItem(): number | string {
    const ch = this.next();
    if (ch !== '\\') return ch.charCodeAt(0);
    const e = this.peek();
    if (e === undefined) this.invalid('bad escape (end of pattern)');
    this.pos++;
    switch (e) {
      case 'd': case 'D': case 'w': case 'W': return `\\${e}`;
      case 's': return SPACE_SET;
      case 'S': return '\\x00-\\x08\\x0e-\\x1f\\x21-\\xff';
      case 'x': return this.hexEscape();
      default: break;
    }
    if (isOct(e)) {
      let digits = e;
      if (isOct(this.peek())) { digits += this.next(); if (isOct(this.peek())) digits += this.next(); }
      const v = parseInt(digits, 8);
      if (v > 0o377) this.invalid(`octal escape value \\${digits} outside of range 0-0o377`);
      return v;
    }
    if (isDigit(e)) this.invalid(`bad escape \\${e}`);
    if (SIMPLE_ESCAPES[e] !== undefined) return SIMPLE_ESCAPES[e]!;
    if (isLetter(e.charCodeAt(0))) this.invalid(`bad escape \\${e}`);
    return e.charCodeAt(0);
  }
}

/** The UTF-8 bytes of a JS string as a byte string (one char per byte). */
export function toByteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * Compile a Python `re` pattern as lineinfile does (a bytes pattern, searched in byte strings). Throws a
 * PythonRegexpProblem: `invalid` where Python's `re.compile` fails too, `unsupported` where Python would accept the
 * pattern but rig cannot reproduce its meaning exactly.
 */
export function compilePythonRegExp(pattern: string): ByteRegExp {
  const parser = new Parser(toByteString(pattern), { i: false, m: false, s: false, x: false });
  const top: Frame = { parent: undefined, alternation: false, optional: false, branch: 0, group: 0 };
  // Global flags (only allowed at the start) update `flags` in place, so everything after them is read with them.
  const flags = { ...parser.flags };
  const body = parser.parseAlternation(flags, top);
  if (parser.peek() === ')') parser.invalid('unbalanced parenthesis');
  let regexp: RegExp;
  try { regexp = new RegExp(body.src); } catch (e) {
    throw new PythonRegexpProblem('unsupported', `rig could not translate it (${(e as Error).message})`);
  }
  return { regexp, groups: parser.groups, groupIndex: { ...parser.names } };
}

/**
 * Python's `match.expand(template)` on bytes (sre_parse.parse_template): `\1`…`\99`, `\g<n>`, `\g<name>`, octal
 * `\0`/`\ooo`, `\a \b \f \n \r \t \v \\`; other `\<letter>` is an error, other `\<char>` stays as written; a group
 * that did not take part expands to nothing. `template` and the result are byte strings.
 */
export function expandTemplate(template: string, match: RegExpExecArray, re: ByteRegExp): string {
  let out = '';
  const group = (n: number, at: number): string => {
    if (n > re.groups) throw new PythonRegexpProblem('invalid', `invalid group reference ${n} at position ${at}`);
    return match[n] ?? '';
  };
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch !== '\\') { out += ch; continue; }
    const c = template[i + 1];
    if (c === undefined) throw new PythonRegexpProblem('invalid', 'bad escape (end of pattern)');
    i++;
    if (c === 'g') {
      if (template[i + 1] !== '<') throw new PythonRegexpProblem('invalid', `missing < at position ${i + 1}`);
      const close = template.indexOf('>', i + 2);
      if (close < 0) throw new PythonRegexpProblem('invalid', 'missing >, unterminated name');
      const name = template.slice(i + 2, close);
      if (!name) throw new PythonRegexpProblem('invalid', 'missing group name');
      let n: number;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        const k = re.groupIndex[name];
        if (k === undefined) throw new PythonRegexpProblem('invalid', `unknown group name '${name}'`);
        n = k;
      } else if (/^[0-9]+$/.test(name)) n = Number(name);
      else throw new PythonRegexpProblem('invalid', `bad character in group name '${name}'`);
      out += group(n, i);
      i = close;
    } else if (c === '0') {
      let d = '0';
      if (isOct(template[i + 1])) { d += template[++i]; if (isOct(template[i + 1])) d += template[++i]; }
      out += String.fromCharCode(parseInt(d, 8) & 0xff);
    } else if (isDigit(c)) {
      let d = c;
      if (isDigit(template[i + 1])) {
        d += template[++i];
        if (isOct(d[0]) && isOct(d[1]) && isOct(template[i + 1])) {
          d += template[++i];
          const v = parseInt(d, 8);
          if (v > 0o377) throw new PythonRegexpProblem('invalid', `octal escape value \\${d} outside of range 0-0o377`);
          out += String.fromCharCode(v);
          continue;
        }
      }
      out += group(Number(d), i);
    } else if (SIMPLE_ESCAPES[c] !== undefined) out += String.fromCharCode(SIMPLE_ESCAPES[c]!);
    else if (isLetter(c.charCodeAt(0))) throw new PythonRegexpProblem('invalid', `bad escape \\${c}`);
    else out += `\\${c}`;
  }
  return out;
}
