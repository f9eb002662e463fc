/**
 * Read the module reference out of the sources with the TypeScript compiler (typescript/unstable/sync, a devDependency
 * used only here, never by the CLI): every module that src/modules/index.ts exports, its props interface (property
 * types as written, doc comments, `@default` tags, inherited props included), the module's own doc comment with its
 * `@plan`, `@rollback` and `@example` tags, and the named types the props use. A module added to index.ts is picked
 * up without touching this file.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { API, SymbolFlags, type Checker, type Project, type Symbol as TsSymbol } from 'typescript/unstable/sync';
import type { ModuleReference, ModuleReferenceSet, PropReference, TypeReference } from '../../src/help/module-reference.ts';

const MODULES_INDEX = 'src/modules/index.ts';
const MODULE_FRAMEWORK = 'src/modules/module.ts';
/** Type names that are the language's or Node's, not rig's: never listed under "Types". */
const BUILTIN_TYPES = new Set(['Readonly', 'ReadonlyArray', 'Record', 'Array', 'Buffer', 'Partial', 'Pick', 'Omit', 'Promise']);

/** One `defineModule<Props>({ name: '…' })` found in a module file. */
interface ModuleSite {
  readonly file: string;
  readonly variable: string;
  readonly propsType: string;
  readonly name: string;
}

/** The files src/modules/index.ts exports from, in order, with the value names each exports. */
function readIndexExports(root: string): Array<{ file: string; values: string[] }> {
  const text = readFileSync(join(root, MODULES_INDEX), 'utf8');
  const out: Array<{ file: string; values: string[] }> = [];
  for (const m of text.matchAll(/export\s*\{([^}]*)\}\s*from\s*'\.\/([^']+)'/g)) {
    const values = m[1]!.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('type ')).map((s) => s.split(/\s+as\s+/).pop()!.trim());
    out.push({ file: `src/modules/${m[2]}`, values });
  }
  return out;
}

