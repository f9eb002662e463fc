import { ValidationError } from '../errors.ts';
import type { Host } from '../inventory/types.ts';

/** What a play option computed from variables sees: the merged vars of one host of the play (issue 20). */
export interface PlayOptionContext {
  /** inventory (host) < playbook vars < play vars < -e, as for tasks. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** The host whose vars these are (undefined for a play that targets no host). */
  readonly host?: Host;
}

/** A reference to a variable, with the value used when it is not set: `fromVar('worker_serial', '50%')`. */
export interface VarReference<T> {
  readonly __rigVar: string;
  readonly default?: T;
}

/** A play option: a value, a variable reference, or a function of the vars. */
export type PlayOption<T> = T | VarReference<T> | ((ctx: PlayOptionContext) => T | undefined);

export function fromVar<T>(name: string, fallback?: T): VarReference<T> {
  return { __rigVar: name, ...(fallback !== undefined ? { default: fallback } : {}) };
}

export function isVarReference(v: unknown): v is VarReference<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { __rigVar?: unknown }).__rigVar === 'string';
}

/** A value still to be computed from variables (validated when the play's hosts are known). */
export function isDeferredOption(v: unknown): boolean {
  return typeof v === 'function' || isVarReference(v);
}

export type SerialValue = number | string | ReadonlyArray<number | string>;

/** The resolved options of a play (one value for the whole play). */
export interface ResolvedPlayOptions {
  readonly serial?: SerialValue;
  readonly maxFailPercentage: number;
  readonly forceHandlers: boolean;
  /** The play's own `become` (undefined: not set, the hosts' ansible_become decides). */
  readonly become?: boolean;
}

/** Problems with a serial value (`where: ...`), none when valid. A digit string from -e or an INI inventory is a count. */
export function checkSerial(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) return [`${where}: an empty list`];
  return list.flatMap((s) => (normalizeSerialItem(s) === undefined ? [`${where}: ${JSON.stringify(s)} is not a positive integer or a percentage`] : []));
}

function normalizeSerialItem(s: unknown): number | string | undefined {
  if (typeof s === 'number') return s > 0 && Number.isInteger(s) ? s : undefined;
  if (typeof s !== 'string') return undefined;
  const t = s.trim();
  if (/^\d+$/.test(t) && Number(t) > 0) return Number(t);
  if (/^\d+(\.\d+)?%$/.test(t)) return t;
  return undefined;
}

export function normalizeSerial(value: unknown): SerialValue {
  return Array.isArray(value) ? value.map((s) => normalizeSerialItem(s)!) : normalizeSerialItem(value)!;
}

export function checkMaxFailPercentage(value: unknown, where: string): string[] {
  const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && n >= 0 && n <= 100 ? [] : [`${where}: must be 0..100 (got ${JSON.stringify(value)})`];
}

/** Ansible's booleans: true/false, yes/no, on/off, 1/0 (strings from -e or an INI inventory). */
function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const t = value.trim().toLowerCase();
  if (['true', 'yes', 'on', '1', 'y'].includes(t)) return true;
  if (['false', 'no', 'off', '0', 'n'].includes(t)) return false;
  return undefined;
}

function evaluate(option: unknown, ctx: PlayOptionContext): unknown {
  if (typeof option === 'function') return (option as (c: PlayOptionContext) => unknown)(ctx);
  if (isVarReference(option)) {
    const v = ctx.vars[option.__rigVar];
    return v === undefined || v === null || v === '' ? option.default : v;
  }
  return option;
}

function describeOption(option: unknown): string {
  return isVarReference(option) ? `variable ${option.__rigVar}` : 'the function';
}

export interface PlayOptionSource {
  readonly serial?: unknown;
  readonly maxFailPercentage?: unknown;
  readonly forceHandlers?: unknown;
  readonly become?: unknown;
}

/**
 * Evaluate a play's options for the hosts it targets: each option that is a var reference or a function is computed
 * with the vars of every host of the play, and must come out as one value (a play has one serial). Every problem is
 * collected and thrown once (ValidationError naming the play and the hosts that disagree).
 */
export function resolvePlayOptions(play: PlayOptionSource, contexts: readonly PlayOptionContext[], where: string, file?: string): ResolvedPlayOptions {
  const problems: string[] = [];
  const one = (key: keyof PlayOptionSource): unknown => {
    const option = play[key];
    if (!isDeferredOption(option)) return option;
    const seen = new Map<string, { value: unknown; hosts: string[] }>();
    for (const ctx of contexts) {
      let value: unknown;
      try { value = evaluate(option, ctx); } catch (e) {
        problems.push(`${where}.${key}: ${describeOption(option)} threw on ${ctx.host?.name ?? 'the play'}: ${(e as Error)?.message ?? String(e)}`);
        return undefined;
      }
      const k = JSON.stringify(value) ?? 'undefined';
      const entry = seen.get(k) ?? { value, hosts: [] };
      entry.hosts.push(ctx.host?.name ?? '(no host)');
      seen.set(k, entry);
    }
    if (seen.size > 1) {
      problems.push(`${where}.${key}: ${describeOption(option)} differs between the play's hosts (${[...seen].map(([k, e]) => `${e.hosts.join(', ')}: ${k}`).join('; ')}); a play option has one value for the whole play`);
      return undefined;
    }
    return [...seen.values()][0]?.value;
  };
  const serial = one('serial');
  const maxFail = one('maxFailPercentage');
  const force = one('forceHandlers');
  if (serial !== undefined) problems.push(...checkSerial(serial, `${where}.serial`));
  if (maxFail !== undefined) problems.push(...checkMaxFailPercentage(maxFail, `${where}.maxFailPercentage`));
  const forceHandlers = force === undefined ? false : toBoolean(force);
  if (forceHandlers === undefined) problems.push(`${where}.forceHandlers: ${JSON.stringify(force)} is not a boolean`);
  const becomeValue = one('become');
  const become = becomeValue === undefined ? undefined : toBoolean(becomeValue);
  if (becomeValue !== undefined && become === undefined) problems.push(`${where}.become: ${JSON.stringify(becomeValue)} is not a boolean`);
  if (problems.length) {
    throw new ValidationError(problems, { ...(file ? { file } : {}), hint: 'set the variable in the inventory or with -e (e.g. -e worker_serial=2)' });
  }
  return {
    ...(serial !== undefined ? { serial: normalizeSerial(serial) } : {}),
    maxFailPercentage: maxFail === undefined ? 0 : Number(maxFail),
    forceHandlers: forceHandlers === true,
    ...(become !== undefined ? { become } : {}),
  };
}
