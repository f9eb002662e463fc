import type { ModeInput } from '../core/file-mode.ts';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { registerSecretText } from '../core/secret.ts';
import { ValidationError } from '../errors.ts';
import { checkFileAttrs, checkUnknownProps, checkValidateProp, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CopyProps {
  /** Controller file: absolute, or relative to the project root. */
  readonly src: string;
  readonly path: string;
  readonly mode?: ModeInput;
  readonly owner?: string;
  readonly group?: string;
  /** @default false */
  readonly secret?: boolean;
  /** Check the new content before it replaces the file: argv, `%s` = the new content's path (Ansible's validate). */
  readonly validate?: readonly string[];
}

/** `copy({ src, path })`: a controller file copied to the host. */
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
