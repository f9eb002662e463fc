/**
 * Ansible's lineinfile (ansible-core 2.14, `present()` / `absent()`) as a pure function of bytes: `(bytes, edit) →
 * bytes`. Like Ansible it splits the file after each `\n` (a line keeps its terminator: `\n`, `\r\n`, or none on
 * the last line), searches regexps in those raw bytes (src/text/python-regexp.ts), and writes a new or replaced line
 * with `\n`. Every byte of every line it does not replace or insert is kept — Latin-1, invalid UTF-8, NUL, `\r`.
 *
 * One deliberate difference: when `insertAfter` matches the last line and that line has no terminator, Ansible
 * appends the new line to it (two lines glued into one); rig ends the old last line with `\n` first.
 */
import { ValidationError } from '../errors.ts';
import { compilePythonRegExp, expandTemplate, PythonRegexpProblem, toByteString, type ByteRegExp } from './python-regexp.ts';

export interface LineEdit {
  /** @default 'present' */
  readonly state?: 'present' | 'absent';
  /** The line wanted (present), or the exact line to remove (absent, without regexp / searchString). */
  readonly line?: string;
  /** Python `re` pattern searched in each line (its terminator included). */
  readonly regexp?: string;
  /** Plain substring searched in each line (instead of `regexp`). */
  readonly searchString?: string;
  /** Regexp, or `BOF` / `EOF`. Insert after the last matching line (`firstMatch`: the first). */
  readonly insertAfter?: string;
  /** Regexp, or `BOF`. Insert before the last matching line (`firstMatch`: the first). */
  readonly insertBefore?: string;
  /** `line` is a template with `\1`, `\g<name>` filled from the regexp match; nothing changes when nothing matches. */
  readonly backrefs?: boolean;
  /** Use the first matching line instead of the last (regexp, searchString, insertAfter, insertBefore). */
  readonly firstMatch?: boolean;
}

export interface LineEditResult {
  readonly content: Buffer;
  readonly changed: boolean;
  /** Ansible's `msg`: `line added`, `line replaced`, `N line(s) removed`, or ''. */
  readonly message: string;
}

const problemText = (prop: string, p: PythonRegexpProblem): string => (p.kind === 'unsupported'
  ? `${prop}: rig does not support ${p.message} in a Python regular expression`
  : `${prop}: invalid Python regular expression: ${p.message}`);

function tryCompile(pattern: string, prop: string, problems: string[]): ByteRegExp | undefined {
  try { return compilePythonRegExp(pattern); } catch (e) {
    if (!(e instanceof PythonRegexpProblem)) throw e;
    problems.push(problemText(prop, e));
    return undefined;
  }
}

interface Compiled { readonly re?: ByteRegExp | undefined; readonly insert?: ByteRegExp | undefined; readonly insertAfter?: string | undefined }

function compileEdit(e: LineEdit, problems: string[]): Compiled {
  const state = e.state ?? 'present';
  if (e.insertAfter !== undefined && e.insertBefore !== undefined) problems.push('insertAfter/insertBefore: give one of them, not both');
  if (e.regexp !== undefined && e.searchString !== undefined) problems.push('regexp/searchString: give one of them, not both');
  if (e.backrefs && e.searchString !== undefined) problems.push('backrefs: cannot be used with searchString');
  if (state === 'present') {
    if (e.backrefs && e.regexp === undefined) problems.push('regexp: required with backrefs: true');
    if (typeof e.line !== 'string') problems.push('line: required when state is present');
  } else if (e.line === undefined && e.regexp === undefined && e.searchString === undefined) {
    problems.push('line, searchString or regexp: one is required when state is absent');
  }
  const re = e.regexp === undefined ? undefined : tryCompile(e.regexp, 'regexp', problems);
  if (state === 'absent') return { re };
  // As Ansible: with neither insertAfter nor insertBefore, insertAfter is EOF.
  const insertAfter = e.insertAfter ?? (e.insertBefore === undefined ? 'EOF' : undefined);
  let insert: ByteRegExp | undefined;
  if (insertAfter !== undefined && insertAfter !== 'BOF' && insertAfter !== 'EOF') insert = tryCompile(insertAfter, 'insertAfter', problems);
  else if (e.insertBefore !== undefined && e.insertBefore !== 'BOF') insert = tryCompile(e.insertBefore, 'insertBefore', problems);
  return { re, insert, insertAfter };
}

