import type { ModeInput } from '../core/file-mode.ts';
import { ValidationError } from '../errors.ts';
import { getFileContent } from '../facts/file-content.ts';
import { checkLineEdit, editLines } from '../text/line-edit.ts';
import { assertRegularOrAbsent, checkFileAttrs, checkUnknownProps, checkValidateProp, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

/**
 * Props of `line`, Ansible's lineinfile (ansible-core 2.14) with camelCase names. Regexps are Python `re` patterns
 * matched against each line's raw bytes, its terminator included, as Ansible does (see docs/modules.md).
 */
export interface LineProps {
  /** Absolute path of the file on the host. */
  readonly path: string;
  /** The line wanted (state present). With `backrefs`, a template (`\1`, `\g<name>`). */
  readonly line?: string;
  /** Python regexp: the line to replace (present: the last match, or the first with `firstMatch`) or remove (absent: every match). */
  readonly regexp?: string;
  /** A plain substring instead of `regexp`. */
  readonly searchString?: string;
  /** 'present': the line is there (replacing the match); 'absent': every matching line is removed. @default 'present' */
  readonly state?: 'present' | 'absent';
  /** Insert after the last line matching this Python regexp, or 'BOF' / 'EOF'. @default 'EOF' */
  readonly insertAfter?: string;
  /** Insert before the last line matching this Python regexp, or 'BOF'. */
  readonly insertBefore?: string;
  /** Fill `line` from the regexp's groups; when the regexp matches nothing, nothing changes. @default false */
  readonly backrefs?: boolean;
  /** Use the first match of regexp / searchString / insertAfter / insertBefore instead of the last. @default false */
  readonly firstMatch?: boolean;
  /** Create the file if absent. @default false */
  readonly create?: boolean;
  /** File mode, an octal string ('0644') or number (0o644). @default existing mode, else '0644' */
  readonly mode?: ModeInput;
  /** Owner, a user name or numeric uid. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group, a group name or numeric gid. @default existing group, else 'root' */
  readonly group?: string;
  /** Check the edited file before it replaces the old one: argv, `%s` = the new content's path (Ansible's validate). */
  readonly validate?: readonly string[];
}

const PROPS = ['path', 'line', 'regexp', 'searchString', 'state', 'insertAfter', 'insertBefore', 'backrefs', 'firstMatch', 'create', 'mode', 'owner', 'group', 'validate'];

/**
 * `line({ path, regexp, line })`: Ansible's lineinfile on the file's bytes — never appends a duplicate when the
 * regexp matches. Every other byte of the file is kept (CRLF, Latin-1, NUL); see docs/modules.md for how lines and
 * Python regexps are matched, and the differences from Ansible.
 *
 * @plan `update PATH` (or `create PATH` with `create: true`) and the unified diff of the edited file;
 * `attributes PATH: … → …` when only the mode or owner differ. The no-op says `line present in PATH` or `no matching
 * line`. A missing file without `create`, or a regexp Python would reject, is an error at plan time.
 *
 * @rollback Puts the file back byte for byte as it was before the run (from the journal's pre-image), or removes it
 * when the run created it. A file changed since the run is a conflict unless `--force`.
 *
 * @example
 * line({ path: '/etc/ssh/sshd_config', regexp: '^#?PermitRootLogin ', line: 'PermitRootLogin no',
 *   validate: ['/usr/sbin/sshd', '-t', '-f', '%s'] }, { notify: 'reload sshd' })
 */
export const line = defineModule<LineProps>({
  name: 'line',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, PROPS), ...checkFileAttrs(p), ...checkValidateProp(p.validate)];
    if (typeof p !== 'object' || p === null) return problems;
    if (p.state !== undefined && p.state !== 'present' && p.state !== 'absent') problems.push('state: must be "present" or "absent"');
    for (const k of ['line', 'regexp', 'searchString', 'insertAfter', 'insertBefore'] as const) {
      if (p[k] !== undefined && typeof p[k] !== 'string') problems.push(`${k}: must be a string`);
    }
    for (const k of ['backrefs', 'firstMatch', 'create'] as const) {
      if (p[k] !== undefined && typeof p[k] !== 'boolean') problems.push(`${k}: must be true or false`);
    }
    if (problems.length) return problems;
    if (typeof p.line === 'string' && /[\r\n]/.test(p.line)) problems.push('line: must be a single line (no \\n or \\r)');
    return [...problems, ...checkLineEdit(p)];
  },
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const f = facts.file(p.path);
    assertRegularOrAbsent(f, p.path, ctx);
    if (!f.exists && !p.create) {
      if (p.state === 'absent') return { noop: `${p.path} is absent` };
      throw new ValidationError([`${p.path} does not exist`], { task: ctx.taskPath, hint: 'set create: true to create it' });
    }
    const before = f.exists ? getFileContent(f, p.path) : Buffer.alloc(0);
    let edited;
    try { edited = editLines(before, p); } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(e.problems, { task: ctx.taskPath, ...(e.hint ? { hint: e.hint } : {}) });
      throw e;
    }
    // As Ansible: an absent file is only created when a line is written.
    if (!f.exists && !edited.changed) return { noop: `${p.path} is absent and no line is to be written` };
    const noop = p.state === 'absent' ? 'no matching line' : `line present in ${p.path}`;
    return planFileWrite({ path: p.path, fact: f, content: edited.content, mode: p.mode, owner: p.owner, group: p.group, validate: p.validate, ctx, noop });
  },
});
