import type { ModeInput } from '../core/file-mode.ts';
import { ValidationError } from '../errors.ts';
import { getFileContent } from '../facts/file-content.ts';
import { checkFileAttrs, checkUnknownProps, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface LineProps {
  readonly path: string;
  /** The line wanted (state present). */
  readonly line?: string;
  /** Lines to replace (present: the last match) or remove (absent). */
  readonly regexp?: string;
  /** @default 'present' */
  readonly state?: 'present' | 'absent';
  /** Insert after the last line matching this regexp, or 'EOF'. @default 'EOF' */
  readonly insertAfter?: string;
  /** Insert before the first line matching this regexp, or 'BOF'. */
  readonly insertBefore?: string;
  /** Create the file if absent. @default false */
  readonly create?: boolean;
  readonly mode?: ModeInput;
}

function compileRe(src: string | undefined, prop: string): RegExp | undefined {
  if (src === undefined || src === 'EOF' || src === 'BOF') return undefined;
  try { return new RegExp(src); } catch (e) { throw new ValidationError([`${prop}: invalid regular expression: ${(e as Error).message}`]); }
}

/** Pure lineinfile: the edited text, or undefined when nothing changes. */
export function editLine(text: string, p: LineProps): string | undefined {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const hadFinal = text === '' || text.endsWith('\n');
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const re = compileRe(p.regexp, 'regexp');
  if ((p.state ?? 'present') === 'absent') {
    const keep = lines.filter((l) => !(re ? re.test(l) : l === p.line));
    return keep.length === lines.length ? undefined : keep.join(eol) + (keep.length && hadFinal ? eol : '');
  }
  const want = p.line!;
  if (re) {
    let last = -1;
    lines.forEach((l, i) => { if (re.test(l)) last = i; });
    if (last >= 0) {
      if (lines[last] === want) return undefined;
      lines[last] = want;
      return lines.join(eol) + eol;
    }
  }
  if (lines.includes(want)) return undefined;
  const before = compileRe(p.insertBefore, 'insertBefore');
  const after = compileRe(p.insertAfter, 'insertAfter');
  if (p.insertBefore === 'BOF') lines.unshift(want);
  else if (before && lines.findIndex((l) => before.test(l)) >= 0) lines.splice(lines.findIndex((l) => before.test(l)), 0, want);
  else if (after) {
    let last = -1;
    lines.forEach((l, i) => { if (after.test(l)) last = i; });
    lines.splice(last >= 0 ? last + 1 : lines.length, 0, want);
  } else lines.push(want);
  return lines.join(eol) + eol;
}

/** `line({ path, regexp, line })`: Ansible's lineinfile — never appends a duplicate when the regexp matches. */
export const line = defineModule<LineProps>({
  name: 'line',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['path', 'line', 'regexp', 'state', 'insertAfter', 'insertBefore', 'create', 'mode']), ...checkFileAttrs(p)];
    if ((p.state ?? 'present') === 'present' && typeof p.line !== 'string') problems.push('line: required when state is present');
    if (typeof p.line === 'string' && /[\r\n]/.test(p.line)) problems.push('line: must be a single line');
    if (p.state === 'absent' && p.line === undefined && p.regexp === undefined) problems.push('regexp: or line is required when state is absent');
    for (const k of ['regexp', 'insertAfter', 'insertBefore'] as const) {
      const v = p[k];
      if (v !== undefined && v !== 'EOF' && v !== 'BOF') { try { new RegExp(v); } catch (e) { problems.push(`${k}: invalid regular expression: ${(e as Error).message}`); } }
    }
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const f = facts.file(p.path);
    if (!f.exists && !p.create) {
      if (p.state === 'absent') return { noop: `${p.path} is absent` };
      throw new ValidationError([`${p.path} does not exist`], { task: ctx.taskPath, hint: 'set create: true to create it' });
    }
    const text = f.exists ? getFileContent(f, p.path).toString('utf8') : '';
    const next = editLine(text, p);
    if (next === undefined) return { noop: p.state === 'absent' ? 'no matching line' : `line present in ${p.path}` };
    return planFileWrite({ path: p.path, fact: f, content: Buffer.from(next), mode: p.mode, ctx });
  },
});
