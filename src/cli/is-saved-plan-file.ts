import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Is `file` a saved plan (`rig plan --out`) rather than a playbook? Decided by its content, whatever its name: a
 * saved plan is a JSON object (its first non-blank character is `{`), which no TypeScript playbook is. A `.json` name
 * counts too, so a broken plan file gets the saved-plan error rather than a playbook import error. A file that
 * cannot be read is left to the playbook loader, which reports it.
 */
export function isSavedPlanFile(file: string): boolean {
  if (file.endsWith('.json')) return true;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    return /^\s*\{/.test(head.subarray(0, n).toString('utf8'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
