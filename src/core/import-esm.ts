/**
 * `import()` of an ES module (a URL or a package name), for every dynamic import in rig's sources. The prebuilt CLI
 * is a CommonJS bundle that bin/load-bundle.js compiles as a vm.Script with a V8 code cache, and an `import()` in such
 * a script cannot load anything (Node 20 needs a flag for that): bin/load-bundle.js provides its own import() under
 * the symbol below, which resolves from the package's bin/, beside dist/ (same node_modules). From source, or when the
 * bundle is loaded by plain require(), this is plain import(). scripts/build-cli.mjs refuses a bundle with any other
 * import().
 */
const PROVIDED = Symbol.for('rig.importEsm');

export function importEsm<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const provided = (globalThis as { [PROVIDED]?: (s: string) => Promise<unknown> })[PROVIDED];
  return (provided ? provided(specifier) : import(specifier)) as Promise<T>;
}
