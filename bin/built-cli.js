// Is the prebuilt CLI (dist/rig.mjs, scripts/build-cli.mjs) usable: present and not older than any file of src/?
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** @param {string} root the project directory (holding src/ and dist/) */
export function isBuiltCliFresh(root) {
  try {
    return statSync(join(root, 'dist', 'rig.mjs')).mtimeMs >= newestMtime(join(root, 'src'));
  } catch {
    return false;
  }
}
