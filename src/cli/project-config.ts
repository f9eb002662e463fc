import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { ProjectConfigError } from '../errors.ts';

/** The project file's name, found by walking up from the working directory (like ansible.cfg, tsconfig.json). */
export const PROJECT_FILE = 'rig.yaml';

/**
 * The one schema of rig.yaml: each key's kind (which gives both its TypeScript type and its validation), the
 * environment variable that overrides it, and the CLI option (commander attribute) that overrides both.
 */
export const PROJECT_SCHEMA = {
  inventory: { kind: 'paths', env: 'RIG_INVENTORY', option: 'inventory', doc: 'inventory file(s) or directory (-i)' },
  ssh_config: { kind: 'path', env: 'RIG_SSH_CONFIG', option: 'sshConfig', doc: 'OpenSSH client config (--ssh-config)' },
  state_dir: { kind: 'path', env: 'RIG_STATE_DIR', option: 'stateDir', doc: 'controller-side journal directory (--state-dir)' },
  pki_dir: { kind: 'path', env: 'RIG_PKI_DIR', option: undefined, doc: 'PKI directory: the pki_dir variable (-e pki_dir=… wins)' },
  forks: { kind: 'int', env: 'RIG_FORKS', option: 'forks', doc: 'hosts handled in parallel (--forks)' },
  max_handshakes: { kind: 'int', env: 'RIG_MAX_HANDSHAKES', option: 'maxHandshakes', doc: 'SSH handshakes in flight (--max-handshakes)' },
  extra_vars: { kind: 'vars', env: 'RIG_EXTRA_VARS', option: undefined, doc: 'variables like -e, merged per variable: file < RIG_EXTRA_VARS (a JSON/YAML mapping) < each -e' },
  become: { kind: 'bool', env: 'RIG_BECOME', option: 'become', doc: 'default ansible_become for hosts that do not set it (-b/--become, --no-become)' },
  force_handlers: { kind: 'bool', env: 'RIG_FORCE_HANDLERS', option: 'forceHandlers', doc: 'run notified handlers even when a later task fails (apply --force-handlers)' },
} as const;

export type ProjectKey = keyof typeof PROJECT_SCHEMA;
type Kind = (typeof PROJECT_SCHEMA)[ProjectKey]['kind'];
type ValueOfKind<K extends Kind> = K extends 'paths' ? readonly string[] : K extends 'path' ? string : K extends 'int' ? number
  : K extends 'bool' ? boolean : Readonly<Record<string, unknown>>;
/** rig.yaml, typed from PROJECT_SCHEMA: paths are absolute (resolved against the project root). */
export type ProjectSettings = { readonly [K in ProjectKey]?: ValueOfKind<(typeof PROJECT_SCHEMA)[K]['kind']> };

export interface ProjectConfig {
  /** Absolute path of rig.yaml. */
  readonly file: string;
  /** The directory holding rig.yaml: relative paths in it, templates/ and files/ resolve against it. */
  readonly root: string;
  readonly settings: ProjectSettings;
  /** 1-based line of each key in the file (for `rig config` and errors). */
  readonly lines: Readonly<Partial<Record<ProjectKey, number>>>;
}

/** The nearest rig.yaml in `start` or a parent directory, or undefined. */
export function findProjectFile(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Parse and validate rig.yaml text. Throws ProjectConfigError naming file:line for anything it does not accept. */
export function parseProjectConfig(text: string, file: string): ProjectConfig {
  const root = dirname(resolve(file));
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineOf = (n: { range?: [number, number, number] | null } | null | undefined): number | undefined =>
    n?.range ? lineCounter.linePos(n.range[0]).line : undefined;
  const fail = (message: string, line?: number, hint?: string): never => {
    throw new ProjectConfigError(message, { file, ...(line ? { line } : {}), hint: hint ?? `\`rig config\` lists the keys: ${Object.keys(PROJECT_SCHEMA).join(', ')}` });
  };
  const firstError = doc.errors[0];
  if (firstError) fail(`not valid YAML: ${firstError.message.split('\n')[0]}`, firstError.linePos?.[0].line);
  if (doc.contents === null) return { file, root, settings: {}, lines: {} };
  if (!isMap(doc.contents)) fail('expected a mapping of settings (key: value)', lineOf(doc.contents as Node));
  const settings: Record<string, unknown> = {};
  const lines: Partial<Record<ProjectKey, number>> = {};
  for (const pair of (doc.contents as import('yaml').YAMLMap).items) {
    const keyNode = pair.key as Node | null;
    const line = lineOf(keyNode) ?? 1;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    if (!Object.hasOwn(PROJECT_SCHEMA, key)) fail(`unknown setting "${key}"`, line);
    const k = key as ProjectKey;
    const valueNode = pair.value as Node | null;
    const vline = lineOf(valueNode) ?? line;
    const value: unknown = valueNode === null ? null : valueNode.toJSON();
    settings[k] = checkValue(k, value, root, (m) => fail(`${k}: ${m}`, vline));
    lines[k] = line;
  }
  return { file, root, settings: settings as ProjectSettings, lines };
}

function checkValue(key: ProjectKey, value: unknown, root: string, fail: (m: string) => never): unknown {
  const path = (v: unknown): string => {
    if (typeof v !== 'string' || v === '') return fail(`expected a path, got ${JSON.stringify(v)}`);
    return isAbsolute(v) ? v : resolve(root, v);
  };
  switch (PROJECT_SCHEMA[key].kind) {
    case 'path': return path(value);
    case 'paths':
      if (Array.isArray(value)) { if (!value.length) fail('expected at least one path'); return value.map(path); }
      return [path(value)];
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return fail(`expected a positive integer, got ${JSON.stringify(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') return fail(`expected true or false, got ${JSON.stringify(value)}`);
      return value;
    case 'vars':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('expected a mapping of variable: value');
      return value;
  }
}

/** Read and validate a rig.yaml file. */
export function loadProjectConfig(file: string): ProjectConfig {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new ProjectConfigError(`cannot read the project file: ${(e as Error).message}`, { file, hint: 'check the path given with --project or RIG_PROJECT_FILE' });
  }
  return parseProjectConfig(text, resolve(file));
}

/**
 * The project in effect: `--project FILE`, else `RIG_PROJECT_FILE` (a path, or `none` for no project file), else
 * the nearest rig.yaml above `cwd`.
 */
export function locateProject(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): ProjectConfig | undefined {
  if (flag) return loadProjectConfig(resolve(cwd, flag));
  const fromEnv = env['RIG_PROJECT_FILE'];
  if (fromEnv === 'none') return undefined;
  if (fromEnv) return loadProjectConfig(resolve(cwd, fromEnv));
  const found = findProjectFile(cwd);
  return found ? loadProjectConfig(found) : undefined;
}
