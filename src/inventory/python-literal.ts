/**
 * Python's `ast.literal_eval`, for the values of Ansible INI inventories: Ansible passes each INI value through it,
 * so `True` is a boolean, `42` and `0x1F` are ints, `'it''s'` is the string `its`, `[1, 'a']` is a list, while
 * `yes`, `007` or `a b` fail to evaluate and stay strings. Supported: str/bytes literals (prefixes r/u/b, triple
 * quotes, escapes, implicit concatenation), int (decimal, 0x/0o/0b, `_`), float, True/False/None, unary +/-,
 * list, tuple, dict, set. Complex numbers and anything else are "not a literal".
 */

/** The value, or `undefined` when Python would refuse (the caller then keeps the raw text). */
export function evalPythonLiteral(text: string): { readonly value: unknown } | undefined {
  const p = new LiteralParser(text.replace(/^[ \t]+/, ''));
  try {
    const value = p.parseExpression();
    p.skipSpace();
    if (!p.atEnd()) return undefined;
    return { value };
  } catch (e) {
    if (e instanceof NotALiteral) return undefined;
    throw e;
  }
}

class NotALiteral extends Error {}

const fail = (): never => { throw new NotALiteral(); };

class LiteralParser {
  private pos = 0;

  constructor(private readonly src: string) {}

  atEnd(): boolean { return this.pos >= this.src.length; }

