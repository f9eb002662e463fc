import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_STATE_DIR } from '../changelog/journal-store.ts';
import { DEFAULT_MAX_HANDSHAKES } from '../connectors/handshake-gate.ts';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.ts';
import { PROJECT_FILE, PROJECT_SCHEMA, locateProject, type ProjectConfig, type ProjectKey } from './project-config.ts';

/** Built-in defaults (relative paths resolve against the project root when there is one, else the cwd). */
const DEFAULTS: { readonly [K in ProjectKey]?: unknown } = {
  inventory: ['inventory'], state_dir: DEFAULT_STATE_DIR, forks: 200, max_handshakes: DEFAULT_MAX_HANDSHAKES, extra_vars: {},
};

export interface EffectiveSetting {
  readonly key: ProjectKey;
  /** undefined: not set anywhere (the built-in behaviour applies, e.g. ~/.ssh/config). */
  readonly value: unknown;
  /** `flag --forks`, `env RIG_FORKS`, `rig.yaml:3`, `default`. */
  readonly source: string;
}

/** What the command line gave, by project key (only values the user typed). */
export type FlagValues = { readonly [K in ProjectKey]?: unknown };

function fromEnv(key: ProjectKey, raw: string, cwd: string): unknown {
  const name = PROJECT_SCHEMA[key].env;
  switch (PROJECT_SCHEMA[key].kind) {
    case 'path': return resolve(cwd, raw);
    case 'paths': return raw.split(',').filter(Boolean).map((p) => resolve(cwd, p));
    case 'int': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name}=${raw}: expected a positive integer`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes)$/i.test(raw)) return true;
      if (/^(0|false|no)$/i.test(raw)) return false;
      throw new UsageError(`${name}=${raw}: expected true or false`);
    case 'vars': return parseEnvVars(name!, raw);
    default: return raw;
  }
}

/** RIG_EXTRA_VARS: one mapping, in JSON or YAML (`{"a": 1}`, `{a: 1, b: x}`, or block YAML). */
function parseEnvVars(name: string, raw: string): Record<string, unknown> {
  let value: unknown;
  try { value = parseYaml(raw); } catch (e) {
    throw new UsageError(`${name}: not valid JSON or YAML: ${(e as Error).message.split('\n')[0]}`, { hint: `e.g. ${name}='{"cluster_name": "prod"}'` });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${name}: expected a mapping of variable: value`, { hint: `e.g. ${name}='{"cluster_name": "prod"}'` });
  }
  return value as Record<string, unknown>;
}

/** Precedence, per key: flag > environment (RIG_*) > project file > built-in default. Pure. */
export function resolveSettings(flags: FlagValues, env: NodeJS.ProcessEnv, project: ProjectConfig | undefined, cwd: string): EffectiveSetting[] {
  const base = project?.root ?? cwd;
  const fileName = (k: ProjectKey) => `${project && project.file !== resolve(project.root, PROJECT_FILE) ? project.file : PROJECT_FILE}:${project?.lines[k] ?? 1}`;
  return (Object.keys(PROJECT_SCHEMA) as ProjectKey[]).map((key): EffectiveSetting => {
    const def = PROJECT_SCHEMA[key];
    if (key === 'extra_vars') {
      // Merged per variable: the file's, then RIG_EXTRA_VARS, then -e (each -e key wins).
      const fileVars = project?.settings.extra_vars;
      const raw = env[def.env!];
      const envVars = raw ? fromEnv(key, raw, cwd) as Record<string, unknown> : undefined;
      const flagVars = flags.extra_vars as Record<string, unknown> | undefined;
      const sources = [...(fileVars ? [fileName(key)] : []), ...(envVars ? [`env ${def.env}`] : []), ...(flagVars && Object.keys(flagVars).length ? ['flag -e'] : [])];
      return { key, value: { ...(fileVars ?? {}), ...(envVars ?? {}), ...(flagVars ?? {}) }, source: sources.join(' + ') || 'default' };
    }
    if (flags[key] !== undefined) return { key, value: flags[key], source: key === 'pki_dir' ? 'flag -e pki_dir' : key === 'become' ? `flag --${flags[key] ? '' : 'no-'}become` : `flag --${key.replace(/_/g, '-')}` };
    const raw = def.env ? env[def.env] : undefined;
    if (def.env && raw !== undefined && raw !== '') return { key, value: fromEnv(key, raw, cwd), source: `env ${def.env}` };
    const fromFile = project?.settings[key];
    if (fromFile !== undefined) return { key, value: fromFile, source: fileName(key) };
    const d = DEFAULTS[key];
    const value = d === undefined ? undefined : def.kind === 'path' ? resolve(base, d as string)
      : def.kind === 'paths' ? (d as string[]).map((p) => (isAbsolute(p) ? p : resolve(base, p))) : d;
    return { key, value, source: 'default' };
  });
}

