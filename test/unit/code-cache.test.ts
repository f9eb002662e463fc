/**
 * The prebuilt CLI's V8 code cache (bin/load-bundle.js, issue 21): written by the first run, read (not rewritten) by
 * the next, rewritten when V8 refuses it (garbage), never written in a directory others can write to or with
 * RIG_CODE_CACHE=off — and the CLI behaves the same in every case (a playbook's secret still masked: one module
 * instance whatever loaded the bundle).
 */
import test from 'ava';
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
  // a new build (another mtime of the bundle) replaces the cache of the old one
  const bundle = join(PROJECT_ROOT, 'dist', 'rig.cjs');
  const { atime, mtime } = statSync(bundle);
  try {
    utimesSync(bundle, atime, new Date(mtime.getTime() + 1000));
    await planMasked(t, env);
    t.is(codeFiles(cacheDir).length, 1);
    t.notDeepEqual(codeFiles(cacheDir), files);
  } finally {
    utimesSync(bundle, atime, mtime);
  }
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
