/**
 * Ansible YAML inventories (`all: { hosts, vars, children }`, other top-level keys are groups), walked exactly as
 * ansible-core 2.14's yaml plugin walks them: keys in file order, a string where a mapping is expected becomes
 * `{string: null}`, entries that are not mappings are skipped with a warning, host keys may carry a port and ranges.
 */
import { InventoryError } from '../errors.ts';
import { expandHostPattern } from './host-pattern.ts';
import { loadAnsibleData, NON_STRING_KEY } from './load-ansible-yaml.ts';
import { UnsafeText } from './ansible-values.ts';
import { orderedEntries } from './python-json.ts';
import { addChildGroup, addHost, createRawInventory, ensureGroup, setGroupVar, type RawInventory } from './raw-inventory.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof UnsafeText);
const nonStringKeys = (o: Obj): ReadonlySet<string> => (o as { [NON_STRING_KEY]?: Set<string> })[NON_STRING_KEY] ?? new Set();
const typeName = (v: unknown): string => (Array.isArray(v) ? 'list' : v instanceof UnsafeText ? 'str' : v === null ? 'None' : typeof v === 'string' ? 'str' : typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'bigint' ? 'int' : 'dict');

/** Parse an Ansible YAML (or JSON) inventory into `into`. Errors name the file (and line for YAML syntax). */
export function parseYamlInventory(text: string, file: string, into: RawInventory = createRawInventory()): RawInventory {
  const data = loadAnsibleData(text, file);
  const fail = (message: string, hint: string): never => { throw new InventoryError(message, { file, hint }); };
  if (data === null || data === undefined || data === false || data === 0 || data === '' || (isObj(data) && !Object.keys(data).length) || (Array.isArray(data) && !data.length)) {
    fail('the YAML inventory is empty', 'start with `all:` and put hosts under `hosts:`');
  }
  if (!isObj(data)) return fail(`a YAML inventory must be a mapping of group names, not a ${typeName(data)}`, 'start with `all:` and put hosts under `hosts:`');
  if (data['plugin']) fail('this is an inventory plugin configuration (it has a `plugin:` key), not a YAML inventory', 'rig reads static INI and YAML inventories only');
  const walk = (name: string, body: unknown, nameIsText: boolean): string => {
    if (!isObj(body) && body !== null) {
      into.warnings.push(`${file}: skipping '${name}' as this is not a valid group definition`);
      return name;
    }
    if (!nameIsText || !name) fail(`invalid group name ${name || '(empty)'}: a group name must be text`, 'quote the group name');
    ensureGroup(into, name);
    if (body === null) return name;
    for (const section of ['vars', 'children', 'hosts']) {
      if (!(section in body)) continue;
      const v = body[section];
      if (typeof v === 'string' || v instanceof UnsafeText) body[section] = { [String(v)]: null }; // no order to keep: one key
      else if (v !== null && !isObj(v)) fail(`invalid "${section}" entry for group "${name}": it must be a mapping, not a ${typeName(v)}`, section === 'hosts' ? 'write `hosts: { w1: {}, w2: {} }`' : `write \`${section}:\` as a mapping`);
    }
    for (const [key, value] of orderedEntries(body)) {
      if (value === null) continue;
      if (!isObj(value)) {
        into.warnings.push(`${file}: skipping key (${key}) in group (${name}) as it is not a mapping, it is a ${typeName(value)}`);
        continue;
      }
      if (key === 'vars') {
        for (const [k, v] of orderedEntries(value)) setGroupVar(into, name, k, v, { file });
      } else if (key === 'children') {
        const odd = nonStringKeys(value);
        for (const [c, cb] of orderedEntries(value)) {
          const child = walk(c, cb, !odd.has(c));
          // as Ansible's add_child: a known group becomes a child; a known host joins the group; anything else fails
          if (into.groups.has(child)) addChildGroup(into, name, child, { file });
          else if (into.hosts.has(child)) ensureGroup(into, name).hosts.add(child);
          else fail(`children of group "${name}": ${child} is not a known host nor group`, `make ${child} a mapping (\`${child}: {}\`) to define the group`);
        }
      } else if (key === 'hosts') {
        const odd = nonStringKeys(value);
        for (const [h, vars] of orderedEntries(value)) {
          if (odd.has(h)) fail(`host pattern ${h} must be a string: enclose integers, floats, booleans and null in quotation marks`, `write "${h}":`);
          let names: string[]; let port: number | undefined;
          try { ({ names, port } = expandHostPattern(h)); } catch (e) { return fail(`bad host range in ${h}: ${(e as Error).message}`, 'ranges are [start:end] or [start:end:step], e.g. node[01:20]'); }
          const hv = vars === null || vars === undefined || vars === false || vars === 0 || vars === '' || (Array.isArray(vars) && !vars.length) ? {} : vars;
          if (!isObj(hv)) fail(`variables of host "${h}" must be a mapping, not a ${typeName(hv)}`, `write ${h}: { var: value }`);
          if (!names.length && h.includes('[')) into.warnings.push(`${file}: host range ${h} stands for no host`);
          for (const n of names) {
            if (!n) fail('empty host name', 'write a host name');
            addHost(into, name, n, hv as Obj, { file }, port);
          }
        }
      } else {
        into.warnings.push(`${file}: skipping unexpected key (${key}) in group (${name}), only "vars", "children" and "hosts" are valid`);
      }
    }
    return name;
  };
  const odd = nonStringKeys(data);
  for (const [name, body] of orderedEntries(data)) walk(name, body, !odd.has(name));
  return into;
}
