import type { Change } from '../core/change.ts';
import type { FactRequest, HostFacts } from '../facts/fact-request.ts';
import { ValidationError } from '../errors.ts';

/**
 * Owner and group names of a task are resolved at plan time on the host (`getent`, so NSS users count too): an
 * unknown name is a plan error on that host, not an apply that fails with "cannot install". Names that an earlier
 * `user`/`group` task of the run creates on the host are known.
 */
type Db = 'passwd' | 'group';
const factKey = (db: Db, name: string): string => `rig:getent:${db}:${name}`;
const isName = (v: unknown): v is string => typeof v === 'string' && v !== '' && !/^\d+$/.test(v);

/** The getent look-ups for a task's `owner`/`group` props (modules other than user and group). */
export function accountFactRequests(moduleName: string, props: unknown): FactRequest[] {
  if (moduleName === 'user' || moduleName === 'group' || typeof props !== 'object' || props === null) return [];
  const p = props as { owner?: unknown; group?: unknown };
  const out: FactRequest[] = [];
  if (isName(p.owner)) out.push({ kind: 'command', key: factKey('passwd', p.owner), argv: ['getent', 'passwd', p.owner] });
  if (isName(p.group)) out.push({ kind: 'command', key: factKey('group', p.group), argv: ['getent', 'group', p.group] });
  return out;
}

/** Accounts the run creates on a host, as its user/group tasks are planned. */
export class PlannedAccounts {
  readonly #names = { passwd: new Set<string>(), group: new Set<string>() };

  /** Note what a user or group task creates (its name; a user's own and primary group). */
  noteTask(moduleName: string, props: unknown): void {
    const p = (props ?? {}) as { name?: unknown; group?: unknown; state?: unknown };
    if (p.state === 'absent' || !isName(p.name)) return;
    if (moduleName === 'user') {
      this.#names.passwd.add(p.name);
      this.#names.group.add(isName(p.group) ? p.group : p.name);
    } else if (moduleName === 'group') {
      this.#names.group.add(p.name);
    }
  }

  /** Throw a ValidationError when a change gives a file an owner or group the host does not know. */
  checkChanges(changes: readonly Change[], facts: HostFacts, host: string): void {
    const problems: string[] = [];
    for (const c of changes) {
      if (c.kind !== 'write-file' && c.kind !== 'set-attributes' && c.kind !== 'ensure-directory') continue;
      for (const [db, name, what] of [['passwd', c.after.owner, 'user'], ['group', c.after.group, 'group']] as const) {
        if (!isName(name) || this.#names[db].has(name) || this.#known(facts, db, name)) continue;
        problems.push(`${c.path}: ${what} ${name} does not exist on ${host}`);
      }
    }
    if (problems.length) throw new ValidationError([...new Set(problems)], { host, hint: 'create the account first (a user or group task before this one), or fix the name' });
  }

  #known(facts: HostFacts, db: Db, name: string): boolean {
    let r;
    try { r = facts.command(factKey(db, name)); } catch { return true; /* not looked up (the name came from elsewhere) */ }
    // getent: 2 = no such entry; anything else (missing getent, NSS trouble) is not proof that it is unknown.
    return r.exitCode !== 2;
  }
}
