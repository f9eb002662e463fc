#!/usr/bin/env node
// rig entry point. Runs the prebuilt CLI (dist/rig.mjs, `npm run build`, also run by `npm ci` through `prepare`) when
// it is not older than any file of src/; otherwise (no build, or sources edited since) registers tsx and runs the
// TypeScript sources (RIG_FROM_SOURCE=1 forces that). Users' playbooks always load through tsx
// (src/playbook/typescript-loader.ts).
import { fileURLToPath } from 'node:url';
import { isBuiltCliFresh } from './built-cli.js';

let main;
if (process.env.RIG_FROM_SOURCE !== '1' && isBuiltCliFresh(fileURLToPath(new URL('..', import.meta.url)))) {
  ({ main } = await import('../dist/rig.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
