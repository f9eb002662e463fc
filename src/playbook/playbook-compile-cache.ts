/**
 * Compiled-playbook cache (issue 21): when rig runs prebuilt (dist/), a users' playbook and the local TypeScript files
 * it imports (tasks/*.ts, …) are compiled once each with esbuild into plain ESM files under a per-user cache
 * directory, and later runs import those files directly: no tsx, no module hooks thread, no esbuild process.
 *
 * One file per source module (never a bundle), so each keeps its own `import.meta.url` (defined as the source's URL,
 * so `new URL('../templates/x', import.meta.url)` still finds the file beside the source). Imports are rewritten at
 * compile time to absolute URLs: rig's own sources (`<root>/src/x.ts`) to the built modules the CLI runs on
 * (`<root>/dist/src/x.js`, one instance of every rig module), npm packages to the file Node would load (resolved with
 * Node's conditions), local TypeScript files to their own compiled files. The cached name of a module is a hash of
 * its source bytes, of the build it links against and of its local dependencies' names (a Merkle hash), so an edit
 * anywhere below a playbook gives new names up to the playbook and nothing stale is ever loaded. A second run reads
 * and hashes the sources and one entry per module (its code and import list), then imports.
 *
 * Each compiled file carries an inline source map; Node's source-map support is on while the playbook is imported,
 * so a playbook that throws at import reports its own file and line. Anything unusual (an import cycle between
 * local files, a compile error, a cache directory that is not private to this user, esbuild missing) returns
 * undefined and the caller loads the playbook through tsx as before.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { privateCacheDir } from '../../bin/private-cache-dir.js';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importEsm } from '../core/import-esm.ts';

/** Bump when the compiled output's shape changes. */
const FORMAT = 'rig-playbook-cache-2';
const LOCAL_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * One compiled module before linking, in ONE file (`<key>.json`): its code and the placeholders in it go together.
 * (Kept as two files, code and manifest, two rig processes compiling the same new module at once could pair one's
 * code with the other's placeholder nonce, and the linked file kept the unreplaced placeholders for good.)
 */
interface Entry {
  /** Absolute paths of the local TypeScript files this module imports, in the order of the placeholders. */
  readonly deps: readonly string[];
  /** The placeholder prefix written in the compiled code, `<nonce>-<index>`. */
  readonly nonce: string;
  /** The compiled code, local imports as `"<nonce>-<index>"`. */
  readonly code: string;
}

interface Context {
  readonly rootUrl: string;
  readonly dir: string;
  readonly buildId: string;
  /** Absolute path → URL of its compiled file, for modules already done in this run. */
  readonly done: Map<string, string>;
  readonly inProgress: Set<string>;
}

class CycleError extends Error {}

/** The per-user cache directory (RIG_CACHE_DIR, else $XDG_CACHE_HOME/rig, else ~/.cache/rig), private to this user. */
export function resolveCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return privateCacheDir('playbooks', env);
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Import `path` from its compiled cache, compiling what is missing. `rootUrl` is the directory URL above dist/.
 * Returns undefined when the cache cannot be used (the caller falls back to tsx); a playbook that fails to compile or
 * throws while importing rejects as usual.
 */
export async function importCompiledPlaybook(path: string, rootUrl: string): Promise<Record<string, unknown> | undefined> {
  const dir = resolveCacheDir();
  if (dir === undefined) return undefined;
  let stamp: string;
  try {
    stamp = String(statSync(fileURLToPath(new URL('dist/rig.mjs', rootUrl))).mtimeMs);
  } catch {
    return undefined;
  }
  const ctx: Context = { rootUrl, dir, buildId: `${FORMAT}\0${rootUrl}\0${stamp}\0${process.version}`, done: new Map(), inProgress: new Set() };
  let url: string;
  try {
    url = await compileModule(path, ctx);
  } catch {
    // An import cycle, an import esbuild cannot resolve (a package's self-reference…), a syntax error: tsx loads the
    // playbook as before and reports what is wrong in its words. The cache is only ever a shortcut.
    return undefined;
  }
  const wasEnabled = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(true);
  try {
    return await importEsm(url);
  } catch (e) {
    // Stack traces are formatted on first read: read it while source maps are on, so it names the playbook's lines.
    void (e as Error | undefined)?.stack;
    throw e;
  } finally {
    process.setSourceMapsEnabled(wasEnabled);
  }
}

/** The URL of the compiled file for one local module, compiling it (and its local dependencies) when not cached. */
async function compileModule(path: string, ctx: Context): Promise<string> {
  const known = ctx.done.get(path);
  if (known !== undefined) return known;
  if (ctx.inProgress.has(path)) throw new CycleError(`import cycle through ${path}`);
  ctx.inProgress.add(path);
  const source = readFileSync(path);
  const firstKey = sha256(`${ctx.buildId}\0${path}\0${sha256(source)}`);
  const entryFile = join(ctx.dir, `${firstKey}.json`);
  let entry = tryReadEntry(entryFile);
  if (entry === undefined) {
    entry = await transpile(path, source, ctx, join(ctx.dir, `${firstKey}.js`));
    writeAtomically(entryFile, JSON.stringify(entry));
  }
  const depUrls: string[] = [];
  for (const dep of entry.deps) depUrls.push(await compileModule(dep, ctx));
  const finalFile = join(ctx.dir, `${sha256(`${firstKey}\0${depUrls.join('\0')}`)}.mjs`);
  if (!isFile(finalFile)) {
    const placeholder = new RegExp(`"${entry.nonce}-(\\d+)"`, 'g');
    writeAtomically(finalFile, entry.code.replace(placeholder, (_, i: string) => JSON.stringify(depUrls[Number(i)])));
  }
  const url = pathToFileURL(finalFile).href;
  ctx.inProgress.delete(path);
  ctx.done.set(path, url);
  return url;
}

function tryReadEntry(file: string): Entry | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    return Array.isArray(m.deps) && typeof m.nonce === 'string' && typeof m.code === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Write through a temp file and rename, so a concurrent rig sees the whole file or none. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Compile one module with esbuild (every import external, rewritten): its code with local dependencies as
 * placeholders, and the list naming them. `codeFile` only names esbuild's output (nothing is written there).
 */
async function transpile(path: string, source: Buffer, ctx: Context, codeFile: string): Promise<Entry> {
  const esbuild = await importEsm<typeof import('esbuild')>('esbuild');
  const nonce = `rig-local-${randomBytes(8).toString('hex')}`;
  const deps: string[] = [];
  const srcPrefix = fileURLToPath(new URL('src/', ctx.rootUrl));
  const fileUrl = pathToFileURL(path).href;
  const result = await esbuild.build({
    stdin: { contents: source.toString('utf8'), sourcefile: path, resolveDir: dirname(path), loader: loaderFor(path) },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    // Node's own resolution conditions (esbuild would add `module`, and read `module` main fields)
    conditions: [],
    mainFields: ['main'],
    sourcemap: 'external',
    sourcesContent: false,
    outfile: codeFile,
    logLevel: 'silent',
    define: {
      'import.meta.url': JSON.stringify(fileUrl),
      'import.meta.filename': JSON.stringify(path),
      'import.meta.dirname': JSON.stringify(dirname(path)),
    },
    plugins: [{
      name: 'rig-playbook-imports',
      setup(build) {
        build.onResolve({ filter: /.*/ }, async (args) => {
          if (args.pluginData === 'rig-inner') return undefined;
          if (args.path.startsWith('node:')) return { path: args.path, external: true };
          // `rig` is the running rig's public entry point (as scripts/playbook-resolve-hook.mjs resolves it for tsx)
          if (args.path === 'rig') return { path: new URL('dist/src/index.js', ctx.rootUrl).href, external: true };
          const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'rig-inner' });
          if (r.errors.length) return { errors: r.errors };
          if (r.external || !r.path.startsWith('/')) return { path: args.path, external: true }; // a Node builtin
          if (r.path.startsWith(srcPrefix) && r.path.endsWith('.ts')) {
            const built = new URL(`dist/src/${r.path.slice(srcPrefix.length, -3)}.js`, ctx.rootUrl);
            if (isFile(fileURLToPath(built))) return { path: built.href, external: true };
          }
          if (LOCAL_EXTENSIONS.has(extname(r.path)) && !r.path.includes('/node_modules/')) {
            let i = deps.indexOf(r.path);
            if (i < 0) i = deps.push(r.path) - 1;
            return { path: `${nonce}-${i}`, external: true };
          }
          return { path: pathToFileURL(r.path).href, external: true };
        });
      },
    }],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.map'))!.text) as { sources: string[] };
  map.sources = [fileUrl];
  const inline = Buffer.from(JSON.stringify(map)).toString('base64');
  return { deps, nonce, code: `${code.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n')}//# sourceMappingURL=data:application/json;base64,${inline}\n` };
}

function loaderFor(path: string): 'ts' | 'tsx' {
  return path.endsWith('x') ? 'tsx' : 'ts';
}
