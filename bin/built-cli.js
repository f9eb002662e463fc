// Is the prebuilt CLI (dist/, scripts/build-cli.mjs) usable, i.e. built from the sources beside it?
// Fast path: dist/rig.mjs is not older than any file it was built from (src/, and the two files outside src/ that the
// build copies or bundles) — a checkout after `npm run build`. Otherwise the sources' content decides: the build
// records a hash of them in dist/sources.sha256, and an install whose files all got the extraction time (npm, a
// tarball: dist/ unpacked before src/) is fresh when that hash still matches. A source edited after the build, or
// deleted, makes it stale either way, and bin/rig.js runs the TypeScript sources.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files outside src/ that go into dist/ (bin/private-cache-dir.js is bundled; the hook is copied). */
const EXTRA_INPUTS = [['bin', 'private-cache-dir.js'], ['scripts', 'src-redirect-hook.mjs']];

/** @param {string} dir @returns {string[]} every file below dir */
function listFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** @param {string} root @returns {string[]} the build's inputs, sorted */
function buildInputs(root) {
  return [...listFiles(join(root, 'src')), ...EXTRA_INPUTS.map((parts) => join(root, ...parts))].sort();
}

/**
 * SHA-256 over the build's inputs (their paths relative to root, and bytes), hex.
 * @param {string} root the project directory
 */
export function hashBuildInputs(root) {
  const h = createHash('sha256');
  for (const f of buildInputs(root)) {
    const data = readFileSync(f);
    h.update(`${relative(root, f)}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex');
}

/** @param {string} root the project directory (holding src/ and dist/) */
export function isBuiltCliFresh(root) {
  try {
    const stamp = statSync(join(root, 'dist', 'rig.mjs')).mtimeMs;
    if (buildInputs(root).every((f) => statSync(f).mtimeMs <= stamp)) return true;
    return readFileSync(join(root, 'dist', 'sources.sha256'), 'utf8').trim() === hashBuildInputs(root);
  } catch {
    return false;
  }
}
