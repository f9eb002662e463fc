import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { InitError } from '../errors.ts';
import { projectPackageName, rigDependencySpec } from './rig-dependency-spec.ts';

export interface ScaffoldOptions {
  /** The running rig's root: holds scaffold/ and package.json. */
  readonly rigRoot: string;
  /** The `rig` dependency of the new package.json. @default rigDependencySpec(rigRoot) */
  readonly rigSpec?: string;
}

export interface ScaffoldFile { readonly path: string; readonly content: string }

/** Files kept under another name in scaffold/ (npm never packs a `.gitignore`). */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** The files of a new project in `dir` (relative paths, sorted): scaffold/ plus package.json and tsconfig.json. */
export function listScaffoldFiles(dir: string, options: ScaffoldOptions): ScaffoldFile[] {
  const scaffold = join(options.rigRoot, 'scaffold');
  const files: ScaffoldFile[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      const rel = relative(scaffold, p);
      files.push({ path: RENAMED[rel] ?? rel, content: readFileSync(p, 'utf8') });
    }
  };
  walk(scaffold);
  const rigPkg = JSON.parse(readFileSync(join(options.rigRoot, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const dev = rigPkg.devDependencies ?? {};
  const packageJson = {
    name: projectPackageName(dir),
    version: '0.0.0',
    private: true,
    type: 'module',
    scripts: { plan: 'rig plan playbooks/site.ts', typecheck: 'tsc --noEmit' },
    dependencies: { rig: options.rigSpec ?? rigDependencySpec(options.rigRoot) },
    // rig ships its TypeScript sources as its types: tsc checks playbooks against them with these.
    devDependencies: { ...(dev['@types/node'] ? { '@types/node': dev['@types/node'] } : {}), ...(dev['typescript'] ? { typescript: dev['typescript'] } : {}) },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true,
      noImplicitOverride: true, skipLibCheck: true, allowImportingTsExtensions: true, noEmit: true, types: ['node'],
    },
    include: ['playbooks', 'tasks'],
  };
  files.push({ path: 'package.json', content: JSON.stringify(packageJson, null, 2) + '\n' });
  files.push({ path: 'tsconfig.json', content: JSON.stringify(tsconfig, null, 2) + '\n' });
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

const exists = (p: string): boolean => {
  try { lstatSync(p); return true; } catch { return false; }
};

/**
 * Write a new project into `dir` (created if missing). Refuses, writing nothing, when any file it would write exists
 * already (a symlink counts, dangling or not). Files are created exclusively, so one appearing meanwhile is not
 * overwritten either. Returns the files written.
 */
export function scaffoldProject(dir: string, options: ScaffoldOptions): ScaffoldFile[] {
  const root = resolve(dir);
  if (exists(root) && !lstatSync(root).isDirectory()) throw new InitError(`${dir} exists and is not a directory`, { file: dir, hint: 'give a new or existing directory' });
  const files = listScaffoldFiles(root, options);
  const taken = files.filter((f) => exists(join(root, f.path))).map((f) => f.path);
  if (taken.length) {
    throw new InitError(`refusing to overwrite ${taken.length === 1 ? 'a file that exists' : `${taken.length} files that exist`}: ${taken.join(', ')}`, {
      file: dir, hint: 'run `rig init` in a new or empty directory (rig init DIR), or move these files away; nothing was written',
    });
  }
  for (const f of files) {
    const target = join(root, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content, { flag: 'wx', mode: 0o644 });
  }
  return files;
}
