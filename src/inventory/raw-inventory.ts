import { InventoryError } from '../errors.ts';

/** Inventory as read from files, before variables are merged: groups with their direct hosts, children and vars. */
export interface RawGroup {
  readonly name: string;
  /** host name → inline vars (in order of appearance) */
  readonly hosts: Map<string, Record<string, unknown>>;
  readonly children: Set<string>;
  vars: Record<string, unknown>;
}

export interface RawInventory {
  readonly groups: Map<string, RawGroup>;
  /** Every host name in order of first appearance. */
  readonly hostOrder: string[];
  readonly warnings: string[];
  /** Where each host's inline variables were first set: host → var → "file:line". */
  readonly varOrigins: Map<string, Map<string, { readonly value: string; readonly at: string }>>;
}

export function createRawInventory(): RawInventory {
  const inv: RawInventory = { groups: new Map(), hostOrder: [], warnings: [], varOrigins: new Map() };
  ensureGroup(inv, 'all');
  ensureGroup(inv, 'ungrouped');
  inv.groups.get('all')!.children.add('ungrouped'); // as Ansible: ungrouped is always all's first child
  return inv;
}

export function ensureGroup(inv: RawInventory, name: string): RawGroup {
  let g = inv.groups.get(name);
  if (!g) { g = { name, hosts: new Map(), children: new Set(), vars: {} }; inv.groups.set(name, g); }
  return g;
}

/**
 * Add a host to a group with its inline vars. The same host declared again with a different value for the same
 * variable is an error (Ansible silently keeps the last one; on a production inventory that is almost always a
 * copy-paste mistake): it names both places.
 */
export function addHost(inv: RawInventory, group: string, host: string, vars: Record<string, unknown>, at?: { readonly file: string; readonly line?: number }): void {
  const where = at ? (at.line ? `${at.file}:${at.line}` : at.file) : 'inventory';
  const origins = inv.varOrigins.get(host) ?? new Map<string, { value: string; at: string }>();
  inv.varOrigins.set(host, origins);
  for (const [k, v] of Object.entries(vars)) {
    const text = JSON.stringify(v) ?? 'null';
    const prev = origins.get(k);
    if (prev && prev.value !== text) {
      throw new InventoryError(`host ${host} is declared twice with conflicting values for ${k}: ${prev.value} (${prev.at}) and ${text} (${where})`, {
        ...(at ? { file: at.file, ...(at.line ? { line: at.line } : {}) } : {}),
        hint: `keep one value for ${k}, or move it to host_vars/${host}.yml`,
      });
    }
    if (!prev) origins.set(k, { value: text, at: where });
  }
  const g = ensureGroup(inv, group);
  if (!inv.hostOrder.includes(host)) inv.hostOrder.push(host);
  g.hosts.set(host, { ...(g.hosts.get(host) ?? {}), ...vars });
}

/** Expand Ansible host ranges: `node[01:03]`, `[a:c]`, `[1:10:2]`, several per name. Throws a message on a bad range. */
export function expandHostRange(pattern: string): string[] {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, head, body, tail] = m as unknown as [string, string, string, string];
  const parts = body.split(':');
  if (parts.length < 2 || parts.length > 3) throw new Error(`bad host range [${body}]: expected [start:end] or [start:end:step]`);
  const [start, end, stepText] = parts as [string, string, string?];
  const step = stepText === undefined || stepText === '' ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new Error(`bad host range [${body}]: step must be a positive integer`);
  const out: string[] = [];
  const tails = expandHostRange(tail);
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const a = Number(start); const b = Number(end);
    if (a > b) throw new Error(`bad host range [${body}]: start ${start} is after end ${end}`);
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
    for (let i = a; i <= b; i += step) for (const t of tails) out.push(`${head}${String(i).padStart(width, '0')}${t}`);
  } else if (/^[a-z]$/i.test(start) && /^[a-z]$/i.test(end)) {
    const a = start.charCodeAt(0); const b = end.charCodeAt(0);
    if (a > b) throw new Error(`bad host range [${body}]: start ${start} is after end ${end}`);
    for (let i = a; i <= b; i += step) for (const t of tails) out.push(`${head}${String.fromCharCode(i)}${t}`);
  } else {
    throw new Error(`bad host range [${body}]: start and end must both be numbers or both single letters`);
  }
  return out;
}
