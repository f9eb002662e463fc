/**
 * Ansible's data loader (`DataLoader.load` → `from_yaml`): JSON first (Python's `json`), then YAML 1.1 resolved as
 * PyYAML's SafeConstructor and Ansible's AnsibleConstructor do. The `yaml` package only tokenizes (failsafe schema);
 * every plain scalar is typed here with PyYAML's own resolver regexes, so `y`/`n` and `1e3` stay strings, `0o17` and
 * `08` are strings, `017` is octal, `1:20` is 80, `.inf` is a float, timestamps print as Python's `isoformat()`,
 * big integers stay exact (BigInt), merge keys `<<` merge, duplicate keys keep the last value, `!unsafe` marks text,
 * and an unknown tag is an error as in Ansible.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { InventoryError } from '../errors.ts';
import { UnsafeText, UnusableValue, VaultText, wrapUnsafe } from './ansible-values.ts';
import { parsePythonJson, pythonFloatRepr, pythonInt, rememberKeyOrder, setKey } from './python-json.ts';

const T = 'tag:yaml.org,2002:';

const RESOLVERS: Array<[string, RegExp]> = [
  ['bool', /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/],
  ['float', /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/],
  ['int', /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/],
  ['merge', /^(?:<<)$/],
  ['null', /^(?:~|null|Null|NULL|)$/],
  ['timestamp', /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/],
  ['value', /^(?:=)$/],
];
const FIRST_CHARS: Record<string, string> = {
  bool: 'yYnNtTfFoO', float: '-+0123456789.', int: '-+0123456789', merge: '<', null: '~nN', timestamp: '0123456789', value: '=',
};

/** PyYAML's implicit tag of a plain scalar. */
export function resolvePlainTag(value: string): string {
  for (const [tag, re] of RESOLVERS) {
    if (value === '' ? tag !== 'null' : !FIRST_CHARS[tag]!.includes(value[0]!)) continue;
    if (re.test(value)) return T + tag;
  }
  return `${T}str`;
}

class ConstructError extends Error {}

function constructInt(text: string): number | bigint {
  let v = text.replace(/_/g, '');
  let sign = 1n;
  if (v[0] === '-') sign = -1n;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  try {
    if (v === '0') return 0;
    if (v.startsWith('0b')) return pythonInt(sign * BigInt(`0b${v.slice(2)}`));
    if (v.startsWith('0x')) return pythonInt(sign * BigInt(`0x${v.slice(2)}`));
    if (v[0] === '0') {
      if (!/^[0-7]+$/.test(v)) throw new Error();
      return pythonInt(sign * BigInt(`0o${v}`));
    }
    if (v.includes(':')) {
      let total = 0n; let base = 1n;
      for (const part of v.split(':').reverse()) { if (!/^\d+$/.test(part)) throw new Error(); total += BigInt(part) * base; base *= 60n; }
      return pythonInt(sign * total);
    }
    if (!/^\d+$/.test(v)) throw new Error();
    return pythonInt(sign * BigInt(v));
  } catch {
    throw new ConstructError(`invalid literal for int(): '${text}'`);
  }
}

function constructFloat(text: string): number {
  let v = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) {
    let total = 0; let base = 1;
    for (const part of v.split(':').reverse()) { total += Number(part) * base; base *= 60; }
    return sign * total;
  }
  if (!/^(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$|^(?:inf(?:inity)?|nan)$/.test(v)) throw new ConstructError(`could not convert string to float: '${text}'`);
  return sign * Number(v.startsWith('inf') ? Infinity : v === 'nan' ? NaN : v);
}

const TIMESTAMP = /^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$/;

