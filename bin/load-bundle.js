// Load the prebuilt CLI (dist/rig.cjs, one CommonJS bundle: scripts/build-cli.mjs) with a V8 code cache, as
// v8-compile-cache does (issue 21: startup; Node 20 has no compile cache of its own for this). The bundle is compiled
// as a vm.Script given the cached data of an earlier run; a run that had none, or whose data V8 refused (another
// Node, other V8 flags), writes it once its command is done, so the functions that run compiled too. The cache lives
// beside the compiled playbooks (RIG_CACHE_DIR, else $XDG_CACHE_HOME/rig, else ~/.cache/rig), in a directory private to
// this user (code read from there is run); named after the bundle's path, a hash of its bytes and Node's version, so
// a new build never meets an old cache (not size and mtime: an install that keeps a tarball's dates, or a patch of the
// same length, would meet the old code). V8 checks little of what it is handed (the source's length) and crashes the
// process on damaged data, so each file starts with the SHA-256 of its data and a file that does not match is ignored
// (and written again). RIG_CODE_CACHE=off loads the bundle with plain require().
//
// The module goes into Node's require cache under its real path, as require() would put it: the ES modules a
// playbook imports (dist/src/x.js) require the bundle and get this very instance.
import Module, { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import { privateCacheDir } from './private-cache-dir.js';

/**
 * The bundle's exports. `done` (call it when the command has finished) writes the code cache when this run had
 * none that V8 accepted.
 * @param {string} bundlePath path of dist/rig.cjs
 * @returns {{ exports: Record<string, unknown>, done: () => void }}
 */
export function loadBundle(bundlePath) {
  const file = realpathSync(bundlePath);
  const cached = Module._cache[file];
  if (cached) return { exports: cached.exports, done: () => undefined };
  if (process.env.RIG_CODE_CACHE === 'off') return { exports: createRequire(file)(file), done: () => undefined };
  const bytes = readFileSync(file);
  const source = bytes.toString('utf8');
  const dir = privateCacheDir('code');
  // <bundle>-<build and Node>.v8: a new build's cache replaces the old one of the same bundle (see done)
  const hash = (data) => createHash('sha256').update(data).digest('hex').slice(0, 20);
  const prefix = `${hash(file)}-`;
  const cacheFile = dir && join(dir, `${prefix}${hash(Buffer.concat([bytes, Buffer.from(`\0${process.version}\0${process.arch}`)]))}.v8`);
  let cachedData;
  try { if (cacheFile) cachedData = checkedPayload(readFileSync(cacheFile)); } catch { /* none yet */ }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  // An import() compiled in a vm.Script has no loader (Node 20 wants a flag for one, and loses it with cached data):
  // the bundle imports ES modules (a compiled playbook, tsx, esbuild) through this one (src/core/import-esm.ts).
  globalThis[Symbol.for('rig.importEsm')] = (specifier) => import(specifier);
  const mod = new Module(file, undefined);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  Module._cache[file] = mod;
  try {
    script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  } catch (e) {
    delete Module._cache[file];
    throw e;
  }
  mod.loaded = true;
  const stale = cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true);
  return {
    exports: mod.exports,
    done: () => {
      if (!stale) return;
      try {
        const tmp = `${cacheFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        const data = script.createCachedData();
        writeFileSync(tmp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { mode: 0o600 });
        renameSync(tmp, cacheFile);
        for (const f of readdirSync(dir)) if (f.startsWith(prefix) && f.endsWith('.v8') && join(dir, f) !== cacheFile) rmSync(join(dir, f), { force: true });
      } catch { /* the cache is only ever a shortcut */ }
    },
  };
}

/**
 * The V8 data of a cache file (its first 32 bytes are the SHA-256 of the rest), or undefined when it does not match.
 * @param {Buffer} file
 * @returns {Buffer | undefined}
 */
export function checkedPayload(file) {
  if (file.length <= 32) return undefined;
  const data = file.subarray(32);
  return createHash('sha256').update(data).digest().equals(file.subarray(0, 32)) ? data : undefined;
}