/** Hidden option values the hook sets for the commands (see CommonOptions). */
export const PROJECT_ROOT_OPTION = 'projectRoot';
export const BECOME_DEFAULT_OPTION = 'becomeDefault';

function flagValues(cmd: Command): FlagValues {
  const out: Record<string, unknown> = {};
  const opts = cmd.opts() as Record<string, unknown>;
  for (const key of Object.keys(PROJECT_SCHEMA) as ProjectKey[]) {
    const attr = PROJECT_SCHEMA[key].option;
    if (!attr || cmd.getOptionValueSource(attr) !== 'cli') continue;
    out[key] = opts[attr];
  }
  const e = opts['extraVars'] as string[] | undefined;
  if (e?.length) {
    const vars: Record<string, unknown> = {};
    for (const item of e) {
      const eq = item.indexOf('=');
      if (eq > 0) vars[item.slice(0, eq)] = item.slice(eq + 1);
    }
    out['extra_vars'] = vars;
    if (vars['pki_dir'] !== undefined) out['pki_dir'] = vars['pki_dir'];
  }
  return out;
}

type Resolved = { readonly project: ProjectConfig | undefined; readonly settings: EffectiveSetting[] };
const resolvedFor = new WeakMap<Command, Resolved>();

/** The project file and effective settings for a parsed command (computed once, before its options are filled in). */
export function settingsFor(cmd: Command, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Resolved {
  const cached = resolvedFor.get(cmd);
  if (cached) return cached;
  const project = locateProject((cmd.opts() as { project?: string }).project, env, cwd);
  const r = { project, settings: resolveSettings(flagValues(cmd), env, project, cwd) };
  resolvedFor.set(cmd, r);
  return r;
}

/**
 * The one place the project file and RIG_* reach the commands: before any command's action, write the effective
 * value of every setting the command has an option for into its options (flags stay as typed).
 */
export function applyProjectSettings(cmd: Command): void {
  if (!cmd.options.some((o) => o.attributeName() === 'project')) return;
  const { project, settings } = settingsFor(cmd);
  const has = (attr: string) => cmd.options.some((o) => o.attributeName() === attr);
  const get = (k: ProjectKey) => settings.find((s) => s.key === k)!;
  for (const s of settings) {
    const attr = PROJECT_SCHEMA[s.key].option;
    if (!attr || !has(attr) || s.source.startsWith('flag') || s.value === undefined) continue;
    const v = s.value;
    cmd.setOptionValueWithSource(attr, typeof v === 'number' ? String(v) : Array.isArray(v) ? [...v] : v, s.source === 'default' ? 'default' : 'config');
  }
  if (has('extraVars')) {
    // The file's extra vars, RIG_EXTRA_VARS and pki_dir go first: each -e typed on the command line comes later and wins.
    const typedVars = flagValues(cmd).extra_vars as Record<string, unknown> | undefined ?? {};
    const merged = get('extra_vars').value as Record<string, unknown>;
    const pki = get('pki_dir');
    const list = Object.entries(merged).filter(([k]) => !Object.hasOwn(typedVars, k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    if (pki.value !== undefined && !pki.source.startsWith('flag')) list.push(`pki_dir=${JSON.stringify(pki.value)}`);
    const typed = (cmd.opts() as { extraVars?: string[] }).extraVars ?? [];
    if (list.length) cmd.setOptionValueWithSource('extraVars', [...list, ...typed], 'config');
  }
  const become = get('become');
  if (become.value !== undefined) cmd.setOptionValueWithSource(BECOME_DEFAULT_OPTION, become.value, 'config');
  if (project) cmd.setOptionValueWithSource(PROJECT_ROOT_OPTION, project.root, 'config');
}
