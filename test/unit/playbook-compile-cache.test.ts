/**
 * The compiled-playbook cache (src/playbook/playbook-compile-cache.ts) through the real prebuilt CLI: a playbook and
 * its local TypeScript imports are compiled once, a second run compiles nothing, an edit to an imported file is
 * picked up (no stale module), `import.meta.url` still names the source's directory, a playbook throwing at import
 * reports its own line, and a cache directory others can write to is not used.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBuiltCliFresh } from '../../bin/built-cli.js';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

// Inside the checkout (a package of type module), so the tsx fallback loads these playbooks as ESM too.
const work = mkdtempSync(join(PROJECT_ROOT, 'test', '.tmp-compile-cache-'));
const inventory = join(work, 'inventory.yaml');
const types = join(PROJECT_ROOT, 'src', 'playbook', 'types.ts');
writeFileSync(inventory, 'all:\n  hosts: {}\n');

test.before(() => {
  if (isBuiltCliFresh(PROJECT_ROOT)) return;
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-cli.mjs')], { cwd: PROJECT_ROOT, stdio: 'pipe' });
});
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** A playbook dir: playbook.ts imports helper.ts, which reads a data file beside itself through import.meta.url. */
function writeProject(name: string, dataFile: string): { dir: string; playbook: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a.txt'), 'pattern-from-a\n');
  writeFileSync(join(dir, 'b.txt'), 'pattern-from-b\n');
  writeFileSync(join(dir, 'helper.ts'), `import { readFileSync } from 'node:fs';
export const pattern: string = readFileSync(new URL('./${dataFile}', import.meta.url), 'utf8').trim();
`);
  const playbook = join(dir, 'playbook.ts');
  writeFileSync(playbook, `import { definePlaybook } from ${JSON.stringify(types)};
import { pattern } from './helper.ts';

export default definePlaybook({ name: 'cached', plays: [{ hosts: pattern, tasks: [] }] });
`);
  return { dir, playbook };
}

/** Name and mtime of every file in the cache: what a run compiled. */
function listing(cacheDir: string): string[] {
  const d = join(cacheDir, 'playbooks');
  return readdirSync(d).sort().map((f) => `${f}@${statSync(join(d, f)).mtimeMs}`);
}

test.serial('compiled once, reused without compiling, recompiled after an edit to an imported file', async (t) => {
  const cacheDir = join(work, 'cache1');
  const env = { RIG_CACHE_DIR: cacheDir };
  const { dir, playbook } = writeProject('p1', 'a.txt');
  const first = await runRig(['plan', '-i', inventory, playbook], { env });
  t.is(first.code, 1, first.stderr);
  t.regex(first.stderr, /pattern "pattern-from-a" matches no host/);
  const compiled = listing(cacheDir);
  t.true(compiled.filter((f) => f.includes('.mjs@')).length >= 2, compiled.join('\n')); // the playbook and helper.ts

  const second = await runRig(['plan', '-i', inventory, playbook], { env });
  t.regex(second.stderr, /pattern "pattern-from-a" matches no host/);
  t.deepEqual(listing(cacheDir), compiled, 'the second run wrote nothing');

  writeFileSync(join(dir, 'helper.ts'), `import { readFileSync } from 'node:fs';
export const pattern: string = readFileSync(new URL('./b.txt', import.meta.url), 'utf8').trim();
`);
  const edited = await runRig(['plan', '-i', inventory, playbook], { env });
  t.regex(edited.stderr, /pattern "pattern-from-b" matches no host/, 'the edit below the playbook is seen');
});

test.serial('a playbook that throws at import reports its own line, compiled or cached', async (t) => {
  const env = { RIG_CACHE_DIR: join(work, 'cache2') };
  const dir = join(work, 'p2');
  mkdirSync(dir);
  const playbook = join(dir, 'playbook.ts');
  writeFileSync(playbook, `import { definePlaybook } from ${JSON.stringify(types)};

type Unused = { readonly a: string };

throw new Error('boom on line five');
export default definePlaybook({ name: 'x', plays: [] });
`);
  for (const run of ['compiling', 'cached']) {
    const r = await runRig(['plan', '-i', inventory, playbook], { env });
    t.is(r.code, 1, run);
    t.regex(r.stderr, /playbook\.ts:5: playbook failed to load: boom on line five/, `${run}: ${r.stderr}`);
  }
});

test.serial('a cache directory that others can write to is not used (the playbook loads through tsx)', async (t) => {
  const cacheDir = join(work, 'cache3');
  mkdirSync(join(cacheDir, 'playbooks'), { recursive: true });
  chmodSync(cacheDir, 0o777);
  const { playbook } = writeProject('p3', 'a.txt');
  const r = await runRig(['plan', '-i', inventory, playbook], { env: { RIG_CACHE_DIR: cacheDir } });
  t.regex(r.stderr, /pattern "pattern-from-a" matches no host/);
  t.deepEqual(readdirSync(join(cacheDir, 'playbooks')), []);
});

