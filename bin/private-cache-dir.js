// rig's per-user cache (RIG_CACHE_DIR, else $XDG_CACHE_HOME/rig, else ~/.cache/rig): compiled playbooks
// (src/playbook/playbook-compile-cache.ts) and the CLI's V8 code cache (bin/load-bundle.js). Code read from there is
// run, so the cache is used only where no other user can change what rig reads: as OpenSSH judges a key file's path
// (secure_path), every directory from / down to the cache, and every symlink on the way, is owned by this user or
// root and not writable by group or others — except a sticky directory such as /tmp, where others can add names but
// not replace this user's. The cache directories themselves are this user's, 0700 when rig makes them. Nothing is
// created before the existing part of the path has passed, so a root run with another user's HOME (sudo -E) makes
// no root-owned ~/.cache in their home: it runs without a cache. Because no one else can change the chain, the path
// checked is the path used: rig returns it resolved (no symlink left to swap later).
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/** More symlinks than this on the way is a loop (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * `<cache>/<sub>`, resolved and private to this user (created when missing), or undefined when it cannot be.
 * RIG_CACHE_DIR and XDG_CACHE_HOME count only when absolute (the XDG spec: a relative value is ignored); no cache
 * when the home directory is unknown or relative.
 * @param {string} sub
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | undefined}
 */
export function privateCacheDir(sub, env = process.env) {
  const top = cacheTop(env);
  if (top === undefined) return undefined;
  const uid = process.getuid ? process.getuid() : undefined;
  try {
    const topReal = ensurePrivateDir(top, uid);
    return topReal === undefined ? undefined : ensurePrivateDir(join(topReal, sub), uid);
  } catch {
    return undefined;
  }
}

/**
 * The cache's top directory as configured, or undefined.
 * @param {NodeJS.ProcessEnv} env
 * @returns {string | undefined}
 */
function cacheTop(env) {
  if (env.RIG_CACHE_DIR) return isAbsolute(env.RIG_CACHE_DIR) ? env.RIG_CACHE_DIR : undefined;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'rig');
  let home = env.HOME; // as os.homedir() reads it; the password database when unset
  if (home === undefined) try { home = homedir(); } catch { return undefined; }
  return home && isAbsolute(home) ? join(home, '.cache', 'rig') : undefined;
}

/**
 * `path` resolved, checked from / down, its missing directories made one by one (0700, never through a link);
 * undefined when any part of it could be changed by another user.
 * @param {string} path absolute
 * @param {number | undefined} uid
 * @returns {string | undefined}
 */
function ensurePrivateDir(path, uid) {
  const ours = (st) => uid === undefined || st.uid === uid || st.uid === 0;
  const othersWrite = (st) => uid !== undefined && (st.mode & 0o022) !== 0;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let cur = '/';
  let links = 0;
  while (parts.length > 0) {
    const name = parts.shift();
    if (name === '..') { cur = dirname(cur); continue; } // cur holds no symlink: its parent is its real parent
    const next = join(cur, name);
    let st;
    try {
      st = lstatSync(next);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      // Made by this user, 0700 whatever the umask; an EEXIST race is judged by the lstat below like any name.
      try { mkdirSync(next, { mode: 0o700 }); } catch (m) { if (m.code !== 'EEXIST') throw m; }
      st = lstatSync(next);
    }
    if (!ours(st)) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = readlinkSync(next);
      parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      if (isAbsolute(target)) cur = '/';
      continue;
    }
    if (!st.isDirectory()) return undefined;
    // Writable by others: only a sticky directory, and never the cache itself (checked below).
    if (othersWrite(st) && (st.mode & 0o1000) === 0) return undefined;
    cur = next;
  }
  const st = lstatSync(cur);
  if (!st.isDirectory() || othersWrite(st) || (uid !== undefined && st.uid !== uid)) return undefined;
  return cur;
}
