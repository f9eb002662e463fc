import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve, sep } from 'node:path';

/**
 * What a new project's package.json names as its `rig` dependency. The npm registry's `rig` is another package, so
 * never a registry version: the running rig itself. From a checkout (or any directory not inside node_modules):
 * `file:<its absolute root>` — `npm install` links it, and the project runs exactly the rig that created it. From a
 * copy installed in another project (…/node_modules/rig): the spec that project declares (a tarball, a git URL; a
 * relative `file:` made absolute), else `file:` of the installed copy.
 */
export function rigDependencySpec(rigRoot: string): string {
  const root = resolve(rigRoot);
  const parts = root.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at > 0) {
    const owner = parts.slice(0, at).join(sep) || sep;
    const declared = readDeclaredSpec(resolve(owner, 'package.json'));
    if (declared !== undefined) return declared.startsWith('file:') ? `file:${absoluteFrom(owner, declared.slice(5))}` : declared;
  }
  return `file:${root}`;
}

function readDeclaredSpec(packageJson: string): string | undefined {
  if (!existsSync(packageJson)) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const spec = pkg.dependencies?.['rig'] ?? pkg.devDependencies?.['rig'];
    return typeof spec === 'string' && spec !== '' ? spec : undefined;
  } catch {
    return undefined;
  }
}

const absoluteFrom = (dir: string, p: string): string => (isAbsolute(p) ? p : resolve(dir, p));

/** A package name for the project from its directory name (npm's rules: lower case, URL-safe). */
export function projectPackageName(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|-+$/g, '');
  return name === '' || name === 'rig' ? 'rig-project' : name.slice(0, 214);
}
