import type { ModeInput } from '../core/file-mode.ts';
import { isSecret, registerSecretText, type Secret } from '../core/secret.ts';
import { checkFileAttrs, checkUnknownProps, checkValidateProp, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface FileProps {
  /** Absolute path on the host. */
  readonly path: string;
  /** Wanted content; a Secret makes the change secret. Required when present. */
  readonly content?: string | Buffer | Secret;
  /** @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** @default existing owner, else 'root' */
  readonly owner?: string;
  /** @default existing group, else 'root' */
  readonly group?: string;
  /** @default 'present' */
  readonly state?: 'present' | 'absent';
  /** Treat the content (and the pre-image) as secret. @default false (true when content is a Secret) */
  readonly secret?: boolean;
  /** Check the new content before it replaces the file: argv, `%s` = the new content's path (Ansible's validate). */
  readonly validate?: readonly string[];
  /** When the file is new, the plan shows the diff from this content (labelled) instead of from nothing. */
  readonly diffFrom?: { readonly label: string; readonly content: string | Buffer };
}

/** `file({ path, content, mode })`: a regular file with exactly this content, or absent. */
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
