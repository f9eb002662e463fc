import { InventoryError } from '../errors.ts';
import { expandHostnameRange } from './host-pattern.ts';
import { UnsafeText } from './ansible-values.ts';
import { formatPythonJson, setKey } from './python-json.ts';

/**
 * Inventory as read from its sources, before variables are merged — the same model as Ansible's InventoryData:
 * groups with their direct hosts and child groups in the order they were added, one variable dict per host (a
 * later line setting the same host's variable updates it), group variables and `ansible_group_priority`.
 */
export interface RawGroup {
  readonly name: string;
  /** Hosts directly in this group, in order of addition. */
  readonly hosts: Set<string>;
  /** Child groups, in order of addition. */
  readonly children: Set<string>;
  readonly vars: Record<string, unknown>;
  /** `ansible_group_priority` set in the inventory source. @default 1 */
  priority: number;
}

export interface RawInventory {
  readonly groups: Map<string, RawGroup>;
  /** Every host, in order of first appearance, with its inline variables (`host:PORT` sets `ansible_port`). */
  readonly hosts: Map<string, Record<string, unknown>>;
  readonly warnings: string[];
  /** Where each host's inline variables were set: host → var → value text and "file:line". */
  readonly varOrigins: Map<string, Map<string, { readonly value: string; readonly at: string }>>;
}

export function createRawInventory(): RawInventory {
  const inv: RawInventory = { groups: new Map(), hosts: new Map(), warnings: [], varOrigins: new Map() };
  ensureGroup(inv, 'all');
  ensureGroup(inv, 'ungrouped');
  inv.groups.get('all')!.children.add('ungrouped'); // as Ansible: ungrouped is always all's first child
  return inv;
}

export function ensureGroup(inv: RawInventory, name: string): RawGroup {
  let g = inv.groups.get(name);
  if (!g) { g = { name, hosts: new Set(), children: new Set(), vars: {}, priority: 1 }; inv.groups.set(name, g); }
  return g;
}

function ancestorsOf(inv: RawInventory, group: string): Set<string> {
  const acc = new Set<string>();
  const visit = (g: string): void => {
    for (const p of inv.groups.values()) if (p.children.has(g) && !acc.has(p.name)) { acc.add(p.name); visit(p.name); }
  };
  visit(group);
  return acc;
}

/** Ansible's `add_child`: a group under a group; a loop (or a group under itself) is an error. */
export function addChildGroup(inv: RawInventory, parent: string, child: string, at?: { readonly file: string; readonly line?: number }): void {
  const where = at ? { file: at.file, ...(at.line ? { line: at.line } : {}) } : {};
  if (parent === child) throw new InventoryError(`group ${child} cannot be a child of itself`, { ...where, hint: 'remove it from its own children' });
  const p = ensureGroup(inv, parent);
  if (p.children.has(child)) return;
  if (ancestorsOf(inv, parent).has(child)) {
    throw new InventoryError(`adding group ${child} as a child of ${parent} creates a loop`, { ...where, hint: 'a group cannot be its own ancestor' });
  }
  ensureGroup(inv, child);
  p.children.add(child);
}

/** Python's `int(value)` for `ansible_group_priority`. */
function priorityOf(value: unknown): number {
  if (value instanceof UnsafeText) return priorityOf(value.text);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^\s*[-+]?\d(?:_?\d)*\s*$/.test(value)) return Number(value.trim().replace(/_/g, ''));
  throw new Error(`ansible_group_priority must be an integer, not ${formatPythonJson(value).split('\n').join(' ')}`);
}

/** A group variable from the inventory source; `ansible_group_priority` sets the priority instead. */
export function setGroupVar(inv: RawInventory, group: string, key: string, value: unknown, at?: { readonly file: string; readonly line?: number }): void {
  const g = ensureGroup(inv, group);
  if (key === 'ansible_group_priority') {
    try { g.priority = priorityOf(value); } catch (e) {
      throw new InventoryError(`${(e as Error).message} (group ${group})`, { ...(at ? { file: at.file, ...(at.line ? { line: at.line } : {}) } : {}), hint: 'write a whole number, e.g. ansible_group_priority=10' });
    }
    return;
  }
  setKey(g.vars, key, value);
}

/**
 * Add a host to a group (created if needed) with its inline vars, as Ansible's `add_host` then `set_variable`:
 * `port` (from `host:PORT`) counts only when the host is new. The same host given a different value for the same
 * variable in two places is an error (Ansible silently keeps the last one; on a production inventory that is
 * almost always a copy-paste mistake): it names both places.
 */
export function addHost(inv: RawInventory, group: string, host: string, vars: Readonly<Record<string, unknown>>, at?: { readonly file: string; readonly line?: number }, port?: number): void {
  const where = at ? (at.line ? `${at.file}:${at.line}` : at.file) : 'inventory';
  let hv = inv.hosts.get(host);
  if (!hv) {
    hv = {};
    inv.hosts.set(host, hv);
    if (port) hv['ansible_port'] = port;
  }
  ensureGroup(inv, group).hosts.add(host);
  // Ansible's set_variable looks the name up among groups first: the inline variables of a host that has the name
  // of an existing group go to that group (a surprising but real behaviour, kept for identical results).
  if (inv.groups.has(host)) {
    for (const [k, v] of Object.entries(vars)) setGroupVar(inv, host, k, v, at);
    return;
  }
  const origins = inv.varOrigins.get(host) ?? new Map<string, { value: string; at: string }>();
  inv.varOrigins.set(host, origins);
  for (const [k, v] of Object.entries(vars)) {
    const text = formatPythonJson(v);
    const prev = origins.get(k);
    if (prev && prev.value !== text) {
      throw new InventoryError(`host ${host} is declared twice with conflicting values for ${k}: ${prev.value} (${prev.at}) and ${text} (${where})`, {
        ...(at ? { file: at.file, ...(at.line ? { line: at.line } : {}) } : {}),
        hint: `keep one value for ${k}, or move it to host_vars/${host}.yml`,
      });
    }
    if (!prev) origins.set(k, { value: text, at: where });
  }
  for (const [k, v] of Object.entries(vars)) setKey(hv, k, v);
}

/** Expand Ansible host ranges (`node[01:03]`, `[a:c]`, `[1:10:2]`, several per name). Throws Ansible's message. */
export function expandHostRange(pattern: string): string[] {
  return pattern.includes('[') ? expandHostnameRange(pattern) : [pattern];
}
