/**
 * Python's `ast.literal_eval`, for the values of Ansible INI inventories: Ansible passes each INI value through it,
 * so `True` is a boolean, `42` and `0x1F` are ints, `'it''s'` is the string `its`, `[1, 'a']` is a list, while
 * `yes`, `007` or `a b` fail to evaluate and stay strings. Supported: str/bytes literals (prefixes r/u/b, triple
 * quotes, escapes, implicit concatenation), int (decimal, 0x/0o/0b, `_`), float, True/False/None, unary +/-,
 * list, tuple, dict, set, complex. Anything else is "not a literal". Integers beyond 2^53 are BigInt.
 */
import { pythonInt, setKey } from './python-json.ts';

/**
 * The value, or `undefined` when Python would refuse (the caller then keeps the raw text). A literal that Python
 * accepts but Ansible cannot use (a set, a complex number, bytes inside a container, a container as a dict key: its
 * JSON encoder fails on them) comes back with `problem` set; one that Python itself refuses with a TypeError (a
 * list or dict as a dict key or set item) comes back with `fatal` set, as Ansible then refuses the whole file.
 */
export function evalPythonLiteral(text: string): { readonly value: unknown; readonly problem?: string; readonly fatal?: string } | undefined {
  const p = new LiteralParser(text.replace(/^[ \t]+/, ''));
  try {
    const value = p.parseExpression();
    p.skipSpace();
    if (!p.atEnd()) return undefined;
    if (p.unhashable !== undefined) return { value: undefined, fatal: `unhashable type: '${Array.isArray(p.unhashable) ? 'list' : 'dict'}'` };
    const top = value instanceof BytesValue ? value.text : value;
    return p.problem ? { value: top, problem: p.problem } : { value: top };
  } catch (e) {
    if (e instanceof NotALiteral) return undefined;
    throw e;
  }
}

class NotALiteral extends Error {}

/** A bytes literal: Ansible decodes it to text at the top level; inside a container its JSON encoder fails. */
class BytesValue { constructor(readonly text: string) {} }

const fail = (): never => { throw new NotALiteral(); };

class LiteralParser {
  private pos = 0;
  /** Set when the literal is valid Python but not something Ansible can print (set, complex, nested bytes). */
  problem: string | undefined;
  /** Tuples read so far (a tuple of hashable items can be a dict key; a list or dict cannot). */
  private readonly tuples = new WeakSet<unknown[]>();
  /** A list or dict used as a dict key or set item: Python's literal_eval raises TypeError (not a fallback to text). */
  unhashable: unknown;

  hashable(v: unknown): boolean {
    if (Array.isArray(v)) return this.tuples.has(v) && v.every((x) => this.hashable(x));
    return v === null || typeof v !== 'object' || v instanceof BytesValue;
  }

  /** Whether the last number read was a float (so `-0.0` keeps its sign and `-0` does not). */
  private lastFloat = false;

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
      if (typeof v !== 'number' && typeof v !== 'bigint') return fail();
      if (ch === '+') return v;
      if (typeof v === 'bigint') return pythonInt(-v);
      return v === 0 && !this.lastFloat ? 0 : -v; // -0 is the int 0; -0.0 stays a negative zero float
    }
    if (ch === '[') return this.parseSequence('[', ']');
    if (ch === '(') {
      const items = this.parseSequence('(', ')', true);
      if (Array.isArray(items)) this.tuples.add(items);
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
      const item = this.parseValue();
      if (item instanceof BytesValue) this.problem ??= 'bytes inside a list';
      items.push(item);
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
      // A set literal: valid Python, but Ansible's JSON encoder cannot print it.
      this.problem ??= 'a Python set';
      if (!this.hashable(firstKey)) this.unhashable ??= firstKey;
      while (this.src[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
        if (this.src[this.pos] === '}') break;
        const item = this.parseValue();
        if (!this.hashable(item)) this.unhashable ??= item;
        this.skipSpace();
      }
      if (this.src[this.pos] !== '}') fail();
      this.pos++;
      this.depth--;
      return [];
    }
    const out: Record<string, unknown> = {};
    let key: unknown = firstKey;
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] !== ':') fail();
      this.pos++;
      const value = this.parseValue();
      if (!this.hashable(key)) this.unhashable ??= key;
      else if (key instanceof BytesValue) this.problem ??= 'bytes as a dict key';
      else if (key !== null && typeof key === 'object') this.problem ??= 'a tuple as a dict key';
      if (value instanceof BytesValue) this.problem ??= 'bytes inside a dict';
      setKey(out, pythonKey(key), value);
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

  private parseNumber(): number | bigint {
    const rest = this.src.slice(this.pos);
    const radix = /^0([xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)(?![0-9A-Za-z_.])/.exec(rest);
    if (radix) {
      this.pos += radix[0].length;
      this.lastFloat = false;
      const digits = radix[1]!.slice(1).replace(/_/g, '');
      return pythonInt(BigInt(`0${radix[1]![0]!.toLowerCase()}${digits}`));
    }
    const dec = /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][-+]?\d(?:_?\d)*)?/.exec(rest);
    if (!dec || !dec[0]) return fail();
    const text = dec[0];
    const after = rest[text.length];
    if ((after === 'j' || after === 'J') && !/[A-Za-z0-9_]/.test(rest[text.length + 1] ?? '')) {
      this.pos += text.length + 1;
      this.problem ??= 'a complex number';
      return 0;
    }
    if (after !== undefined && /[A-Za-z0-9_]/.test(after)) return fail(); // 12abc
    const isInt = /^\d(?:_?\d)*$/.test(text);
    // Python 3 refuses leading zeros in a non-zero decimal int (`007`).
    if (isInt && /^0+[1-9_]/.test(text) && !/^0+$/.test(text.replace(/_/g, ''))) return fail();
    this.pos += text.length;
    this.lastFloat = !isInt;
    return isInt ? pythonInt(text.replace(/_/g, '')) : Number(text.replace(/_/g, ''));
  }

  /** One or more adjacent string literals, concatenated (all str or all bytes). */
  private parseStrings(): string | BytesValue {
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
    return kind === 'bytes' ? new BytesValue(out) : out;
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
