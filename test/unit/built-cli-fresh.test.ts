/**
 * Is dist/ the build of the sources beside it (bin/built-cli.js)? In a checkout, by date; in an install whose files
 * all got the extraction time, dist/ unpacked before src/ (npm, a tarball), by content — which the date test alone
 * judged stale for good, so an installed rig never ran its prebuilt CLI. A real tarball of the project (`npm pack`'s
 * file list, through tar) is the fixture.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBuiltCliFresh } from '../../bin/built-cli.js';
import { ensureBuiltCli } from '../helpers/ensure-built-cli.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

test.before(ensureBuiltCli);

/** Unpack the project as npm would install it: `npm pack`'s files, every file dated in unpack order (dist/ first). */
let packed: string[] | undefined;
function unpackInstalled(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rig-installed-'));
  const files = packed ??= (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PROJECT_ROOT, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  execFileSync('tar', ['-c', '-f', join(dir, 'p.tar'), '-C', PROJECT_ROOT, ...files]);
  execFileSync('tar', ['-x', '-f', join(dir, 'p.tar'), '-C', dir, '-m']); // -m: extraction time, as npm gives
  rmSync(join(dir, 'p.tar'));
  // dist/ first, src/ a second later: the order that made every source look newer than the build
  const t0 = Date.now() / 1000;
  const walk = (d: string, t: number): void => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p, t); else utimesSync(p, t, t); } };
  walk(join(dir, 'dist'), t0 - 10);
  walk(join(dir, 'src'), t0 - 5);
  walk(join(dir, 'bin'), t0 - 5);
  walk(join(dir, 'scripts'), t0 - 5);
  return dir;
}

test('an install dated in unpack order runs its build; an edited or deleted source makes it stale', (t) => {
  const dir = unpackInstalled();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.true(isBuiltCliFresh(dir), 'the same sources as the build: fresh, whatever their dates');
  appendFileSync(join(dir, 'src', 'cli', 'main.ts'), '\n// edited\n');
  t.false(isBuiltCliFresh(dir), 'an edited source');
  const again = unpackInstalled();
  t.teardown(() => rmSync(again, { recursive: true, force: true }));
  rmSync(join(again, 'src', 'index.ts'));
  t.false(isBuiltCliFresh(again), 'a deleted source');
  const bundled = unpackInstalled();
  t.teardown(() => rmSync(bundled, { recursive: true, force: true }));
  appendFileSync(join(bundled, 'bin', 'private-cache-dir.js'), '\n// edited\n');
  t.false(isBuiltCliFresh(bundled), 'a file outside src/ that the build bundles');
});

test('in the checkout: fresh by date after the build', (t) => {
  t.true(isBuiltCliFresh(PROJECT_ROOT));
});
