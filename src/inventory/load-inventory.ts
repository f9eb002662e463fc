import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InventoryError } from '../errors.ts';
import { createRawInventory, type RawInventory } from './raw-inventory.ts';
import { parseIniInventory } from './parse-ini.ts';
import { parseYamlInventory, parseYamlText } from './parse-yaml.ts';
import { resolveInventory } from './resolve-inventory.ts';
import type { Inventory } from './types.ts';

const YAML_EXT = new Set(['.yml', '.yaml', '.json']);
/** Files Ansible skips when an inventory source is a directory (INVENTORY_IGNORE_EXTS, INVENTORY_IGNORE_PATTERNS). */
const IGNORED_IN_DIR = /(\.(pyc|pyo|swp|bak|rpm|md|txt|rst|orig|ini|cfg|retry)|~)$/;

function readInventoryFile(file: string, into: RawInventory): void {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new InventoryError(`cannot read inventory: ${(e as Error).message}`, { file, hint: 'pass an existing file or directory with -i' });
  }
  const ext = extname(file);
  // Like Ansible: YAML for .yml/.yaml/.json, INI otherwise unless the text looks like a YAML mapping.
  if (YAML_EXT.has(ext) || (!ext && /^(all|[\w-]+):\s*$/m.test(text) && !/^\[/m.test(text))) parseYamlInventory(text, file, into);
  else parseIniInventory(text, file, into);
}

/** Read `group_vars/` and `host_vars/` beside an inventory: `name`, `name.yml|.yaml|.json`, or a directory of them. */
function readVarsDir(dir: string): Map<string, Array<{ file: string; vars: Record<string, unknown> }>> {
  const out = new Map<string, Array<{ file: string; vars: Record<string, unknown> }>>();
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    const name = entry.replace(/\.(ya?ml|json)$/, '');
    const files = statSync(p).isDirectory() ? readdirSync(p).sort().filter((f) => /\.(ya?ml|json)$/.test(f) || !f.includes('.')).map((f) => join(p, f)) : [p];
    for (const f of files) {
      const data = parseYamlText(readFileSync(f, 'utf8'), f);
      if (data === null || data === undefined) continue;
      if (typeof data !== 'object' || Array.isArray(data)) throw new InventoryError('a vars file must be a mapping', { file: f });
      const list = out.get(name) ?? [];
      list.push({ file: f, vars: data as Record<string, unknown> });
      out.set(name, list);
    }
  }
  return out;
}

/** Load one or more inventories (files or directories), with group_vars/ and host_vars/ beside each. */
export async function loadInventory(sources: string | readonly string[], extraVars: Readonly<Record<string, unknown>> = {}, defaultVars: Readonly<Record<string, unknown>> = {}): Promise<Inventory> {
  const list = typeof sources === 'string' ? [sources] : [...sources];
  const raw = createRawInventory();
  const groupVars = new Map<string, Record<string, unknown>>();
  const hostVars = new Map<string, Record<string, unknown>>();
  for (const src of list) {
    const path = resolve(src);
    if (!existsSync(path)) throw new InventoryError(`inventory not found: ${src}`, { file: src, hint: 'pass an inventory file or directory with -i (the fleet writes .fleet/inventory.yaml)' });
    let baseDir: string;
    if (statSync(path).isDirectory()) {
      baseDir = path;
      let read = 0;
      for (const f of readdirSync(path).sort()) {
        const p = join(path, f);
        if (f.startsWith('.') || f === 'group_vars' || f === 'host_vars' || statSync(p).isDirectory() || IGNORED_IN_DIR.test(f)) continue;
        readInventoryFile(p, raw);
        read++;
      }
      if (!read) {
        throw new InventoryError(`no inventory file in directory ${src}`, {
          file: src, hint: 'in a directory, files ending .ini, .cfg, .retry, .md, .txt… are skipped (as Ansible does): pass the .ini file itself with -i',
        });
      }
    } else {
      baseDir = dirname(path);
      readInventoryFile(path, raw);
    }
    for (const [name, files] of readVarsDir(join(baseDir, 'group_vars'))) for (const f of files) groupVars.set(name, { ...(groupVars.get(name) ?? {}), ...f.vars });
    for (const [name, files] of readVarsDir(join(baseDir, 'host_vars'))) for (const f of files) hostVars.set(name, { ...(hostVars.get(name) ?? {}), ...f.vars });
  }
  void basename;
  return resolveInventory(raw, list.join(','), groupVars, hostVars, extraVars, defaultVars);
}
