import { readFileSync } from 'node:fs';
import { isSecret, secret, type Secret } from '../core/secret.ts';
import { InventoryError, PatternError } from '../errors.ts';
import { INTERNAL_VARS } from './internal-vars.ts';
import { UnusableValue } from './ansible-values.ts';
import { compareCodePoints } from './python-json.ts';
import type { RawInventory } from './raw-inventory.ts';
import type { Group, Host, Inventory } from './types.ts';

function depths(raw: RawInventory): Map<string, number> {
  const d = new Map<string, number>([['all', 0]]);
  const visit = (g: string, depth: number, seen: Set<string>): void => {
    if ((d.get(g) ?? -1) < depth) d.set(g, depth);
    for (const c of raw.groups.get(g)?.children ?? []) if (!seen.has(c)) visit(c, depth + 1, new Set([...seen, c]));
  };
  visit('all', 0, new Set(['all']));
  return d;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const bool = (v: unknown): boolean | undefined => (v === undefined ? undefined : v === true || /^(true|yes|1|on)$/i.test(String(v)));

/** A password variable as a Secret (registered for masking); an empty or absent value is no password. */
function toSecret(v: unknown): Secret | undefined {
  if (isSecret(v)) return v;
  return v === undefined || v === null || v === '' ? undefined : secret(String(v));
}

/** Extract `-o ProxyJump=X` / `-J X` from ansible_ssh_common_args / ansible_ssh_extra_args. */
export function proxyJumpFromArgs(args: string | undefined): string | undefined {
  if (!args) return undefined;
  const m = /(?:-o\s*ProxyJump[= ]\s*|-J\s*)(["']?)([^\s"']+)\1/i.exec(args);
  return m?.[2];
}

/** group_vars/ and host_vars/ files, read when asked (a broken file of a group without hosts is never read, as in Ansible). */
export interface VarsFiles {
  group(name: string): Record<string, unknown>;
  host(name: string): Record<string, unknown>;
}

const NO_VARS_FILES: VarsFiles = { group: () => ({}), host: () => ({}) };

/** A value nested anywhere in `v` that Ansible could not print (see UnusableValue). */
function findUnusable(v: unknown): UnusableValue | undefined {
  if (v instanceof UnusableValue) return v;
  if (Array.isArray(v)) { for (const x of v) { const u = findUnusable(x); if (u) return u; } return undefined; }
  if (v && typeof v === 'object') { for (const x of Object.values(v)) { const u = findUnusable(x); if (u) return u; } }
  return undefined;
}

/** Merge variables with Ansible's precedence and build the queryable inventory. */
export function resolveInventory(raw: RawInventory, source: string, files: VarsFiles = NO_VARS_FILES, extraVars: Readonly<Record<string, unknown>> = {}, defaultVars: Readonly<Record<string, unknown>> = {}): Inventory {
  // As Ansible's reconcile_inventory: every group with no parent hangs under all (in order of creation); hosts in no
  // group but all are ungrouped; a host listed under [ungrouped] and elsewhere leaves ungrouped.
  const childOf = new Set<string>();
  for (const g of raw.groups.values()) for (const c of g.children) childOf.add(c);
  const all = raw.groups.get('all')!;
  for (const name of raw.groups.keys()) if (name !== 'all' && !childOf.has(name)) all.children.add(name);
  const ungrouped = raw.groups.get('ungrouped')!;
  for (const h of raw.hosts.keys()) {
    const inReal = [...raw.groups.values()].some((g) => g.name !== 'all' && g.name !== 'ungrouped' && g.hosts.has(h));
    if (inReal) ungrouped.hosts.delete(h);
    // Ansible's add_child('ungrouped', name) takes a group of that name before the host
    else if (!ungrouped.hosts.has(h)) {
      if (!raw.groups.has(h)) ungrouped.hosts.add(h);
      else if (h !== 'ungrouped' && h !== 'all') ungrouped.children.add(h);
    }
  }
  const depth = depths(raw);
  const priority = (name: string): number => raw.groups.get(name)!.priority;
  const inlineVars = (name: string): Record<string, unknown> => raw.groups.get(name)!.vars;
  // ancestors of each group (including itself)
  const parents = new Map<string, Set<string>>();
  for (const g of raw.groups.values()) for (const c of g.children) { const s = parents.get(c) ?? new Set(); s.add(g.name); parents.set(c, s); }
  const ancestors = (g: string, acc = new Set<string>()): Set<string> => {
    if (acc.has(g)) return acc;
    acc.add(g);
    for (const p of parents.get(g) ?? []) ancestors(p, acc);
    return acc;
  };
  const hosts: Host[] = [...raw.hosts.keys()].map((name) => {
    const direct = [...raw.groups.values()].filter((g) => g.hosts.has(name)).map((g) => g.name);
    const groups = new Set<string>(['all']);
    for (const g of direct) for (const a of ancestors(g)) groups.add(a);
    const ordered = [...groups].sort((a, b) => {
      if (a === 'all' || b === 'all') return a === 'all' ? (b === 'all' ? 0 : -1) : 1;
      const da = depth.get(a) ?? 0; const db = depth.get(b) ?? 0;
      if (da !== db) return da - db;
      const pa = priority(a); const pb = priority(b);
      if (pa !== pb) return pa - pb;
      return compareCodePoints(a, b);
    });
    // Ansible's default VARIABLE_PRECEDENCE: all's inventory vars, other groups' inventory vars, group_vars/all,
    // other groups' group_vars files; then the host's inventory vars, then host_vars files.
    // defaultVars (the project file's defaults, e.g. become) are below every inventory variable.
    let vars: Record<string, unknown> = { ...defaultVars };
    for (const g of ordered) vars = { ...vars, ...inlineVars(g) };
    for (const g of ordered) vars = { ...vars, ...files.group(g) };
    vars = { ...vars, ...raw.hosts.get(name)!, ...files.host(name) };
    for (const [k, top] of Object.entries(vars)) {
      const v = INTERNAL_VARS.has(k) ? undefined : findUnusable(top);
      if (!v) continue;
      const [file, line] = (v.at ?? source).split(/:(?=\d+$)/);
      throw new InventoryError(`variable ${k} of host ${name} is ${v.problem} (${v.text}), which Ansible cannot use either`, {
        file: file!, ...(line ? { line: Number(line) } : {}), hint: 'quote the value to keep it as text',
      });
    }
    // -e extra vars win over everything, as in Ansible (connection and become variables included).
    vars = { ...vars, ...extraVars };
    const port = str(vars['rig_port'] ?? vars['ansible_port'] ?? vars['ansible_ssh_port']);
    const proxyJump = str(vars['rig_proxy_jump']) ?? proxyJumpFromArgs(str(vars['ansible_ssh_common_args'])) ?? proxyJumpFromArgs(str(vars['ansible_ssh_extra_args']));
    const user = str(vars['rig_user'] ?? vars['ansible_user'] ?? vars['ansible_ssh_user']);
    const identityFile = str(vars['rig_identity_file'] ?? vars['ansible_ssh_private_key_file'] ?? vars['ansible_private_key_file']);
    const become = bool(vars['rig_become'] ?? vars['ansible_become']);
    const becomeUser = str(vars['ansible_become_user']);
    const becomeMethod = str(vars['ansible_become_method']);
    const becomeFlags = str(vars['ansible_become_flags']);
    const becomePassword = toSecret(vars['ansible_become_password'] ?? vars['ansible_become_pass']);
    const address = str(vars['rig_host'] ?? vars['ansible_host'] ?? vars['ansible_ssh_host']) ?? name;
    const local = str(vars['ansible_connection']) === 'local';
    return {
      name, address, groups: ordered, vars,
      ...(port ? { port: Number(port) } : {}), ...(user ? { user } : {}), ...(identityFile ? { identityFile } : {}),
      ...(proxyJump ? { proxyJump } : {}), ...(become !== undefined ? { become } : {}), ...(becomeUser ? { becomeUser } : {}),
      ...(becomeMethod ? { becomeMethod } : {}), ...(becomeFlags ? { becomeFlags } : {}), ...(becomePassword ? { becomePassword } : {}),
      ...(local ? { local } : {}),
    };
  });
  const groups = new Map<string, Group>();
  for (const g of raw.groups.values()) {
    let merged: Record<string, unknown> | undefined;
    groups.set(g.name, {
      name: g.name, hosts: [...g.hosts], children: [...g.children],
      // read on demand: group_vars files of a group are read only when something asks for them, as in Ansible
      get vars() {
        merged ??= { ...inlineVars(g.name), ...files.group(g.name), ...(g.priority !== 1 ? { ansible_group_priority: g.priority } : {}) };
        return merged;
      },
    });
  }
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const warnings = [...raw.warnings];
  for (const h of hosts) if (groups.has(h.name)) warnings.push(`Found both group and host with same name: ${h.name}`);
  const inv: Inventory = {
    source, hosts, groups, warnings,
    selectHosts: (pattern) => selectHosts(inv, pattern),
    getHost: (name) => {
      const h = byName.get(name);
      if (!h) throw new PatternError(`no host named ${name} in the inventory`, { hint: `hosts: ${hosts.slice(0, 20).map((x) => x.name).join(', ')}` });
      return h;
    },
  };
  return inv;
}

function globRe(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** `webservers[0]`, `webservers[1:3]` (inclusive), `webservers[2:]`, `webservers[-1]`: Ansible's subscripts. */
function splitSubscript(term: string): { base: string; sub?: [number, number | undefined] } {
  if (term.startsWith('~')) return { base: term };
  const m = /^(.+)\[(?:(-?\d+)|(-?\d+):(-?\d+)?)\]$/.exec(term);
  if (!m) return { base: term };
  if (m[2] !== undefined) return { base: m[1]!, sub: [Number(m[2]), undefined] };
  return { base: m[1]!, sub: [Number(m[3]), m[4] === undefined ? -1 : Number(m[4])] };
}

function matchTerm(inv: Inventory, term: string): Host[] {
  const { base, sub } = splitSubscript(term);
  const hosts = matchBase(inv, base);
  if (!sub) return hosts;
  const [start, end] = sub;
  if (end === undefined) {
    const h = hosts.at(start);
    if (!h) throw new PatternError(`subscript [${start}] is out of range: ${base} matches ${hosts.length} host${hosts.length === 1 ? '' : 's'}`, { hint: 'subscripts count from 0; [-1] is the last host' });
    return [h];
  }
  return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
}

function matchBase(inv: Inventory, term: string): Host[] {
  if (term === 'all' || term === '*') return [...inv.hosts];
  if (term.startsWith('@')) {
    const file = term.slice(1);
    let names: string[];
    try { names = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean); } catch (e) {
      throw new PatternError(`cannot read host list ${file}: ${(e as Error).message}`, { hint: 'a retry file is written by a failed apply to .rig/retry' });
    }
    return inv.hosts.filter((h) => names.includes(h.name));
  }
  if (term.startsWith('~')) {
    let re: RegExp;
    try { re = new RegExp(term.slice(1)); } catch (e) { throw new PatternError(`bad regular expression in pattern ${term}: ${(e as Error).message}`, { hint: 'after ~ comes a JavaScript regular expression matched against host and group names, e.g. ~^web[0-9]+$' }); }
    return inv.hosts.filter((h) => re.test(h.name) || h.groups.some((g) => re.test(g)));
  }
  const g = inv.groups.get(term);
  if (g) return inv.hosts.filter((h) => h.groups.includes(term));
  if (/[*?]/.test(term)) {
    const re = globRe(term);
    return inv.hosts.filter((h) => re.test(h.name) || h.groups.some((x) => re.test(x)));
  }
  return inv.hosts.filter((h) => h.name === term);
}

/** Resolve an Ansible host pattern: unions first, then `&` intersections, then `!` exclusions; inventory order. */
export function selectHosts(inv: Inventory, pattern: string): Host[] {
  // As Ansible's split_host_pattern: a comma list as is; otherwise split on ':' and whitespace, keeping [..] whole
  // (a `~regex` term runs to the next ':' or space, so a broken regex is reported rather than split apart).
  const terms = (pattern.includes(',') ? pattern.split(',') : pattern.match(/[&!]?~[^\s:]+|(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? []).map((t) => t.trim()).filter(Boolean);
  if (!terms.length) throw new PatternError('empty host pattern', { hint: 'give a host, a group, `all`, or terms joined by `:` (`workers:!worker2`)' });
  const union = new Set<string>();
  const inter: Host[][] = [];
  const excl = new Set<string>();
  for (const t of terms) {
    if (t.startsWith('&')) inter.push(matchTerm(inv, t.slice(1)));
    else if (t.startsWith('!')) for (const h of matchTerm(inv, t.slice(1))) excl.add(h.name);
    else for (const h of matchTerm(inv, t)) union.add(h.name);
  }
  let names = [...union];
  for (const i of inter) { const s = new Set(i.map((h) => h.name)); names = names.filter((n) => s.has(n)); }
  names = names.filter((n) => !excl.has(n));
  if (!names.length) {
    throw new PatternError(`pattern "${pattern}" matches no host`, {
      hint: `hosts: ${inv.hosts.slice(0, 20).map((h) => h.name).join(', ')}${inv.hosts.length > 20 ? ', …' : ''}; groups: ${[...inv.groups.keys()].join(', ')}`,
    });
  }
  const keep = new Set(names);
  return inv.hosts.filter((h) => keep.has(h.name));
}
