import { ValidationError } from '../errors.ts';
import { checkFileAttrs, checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface LinkProps {
  /** Absolute path of the link on the host. */
  readonly path: string;
  /** What the link points to, stored as given (absolute, or relative to the link's directory); it need not exist. */
  readonly target: string;
  /** 'absent' removes the link (a file or directory at `path` is an error, not removed). @default 'present' */
  readonly state?: 'present' | 'absent';
}

/**
 * `link({ path, target })`: a symbolic link (e.g. sites-enabled → sites-available), or absent.
 *
 * @plan `link PATH → TARGET` with the reason (`link absent`, or `points to OLD`); `remove PATH` for state 'absent'.
 * A file or directory at `path` is an error at plan time; a link already pointing at `target` is a no-op (`-v`).
 *
 * @rollback Removes the link when the run created it, points it back at its old target, or recreates it when the
 * run removed it.
 *
 * @example
 * link({ path: '/etc/nginx/sites-enabled/app.conf', target: '/etc/nginx/sites-available/app.conf' },
 *   { notify: 'reload nginx' })
 */
export const link = defineModule<LinkProps>({
  name: 'link',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['path', 'target', 'state']), ...checkFileAttrs(p)];
    if (typeof p.target !== 'string' || !p.target) problems.push('target: required');
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path, content: false }],
  plan: (p, facts, ctx) => {
    const f = facts.file(p.path);
    const { content: _c, ...before } = f;
    if (p.state === 'absent') {
      if (!f.exists) return { noop: `${p.path} is absent` };
      if (f.type !== 'symlink') throw new ValidationError([`${p.path} is a ${f.type}, not a link`], { task: ctx.taskPath });
      return { changes: [{ kind: 'remove-path', path: p.path, before, secret: false, task: ctx.taskPath, reason: 'state absent' }] };
    }
    if (f.exists && f.type === 'symlink' && f.target === p.target) return { noop: `${p.path} → ${p.target}` };
    if (f.exists && f.type !== 'symlink') throw new ValidationError([`${p.path} exists and is a ${f.type}, not a link`], { task: ctx.taskPath, hint: 'remove it first' });
    return { changes: [{ kind: 'symlink', path: p.path, target: p.target, before, task: ctx.taskPath, reason: f.exists ? `points to ${f.target}` : 'link absent' }] };
  },
});
