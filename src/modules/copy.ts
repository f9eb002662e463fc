import type { ModeInput } from '../core/file-mode.ts';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { registerSecretText } from '../core/secret.ts';
import { ValidationError } from '../errors.ts';
import { checkFileAttrs, checkUnknownProps, checkValidateProp, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CopyProps {
  /** Controller file: absolute, or relative to the project root. Read when the plan is made. */
  readonly src: string;
  /** Absolute path of the file on the host. */
  readonly path: string;
  /** File mode, an octal string ('0644') or number (0o644). @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
  /** Treat the content (and the file's previous content) as secret: masked in the plan, the log and the journal. @default false */
  readonly secret?: boolean;
  /** Check the new content before it replaces the file: argv, `%s` = the new content's path (Ansible's validate). */
  readonly validate?: readonly string[];
}

/**
 * `copy({ src, path })`: a controller file copied to the host, byte for byte, with these attributes.
 *
 * @plan `create PATH` or `update PATH` with the mode and owner, and the unified diff from the host's content to the
 * controller file's (masked with `secret`); `attributes PATH: … → …` when only the attributes differ. An unreadable
 * `src` is an error at plan time; a file already as wanted is a no-op (`-v`).
 *
 * @rollback Puts the host file back as it was before the run (old content from the journal's pre-image, mode and
 * owner), or removes it when the run created it. A file changed since the run is a conflict unless `--force`.
 *
 * @example
 * copy({ src: 'files/nginx/nginx.conf', path: '/etc/nginx/nginx.conf', mode: '0644',
 *   validate: ['nginx', '-t', '-c', '%s'] }, { notify: 'reload nginx' })
 */
export const copy = defineModule<CopyProps>({
  name: 'copy',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['src', 'path', 'mode', 'owner', 'group', 'secret', 'validate']), ...checkFileAttrs(p), ...checkValidateProp(p.validate)];
    if (typeof p.src !== 'string' || !p.src) problems.push('src: required');
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const src = isAbsolute(p.src) ? p.src : resolve(ctx.projectRoot, p.src);
    let content: Buffer;
    try { content = readFileSync(src); } catch (e) {
      throw new ValidationError([`src: cannot read ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`], { task: ctx.taskPath, hint: 'src is a controller path, relative to the project root' });
    }
    if (p.secret) registerSecretText(content.toString());
    return planFileWrite({ path: p.path, fact: facts.file(p.path), content, mode: p.mode, owner: p.owner, group: p.group, validate: p.validate, secret: p.secret === true, ctx });
  },
});
