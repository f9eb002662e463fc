/**
 * The TypeScript loader for users' playbooks. From source tsx already runs rig; only the playbook resolve hook is
 * registered (scripts/playbook-resolve-hook.mjs: the specifier `rig` is the running rig's src/index.ts, and a
 * playbook's `.ts` files are ES modules wherever they are). When rig runs
 * prebuilt (dist/, see scripts/build-cli.mjs) tsx is registered on the first playbook load only — `rig --version`
 * never pays for it — together with the hook that points a playbook's imports of rig's sources at the built modules,
 * so the playbook and the CLI share one instance of every rig module. tsx caches each compiled file by content hash
 * (in the OS temp directory), so a second run compiles nothing.
 */
import { register as registerModuleHooks } from 'node:module';
import { importEsm } from '../core/import-esm.ts';

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
  if (rootUrl === undefined) {
    const sourceRootUrl = new URL('../../', import.meta.url).href;
    registerModuleHooks(new URL('scripts/playbook-resolve-hook.mjs', sourceRootUrl), { data: { rootUrl: sourceRootUrl } });
    return;
  }
  // Once hooks are registered every import crosses to the hooks thread: load what nearly every playbook imports
  // (the module factories and definePlaybook) before, so only the playbook's own files pay for the hooks.
  await Promise.all(PRELOADED.map((m) => importEsm(new URL(m, rootUrl).href)));
  const { register } = await importEsm<typeof import('tsx/esm/api')>('tsx/esm/api');
  register();
  // Its `rig` goes on through the redirect hook (nextResolve), which maps src/index.ts to the built module.
  registerModuleHooks(new URL('scripts/playbook-resolve-hook.mjs', rootUrl), { data: { rootUrl } });
  registerModuleHooks(new URL('dist/src-redirect-hook.mjs', rootUrl), { data: { rootUrl } });
}
