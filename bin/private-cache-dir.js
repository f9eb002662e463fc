// rig's per-user cache (RIG_CACHE_DIR, else $XDG_CACHE_HOME/rig, else ~/.cache/rig): compiled playbooks
// (src/playbook/playbook-compile-cache.ts) and the CLI's V8 code cache (bin/load-bundle.js). Code read from there is
// run, so a directory someone else owns or can write to is refused.
import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `<cache>/<sub>`, created private to this user, or undefined when it cannot be.
 * @param {string} sub
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | undefined}
 */
export function privateCacheDir(sub, env = process.env) {
  const top = env.RIG_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rig');
  const dir = join(top, sub);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of [top, dir]) {
      const st = statSync(d);
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
    }
    return dir;
  } catch {
    return undefined;
  }
}
