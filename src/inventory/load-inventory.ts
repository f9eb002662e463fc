import { existsSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { InventoryError } from '../errors.ts';
import { createRawInventory, type RawInventory } from './raw-inventory.ts';
import { parseIniInventory } from './parse-ini.ts';
import { parseYamlInventory } from './parse-yaml.ts';
import { loadAnsibleData } from './load-ansible-yaml.ts';
import { UnsafeText } from './ansible-values.ts';
import { resolveInventory, type VarsFiles } from './resolve-inventory.ts';
import type { Inventory } from './types.ts';

/** `stat` that turns a vanished entry or a dangling symlink into an INVENTORY error naming it. */
function statOrFail(path: string): Stats {
  try { return statSync(path); } catch (e) {
    throw new InventoryError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path, hint: 'remove the dangling link or fix its permissions' });
  }
}

/** Extensions the yaml inventory plugin takes (besides none); every file is also tried as INI, as Ansible does. */
const YAML_EXT = new Set(['.yml', '.yaml', '.json']);
/**
 * Entries Ansible skips in a directory source, at every level: hidden ones, group_vars, host_vars, vars_plugins,
 * and names ending in INVENTORY_IGNORE_EXTS (`.pyc .pyo .swp .bak ~ .rpm .md .txt .rst .orig .ini .cfg .retry`).
 */
const IGNORED_IN_DIR = /^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;

/**
 * One inventory file, as Ansible's plugin chain reads it: the yaml plugin first for `.yml/.yaml/.json` and files
 * without extension, then the ini plugin for any file. The error reported is the one of the format the file
 * looks like.
 */
function readInventoryFile(file: string, into: RawInventory): void {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new InventoryError(`cannot read inventory: ${(e as Error).message}`, { file, hint: 'pass an existing file or directory with -i' });
  }
  const ext = extname(file);
  if (!ext || YAML_EXT.has(ext)) {
    try { parseYamlInventory(text, file, into); return; } catch (yamlError) {
      if (!(yamlError instanceof InventoryError)) throw yamlError;
      try { parseIniInventory(text, file, into); return; } catch (iniError) {
        const looksYaml = YAML_EXT.has(ext) || /^[^\s#;[][^=]*:\s*(#.*)?$/m.test(text) || /^\s*[{]/.test(text);
        throw looksYaml ? yamlError : iniError;
      }
    }
  }
  parseIniInventory(text, file, into);
}

/** A directory source: every entry in name order, subdirectories too, skipping what Ansible skips. Returns files read. */
function readInventoryDir(dir: string, into: RawInventory): number {
  let read = 0;
  for (const f of readdirSync(dir).sort()) {
    if (IGNORED_IN_DIR.test(f)) continue;
    const p = join(dir, f);
    if (statOrFail(p).isDirectory()) read += readInventoryDir(p, into);
    else { readInventoryFile(p, into); read++; }
  }
  return read;
}

/** Ansible's `DataLoader.find_vars_files`: `NAME`, else `NAME.yml`, `.yaml`, `.json` — the first that exists; a directory is read recursively. */
function findVarsFiles(dir: string, name: string): string[] {
  const base = join(dir, name);
  for (const ext of ['', '.yml', '.yaml', '.json']) {
    const p = base + ext;
    if (!existsSync(p)) continue;
    return statOrFail(p).isDirectory() ? varsFilesInDir(p) : [p];
  }
  return [];
}

/** Files of a vars directory in sorted order, recursing into subdirectories without extension; hidden and `~` files skipped. */
function varsFilesInDir(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('.') || f.endsWith('~')) continue;
    const p = join(dir, f);
    const ext = extname(f);
    let st: Stats;
    try { st = statSync(p); } catch { continue; } // a dangling link is neither a file nor a directory: skipped, as in Ansible
    if (st.isDirectory() && !ext) out.push(...varsFilesInDir(p));
    else if (st.isFile() && (!ext || YAML_EXT.has(ext))) out.push(p);
  }
  return out;
}

const isEmpty = (v: unknown): boolean => v === null || v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && !v.length)
  || (typeof v === 'object' && !Array.isArray(v) && !(v instanceof UnsafeText) && !Object.keys(v as object).length);

/** group_vars/ and host_vars/ beside each source, read when an entity asks (as Ansible's host_group_vars plugin). */
function createVarsFiles(baseDirs: readonly string[]): VarsFiles {
  const cache = new Map<string, Record<string, unknown>>();
  const read = (kind: 'group_vars' | 'host_vars', name: string): Record<string, unknown> => {
    const key = `${kind}\0${name}`;
    const hit = cache.get(key);
    if (hit) return hit;
    let vars: Record<string, unknown> = {};
    if (!name.startsWith('/')) {
      for (const base of baseDirs) {
        const dir = join(base, kind);
        if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
        for (const f of findVarsFiles(realpathSync(dir), name)) {
          let text: string;
          try { text = readFileSync(f, 'utf8'); } catch (e) {
            throw new InventoryError(`cannot read vars file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: f, hint: 'fix its permissions or remove it' });
          }
          const data = loadAnsibleData(text, f);
          if (isEmpty(data)) continue;
          if (typeof data !== 'object' || Array.isArray(data) || data instanceof UnsafeText) {
            throw new InventoryError(`a vars file must be a mapping of variable names, not ${Array.isArray(data) ? 'a list' : 'a single value'}`, { file: f, hint: 'write name: value lines' });
          }
          vars = { ...vars, ...(data as Record<string, unknown>) };
        }
      }
    }
    cache.set(key, vars);
    return vars;
  };
  return { group: (name) => read('group_vars', name), host: (name) => read('host_vars', name) };
}

/** Load one or more inventories (files or directories), with group_vars/ and host_vars/ beside each. */
export async function loadInventory(sources: string | readonly string[], extraVars: Readonly<Record<string, unknown>> = {}, defaultVars: Readonly<Record<string, unknown>> = {}): Promise<Inventory> {
  const list = typeof sources === 'string' ? [sources] : [...sources];
  const raw = createRawInventory();
  const baseDirs: string[] = [];
  for (const src of list) {
    const path = resolve(src);
    if (!existsSync(path)) throw new InventoryError(`inventory not found: ${src}`, { file: src, hint: 'pass an inventory file or directory with -i (the fleet writes .fleet/inventory.yaml)' });
    if (statSync(path).isDirectory()) {
      baseDirs.push(path);
      if (!readInventoryDir(path, raw)) {
        throw new InventoryError(`no inventory file in directory ${src}`, {
          file: src, hint: 'in a directory, hidden files and files ending .ini, .cfg, .retry, .md, .txt… are skipped (as Ansible does): pass the .ini file itself with -i',
        });
      }
    } else {
      baseDirs.push(dirname(path));
      readInventoryFile(path, raw);
    }
  }
  return resolveInventory(raw, list.join(','), createVarsFiles(baseDirs), extraVars, defaultVars);
}
