#!/usr/bin/env node
// rig entry point. Runs the prebuilt CLI (dist/rig.mjs, `npm run build`, also run by `npm ci` through `prepare`) when
// it is not older than any file of src/; otherwise (no build, or sources edited since) registers tsx and runs the
// TypeScript sources. Users' playbooks always load through tsx (src/playbook/typescript-loader.ts).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function builtIsFresh() {
  if (process.env.RIG_FROM_SOURCE === '1') return false;
  try {
    return statSync(join(root, 'dist', 'rig.mjs')).mtimeMs >= newestMtime(join(root, 'src'));
  } catch {
    return false;
  }
}

let main;
if (builtIsFresh()) {
  ({ main } = await import('../dist/rig.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