/** PyYAML's timestamp as Python's `isoformat()` prints it (Ansible's JSON encoder does exactly that). */
function constructTimestamp(text: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new ConstructError(`not a timestamp: '${text}'`);
  const [, y, mo, d, hh, mi, ss, frac, tz, tzSign, tzH, tzM] = m;
  const year = Number(y); const month = Number(mo); const day = Number(d);
  const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days[month - 1]!) throw new ConstructError(`invalid date: '${text}'`);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const date = `${String(year).padStart(4, '0')}-${p2(month)}-${p2(day)}`;
  if (hh === undefined) return date;
  const hour = Number(hh); const minute = Number(mi); const second = Number(ss);
  if (hour > 23 || minute > 59 || second > 59) throw new ConstructError(`invalid time: '${text}'`);
  const micro = frac ? Number(frac.slice(0, 6).padEnd(6, '0')) : 0;
  let out = `${date}T${p2(hour)}:${p2(minute)}:${p2(second)}${micro ? `.${String(micro).padStart(6, '0')}` : ''}`;
  if (tzSign) {
    const h = Number(tzH); const mm = Number(tzM ?? 0);
    const total = h * 60 + mm;
    if (total >= 24 * 60) throw new ConstructError(`offset must be less than 24 hours: '${text}'`);
    out += `${tzSign === '-' && total ? '-' : '+'}${p2(Math.floor(total / 60))}:${p2(total % 60)}`;
  } else if (tz) out += '+00:00';
  return out;
}

const BOOLS: Record<string, boolean> = { yes: true, no: false, true: true, false: false, on: true, off: false };

function constructScalarTag(tag: string, value: string): unknown {
  switch (tag) {
    case `${T}str`: return value;
    case `${T}null`: return null;
    case `${T}bool`: {
      const b = BOOLS[value.toLowerCase()];
      if (b === undefined) throw new ConstructError(`not a boolean: '${value}'`);
      return b;
    }
    case `${T}int`: return constructInt(value);
    case `${T}float`: return constructFloat(value);
    case `${T}timestamp`: return constructTimestamp(value);
    default: throw new ConstructError(`could not determine a constructor for the tag '${tag}'`);
  }
}

/** A scalar that PyYAML makes a date or datetime (text here, but not a string to Ansible). */
function isTimestampNode(n: Node | null): boolean {
  if (!isScalar(n)) return false;
  if (n.tag) return n.tag === '!!timestamp' || n.tag === `${T}timestamp`;
  return n.type === 'PLAIN' && resolvePlainTag(String(n.value ?? '')) === `${T}timestamp`;
}

/** A mapping key as Python's `json` prints it (`1` → "1", `True` → "true", `None` → "null", `1.5` → "1.5"). */
function keyText(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k instanceof UnsafeText) return k.text;
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k === null || k === undefined) return 'null';
  if (typeof k === 'number') return Number.isInteger(k) && Math.abs(k) < 1e16 ? String(k) : pythonFloatRepr(k);
  if (typeof k === 'bigint') return String(k);
  throw new ConstructError('found unacceptable key (unhashable type)');
}

/** The keys of a mapping that were not text in YAML (ints, booleans, null): Ansible refuses them as group and host names. */
export const NON_STRING_KEY = Symbol('non-string keys');

