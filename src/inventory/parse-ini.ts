import { InventoryError } from '../errors.ts';
import { evalPythonLiteral } from './python-literal.ts';
import { addHost, createRawInventory, ensureGroup, expandHostRange, type RawInventory } from './raw-inventory.ts';

/**
 * Split a line like Python's `shlex.split(line, comments=True)` (what Ansible uses for host lines): quotes group,
 * a backslash escapes outside quotes and only `"`/`\\` inside double quotes, `#` outside quotes ends the line.
 * Throws on an unterminated quote.
 */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = ''; let inWord = false; let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") { quote = ch; inWord = true; }
    else if (ch === '#') break;
    else if (ch === '\\' && i + 1 < line.length) { cur += line[++i]; inWord = true; }
    else if (/\s/.test(ch)) { if (inWord) { out.push(cur); cur = ''; inWord = false; } }
    else { cur += ch; inWord = true; }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inWord) out.push(cur);
  return out;
}

/** Ansible passes INI values through Python's `ast.literal_eval`; what does not evaluate stays a string. */
export function parseIniValue(raw: string): unknown {
  const r = evalPythonLiteral(raw);
  return r ? r.value : raw;
}

function parseKeyValues(words: readonly string[], file: string, line: number): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InventoryError(`expected key=value, found "${w}"`, { file, line, hint: 'host variables are written name=value after the host name' });
    vars[w.slice(0, eq)] = parseIniValue(w.slice(eq + 1));
  }
  return vars;
}

/** Parse an Ansible INI inventory. Errors name the file and line. */
export function parseIniInventory(text: string, file: string, into: RawInventory = createRawInventory()): RawInventory {
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const declared = new Set<string>(['all', 'ungrouped']);
  const childRefs: Array<{ child: string; line: number }> = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const t = raw.trim();
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    if (t.startsWith('[')) {
      const m = /^\[([^\]:\s]+)(?::(vars|children))?\]\s*(?:[#;].*)?$/.exec(t);
      if (!m) throw new InventoryError(`malformed section header: ${t}`, { file, line, hint: 'write [group], [group:vars] or [group:children]' });
      section = m[1]!;
      kind = (m[2] as 'vars' | 'children' | undefined) ?? 'hosts';
      ensureGroup(into, section);
      declared.add(section);
      continue;
    }
    let words: string[];
    try { words = splitWords(t); } catch (e) {
      throw new InventoryError(`${(e as Error).message} in: ${t}`, { file, line, hint: 'close the quote' });
    }
    if (!words.length) continue;
    if (kind === 'vars') {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new InventoryError(`expected key=value in [${section}:vars], found "${t}"`, { file, line, hint: 'group variables are written name=value' });
      ensureGroup(into, section).vars[t.slice(0, eq).trim()] = parseIniValue(t.slice(eq + 1).trim());
    } else if (kind === 'children') {
      ensureGroup(into, section).children.add(words[0]!);
      childRefs.push({ child: words[0]!, line });
    } else {
      const [spec, ...rest] = words as [string, ...string[]];
      const vars = parseKeyValues(rest, file, line);
      const pm = /^(.*?)(?::(\d+|[^:\]]+))?$/.exec(spec)!;
      let name = spec;
      if (!spec.startsWith('[') && /:[^:\]]*$/.test(spec) && !spec.includes('::')) {
        name = pm[1]!;
        const port = pm[2]!;
        if (!/^\d+$/.test(port)) throw new InventoryError(`bad port "${port}" for host ${name}`, { file, line, hint: 'write host:PORT with a number' });
        vars['ansible_port'] = Number(port);
      }
      let names: string[];
      try { names = expandHostRange(name); } catch (e) { throw new InventoryError((e as Error).message, { file, line, hint: 'ranges are [start:end] with start ≤ end, e.g. node[01:20]' }); }
      for (const n of names) addHost(into, section, n, vars, { file, line });
    }
  }
  for (const { child, line } of childRefs) {
    if (!declared.has(child)) throw new InventoryError(`children entry names group "${child}", which has no section in this file`, { file, line, hint: `add a [${child}] section, or remove it from the children list` });
  }
  return into;
}