test.serial('a playbook outside the checkout importing `rig` is compiled against the running build', async (t) => {
  const cacheDir = join(work, 'cache4');
  const dir = mkdtempSync(join(tmpdir(), 'rig-outside-'));
  try {
    const playbook = join(dir, 'site.ts');
    writeFileSync(playbook, "import { definePlaybook, file } from 'rig';\n\nexport default definePlaybook({ name: 'outside', plays: [{ hosts: 'nowhere-outside', tasks: [file({ path: '/tmp/x', content: 'x' })] }] });\n");
    const r = await runRig(['plan', '-i', inventory, playbook], { env: { RIG_CACHE_DIR: cacheDir } });
    t.regex(r.stderr, /pattern "nowhere-outside" matches no host/, r.stderr);
    t.true(listing(cacheDir).some((f) => f.includes('.mjs@')), 'compiled into the cache (not through tsx)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('rig processes compiling the same new playbook at once all load it, and so does every later run', async (t) => {
  // Local imports (playbook → a.ts → b0..b7.ts): several modules compiled by every process at the same moment.
  const dir = join(work, 'p5');
  mkdirSync(join(dir, 'tasks'), { recursive: true });
  // Eight leaves under a.ts: many modules whose compiles overlap.
  for (let k = 0; k < 8; k++) writeFileSync(join(dir, 'tasks', `b${k}.ts`), `export const leaf${k}: string = '${k === 0 ? 'concurrent-leaf' : ''}';\n`);
  writeFileSync(join(dir, 'tasks', 'a.ts'), `${Array.from({ length: 8 }, (_, k) => `import { leaf${k} } from './b${k}.ts';`).join('\n')}
export const pattern: string = \`\${[${Array.from({ length: 8 }, (_, k) => `leaf${k}`).join(', ')}].join('')}-ok\`;
`);
  const playbook = join(dir, 'playbook.ts');
  writeFileSync(playbook, `import { definePlaybook } from ${JSON.stringify(types)};
import { pattern } from './tasks/a.ts';

export default definePlaybook({ name: 'concurrent', plays: [{ hosts: pattern, tasks: [] }] });
`);
  for (let round = 0; round < 4; round++) {
    const env = { RIG_CACHE_DIR: join(work, `cache5-${round}`) };
    const runs = await Promise.all(Array.from({ length: 8 }, () => runRig(['plan', '-i', inventory, playbook], { env })));
    for (const r of runs) t.regex(r.stderr, /pattern "concurrent-leaf-ok" matches no host/, `round ${round}, concurrent: ${r.stderr}`);
    const after = await runRig(['plan', '-i', inventory, playbook], { env });
    t.regex(after.stderr, /pattern "concurrent-leaf-ok" matches no host/, `round ${round}, the run after: ${after.stderr}`);
  }
});

test.serial('a load error names the user\'s own file and line: an imported module\'s, never Node\'s internals', async (t) => {
  const dir = join(work, 'p6');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dep.ts'), "export const x = 1;\n\nthrow new Error('boom in dep on line three');\n");
  const throwing = join(dir, 'throwing.ts');
  writeFileSync(throwing, `import { definePlaybook } from ${JSON.stringify(types)};\nimport { x } from './dep.ts';\n\nexport default definePlaybook({ name: 'x' + x, plays: [] });\n`);
  const missing = join(dir, 'missing.ts');
  writeFileSync(missing, `import { definePlaybook } from ${JSON.stringify(types)};\nimport nope from 'no-such-package-rig-test';\n\nexport default definePlaybook({ name: String(nope), plays: [] });\n`);
  for (const [mode, env] of [['prebuilt, compiling', { RIG_CACHE_DIR: join(work, 'cache6') }], ['prebuilt, cached', { RIG_CACHE_DIR: join(work, 'cache6') }], ['from source', { RIG_FROM_SOURCE: '1' }]] as const) {
    const r = await runRig(['plan', '-i', inventory, throwing], { env });
    t.regex(r.stderr, /error\[PLAYBOOK\] \S*dep\.ts:3: playbook failed to load: boom in dep on line three/, `${mode}: ${r.stderr}`);
    const m = await runRig(['plan', '-i', inventory, missing], { env });
    t.regex(m.stderr, /error\[PLAYBOOK\] \S*missing\.ts(:2)?: playbook failed to load: .*no-such-package-rig-test/, `${mode}: ${m.stderr}`);
    t.notRegex(m.stderr, /missing\.ts:(?!2:)\d+/, `${mode}: no line from Node's internals`);
  }
});