function construct(doc: Document, node: Node | null | undefined, lc: LineCounter, file: string): unknown {
  const at = (n: Node | null | undefined, e: unknown): never => {
    if (e instanceof InventoryError) throw e;
    const line = n?.range ? lc.linePos(n.range[0]).line : undefined;
    throw new InventoryError(`YAML: ${(e as Error).message}`, { file, ...(line ? { line } : {}), hint: 'Ansible refuses this value too; quote it to keep it as text' });
  };
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(doc) as Node | undefined;
    if (!target) return at(node, new Error(`found undefined alias *${node.source}`));
    return construct(doc, target, lc, file);
  }
  const tag = node.tag === '!' ? `${T}str` : node.tag?.startsWith('!!') ? T + node.tag.slice(2) : node.tag;
  if (isScalar(node)) {
    const value = node.value === null || node.value === undefined ? '' : String(node.value);
    if (tag === '!unsafe') return new UnsafeText(value);
    if (tag === '!vault' || tag === '!vault-encrypted') return new VaultText(value);
    if (tag === `${T}binary`) return new UnusableValue(value, 'binary data (!!binary)', `${file}:${node.range ? lc.linePos(node.range[0]).line : ''}`);
    try {
      if (tag) return constructScalarTag(tag, value);
      if (node.type !== 'PLAIN') return value;
      return constructScalarTag(resolvePlainTag(value), value);
    } catch (e) { return at(node, e); }
  }
  if (tag && tag !== '!unsafe' && tag !== `${T}map` && tag !== `${T}seq` && tag !== `${T}omap`) {
    return at(node, new Error(`could not determine a constructor for the tag '${tag}'`));
  }
  let out: unknown;
  if (isSeq(node)) {
    if (tag === `${T}map`) return at(node, new Error('expected a mapping node, but found sequence'));
    out = node.items.map((x) => construct(doc, x as Node, lc, file));
  } else if (isMap(node)) {
    if (tag === `${T}seq`) return at(node, new Error('expected a sequence node, but found mapping'));
    const obj: Record<string, unknown> = {};
    const own: Array<[unknown, unknown, Node | null]> = [];
    const merged: Array<[unknown, unknown]> = [];
    for (const pair of node.items) {
      const kNode = pair.key as Node | null;
      if (isScalar(kNode) && !kNode.tag && kNode.type === 'PLAIN' && kNode.value === '<<') {
        let src = pair.value as Node | null;
        if (isAlias(src)) src = src.resolve(doc) as Node;
        const sources = isSeq(src) ? src.items.map((x) => (isAlias(x) ? x.resolve(doc) : x) as Node) : [src];
        for (const s of isSeq(src) ? [...sources].reverse() : sources) {
          if (!isMap(s)) return at(kNode, new Error('expected a mapping or list of mappings for merging'));
          merged.push(...Object.entries(construct(doc, s, lc, file) as Record<string, unknown>));
        }
        continue;
      }
      let key: unknown;
      try { key = construct(doc, kNode, lc, file); } catch (e) { return at(kNode, e); }
      own.push([key, pair.value, kNode]);
    }
    for (const [k, v] of merged) setKey(obj, k as string, v);
    const order = merged.map(([k]) => k as string);
    const nonString = new Set<string>();
    for (const [k, vNode, kNode] of own) {
      let text: string;
      try { text = keyText(k); } catch (e) { return at(node, e); }
      if ((typeof k !== 'string' && !(k instanceof UnsafeText)) || isTimestampNode(kNode)) nonString.add(text);
      else nonString.delete(text);
      setKey(obj, text, construct(doc, vNode as Node, lc, file));
      order.push(text);
    }
    rememberKeyOrder(obj, order);
    if (nonString.size) Object.defineProperty(obj, NON_STRING_KEY, { value: nonString, enumerable: false });
    out = obj;
  } else return null;
  return tag === '!unsafe' ? wrapUnsafe(out) : out;
}

/** YAML text as Ansible's loader reads it. Errors name the file and line. */
export function loadAnsibleYaml(text: string, file: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', version: '1.1', lineCounter: lc, prettyErrors: false, uniqueKeys: false, strict: false });
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    throw new InventoryError(`invalid YAML: ${err.message.split('\n')[0]}`, { file, line: pos.line, hint: 'fix the YAML syntax at that line' });
  }
  // PyYAML's composer refuses an anchor defined twice in one document (the yaml package lets the later one win)
  const anchors = new Set<string>();
  visit(doc, (_key, node) => {
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (!anchor) return;
    if (anchors.has(anchor)) {
      const range = (node as { range?: [number, number, number] }).range;
      throw new InventoryError(`invalid YAML: found duplicate anchor &${anchor}`, { file, ...(range ? { line: lc.linePos(range[0]).line } : {}), hint: 'give each anchor its own name' });
    }
    anchors.add(anchor);
  });
  return construct(doc, doc.contents as Node | null, lc, file);
}

/** `DataLoader.load`: JSON when the text is JSON (Python's rules), YAML otherwise. */
export function loadAnsibleData(text: string, file: string): unknown {
  const json = parsePythonJson(text);
  if (json) return json.value;
  return loadAnsibleYaml(text, file);
}
