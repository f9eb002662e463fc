import type { ModeInput } from '../core/file-mode.ts';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import Handlebars from 'handlebars';
import { isSecret, registerSecretText } from '../core/secret.ts';
import { TemplateError, ValidationError } from '../errors.ts';
import { checkFileAttrs, checkUnknownProps, checkValidateProp, planFileWrite } from './file-write.ts';
import { defineModule, type TaskContext } from './module.ts';

export interface TemplateProps {
  /** Handlebars file: absolute, or relative to `<project>/templates/`. */
  readonly src: string;
  /** Absolute path of the rendered file on the host. */
  readonly path: string;
  /**
   * Extra variables, over the task's merged vars (inventory < playbook < play < `-e`). The template also sees
   * `host.name`, `host.address` and `host.groups`.
   */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** File mode, an octal string ('0644') or number (0o644). @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
  /** Treat the rendered content as secret: masked in the plan, the log and the journal. @default false (true when a Secret value is rendered) */
  readonly secret?: boolean;
  /** Check the new content before it replaces the file: argv, `%s` = the new content's path (Ansible's validate). */
  readonly validate?: readonly string[];
}

const cache = new Map<string, { mtimeMs: number; fn: Handlebars.TemplateDelegate }>();

export function resolveTemplatePath(src: string, ctx: Pick<TaskContext, 'projectRoot'>): string {
  return isAbsolute(src) ? src : resolve(join(ctx.projectRoot, 'templates'), src);
}

function compile(file: string): Handlebars.TemplateDelegate {
  let st;
  try { st = statSync(file); } catch {
    throw new ValidationError([`src: template ${file} does not exist`], { hint: 'templates live in templates/ (relative src) or give an absolute path' });
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.fn;
  const fn = Handlebars.compile(readFileSync(file, 'utf8'), { strict: true, noEscape: true });
  cache.set(file, { mtimeMs: st.mtimeMs, fn });
  return fn;
}

/** Replace Secrets by their values for rendering; report whether any was used. */
function revealSecrets(v: unknown, found: { secret: boolean }): unknown {
  if (isSecret(v)) { found.secret = true; registerSecretText(v.reveal()); return v.reveal(); }
  if (Array.isArray(v)) return v.map((x) => revealSecrets(x, found));
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revealSecrets(x, found)]));
  return v;
}

/** Render a Handlebars template strictly (a missing variable is an error naming it). */
export function renderTemplate(file: string, data: Record<string, unknown>): { text: string; secret: boolean } {
  const fn = compile(file);
  const found = { secret: false };
  try {
    return { text: fn(revealSecrets(data, found)), secret: found.secret };
  } catch (e) {
    const msg = (e as Error).message;
    const m = /"(.+?)" not defined/.exec(msg);
    const line = /line (\d+)/.exec(msg)?.[1];
    throw new TemplateError(m ? `template variable "${m[1]}" is not defined (in ${file}${line ? `:${line}` : ''})` : `template ${file}: ${msg.split('\n').slice(0, 4).join('\n    ')}`, {
      file, ...(line ? { line: Number(line) } : {}), hint: m ? `define ${m[1]} in the inventory, the play vars, the task's vars or with -e` : 'fix the template syntax',
    });
  }
}

/**
 * `template({ src, path, vars })`: render a Handlebars template from templates/ to a host file. Rendering is strict:
 * a variable the template uses and nobody defined is an error naming it (and the template's line), never an empty
 * string; output is not HTML-escaped.
 *
 * @plan `create PATH` or `update PATH` with the mode and owner, and the unified diff of the rendered content (masked
 * when a secret value was rendered or `secret` is set); `attributes PATH: … → …` when only the attributes differ. A
 * missing template, a syntax error or an undefined variable fails the plan of that host.
 *
 * @rollback Puts the host file back as it was before the run (old content from the journal's pre-image, mode and
 * owner), or removes it when the run created it. A file changed since the run is a conflict unless `--force`.
 *
 * @example
 * template({ src: 'nginx/site.conf.hbs', path: '/etc/nginx/sites-available/app.conf', vars: { port: 8080 } },
 *   { notify: 'reload nginx' })
 */
export const template = defineModule<TemplateProps>({
  name: 'template',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['src', 'path', 'vars', 'mode', 'owner', 'group', 'secret', 'validate']), ...checkFileAttrs(p), ...checkValidateProp(p.validate)];
    if (typeof p.src !== 'string' || !p.src) problems.push('src: required (a file in templates/)');
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const file = resolveTemplatePath(p.src, ctx);
    let rendered: { text: string; secret: boolean };
    try {
      rendered = renderTemplate(file, { ...ctx.vars, ...(p.vars ?? {}), host: { name: ctx.host.name, address: ctx.host.address, groups: ctx.host.groups } });
    } catch (e) {
      if (e instanceof Error && /Parse error|Expecting/.test(e.message) && !(e instanceof TemplateError)) throw new TemplateError(`template syntax error in ${file}: ${e.message.split('\n').slice(0, 4).join('\n    ')}`, { file, hint: 'fix the template syntax' });
      throw e;
    }
    return planFileWrite({ path: p.path, fact: facts.file(p.path), content: Buffer.from(rendered.text), mode: p.mode, owner: p.owner, group: p.group, validate: p.validate, secret: p.secret === true || rendered.secret, ctx });
  },
});
