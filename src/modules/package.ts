import { ValidationError } from '../errors.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface PackageProps {
  /** Package names (Debian or RPM names), e.g. ['nginx', 'libnginx-mod-http-lua']. */
  readonly names: readonly string[];
  /** present installs what is missing, absent removes what is installed. @default 'present' */
  readonly state?: 'present' | 'absent';
}

/**
 * `packages({ names, state })`: install or remove packages with the host's package manager (apt, dnf or yum, from
 * the OS facts). Installed versions are gathered in the facts round trip (dpkg-query / rpm); only missing (or
 * present, for absent) names become one change.
 *
 * @plan `packages install A B` or `packages remove A` with the reason (`not installed: A, B` or `installed: A 1.2`);
 * the no-op says the names are installed (or not installed). A host without apt, dnf or yum is an error at plan time.
 *
 * @rollback Removes what the run installed and reinstalls what it removed (the repository's current version, not
 * necessarily the one removed).
 *
 * @example
 * packages({ names: ['nginx', 'libnginx-mod-http-lua'] })
 */
export const packages = defineModule<PackageProps>({
  name: 'package',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['names', 'state']);
    if (!Array.isArray(p.names) || !p.names.length || !p.names.every((n) => typeof n === 'string' && /^[a-z0-9][a-z0-9+.:_-]*$/i.test(n))) {
      problems.push('names: a non-empty array of package names (letters, digits, + . : _ -)');
    }
    if (p.state !== undefined && p.state !== 'present' && p.state !== 'absent') problems.push('state: present or absent');
    return problems;
  },
  facts: (p) => [{ kind: 'package', names: p.names }],
  plan: (p, facts, ctx) => {
    const manager = facts.os.packageManager;
    if (manager === 'none') {
      throw new ValidationError([`no supported package manager (apt, dnf, yum) on ${ctx.host.name}`], { task: ctx.taskPath, hint: 'install the packages another way, or use a command task' });
    }
    const absent = p.state === 'absent';
    const todo = p.names.filter((n) => (facts.packageVersion(n) === undefined) !== absent);
    if (!todo.length) return { noop: `${p.names.join(', ')} ${absent ? 'not installed' : 'installed'}` };
    return {
      changes: [{
        kind: 'package', manager, install: absent ? [] : todo, remove: absent ? todo : [], task: ctx.taskPath,
        reason: absent ? `installed: ${todo.map((n) => `${n} ${facts.packageVersion(n)}`).join(', ')}` : `not installed: ${todo.join(', ')}`,
      }],
    };
  },
});
