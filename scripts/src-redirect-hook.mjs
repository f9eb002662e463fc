// Module resolve hook used when rig runs prebuilt (dist/): a playbook's import of a rig source file
// (<root>/src/x.ts, however it is spelled) resolves to the built module <root>/dist/src/x.js, the very module instance
// the CLI runs on — one secret redactor, one module registry. Registered after tsx, so it runs first and asks tsx
// (nextResolve) to resolve the specifier. Copied to dist/ by scripts/build-cli.mjs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let srcPrefix = '';
let distPrefix = '';

export function initialize(data) {
  srcPrefix = new URL('src/', data.rootUrl).href;
  distPrefix = new URL('dist/src/', data.rootUrl).href;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(srcPrefix) || !resolved.url.endsWith('.ts')) return resolved;
  const built = distPrefix + resolved.url.slice(srcPrefix.length, -3) + '.js';
  if (!existsSync(fileURLToPath(built))) return resolved;
  return { url: built, format: 'module', shortCircuit: true };
}