/** Every `const x = defineModule<P>({ name: 'n'` in a file (a props type that is not a plain name gives ''). */
function findModuleSites(root: string, file: string): ModuleSite[] {
  const text = readFileSync(join(root, file), 'utf8');
  const sites: ModuleSite[] = [];
  for (const m of text.matchAll(/const\s+(\w+)\s*=\s*defineModule<(.+?)>\(\{\s*name:\s*'([^']+)'/g)) {
    const props = m[2]!.trim();
    sites.push({ file, variable: m[1]!, propsType: /^\w+$/.test(props) ? props : '', name: m[3]! });
  }
  return sites;
}

/** Collapse a doc comment's or type's whitespace runs inside lines, keep paragraph breaks. */
const tidyDoc = (s: string): string => s.split(/\n{2,}/).map((para) => para.split('\n').map((l) => l.trim()).join('\n')).join('\n\n').trim();
const tidyType = (s: string): string => s.replace(/\s+/g, ' ').trim();

class Extractor {
  readonly #checker: Checker;
  readonly #types = new Map<string, TypeReference>();
  constructor(private readonly root: string, private readonly project: Project) {
    this.#checker = project.checker;
  }

  #sourceText(path: string): string {
    const sf = this.project.program.getSourceFile(path);
    if (!sf) throw new Error(`module docs: ${path} is not part of the TypeScript project`);
    return (sf as unknown as { text: string }).text;
  }

  #resolve(name: string, flags: number, file: string): TsSymbol | undefined {
    const abs = join(this.root, file);
    return this.#checker.resolveName(name, flags, { document: abs, position: this.#sourceText(abs).length } as never) ?? undefined;
  }

  #tags(sym: TsSymbol): Array<{ name: string; text: string }> {
    return this.#checker.getJsDocTagsOfSymbol(sym).map((t) => ({ name: t.name, text: t.text ?? '' }));
  }

  /** The props of an interface (inherited ones included), in the checker's order. */
  props(sym: TsSymbol): PropReference[] {
    const type = this.#checker.getDeclaredTypeOfSymbol(sym);
    return this.#checker.getPropertiesOfType(type).map((p) => {
      const handle = (p as unknown as { declarations?: Array<{ path: string; resolve(project: Project): unknown }> }).declarations?.[0];
      const node = handle?.resolve(this.project) as { type?: { pos: number; end: number } } | undefined;
      const typeText = node?.type && handle ? tidyType(this.#sourceText(handle.path).slice(node.type.pos, node.type.end)) : this.#checker.typeToString(this.#checker.getTypeOfSymbol(p)!);
      const def = this.#tags(p).find((t) => t.name === 'default');
      if (handle) this.#collectTypes(typeText, relative(this.root, handle.path));
      return {
        name: p.name, type: typeText, required: (p.flags & SymbolFlags.Optional) === 0, doc: tidyDoc(this.#checker.getDocumentationCommentOfSymbol(p)),
        ...(def ? { default: tidyDoc(def.text) } : {}),
      };
    });
  }

  /** Named types of rig's own that a prop's type mentions, resolved from the file that declares the prop. */
  #collectTypes(typeText: string, file: string): void {
    const names = typeText.replace(/'[^']*'/g, '').match(/\b[A-Z]\w*\b/g) ?? [];
    for (const name of names) {
      if (BUILTIN_TYPES.has(name) || this.#types.has(name)) continue;
      const sym = this.#resolve(name, SymbolFlags.Interface | SymbolFlags.TypeAlias | SymbolFlags.Class, file);
      const target = sym && (sym.flags & SymbolFlags.Alias) !== 0 ? this.#checker.getAliasedSymbol(sym) : sym;
      const handle = (target as unknown as { declarations?: Array<{ path: string; resolve(project: Project): unknown }> } | undefined)?.declarations?.[0];
      if (!target || !handle || !relative(this.root, handle.path).startsWith('src/')) continue;
      const source = relative(this.root, handle.path);
      const doc = tidyDoc(this.#checker.getDocumentationCommentOfSymbol(target));
      this.#types.set(name, { name, source, doc }); // placeholder first: recursive types stop here
      if (target.flags & SymbolFlags.Interface) this.#types.set(name, { name, source, doc, props: this.props(target) });
      else if (target.flags & SymbolFlags.TypeAlias) {
        const node = handle.resolve(this.project) as { type?: { pos: number; end: number } };
        const definition = node.type ? tidyType(this.#sourceText(handle.path).slice(node.type.pos, node.type.end)) : '';
        this.#types.set(name, { name, source, doc, definition });
        this.#collectTypes(definition, source);
      }
    }
  }

  module(site: ModuleSite, factory: string): ModuleReference {
    this.#types.clear();
    const variable = this.#resolve(site.variable, SymbolFlags.Variable, site.file);
    if (!variable) throw new Error(`module docs: cannot resolve ${site.variable} in ${site.file}`);
    const tags = this.#tags(variable);
    const tag = (name: string): string => tidyDoc(tags.filter((t) => t.name === name).map((t) => t.text).join('\n\n'));
    let props: PropReference[] = [];
    if (site.propsType) {
      const sym = this.#resolve(site.propsType, SymbolFlags.Interface | SymbolFlags.TypeAlias, site.file);
      if (!sym) throw new Error(`module docs: cannot resolve ${site.propsType} in ${site.file}`);
      props = this.props((sym.flags & SymbolFlags.Alias) !== 0 ? this.#checker.getAliasedSymbol(sym) : sym);
    }
    return {
      name: site.name, factory, source: site.file, propsType: site.propsType,
      summary: tidyDoc(this.#checker.getDocumentationCommentOfSymbol(variable)), plan: tag('plan'), rollback: tag('rollback'),
      examples: tags.filter((t) => t.name === 'example').map((t) => t.text.replace(/^\n+|\s+$/g, '')),
      props, types: [...this.#types.values()].filter((t) => t.name !== site.propsType).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }
}

/**
 * The reference of every module exported by src/modules/index.ts, sorted by module name, and the task options.
 * Starts the TypeScript compiler once (about half a second).
 */
export function extractModuleReferences(root: string): ModuleReferenceSet {
  const api = new API({ cwd: root });
  try {
    const snapshot = api.updateSnapshot({ openProject: join(root, 'tsconfig.json') } as never);
    const project = snapshot.getProjects()[0];
    if (!project) throw new Error(`module docs: no TypeScript project at ${root}/tsconfig.json`);
    const x = new Extractor(root, project);
    const modules: ModuleReference[] = [];
    const seen = new Set<string>();
    for (const { file, values } of readIndexExports(root)) {
      if (seen.has(file)) continue;
      seen.add(file);
      for (const site of findModuleSites(root, file)) {
        // The factory is the exported module itself, or (flushHandlers) the function the file exports instead.
        const factory = values.includes(site.variable) ? site.variable : values[0];
        if (!factory) continue;
        modules.push(x.module(site, factory));
      }
    }
    const options = new Extractor(root, project);
    const taskOptions = options.props(
      project.checker.resolveName('TaskOptions', SymbolFlags.Interface, { document: join(root, MODULE_FRAMEWORK), position: 0 } as never)!,
    );
    return { modules: modules.sort((a, b) => a.name.localeCompare(b.name)), taskOptions };
  } finally {
    api.close();
  }
}
