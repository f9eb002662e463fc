/**
 * The prebuilt CLI's V8 code cache (bin/load-bundle.js, issue 21): written by the first run, read (not rewritten) by
 * the next, rewritten when V8 refuses it (garbage), never written in a directory others can write to or with
 * RIG_CODE_CACHE=off — and the CLI behaves the same in every case (a playbook's secret still masked: one module
 * instance whatever loaded the bundle).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { ensureBuiltCli } from '../helpers/ensure-built-cli.ts';

const PLAYBOOK = 'test/fixtures/playbooks/secret-from-playbook.ts';
const work = mkdtempSync(join(tmpdir(), 'rig-code-cache-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'all:\n  hosts: {}\n');

test.before(ensureBuiltCli);
test.after.always(() => rmSync(work, { recursive: true, force: true }));

async function planMasked(t: import('ava').ExecutionContext, env: Record<string, string>): Promise<void> {
  const r = await runRig(['plan', '-i', inventory, PLAYBOOK], { env });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /pattern "\*\*\*\*\*\*\*\*" matches no host/);
}

const codeFiles = (cacheDir: string): string[] => {
  try { return readdirSync(join(cacheDir, 'code')).filter((f) => f.endsWith('.v8')); } catch { return []; }
};

test.serial('written by the first run, used as it is by the second, rewritten when V8 refuses it', async (t) => {
  const cacheDir = join(work, 'private');
  const env = { RIG_CACHE_DIR: cacheDir };
  await planMasked(t, env);
  const files = codeFiles(cacheDir);
  t.is(files.length, 1);
  const file = join(cacheDir, 'code', files[0]!);
  const first = readFileSync(file);
  const firstMtime = statSync(file).mtimeMs;
  await planMasked(t, env);
  t.deepEqual(codeFiles(cacheDir), files);
  t.is(statSync(file).mtimeMs, firstMtime, 'an accepted cache is not written again');
  writeFileSync(file, Buffer.alloc(first.length, 7));
  await planMasked(t, env);
  t.false(readFileSync(file).equals(Buffer.alloc(first.length, 7)), 'refused data is replaced');
  t.is(statSync(file).mode & 0o077, 0);
});

test.serial('damaged data (same length, bytes flipped) is ignored and written again: V8 is never handed it', async (t) => {
  const cacheDir = join(work, 'damaged');
  const env = { RIG_CACHE_DIR: cacheDir };
  await planMasked(t, env);
  const file = join(cacheDir, 'code', codeFiles(cacheDir)[0]!);
  const good = readFileSync(file);
  for (const seed of [1, 2, 3]) {
    const bad = Buffer.from(good);
    for (let k = 0; k < 20; k++) { const i = 100 + ((seed * 7919 + k * 104729) % (bad.length - 100)); bad[i] = bad[i]! ^ 0x5a; }
    writeFileSync(file, bad);
    await planMasked(t, env); // before the check, V8 aborted the process here (Fatal error … unreachable code)
    t.false(readFileSync(file).equals(bad), 'written again');
  }
});

/** Load `bundle` through bin/load-bundle.js in a fresh Node, write its cache (done), print what it exports. */
function loadInNode(bundle: string, cacheDir: string): string {
  const script = `import { loadBundle } from ${JSON.stringify(join(PROJECT_ROOT, 'bin', 'load-bundle.js'))};
const b = loadBundle(${JSON.stringify(bundle)}); process.stdout.write(String(b.exports.answer())); b.done();`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, RIG_CACHE_DIR: cacheDir }, encoding: 'utf8' });
}

test.serial('a new bundle of the same length and date never runs the old one\'s cached code', (t) => {
  const dir = mkdtempSync(join(work, 'bundle-'));
  const bundle = join(dir, 'b.cjs');
  const cacheDir = join(dir, 'cache');
  const version = (v: string): string => `module.exports = { answer() { return ${JSON.stringify(v)}; } };\n`;
  writeFileSync(bundle, version('old-1'));
  const date = new Date('1985-10-26T08:15:00Z'); // what an install keeping a tarball's dates gives every version
  utimesSync(bundle, date, date);
  t.is(loadInNode(bundle, cacheDir), 'old-1');
  t.is(loadInNode(bundle, cacheDir), 'old-1', 'from the cache');
  writeFileSync(bundle, version('new-2'));
  utimesSync(bundle, date, date);
  t.is(loadInNode(bundle, cacheDir), 'new-2');
  t.is(codeFiles(cacheDir).length, 1, 'the new build\'s cache replaced the old one');
});

test.serial('not written where others can write, nor with RIG_CODE_CACHE=off', async (t) => {
  const shared = join(work, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  await planMasked(t, { RIG_CACHE_DIR: shared });
  t.deepEqual(codeFiles(shared), []);
  const off = join(work, 'off');
  await planMasked(t, { RIG_CACHE_DIR: off, RIG_CODE_CACHE: 'off' });
  t.deepEqual(codeFiles(off), []);
});
