/**
 * The TypeScript loader for users' playbooks. From source (tsx already runs rig) there is nothing to do. When rig runs
 * prebuilt (dist/, see scripts/build-cli.mjs) tsx is registered on the first playbook load only — `rig --version`
 * never pays for it — together with the hook that points a playbook's imports of rig's sources at the built modules,
 * so the playbook and the CLI share one instance of every rig module. tsx caches each compiled file by content hash
 * (in the OS temp directory), so a second run compiles nothing.
 */
import { register as registerModuleHooks } from 'node:module';

let prepared = false;
const PRELOADED = ['dist/src/modules/index.js', 'dist/src/playbook/types.js', 'dist/src/core/secret.js'];

/** The directory URL above dist/ when this code runs from a build, else undefined. */
export function findBuiltRoot(moduleUrl: string): string | undefined {
  if (moduleUrl.endsWith('.ts')) return undefined;
  const at = moduleUrl.lastIndexOf('/dist/');
  return at < 0 ? undefined : moduleUrl.slice(0, at + 1);
}

export async function prepareTypeScriptLoader(): Promise<void> {
  if (prepared) return;
  prepared = true;
  const rootUrl = findBuiltRoot(import.meta.url);
  if (rootUrl === undefined) return;
  // Once hooks are registered every import crosses to the hooks thread: load what nearly every playbook imports
  // (the module factories and definePlaybook) before, so only the playbook's own files pay for the hooks.
  await Promise.all(PRELOADED.map((m) => import(new URL(m, rootUrl).href)));
  const { register } = await import('tsx/esm/api');
  register();
  registerModuleHooks(new URL('dist/src-redirect-hook.mjs', rootUrl), { data: { rootUrl } });
}
