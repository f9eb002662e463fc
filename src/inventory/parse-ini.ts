/**
 * Ansible INI inventories, read line by line exactly as ansible-core 2.14's ini plugin does: Python's line splitting
 * and whitespace, `shlex` host lines, `host:PORT` only on a valid address, values through `ast.literal_eval`,
 * `[group:children]` entries that may be declared later in the file, and every error with file:line.
 */
import { InventoryError } from '../errors.ts';
import { expandHostPattern } from './host-pattern.ts';
import { evalPythonLiteral } from './python-literal.ts';
import { UnusableValue } from './ansible-values.ts';
import { setKey } from './python-json.ts';
import { addChildGroup, addHost, createRawInventory, ensureGroup, setGroupVar, type RawInventory } from './raw-inventory.ts';

const SHLEX_SPACE = ' \t\r\n';

/**
 * Split a line like Python's `shlex.split(line, comments=True)` (what Ansible uses for host lines): quotes group,
 * a backslash escapes outside quotes and only `"`/`\\` inside double quotes, `#` outside quotes ends the line.
 * Throws on an unterminated quote or a final backslash, as Python does.
 */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = ''; let inWord = false; let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"') {
        if (i + 1 >= line.length) throw new Error('No closing quotation');
        const next = line[++i]!;
        cur += next === '"' || next === '\\' ? next : `\\${next}`;
      } else cur += ch;
    } else if (ch === '"' || ch === "'") { quote = ch; inWord = true; }
    else if (ch === '#') break;
    else if (ch === '\\') {
      if (i + 1 >= line.length) throw new Error('No escaped character');
      cur += line[++i]; inWord = true;
    } else if (SHLEX_SPACE.includes(ch)) { if (inWord) { out.push(cur); cur = ''; inWord = false; } }
    else { cur += ch; inWord = true; }
  }
  if (quote) throw new Error('No closing quotation');
  if (inWord) out.push(cur);
  return out;
}

/** Python's `str.splitlines()`: \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029 end a line. */
export function splitPythonLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines.length && lines.at(-1) === '') lines.pop();
  return lines;
}

const PY_SPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** Python's `str.strip()`. */
export function pyStrip(s: string): string {
  let a = 0; let b = s.length;
  while (a < b && PY_SPACE.includes(s[a]!)) a++;
  while (b > a && PY_SPACE.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/**
 * Ansible passes INI values through Python's `ast.literal_eval`; what does not evaluate stays a string. A literal
 * Ansible cannot print (a set, a complex number) becomes an UnusableValue, refused if it reaches a host's variables.
 */
export function parseIniValue(raw: string, at?: string): unknown {
  const r = evalPythonLiteral(raw);
  if (r?.fatal) throw new Error(`${raw}: ${r.fatal} (Python's literal_eval refuses it)`);
  if (r?.problem) return new UnusableValue(raw, r.problem, at);
  return r ? r.value : raw;
}

const SECTION = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(?:#.*)?$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/u;

/** Parse an Ansible INI inventory into `into`. Errors name the file and line. */
export function parseIniInventory(text: string, file: string, into: RawInventory = createRawInventory()): RawInventory {
  let group = 'ungrouped';
  let state = 'hosts';
  let line = 0;
  const pending = new Map<string, { line: number; state: string; parents: string[] }>();
  const fail = (message: string, hint: string, at = line): never => { throw new InventoryError(message, { file, line: at, hint }); };
  const addPendingChildren = (g: string): void => {
    for (const parent of pending.get(g)!.parents) {
      addChildGroup(into, parent, g, { file, line });
      if (pending.get(parent)?.state === 'children') addPendingChildren(parent);
    }
    pending.delete(g);
  };
  for (const raw of splitPythonLines(text)) {
    line++;
    const t = pyStrip(raw);
    if (!t || t[0] === ';' || t[0] === '#') continue;
    const m = SECTION.exec(t);
    if (m) {
      group = m[1]!;
      state = m[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) fail(`section [${group}:${state}] has unknown type: ${state}`, 'write [group], [group:vars] or [group:children]');
      if (!into.groups.has(group)) {
        if (state === 'vars' && !pending.has(group)) pending.set(group, { line, state, parents: [] });
        ensureGroup(into, group);
      }
      const p = pending.get(group);
      if (p && state !== 'vars') {
        if (p.state === 'children') addPendingChildren(group);
        else pending.delete(group);
      }
      continue;
    }
    if (t.startsWith('[') && t.endsWith(']')) fail(`invalid section entry: ${t}`, 'a section is [group], [group:vars] or [group:children], with no spaces');
    if (state === 'hosts') {
      let words: string[];
      try { words = splitWords(t); } catch (e) { return fail(`cannot parse host line: ${(e as Error).message} in: ${t}`, 'close the quote, or escape the character'); }
      if (!words.length) fail(`empty host entry: ${t}`, 'write a host name first');
      const [spec, ...rest] = words as [string, ...string[]];
      const vars: Record<string, unknown> = {};
      let names: string[]; let port: number | undefined;
      try { ({ names, port } = expandHostPattern(spec)); } catch (e) { return fail(`bad host range in ${spec}: ${(e as Error).message}`, 'ranges are [start:end] or [start:end:step], e.g. node[01:20]'); }
      if (pyStrip(spec).endsWith(':') && port === undefined) fail(`invalid host entry "${spec}": a final ':' must be followed by a port`, 'write host:PORT, or remove the colon');
      if (names.some((n) => pyStrip(n) === '---')) fail(`invalid host entry "${spec}": '---' is normally a sign this is a YAML file`, 'name YAML inventories .yml or .yaml');
      for (const w of rest) {
        const eq = w.indexOf('=');
        if (eq < 0) fail(`expected key=value host variable, found "${w}"`, 'host variables are written name=value after the host name');
        try { setKey(vars, w.slice(0, eq), parseIniValue(w.slice(eq + 1), `${file}:${line}`)); } catch (e) { return fail((e as Error).message, 'quote the value to keep it as text'); }
      }
      if (!names.length && spec.includes('[')) into.warnings.push(`${file}:${line}: host range ${spec} stands for no host`);
      for (const n of names) {
        if (!n) fail('empty host name', 'write a host name first');
        addHost(into, group, n, vars, { file, line }, port);
      }
    } else if (state === 'vars') {
      const eq = t.indexOf('=');
      if (eq < 0) fail(`expected key=value in [${group}:vars], found "${t}"`, 'group variables are written name=value');
      let value: unknown;
      try { value = parseIniValue(pyStrip(t.slice(eq + 1)), `${file}:${line}`); } catch (e) { return fail((e as Error).message, 'quote the value to keep it as text'); }
      setGroupVar(into, group, pyStrip(t.slice(0, eq)), value, { file, line });
    } else {
      const gm = GROUP_NAME.exec(t);
      if (!gm) fail(`expected a group name in [${group}:children], found "${t}"`, 'list one child group per line');
      const child = gm![1]!;
      if (!into.groups.has(child)) {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { line, state, parents: [group] });
      } else addChildGroup(into, group, child, { file, line });
    }
  }
  for (const [name, decl] of pending) {
    if (decl.state === 'vars') fail(`section [${name}:vars] is for a group that is never defined: ${name}`, `add a [${name}] or [${name}:children] section, or remove [${name}:vars]`, decl.line);
    fail(`section [${decl.parents.at(-1)}:children] names group "${name}", which has no section in this file`, `add a [${name}] section, or remove it from the children list`, decl.line);
  }
  return into;
}
