/**
 * rig's cache directory (bin/private-cache-dir.js): code read from there is run, so no other user may be able to change
 * any directory or symlink on the way to it. Real users and modes (the tests run as root; "another user" is a uid with
 * its own files, made with lchown), checked both ways: what is refused creates nothing, what is accepted is this
 * user's 0700 directory, resolved.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateCacheDir } from '../../bin/private-cache-dir.js';

const OTHER = 54321; // another user (no name needed)
const work = mkdtempSync(join(tmpdir(), 'rig-cache-dir-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => { const d = join(work, String(n++)); mkdirSync(d); return d; };

test('the default: ~/.cache/rig/<sub> made 0700, resolved, reused', (t) => {
  const home = fresh();
  const dir = privateCacheDir('code', { HOME: home });
  t.is(dir, join(home, '.cache', 'rig', 'code'));
  t.is(lstatSync(dir!).mode & 0o777, 0o700);
  t.is(lstatSync(join(home, '.cache')).mode & 0o777, 0o700);
  t.is(privateCacheDir('code', { HOME: home }), dir);
});

test('a symlink of this user on the way is followed and the real path returned', (t) => {
  const base = fresh();
  mkdirSync(join(base, 'real'));
  symlinkSync(join(base, 'real'), join(base, 'link'));
  t.is(privateCacheDir('playbooks', { RIG_CACHE_DIR: join(base, 'link', 'rig') }), join(base, 'real', 'rig', 'playbooks'));
});

test('a sticky world-writable directory (like /tmp) may hold the cache; an attacker\'s name in it may not', (t) => {
  const sticky = fresh();
  chmodSync(sticky, 0o1777);
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: join(sticky, 'mine') }), join(sticky, 'mine', 'code'));
  // Planted before rig ran: a symlink owned by another user, pointing at this user's own private directory.
  const victim = fresh();
  symlinkSync(victim, join(sticky, 'planted'));
  lchownSync(join(sticky, 'planted'), OTHER, OTHER);
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: join(sticky, 'planted') }), undefined);
  t.deepEqual(readdirSync(victim), [], 'nothing made through their link');
  // A directory of theirs
  mkdirSync(join(sticky, 'theirs'), { mode: 0o700 });
  chownSync(join(sticky, 'theirs'), OTHER, OTHER);
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: join(sticky, 'theirs') }), undefined);
  t.deepEqual(readdirSync(join(sticky, 'theirs')), []);
});

test('a directory on the way that another user owns or may write is refused, and nothing is made below it', (t) => {
  // XDG_CACHE_HOME in a shared place, its .cache made 0777 by another user (the race of a symlink swap needs that)
  const shared = fresh();
  chmodSync(shared, 0o755);
  mkdirSync(join(shared, '.cache'));
  chownSync(join(shared, '.cache'), OTHER, OTHER);
  chmodSync(join(shared, '.cache'), 0o777);
  t.is(privateCacheDir('playbooks', { XDG_CACHE_HOME: join(shared, '.cache') }), undefined);
  t.false(existsSync(join(shared, '.cache', 'rig')));
  // group- or world-writable without the sticky bit, even if owned by this user
  const open = fresh();
  chmodSync(open, 0o777);
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: join(open, 'c') }), undefined);
  t.false(existsSync(join(open, 'c')));
  // the cache directory itself writable by others
  const loose = fresh();
  mkdirSync(join(loose, 'c'));
  chmodSync(join(loose, 'c'), 0o770);
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: join(loose, 'c') }), undefined);
});

test('root with another user\'s HOME (sudo -E) runs without a cache and leaves their home alone', (t) => {
  const home = fresh();
  chownSync(home, OTHER, OTHER);
  chmodSync(home, 0o755);
  t.is(privateCacheDir('code', { HOME: home }), undefined);
  t.deepEqual(readdirSync(home), [], 'no root-owned ~/.cache in their home');
});

test('relative or empty settings are ignored: RIG_CACHE_DIR, XDG_CACHE_HOME (XDG spec), HOME', (t) => {
  const home = fresh();
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: 'rel/cache' }), undefined);
  t.is(privateCacheDir('code', { XDG_CACHE_HOME: 'rel', HOME: home }), join(home, '.cache', 'rig', 'code'));
  const cwd = fresh();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { privateCacheDir } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'bin', 'private-cache-dir.js'))}; process.stdout.write(String(privateCacheDir('code', { HOME: '' })));`],
  { cwd, encoding: 'utf8' });
  t.is(out, 'undefined');
  t.deepEqual(readdirSync(cwd), [], 'no ./.cache in the working directory');
});

test('a symlink loop is refused', (t) => {
  const d = fresh();
  symlinkSync(join(d, 'b'), join(d, 'a'));
  symlinkSync(join(d, 'a'), join(d, 'b'));
  t.is(privateCacheDir('code', { RIG_CACHE_DIR: join(d, 'a') }), undefined);
});
