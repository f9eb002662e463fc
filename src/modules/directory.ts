import type { ModeInput } from '../core/file-mode.ts';
import type { Change } from '../core/change.ts';
import { ValidationError } from '../errors.ts';
import { checkFileAttrs, checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';
import { hasAttributes, resolveAttributes } from './wanted-attributes.ts';

export interface DirectoryProps {
  /** Absolute path on the host; its parent must exist (or be created by an earlier task). */
  readonly path: string;
  /** Octal string ('0755', '2775') or number (0o2775). @default existing mode, else '0755' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
  /** 'absent' removes an empty directory (rmdir); a non-empty one makes the apply fail. @default 'present' */
  readonly state?: 'present' | 'absent';
}

/**
 * `directory({ path, mode })`: a directory with this mode and owner (not created recursively: parents must exist or
 * be earlier tasks), or absent.
 *
 * @plan `create directory PATH (0755 root:root)` when it is absent; `attributes PATH: … → …` when only the mode,
 * owner or group differ; `remove directory PATH` for state 'absent'. A file or link at `path` is an error at plan
 * time; a directory already as wanted is a no-op (`-v`).
 *
 * @rollback Removes the directory when the run created it (rmdir: it fails when something was put in it since),
 * puts back the mode and owner it had, or recreates it when the run removed it.
 *
 * @example
 * directory({ path: '/etc/nginx/conf.d', mode: '0755', owner: 'root', group: 'root' })
 */
export const directory = defineModule<DirectoryProps>({
  name: 'directory',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['path', 'mode', 'owner', 'group', 'state']), ...checkFileAttrs(p)];
    if (p.state !== undefined && p.state !== 'present' && p.state !== 'absent') problems.push(`state: must be 'present' or 'absent'`);
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path, content: false }],
  plan: (p, facts, ctx) => {
    const f = facts.file(p.path);
    const { content: _c, ...before } = f;
    if (p.state === 'absent') {
      if (!f.exists) return { noop: `${p.path} is absent` };
      return { changes: [{ kind: 'remove-path', path: p.path, before, secret: false, task: ctx.taskPath, reason: 'state absent' }] };
    }
    if (f.exists && f.type !== 'directory') {
      throw new ValidationError([`${p.path} exists and is a ${f.type}, not a directory`], { task: ctx.taskPath, hint: 'remove it first or choose another path' });
    }
    const { mode, owner, group } = resolveAttributes(f, p, '0755');
    const after = { exists: true, type: 'directory' as const, mode, owner, group };
    if (!f.exists) {
      const c: Change = { kind: 'ensure-directory', path: p.path, before: { exists: false }, after, task: ctx.taskPath, reason: 'directory absent' };
      return { changes: [c] };
    }
    if (hasAttributes(f, { mode, owner, group })) return { noop: `${p.path} is a directory ${mode} ${owner}:${group}` };
    return { changes: [{ kind: 'set-attributes', path: p.path, before, after, task: ctx.taskPath, reason: `attributes ${f.mode} ${f.owner}:${f.group} → ${mode} ${owner}:${group}` }] };
  },
});
