/**
 * The module reference (docs/modules/*.md, src/help/module-reference-data.json) is generated from the modules' props
 * types and doc comments by `npm run docs`; this fails, naming the stale files, when a module, a prop, a doc comment
 * or the renderer changed without regenerating it.
 */
import test from 'ava';
import { findStaleModuleDocs, REGENERATE_COMMAND, renderModuleDocFiles } from '../../scripts/generate-module-docs.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

test('docs/modules/ and the data of `rig help MODULE` are what `npm run docs` generates', (t) => {
  const { stale, extra } = findStaleModuleDocs(PROJECT_ROOT, renderModuleDocFiles(PROJECT_ROOT));
  const lines = [...stale, ...extra.map((p) => `${p} (no module generates it: remove it)`)];
  t.deepEqual(lines, [], `the module reference is stale; run \`${REGENERATE_COMMAND}\` and commit the result:\n${lines.map((l) => `  ${l}`).join('\n')}`);
});