  /** Spaces, tabs and a trailing `# comment` (literal_eval compiles source, so comments are allowed). */
  skipSpace(): void {
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\f') this.pos++;
      else if (ch === '\\' && this.src[this.pos + 1] === '\n') this.pos += 2;
      else if (ch === '#') { while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++; }
      else if (ch === '\n' && this.depth > 0) this.pos++;
      else return;
    }
  }

  private depth = 0;

  parseExpression(): unknown {
    this.skipSpace();
    const first = this.parseValue();
    this.skipSpace();
    // A top-level tuple without parentheses: `1, 2`.
    if (this.src[this.pos] === ',' && this.depth === 0) {
      const items = [first];
      while (this.src[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
        if (this.atEnd()) break;
        items.push(this.parseValue());
        this.skipSpace();
      }
      return items;
    }
    return first;
  }

  private parseValue(): unknown {
    this.skipSpace();
    const ch = this.src[this.pos];
    if (ch === undefined) return fail();
    if (ch === '+' || ch === '-') {
      this.pos++;
      this.skipSpace();
      const v = this.parseValue();
      if (typeof v !== 'number') return fail();
      return ch === '-' ? -(v as number) : v;
    }
    if (ch === '[') return this.parseSequence('[', ']');
    if (ch === '(') {
      const items = this.parseSequence('(', ')', true);
      return items;
    }
    if (ch === '{') return this.parseBraces();
    if (/[0-9.]/.test(ch)) return this.parseNumber();
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^(?:[rRuUbB]|[rR][bB]|[bB][rR])?(?=['"])/.exec(this.src.slice(this.pos));
      if (m && m[0].length >= 0 && /['"]/.test(this.src[this.pos + m[0].length] ?? '')) return this.parseStrings();
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos))![0];
      this.pos += word.length;
      if (word === 'True') return true;
      if (word === 'False') return false;
      if (word === 'None') return null;
      return fail();
    }
    if (ch === '"' || ch === "'") return this.parseStrings();
    return fail();
  }

  private parseSequence(open: string, close: string, tuple = false): unknown {
    this.pos++;
    this.depth++;
    const items: unknown[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] === close) { this.pos++; break; }
      items.push(this.parseValue());
      this.skipSpace();
      if (this.src[this.pos] === ',') { this.pos++; sawComma = true; continue; }
      if (this.src[this.pos] === close) { this.pos++; break; }
      fail();
    }
    this.depth--;
    // `(x)` is just x; `(x,)` and `()` are tuples.
    if (tuple && items.length === 1 && !sawComma) return items[0];
    return items;
  }

  private parseBraces(): unknown {
    this.pos++;
    this.depth++;
    this.skipSpace();
    if (this.src[this.pos] === '}') { this.pos++; this.depth--; return {}; }
    const firstKey = this.parseValue();
    this.skipSpace();
    if (this.src[this.pos] !== ':') {
      // A set literal: Ansible could not print it as JSON either, treat as not-a-literal for inventory purposes.
      return fail();
    }
    const out: Record<string, unknown> = {};
    let key: unknown = firstKey;
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] !== ':') fail();
      this.pos++;
      const value = this.parseValue();
      if (key !== null && typeof key === 'object') fail(); // unhashable key
      out[pythonKey(key)] = value;
      this.skipSpace();
      if (this.src[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
        if (this.src[this.pos] === '}') { this.pos++; break; }
        key = this.parseValue();
        continue;
      }
      if (this.src[this.pos] === '}') { this.pos++; break; }
      fail();
    }
    this.depth--;
    return out;
  }

  private parseNumber(): number {
    const rest = this.src.slice(this.pos);
    const radix = /^0([xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)(?![0-9A-Za-z_.])/.exec(rest);
    if (radix) {
      this.pos += radix[0].length;
      const digits = radix[1]!.slice(1).replace(/_/g, '');
      const base = { x: 16, o: 8, b: 2 }[radix[1]![0]!.toLowerCase() as 'x' | 'o' | 'b'];
      return parseInt(digits, base);
    }
    const dec = /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][-+]?\d(?:_?\d)*)?/.exec(rest);
    if (!dec || !dec[0]) return fail();
    const text = dec[0];
    const after = rest[text.length];
    if (after !== undefined && /[A-Za-z0-9_]/.test(after)) return fail(); // 1j, 12abc
    const isInt = /^\d(?:_?\d)*$/.test(text);
    // Python 3 refuses leading zeros in a non-zero decimal int (`007`).
    if (isInt && /^0+[1-9_]/.test(text) && !/^0+$/.test(text.replace(/_/g, ''))) return fail();
    this.pos += text.length;
    return Number(text.replace(/_/g, ''));
  }

  /** One or more adjacent string literals, concatenated (all str or all bytes). */
  private parseStrings(): string {
    let out = '';
    let kind: 'str' | 'bytes' | undefined;
    let count = 0;
    for (;;) {
      this.skipSpace();
      const m = /^([rRuUbB]|[rR][bB]|[bB][rR])?('''|"""|'|")/.exec(this.src.slice(this.pos));
      if (!m) break;
      const prefix = (m[1] ?? '').toLowerCase();
      const k = prefix.includes('b') ? 'bytes' : 'str';
      if (kind && kind !== k) fail();
      kind = k;
      this.pos += m[0].length;
      out += this.readStringBody(m[2]!, prefix.includes('r'), k === 'bytes');
      count++;
    }
    if (!count) fail();
    return out;
  }

  private readStringBody(quote: string, raw: boolean, bytes: boolean): string {
    let out = '';
    const triple = quote.length === 3;
    for (;;) {
      if (this.pos >= this.src.length) return fail();
      if (this.src.startsWith(quote, this.pos)) { this.pos += quote.length; return out; }
      const ch = this.src[this.pos]!;
      if (ch === '\n' && !triple) return fail();
      if (bytes && ch.charCodeAt(0) > 127) return fail();
      if (ch !== '\\') { out += ch; this.pos++; continue; }
      const next = this.src[this.pos + 1];
      if (next === undefined) return fail();
      if (raw) { out += ch + next; this.pos += 2; continue; }
      this.pos += 2;
      const simple: Record<string, string> = { '\n': '', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
      if (next in simple) { out += simple[next]; continue; }
      if (/[0-7]/.test(next)) {
        const oct = /^[0-7]{1,3}/.exec(this.src.slice(this.pos - 1))![0];
        this.pos += oct.length - 1;
        out += String.fromCodePoint(parseInt(oct, 8));
        continue;
      }
      const hexLen = next === 'x' ? 2 : !bytes && next === 'u' ? 4 : !bytes && next === 'U' ? 8 : 0;
      if (hexLen) {
        const hex = this.src.slice(this.pos, this.pos + hexLen);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) return fail();
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) return fail();
        out += String.fromCodePoint(cp);
        this.pos += hexLen;
        continue;
      }
      if (!bytes && next === 'N') return fail(); // \N{NAME}: not supported here; keep the raw text
      out += `\\${next}`; // unknown escapes are kept as written
    }
  }
}

/** A dict key as Python's json module prints it (`True` → `true`, `None` → `null`, numbers as text). */
function pythonKey(k: unknown): string {
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k === null) return 'null';
  return String(k);
}
