import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { InventoryError } from '../errors.ts';
import { addHost, createRawInventory, ensureGroup, expandHostRange, type RawInventory } from './raw-inventory.ts';

/** Parse YAML text as Ansible does (YAML 1.1: yes/no are booleans). Errors carry file and line. */
export function parseYamlText(text: string, file: string): unknown {
  const lc = new LineCounter();
  if (/^\t/m.test(text)) {
    const line = text.split('\n').findIndex((l) => l.startsWith('\t')) + 1;
    throw new InventoryError('tab character used for indentation', { file, line, hint: 'indent YAML with spaces' });
  }
  const doc: Document = parseDocument(text, { version: '1.1', lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    throw new InventoryError(`invalid YAML: ${err.message.split('\n')[0]}`, { file, line: pos.line, hint: 'fix the YAML syntax at that line' });
  }
  return plainDates(doc.toJS({ maxAliasCount: 100 }));
}

/** YAML 1.1 timestamps become text, as Ansible prints them: a date as `2024-01-01`, a time in ISO 8601. */
function plainDates(v: unknown): unknown {
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (Array.isArray(v)) return v.map(plainDates);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainDates(x)]));
  return v;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse an Ansible YAML inventory (`all: { hosts, vars, children }`, other top-level keys are groups). */
export function parseYamlInventory(text: string, file: string, into: RawInventory = createRawInventory()): RawInventory {
  const data = parseYamlText(text, file);
  if (data === null || data === undefined) return into;
  if (!isObj(data)) throw new InventoryError('an inventory must be a mapping of group names', { file, line: 1, hint: 'start with `all:` and put hosts under `hosts:`' });
  const walk = (name: string, body: unknown, parent?: string): void => {
    const g = ensureGroup(into, name);
    if (parent && parent !== name) ensureGroup(into, parent).children.add(name);
    if (body === null || body === undefined) return;
    if (!isObj(body)) throw new InventoryError(`group "${name}" must be a mapping with hosts, vars or children`, { file, hint: 'e.g. workers: { hosts: { w1: {} } }' });
    for (const k of Object.keys(body)) {
      if (!['hosts', 'vars', 'children'].includes(k)) throw new InventoryError(`group "${name}" has unknown key "${k}"`, { file, hint: 'a group holds only hosts, vars and children' });
    }
    if (body['hosts'] !== undefined && body['hosts'] !== null) {
      if (!isObj(body['hosts'])) throw new InventoryError(`hosts of group "${name}" must be a mapping of host names (not a list)`, { file, hint: 'write `hosts: { w1: {}, w2: {} }`' });
      for (const [h, vars] of Object.entries(body['hosts'])) {
        if (vars !== null && vars !== undefined && !isObj(vars)) throw new InventoryError(`variables of host "${h}" must be a mapping`, { file });
        let names: string[];
        try { names = expandHostRange(h); } catch (e) { throw new InventoryError(`${(e as Error).message} (host "${h}")`, { file, hint: 'ranges are [start:end] with start ≤ end' }); }
        for (const n of names) addHost(into, name, n, (vars as Obj | null) ?? {}, { file });
      }
    }
    if (body['vars'] !== undefined && body['vars'] !== null) {
      if (!isObj(body['vars'])) throw new InventoryError(`vars of group "${name}" must be a mapping`, { file });
      g.vars = { ...g.vars, ...body['vars'] };
    }
    if (body['children'] !== undefined && body['children'] !== null) {
      if (!isObj(body['children'])) throw new InventoryError(`children of group "${name}" must be a mapping`, { file });
      for (const [c, cb] of Object.entries(body['children'])) walk(c, cb, name);
    }
  };
  for (const [name, body] of Object.entries(data)) walk(name, body);
  void isMap;
  return into;
}
