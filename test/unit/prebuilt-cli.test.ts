/**
 * The prebuilt CLI (dist/, `npm run build`): bin/rig.js runs it, and a playbook's imports of rig's sources resolve to
 * the built modules — one instance of module state, so a secret registered by the playbook is masked by the CLI.
 * The same checks run from source (RIG_FROM_SOURCE=1) so both paths stay equivalent.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { findBuiltRoot } from '../../src/playbook/typescript-loader.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { ensureBuiltCli } from '../helpers/ensure-built-cli.ts';
import { isBuiltCliFresh } from '../../bin/built-cli.js';
import { PLAYBOOK_SECRET } from '../fixtures/playbooks/secret-from-playbook.ts';
import { DEEP_IMPORT_SECRET } from '../fixtures/playbooks/secret-deep-import.ts';

const PLAYBOOK = 'test/fixtures/playbooks/secret-from-playbook.ts';
const work = mkdtempSync(join(tmpdir(), 'rig-prebuilt-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'all:\n  hosts: {}\n');

test.before(ensureBuiltCli);
test.after.always(() => rmSync(work, { recursive: true, force: true }));

test.serial('the build writes dist/rig.mjs and one built module per source file', (t) => {
  t.true(isBuiltCliFresh(PROJECT_ROOT));
  t.true(statSync(join(PROJECT_ROOT, 'dist', 'rig.mjs')).isFile());
  t.true(statSync(join(PROJECT_ROOT, 'dist', 'src', 'core', 'secret.js')).isFile());
  t.true(statSync(join(PROJECT_ROOT, 'dist', 'src-redirect-hook.mjs')).isFile());
});

// dist/src/x.js gives the names of src/x.ts from the one bundle (dist/rig.cjs): it must export exactly what src/x.ts exports (the probe build's
// metafile names them), each the bundle's own binding.
test.serial('every built module exports the names its source exports, from the one bundle', async (t) => {
  const sources = listSources(join(PROJECT_ROOT, 'src'));
  t.true(sources.length > 100);
  for (const path of sources) {
    const rel = path.slice(join(PROJECT_ROOT, 'src').length + 1);
    const source = await import(pathToFileURL(path).href) as Record<string, unknown>;
    const built = await import(pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', rel.replace(/\.ts$/, '.js'))).href) as Record<string, unknown>;
    t.deepEqual(Object.keys(built).sort(), Object.keys(source).sort(), rel);
  }
  const bundle = createRequire(import.meta.url)(join(PROJECT_ROOT, 'dist', 'rig.cjs')) as Record<string, unknown>;
  const secretModule = await import(pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'core', 'secret.js')).href) as Record<string, unknown>;
  const index = await import(pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'index.js')).href) as Record<string, unknown>;
  t.is(index['secret'], secretModule['secret']);
  t.true(Object.values(bundle).includes(secretModule['secret']));
});

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? listSources(join(dir, e.name))
    : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []);
}

// `prebuilt+tsx`: the prebuilt CLI loading playbooks through tsx and dist/src-redirect-hook.mjs (what it falls back to
// when the compiled-playbook cache cannot serve), with the bundle loaded by plain require() (no code cache).
const MODES = { prebuilt: {}, 'prebuilt+tsx': { RIG_PLAYBOOK_CACHE: 'off', RIG_CODE_CACHE: 'off' }, source: { RIG_FROM_SOURCE: '1' } } as const;
for (const mode of Object.keys(MODES) as Array<keyof typeof MODES>) {
  const env: Record<string, string> = { ...MODES[mode] };

  test.serial(`${mode}: --version`, async (t) => {
    const r = await runRig(['--version'], { env });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^\d+\.\d+\.\d+\n$/);
    // bin/rig.js answers `--version` alone from package.json; through the CLI (another option beside it) the same
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    t.is(r.stdout, `${pkg.version}\n`);
    t.is((await runRig(['--version', '--json'], { env })).stdout, r.stdout);
  });

  test.serial(`${mode}: a secret registered by the playbook is masked in the CLI's output`, async (t) => {
    const r = await runRig(['plan', '-i', inventory, PLAYBOOK], { env });
    t.is(r.code, 1);
    t.regex(r.stderr, /matches no host/);
    t.false(r.stdout.includes(PLAYBOOK_SECRET) || r.stderr.includes(PLAYBOOK_SECRET), r.stderr);
    t.true(r.stderr.includes('********'), r.stderr);
  });

  test.serial(`${mode}: a secret registered through a deep import of rig's sources is masked in the CLI's output`, async (t) => {
    const r = await runRig(['plan', '-i', inventory, 'test/fixtures/playbooks/secret-deep-import.ts'], { env });
    t.is(r.code, 1);
    t.regex(r.stderr, /matches no host/);
    t.false(r.stderr.includes(DEEP_IMPORT_SECRET), r.stderr);
    t.true(r.stderr.includes('********'), r.stderr);
  });

  // Outside the checkout: `from 'rig'` is the running rig (even over a node_modules/rig of the project's own: here a
  // stand-in whose secret() registers nothing), and the playbook's .ts files are ES modules whatever package.json is
  // nearest (none, one without "type", one with "type": "module").
  const variants = [[undefined, false], ['{ "name": "team-infra" }', false], ['{ "name": "team-infra", "type": "module" }', true]] as const;
  for (const [pkg, ownCopy] of variants) {
    test.serial(`${mode}: a playbook outside the checkout (package.json: ${pkg ?? 'none'}${ownCopy ? ', node_modules/rig' : ''}) shares rig's module instances`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'rig-outside-'));
      try {
        mkdirSync(join(dir, 'playbooks'));
        mkdirSync(join(dir, 'tasks'));
        if (pkg) writeFileSync(join(dir, 'package.json'), pkg);
        if (ownCopy) {
          mkdirSync(join(dir, 'node_modules', 'rig'), { recursive: true });
          writeFileSync(join(dir, 'node_modules', 'rig', 'package.json'), '{ "name": "rig", "type": "module", "exports": "./index.js" }');
          writeFileSync(join(dir, 'node_modules', 'rig', 'index.js'), 'export const secret = () => undefined;\nexport const definePlaybook = (d) => ({ ...d, __rigPlaybook: true });\n');
        }
        writeFileSync(join(dir, 'tasks', 'names.ts'), "import { secret } from 'rig';\nexport const hostPattern: string = 'outside-secret-41d9';\nsecret(hostPattern);\n");
        writeFileSync(join(dir, 'playbooks', 'x.ts'), "import { definePlaybook } from 'rig';\nimport { hostPattern } from '../tasks/names.ts';\n"
          + "export default definePlaybook({ name: 'x', plays: [{ hosts: hostPattern, tasks: [] }] });\n");
        const r = await runRig(['plan', '-i', inventory, 'playbooks/x.ts'], { env, cwd: dir });
        t.is(r.code, 1, r.stderr);
        t.regex(r.stderr, /matches no host/);
        t.false(r.stderr.includes('outside-secret-41d9'), r.stderr);
        t.true(r.stderr.includes('********'), r.stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

test('findBuiltRoot: a built module names the directory above dist/, a source module none', (t) => {
  t.is(findBuiltRoot('file:///opt/rig/dist/chunks/chunk-AB.js'), 'file:///opt/rig/');
  t.is(findBuiltRoot('file:///opt/dist/rig/dist/src/playbook/typescript-loader.js'), 'file:///opt/dist/rig/');
  t.is(findBuiltRoot(pathToFileURL(join(PROJECT_ROOT, 'src', 'playbook', 'typescript-loader.ts')).href), undefined);
});
