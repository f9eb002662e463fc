/**
 * The reference of one module (its props, what its plan shows, what rollback does, examples), as extracted from the
 * module's source by `npm run docs` (scripts/generate-module-docs.ts) into src/help/module-reference-data.json. The
 * pages under docs/modules/ and `rig help MODULE` are both rendered from it by src/help/render-module-page.ts.
 */

/** One prop of a props interface. */
export interface PropReference {
  readonly name: string;
  /** The type as written in the source, whitespace collapsed (`'present' | 'absent'`, `ModeInput`). */
  readonly type: string;
  readonly required: boolean;
  /** The prop's doc comment (markdown), '' when it has none. */
  readonly doc: string;
  /** The text of its `@default` tag. */
  readonly default?: string;
}

/** A named type the props use (declared in rig's sources): an interface with its props, or an alias / class. */
export interface TypeReference {
  readonly name: string;
  /** Repository-relative file that declares it. */
  readonly source: string;
  readonly doc: string;
  /** An interface's props. */
  readonly props?: readonly PropReference[];
  /** A type alias's definition, e.g. `string | number`. */
  readonly definition?: string;
}

export interface ModuleReference {
  /** The module's name (`Module.name`), e.g. `ca-certificate`. */
  readonly name: string;
  /** The task factory exported by src/modules/index.ts, e.g. `caCertificate`. */
  readonly factory: string;
  /** Repository-relative file that defines the module. */
  readonly source: string;
  /** Name of the props interface, e.g. `CaCertificateProps` ('' for a module without props). */
  readonly propsType: string;
  /** The module's doc comment (markdown). */
  readonly summary: string;
  /** Its `@plan` tag: what `rig plan` shows for it. */
  readonly plan: string;
  /** Its `@rollback` tag: what `rig rollback` does with what it changed. */
  readonly rollback: string;
  /** Its `@example` tags (TypeScript). */
  readonly examples: readonly string[];
  readonly props: readonly PropReference[];
  /** Named types its props use, e.g. `ModeInput`, `CertificateSpec`. */
  readonly types: readonly TypeReference[];
}

/** Everything the module reference holds: the modules and the options every task takes. */
export interface ModuleReferenceSet {
  readonly modules: readonly ModuleReference[];
  /** The props of `TaskOptions` (src/modules/module.ts): name, when, notify, become, tags. */
  readonly taskOptions: readonly PropReference[];
}
