/**
 * `npm run docs`: write the module reference — docs/modules/<module>.md, docs/modules/README.md and the data module
 * `rig help MODULE` reads (src/help/module-reference-data.json) — from the modules' props types and doc comments.
 * `npm run docs -- --check` writes nothing and exits 1 listing the stale files (test/unit/module-docs-fresh.test.ts
 * does the same check in CI).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractModuleReferences } from './module-docs/extract-module-references.ts';
import { renderModuleIndex, renderModulePage } from '../src/help/render-module-page.ts';
import type { ModuleReferenceSet } from '../src/help/module-reference.ts';

export const MODULE_DOCS_DIR = 'docs/modules';
export const MODULE_REFERENCE_DATA = 'src/help/module-reference-data.json';
export const REGENERATE_COMMAND = 'npm run docs';

/** The data file's text: the extracted reference (read by src/help/load-module-reference.ts). */
function renderDataModule(set: ModuleReferenceSet): string {
  return `${JSON.stringify({ generatedBy: `${REGENERATE_COMMAND} (scripts/generate-module-docs.ts): do not edit`, ...set }, null, 2)}\n`;
}

/** Every generated file (repository-relative path → content), rendered in memory. */
export function renderModuleDocFiles(root: string): Map<string, string> {
  const set = extractModuleReferences(root);
  const files = new Map<string, string>();
  for (const m of set.modules) files.set(`${MODULE_DOCS_DIR}/${m.name}.md`, renderModulePage(m, set.taskOptions));
  files.set(`${MODULE_DOCS_DIR}/README.md`, renderModuleIndex(set));
  files.set(MODULE_REFERENCE_DATA, renderDataModule(set));
  return files;
}

/** Generated files that differ from the disk, and pages on disk that no module generates any more. */
export function findStaleModuleDocs(root: string, files: ReadonlyMap<string, string>): { readonly stale: string[]; readonly extra: string[] } {
  const stale = [...files].filter(([path, content]) => !existsSync(join(root, path)) || readFileSync(join(root, path), 'utf8') !== content).map(([p]) => p);
  const dir = join(root, MODULE_DOCS_DIR);
  const extra = existsSync(dir) ? readdirSync(dir).map((f) => `${MODULE_DOCS_DIR}/${f}`).filter((p) => p.endsWith('.md') && !files.has(p)) : [];
  return { stale, extra };
}

function main(argv: readonly string[]): number {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const files = renderModuleDocFiles(root);
  const { stale, extra } = findStaleModuleDocs(root, files);
  if (argv.includes('--check')) {
    if (!stale.length && !extra.length) { process.stdout.write(`module reference up to date (${files.size} files)\n`); return 0; }
    process.stderr.write(`module reference is stale:\n${[...stale, ...extra.map((p) => `${p} (no such module)`)].map((p) => `  ${p}\n`).join('')}run \`${REGENERATE_COMMAND}\`\n`);
    return 1;
  }
  for (const path of stale) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), files.get(path)!);
  }
  for (const path of extra) rmSync(join(root, path));
  process.stdout.write(`module reference: ${stale.length} file(s) written, ${extra.length} removed, ${files.size - stale.length} unchanged\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
