#!/usr/bin/env node
// rig entry point. Runs the prebuilt CLI (dist/rig.cjs, loaded with a V8 code cache by bin/load-bundle.js;
// `npm run build`, also run by `npm ci` through `prepare`) when the build (stamp: dist/rig.mjs) is not older than any
// file of src/; otherwise (no build, or sources edited since) registers tsx and runs the TypeScript sources
// (RIG_FROM_SOURCE=1 forces that). Users' playbooks load from a compiled cache when prebuilt
// (src/playbook/playbook-compile-cache.ts), else through tsx (src/playbook/typescript-loader.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isBuiltCliFresh } from './built-cli.js';

// `rig --version` alone needs nothing of the CLI: answered here, at Node's own start-up cost (issue 21).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else if (process.env.RIG_FROM_SOURCE !== '1' && isBuiltCliFresh(fileURLToPath(new URL('..', import.meta.url)))) {
  const { loadBundle } = await import('./load-bundle.js');
  const bundle = loadBundle(fileURLToPath(new URL('../dist/rig.cjs', import.meta.url)));
  process.exitCode = await bundle.exports.main(args);
  bundle.done();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(args);
}
