/**
 * The views of `rig inventory`, in the exact shapes `ansible-inventory` prints: `--list` (script JSON with
 * `_meta.hostvars`), `--graph` (the `@group:` tree) and `--host` (one host's merged vars). Pure functions over an
 * Inventory; the command in src/cli/commands/inventory-command.ts prints them.
 */
import { isSecretVarName } from '../core/secret-var-name.ts';
import { PatternError } from '../errors.ts';
import { INTERNAL_VARS } from './internal-vars.ts';
import { UnsafeText } from './ansible-values.ts';
import { compareCodePoints, formatPythonJson } from './python-json.ts';
import type { Inventory } from './types.ts';


export interface InventoryViewOptions {
  /** Only these hosts (the result of `--limit`); undefined = every host. */
  readonly hosts?: ReadonlySet<string>;
  /** Print values of password/token/secret-named variables. @default false (masked as `********`) */
  readonly showSecrets?: boolean;
}

/** A host's variables as ansible-inventory prints them: without its internal names. */
function printedVars(vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !INTERNAL_VARS.has(k)));
}

/** Mask values of secret-looking variable names (top level only, as they appear in inventories). */
export function maskSecretVars(vars: Readonly<Record<string, unknown>>, show = false): Record<string, unknown> {
  if (show) return { ...vars };
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, isSecretVarName(k) && v !== '' && v !== null ? '********' : v]));
}

/** Sort object keys recursively by code point, as Python's `json.dumps(sort_keys=True)` does. */
export function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === 'object' && !(v instanceof UnsafeText)) {
    return Object.fromEntries(Object.keys(v).sort(compareCodePoints).map((k) => [k, sortKeysDeep((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Ansible's JSON text: keys sorted, 4-space indent, non-ASCII kept, Python's ints, floats, NaN and Infinity. */
export function formatAnsibleJson(v: unknown): string {
  return formatPythonJson(v);
}

/** `ansible-inventory --list`: groups with `hosts`/`children` (empty ones left out), `_meta.hostvars` (hosts with vars). */
export function listInventory(inv: Inventory, options: InventoryViewOptions = {}): Record<string, unknown> {
  const keep = (h: string): boolean => !options.hosts || options.hosts.has(h);
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const format = (name: string): void => {
    const g = inv.groups.get(name);
    if (!g) return;
    const entry: { hosts?: string[]; children?: string[] } = {};
    if (name !== 'all') {
      const hosts = g.hosts.filter(keep);
      if (hosts.length) entry.hosts = hosts;
    }
    const children: string[] = [];
    for (const c of g.children) {
      children.push(c);
      if (!seen.has(c)) { seen.add(c); format(c); }
    }
    if (children.length) entry.children = children;
    if (Object.keys(entry).length) out[name] = entry;
  };
  format('all');
  const hostvars: Record<string, unknown> = {};
  for (const h of inv.hosts) {
    const vars = printedVars(h.vars);
    if (!keep(h.name) || !Object.keys(vars).length) continue;
    hostvars[h.name] = maskSecretVars(vars, options.showSecrets);
  }
  out['_meta'] = { hostvars };
  return out;
}

/** `ansible-inventory --graph [GROUP]`: the group tree from GROUP (default all), hosts under each group but all. */
export function graphInventory(inv: Inventory, start = 'all', options: InventoryViewOptions & { readonly vars?: boolean } = {}): string {
  if (!inv.groups.has(start)) {
    throw new PatternError(`--graph ${start}: no such group`, { hint: `groups: ${[...inv.groups.keys()].join(', ')}` });
  }
  const keep = (h: string): boolean => !options.hosts || options.hosts.has(h);
  const name = (text: string, depth: number): string => (depth ? `${'  |'.repeat(depth)}--${text}` : text);
  const showVars = (vars: Readonly<Record<string, unknown>>, depth: number): string[] =>
    Object.keys(vars).sort().map((k) => name(`{${k} = ${pythonRepr(maskSecretVars(vars, options.showSecrets)[k])}}`, depth));
  const lines: string[] = [];
  const walk = (g: string, depth: number): void => {
    const group = inv.groups.get(g)!;
    lines.push(name(`@${g}:`, depth));
    for (const c of group.children) walk(c, depth + 1);
    if (g !== 'all') {
      for (const h of group.hosts.filter(keep)) {
        lines.push(name(h, depth + 1));
        if (options.vars) lines.push(...showVars(inv.getHost(h).vars, depth + 2));
      }
    }
    if (options.vars) lines.push(...showVars(group.vars, depth + 1));
  };
  walk(start, 0);
  return lines.join('\n');
}

/** `ansible-inventory --host NAME`: the host's merged variables. */
export function hostInventory(inv: Inventory, host: string, options: InventoryViewOptions = {}): Record<string, unknown> {
  if (options.hosts && !options.hosts.has(host)) {
    throw new PatternError(`--host ${host} is not among the hosts selected by --limit`, { hint: 'widen --limit or leave it out' });
  }
  return maskSecretVars(printedVars(inv.getHost(host).vars), options.showSecrets);
}

/** Python's repr of a value, as `--graph --vars` prints it (`{x = True}`, `{l = [1, 2]}`, `{s = abc}` for strings). */
function pythonRepr(v: unknown, nested = false): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (v instanceof UnsafeText) return pythonRepr(v.text, nested);
  if (typeof v === 'string') return nested ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v;
  if (Array.isArray(v)) return `[${v.map((x) => pythonRepr(x, true)).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pythonRepr(k, true)}: ${pythonRepr(x, true)}`).join(', ')}}`;
  return String(v);
}
