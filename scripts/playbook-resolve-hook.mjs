// Module resolve hook for users' playbooks (registered by src/playbook/typescript-loader.ts after tsx, so it runs
// before tsx's resolve):
// - the bare specifier `rig` resolves to the RUNNING rig's public entry point (<root>/src/index.ts, which the dist
//   redirect hook then maps to the built module when rig runs prebuilt): a playbook in a team's own repository, with
//   or without a package.json or a node_modules/rig of its own, shares one instance of every rig module with the engine;
// - a `.ts` file outside rig and outside node_modules (a playbook, its task groups) is an ES module whatever
//   package.json is nearest. Without this, a `.ts` file in a directory with no package.json (or one without
//   "type": "module") is handed to Node as CommonJS; Node's CommonJS loader then sees `import`/`export`, decides it is
//   an ES module and require()s it while the import() of that same file is still in flight: "Cannot require() ES
//   Module … in a cycle". Such files are resolved here (exact `.ts`, `.js` written for `.ts`, or no extension), so
//   tsx never takes its CommonJS path for them; tsx still compiles them (its load hook).
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let rootUrl = '';
let indexUrl = '';

export function initialize(data) {
  rootUrl = data.rootUrl;
  indexUrl = new URL('src/index.ts', rootUrl).href;
}

const isFile = (url) => { try { return statSync(fileURLToPath(url)).isFile(); } catch { return false; } };
const outsideRig = (url) => url.startsWith('file:') && !url.startsWith(rootUrl) && !url.includes('/node_modules/');

/** The `.ts` file a relative or file: specifier names, when it is one outside rig and node_modules. */
function findPlaybookTs(specifier, parentURL) {
  if (!/^(\.\.?\/|file:|\/)/.test(specifier) || (parentURL !== undefined && !parentURL.startsWith('file:'))) return undefined;
  let base;
  try { base = new URL(specifier, parentURL ?? 'file:///'); } catch { return undefined; }
  base.search = '';
  base.hash = '';
  const url = base.href;
  if (!outsideRig(url)) return undefined;
  const candidates = url.endsWith('.ts') ? [url] : url.endsWith('.js') ? [url.slice(0, -3) + '.ts'] : /\.[cm]?[jt]sx?$|\.json$/.test(url) ? [] : [url + '.ts'];
  return candidates.find((c) => !c.endsWith('.d.ts') && isFile(c));
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'rig') return nextResolve(indexUrl, context);
  const ts = findPlaybookTs(specifier, context.parentURL);
  if (ts !== undefined) return { url: ts, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
}