/** Every problem with an edit (mutually exclusive options, missing ones, regexps Python or rig refuses). */
export function checkLineEdit(edit: LineEdit): string[] {
  const problems: string[] = [];
  compileEdit(edit, problems);
  return problems;
}

/** Python's `bytes.readlines()`: split after each `\n`, terminators kept. */
export function splitByteLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) { out.push(text.slice(start, i + 1)); start = i + 1; }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const stripEol = (l: string): string => l.replace(/[\r\n]+$/, '');
const truthy = (s: string | undefined): boolean => s !== undefined && s !== '';
const terminated = (l: string): boolean => l.endsWith('\n') || l.endsWith('\r');

/** Apply one lineinfile edit to a file's bytes. Throws ValidationError for a bad edit (nothing is changed). */
export function editLines(content: Buffer, edit: LineEdit): LineEditResult {
  const problems: string[] = [];
  const c = compileEdit(edit, problems);
  if (problems.length) throw new ValidationError(problems, { hint: 'regexp, insertAfter and insertBefore are Python regular expressions, as in Ansible\'s lineinfile' });
  const lines = splitByteLines(content.toString('latin1'));
  const result = (changed: boolean, message: string): LineEditResult => ({ content: changed ? Buffer.from(lines.join(''), 'latin1') : content, changed, message });
  const search = edit.searchString === undefined ? undefined : toByteString(edit.searchString);
  const line = toByteString(edit.line ?? 'None');

  if ((edit.state ?? 'present') === 'absent') {
    const matches = (l: string): boolean => (c.re ? c.re.regexp.test(l) : search !== undefined ? l.includes(search) : line === stripEol(l));
    const kept = lines.filter((l) => !matches(l));
    const removed = lines.length - kept.length;
    lines.splice(0, lines.length, ...kept);
    return result(removed > 0, removed > 0 ? `${removed} line(s) removed` : '');
  }

  const firstMatch = edit.firstMatch === true;
  let found = -1;
  let insertAt = -1;
  let match: RegExpExecArray | undefined;
  let matched = false;
  if (c.re) {
    for (let i = 0; i < lines.length; i++) {
      const m = c.re.regexp.exec(lines[i]!);
      if (m) { found = i; match = m; matched = true; if (firstMatch) break; }
    }
  }
  if (search !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.includes(search)) { found = i; matched = true; if (firstMatch) break; }
    }
  }
  if (!matched) {
    for (let i = 0; i < lines.length; i++) {
      if (line === stripEol(lines[i]!)) found = i;
      else if (c.insert && c.insert.regexp.test(lines[i]!)) {
        if (truthy(c.insertAfter)) { insertAt = i + 1; if (firstMatch) break; }
        if (truthy(edit.insertBefore)) { insertAt = i; if (firstMatch) break; }
      }
    }
  }

  if (found !== -1) {
    let wanted = line;
    if (edit.backrefs && match) {
      try { wanted = expandTemplate(line, match, c.re!); } catch (e) {
        if (e instanceof PythonRegexpProblem) throw new ValidationError([`line: ${e.message} (in the backrefs template)`]);
        throw e;
      }
    }
    if (!wanted.endsWith('\n')) wanted += '\n';
    if (lines[found] === wanted) return result(false, '');
    lines[found] = wanted;
    return result(true, 'line replaced');
  }
  if (edit.backrefs) return result(false, ''); // no match: the backrefs cannot be filled, nothing changes
  if (edit.insertBefore === 'BOF' || c.insertAfter === 'BOF') {
    lines.unshift(`${line}\n`);
    return result(true, 'line added');
  }
  if (c.insertAfter === 'EOF' || insertAt === -1) {
    if (lines.length && !terminated(lines[lines.length - 1]!)) lines.push('\n');
    lines.push(`${line}\n`);
    return result(true, 'line added');
  }
  if (truthy(c.insertAfter)) {
    if (lines.length === insertAt) {
      if (stripEol(lines[insertAt - 1]!) === line) return result(false, '');
      // Deliberate difference: Ansible glues the new line to an unterminated last line; rig terminates it first.
      if (!terminated(lines[insertAt - 1]!)) lines.push('\n');
      lines.push(`${line}\n`);
      return result(true, 'line added');
    }
    if (stripEol(lines[insertAt]!) === line) return result(false, '');
  }
  lines.splice(insertAt, 0, `${line}\n`);
  return result(true, 'line added');
}
