import { UnsafeText, VaultText, wrapUnsafe } from './ansible-values.ts';

/**
 * JSON as Python's `json` module reads and writes it, for inventory data that Ansible loads JSON-first (vars files,
 * `.json` inventories) and for the exact text `ansible-inventory --list` prints. Python ints have arbitrary precision:
 * integers beyond JavaScript's safe range are BigInt. `NaN` and `Infinity` are accepted and printed, floats print as
 * Python's `repr` (`1e-07`, `1e+16`). A string marked `!unsafe` (UnsafeText) prints as `{"__ansible_unsafe": ...}`.
 */

const KEY_ORDER = Symbol('key order');

/**
 * The entries of a mapping in file order. A JavaScript object lists integer-like keys ("1", "10") first; mappings
 * read from YAML and JSON remember their real order, which decides the order of groups and hosts.
 */
export function orderedEntries(obj: Readonly<Record<string, unknown>>): Array<[string, unknown]> {
  const order = (obj as { [KEY_ORDER]?: string[] })[KEY_ORDER];
  return order ? order.map((k) => [k, obj[k]]) : Object.entries(obj);
}

/** Remember the order in which keys were first set (see orderedEntries). */
export function rememberKeyOrder(obj: Record<string, unknown>, keys: readonly string[]): void {
  const seen = [...new Set(keys)];
  Object.defineProperty(obj, KEY_ORDER, { value: seen, enumerable: false, configurable: true });
}

/** An integer as Python holds it: a number when exact, a BigInt beyond 2^53. */
export function pythonInt(digits: string | bigint): number | bigint {
  const b = typeof digits === 'bigint' ? digits : BigInt(digits);
  const n = Number(b);
  return Number.isSafeInteger(n) ? (n === 0 ? 0 : n) : b;
}

/** Set a key on a plain object without `__proto__` or numeric-key surprises of assignment. */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

class JsonSyntax extends Error {}

/** Python's `json.loads` (with Ansible's `__ansible_unsafe` hook); undefined when Python would raise. */
export function parsePythonJson(text: string): { readonly value: unknown } | undefined {
  let i = 0;
  const fail = (): never => { throw new JsonSyntax(); };
  const ws = (): void => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const str = (): string => {
    i++;
    let out = '';
    for (;;) {
      const ch = text[i++];
      if (ch === undefined) return fail();
      if (ch === '"') return out;
      if (ch < ' ') return fail();
      if (ch !== '\\') { out += ch; continue; }
      const e = text[i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) { out += simple[e]; continue; }
      if (e !== 'u' || !/^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) return fail();
      out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16));
      i += 4;
    }
  };
  const value = (): unknown => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const keys: string[] = [];
      rememberKeyOrder(obj, keys);
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') return fail();
        const k = str();
        ws();
        if (text[i++] !== ':') return fail();
        keys.push(k);
        rememberKeyOrder(obj, keys);
        setKey(obj, k, value());
        ws();
        const sep = text[i++];
        if (sep === '}') break;
        if (sep !== ',') return fail();
      }
      return '__ansible_unsafe' in obj ? wrapUnsafe(obj['__ansible_unsafe']) : obj;
    }
    if (ch === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') return fail();
      }
    }
    if (ch === '"') return str();
    for (const [word, v] of [['true', true], ['false', false], ['null', null], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i));
    if (!m) return fail();
    i += m[0].length;
    return m[2] === undefined && m[3] === undefined ? pythonInt(m[1]!) : Number(m[0]);
  };
  try {
    const v = value();
    ws();
    if (i !== text.length) return undefined;
    return { value: v };
  } catch (e) {
    if (e instanceof JsonSyntax) return undefined;
    throw e;
  }
}

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 ≤ |x| < 1e16, else `1e+16`. */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const [mant, expText] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    return `${sign}${int}.${digits.slice(exp + 1) || '0'}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Compare strings by code point, as Python sorts them. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a]; const y = [...b];
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    const d = x[k]!.codePointAt(0)! - y[k]!.codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

/**
 * `json.dumps(v, sort_keys=True, indent=4, ensure_ascii=False)` with Ansible's encoder: what `ansible-inventory`
 * prints. A JavaScript number that is an integer below 1e16 prints as an int (a Python float with no fraction,
 * `3.0`, cannot be told apart from `3` once read).
 */
export function formatPythonJson(v: unknown, indent = ''): string {
  const inner = `${indent}    `;
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e16 && !Object.is(v, -0) ? String(v) : pythonFloatRepr(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof UnsafeText) return formatPythonJson({ __ansible_unsafe: v.text }, indent);
  if (v instanceof VaultText) return formatPythonJson({ __ansible_vault: v.text }, indent);
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => `${inner}${formatPythonJson(x, inner)}`).join(',\n')}\n${indent}]` : '[]';
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareCodePoints);
    if (!keys.length) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${formatPythonJson((v as Record<string, unknown>)[k], inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(String(v));
}
