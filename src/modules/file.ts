import type { ModeInput } from '../core/file-mode.ts';
import { isSecret, registerSecretText, type Secret } from '../core/secret.ts';
import { checkFileAttrs, checkUnknownProps, checkValidateProp, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface FileProps {
  /** Absolute path on the host. */
  readonly path: string;
  /** Wanted content, byte for byte; a `secret()` makes the change secret. Required unless `state` is 'absent'. */
  readonly content?: string | Buffer | Secret;
  /** File mode, an octal string ('0644') or number (0o644). @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
  /** 'absent' removes the file (an empty directory too; a non-empty one makes the apply fail). @default 'present' */
  readonly state?: 'present' | 'absent';
  /** Treat the content (and the pre-image) as secret. @default false (true when content is a Secret) */
  readonly secret?: boolean;
  /** Check the new content before it replaces the file: argv, `%s` = the new content's path (Ansible's validate). */
  readonly validate?: readonly string[];
  /** When the file is new, the plan shows the diff from this content (labelled) instead of from nothing. */
  readonly diffFrom?: { readonly label: string; readonly content: string | Buffer };
}

/**
 * `file({ path, content, mode })`: a regular file with exactly this content and these attributes, or absent. The new
 * content is written to a temp file beside it and renamed into place (after `validate`, when given).
 *
 * @plan `create PATH` or `update PATH` with the mode and owner, followed by the unified diff of the content (masked
 * when secret; a certificate is shown decoded); `attributes PATH: 0644 root:root → 0600 root:root` when only the
 * mode, owner or group differ; `remove PATH` for state 'absent'. A file already as wanted is a no-op (`-v`).
 * Something other than a regular file at `path` is an error at plan time.
 *
 * @rollback Puts the path back as it was before the run: the old content (from the journal's pre-image), mode and
 * owner, or removes the file when the run created it, or recreates it when the run removed it. A file changed by
 * someone else since the run is a conflict and is left alone unless `rig rollback --force`.
 *
 * @example
 * file({ path: '/etc/motd', content: 'Managed by rig\n', mode: '0644' })
 *
 * @example
 * file({ path: '/etc/sudoers.d/deploy', content: 'deploy ALL=(ALL) NOPASSWD: /usr/bin/systemctl\n', mode: '0440',
 *   validate: ['/usr/sbin/visudo', '-cf', '%s'] })
 */
export const file = defineModule<FileProps>({
  name: 'file',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['path', 'content', 'mode', 'owner', 'group', 'state', 'secret', 'diffFrom', 'validate']), ...checkFileAttrs(p), ...checkValidateProp(p.validate)];
    if (p.state !== undefined && p.state !== 'present' && p.state !== 'absent') problems.push(`state: must be 'present' or 'absent'`);
    if ((p.state ?? 'present') === 'present' && !(typeof p.content === 'string' || Buffer.isBuffer(p.content) || isSecret(p.content))) problems.push('content: required (a string, Buffer or secret()) unless state is absent');
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const fact = facts.file(p.path);
    if (p.state === 'absent') {
      if (!fact.exists) return { noop: `${p.path} is absent` };
      const { content: _c, ...before } = fact;
      return { changes: [{ kind: 'remove-path', path: p.path, before, secret: p.secret === true, task: ctx.taskPath, reason: 'state absent' }] };
    }
    const c = p.content!;
    const text = isSecret(c) ? c.reveal() : c;
    if (isSecret(c)) registerSecretText(c.reveal());
    return planFileWrite({ path: p.path, fact, content: Buffer.isBuffer(text) ? text : Buffer.from(text), mode: p.mode, owner: p.owner, group: p.group, validate: p.validate, secret: p.secret === true || isSecret(c), ctx,
      ...(p.diffFrom ? { diffFrom: { label: p.diffFrom.label, content: Buffer.from(p.diffFrom.content) } } : {}) });
  },
});
