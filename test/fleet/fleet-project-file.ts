import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { PROJECT_FILE } from '../../src/cli/project-config.ts';

/** The keys `npm run fleet -- up` owns in the project's rig.yaml; every other key (and comment) is the user's. */
export interface FleetProjectKeys { readonly inventory: string; readonly ssh_config: string; readonly state_dir: string; readonly pki_dir: string }

const HEADER = [
  'rig project file: defaults for `npx rig plan|apply|rollback|log` run anywhere in this checkout (see `npx rig config`).',
  'Machine-specific (it names .fleet/ paths), so not committed (.gitignore). `npm run fleet -- up` rewrites only',
  'inventory, ssh_config, state_dir and pki_dir; other keys you add (forks, extra_vars, become, ...) are kept.',
].map((l) => ` ${l}`).join('\n');

/** rig.yaml text with the fleet's keys set: `existing` (or a fresh file) keeps its other keys and comments. */
export function updateProjectText(existing: string | undefined, keys: FleetProjectKeys): string {
  const doc = parseDocument(existing ?? '');
  if (doc.errors.length || (doc.contents !== null && !isMap(doc.contents))) {
    throw new Error(`${PROJECT_FILE} is not a YAML mapping (${doc.errors[0]?.message.split('\n')[0] ?? 'wrong shape'}): fix it or remove it, then run up again`);
  }
  if (existing === undefined || doc.contents === null) doc.commentBefore = HEADER;
  for (const [k, v] of Object.entries(keys)) doc.set(k, v);
  return doc.toString();
}

/** Point the project's rig.yaml (at `root`) at a fleet's inventory, ssh_config, state dir and PKI dir (the cluster CA rig makes). */
export function writeFleetProjectFile(root: string, paths: { inventoryPath: string; sshConfigPath: string; stateDir: string; pkiDir: string }): string {
  const file = join(root, PROJECT_FILE);
  const rel = (p: string) => { const r = relative(root, p); return r.startsWith('..') || isAbsolute(r) ? p : r; };
  const text = updateProjectText(existsSync(file) ? readFileSync(file, 'utf8') : undefined,
    { inventory: rel(paths.inventoryPath), ssh_config: rel(paths.sshConfigPath), state_dir: rel(paths.stateDir), pki_dir: rel(paths.pkiDir) });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
  return file;
}
