/**
 * The pure lineinfile editor (src/text/line-edit.ts) and the Python-regexp translation (src/text/python-regexp.ts):
 * every byte that is not edited is kept; patterns mean what they mean in Ansible (bytes, Python `re`); what rig cannot
 * reproduce is refused with a message saying so. The differential suite (lineinfile-differential.test.ts) checks the
 * same code against Ansible itself on generated cases.
 */
import test from 'ava';
import { ValidationError } from '../../src/errors.ts';
import { checkLineEdit, editLines } from '../../src/text/line-edit.ts';
import { compilePythonRegExp, PythonRegexpProblem } from '../../src/text/python-regexp.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (b: Buffer): string => b.toString('latin1');

test('editLines keeps every byte of the lines it does not touch: Latin-1, CRLF, NUL, no final newline', (t) => {
  const before = bytes('caf\xe9 = 1\r\nname = old\nnul\x00 \xff\xfe\nlast = \xe9');
  const r = editLines(before, { regexp: '^name = ', line: 'name = new' });
  t.true(r.changed);
  t.is(text(r.content), 'caf\xe9 = 1\r\nname = new\nnul\x00 \xff\xfe\nlast = \xe9');
  t.is(r.message, 'line replaced');
  // Converged: the same edit again changes nothing and returns the same buffer.
  const again = editLines(r.content, { regexp: '^name = ', line: 'name = new' });
  t.false(again.changed);
  t.is(again.content, r.content);
});

test('editLines: the replaced or added line is written with \\n, as Ansible does; a last line without newline gets one', (t) => {
  t.is(text(editLines(bytes('a=1\r\nb=2\r\n'), { regexp: '^b=', line: 'b=3' }).content), 'a=1\r\nb=3\n');
  t.is(text(editLines(bytes('a=1\r\nb=2'), { line: 'c=3' }).content), 'a=1\r\nb=2\nc=3\n');
  t.is(text(editLines(bytes('a=1\r\nb=2'), { line: 'b=2' }).content), 'a=1\r\nb=2\n');
});

test('editLines: several insertAfter/insertBefore matches use the last (firstMatch: the first); BOF and EOF', (t) => {
  const m = bytes('m\nm\nm\n');
  t.is(text(editLines(m, { line: 'x', insertAfter: '^m' }).content), 'm\nm\nm\nx\n');
  t.is(text(editLines(m, { line: 'x', insertBefore: '^m' }).content), 'm\nm\nx\nm\n');
  t.is(text(editLines(m, { line: 'x', insertBefore: '^m', firstMatch: true }).content), 'x\nm\nm\nm\n');
  t.is(text(editLines(m, { line: 'x', insertAfter: 'BOF' }).content), 'x\nm\nm\nm\n');
  t.is(text(editLines(m, { line: 'x', insertBefore: 'BOF' }).content), 'x\nm\nm\nm\n');
  t.is(text(editLines(m, { line: 'x', insertAfter: 'EOF' }).content), 'm\nm\nm\nx\n');
});

test('editLines: insertAfter matching an unterminated last line does not glue two lines (deliberate difference)', (t) => {
  t.is(text(editLines(bytes('a\nb'), { line: 'x', insertAfter: '^b' }).content), 'a\nb\nx\n');
});

test('editLines: backrefs, searchString, absent', (t) => {
  const f = bytes('port=80\nhost=a\n');
  t.is(text(editLines(f, { regexp: '^port=(?P<p>\\d+)$', line: 'port=\\g<p>80 # was \\1', backrefs: true }).content), 'port=8080 # was 80\nhost=a\n');
  t.false(editLines(f, { regexp: '^nothing(\\d)', line: '\\1', backrefs: true }).changed);
  t.is(text(editLines(f, { searchString: 'host', line: 'host=b' }).content), 'port=80\nhost=b\n');
  t.is(text(editLines(bytes('a\r\nb\nb\r\nc'), { state: 'absent', line: 'b' }).content), 'a\r\nc');
  t.is(editLines(bytes('a\r\nb\nb\r\nc'), { state: 'absent', line: 'b' }).message, '2 line(s) removed');
});

test('regexps see bytes: `.` is one byte, é is two, \\xe9 is a Latin-1 byte, \\s is ASCII whitespace, $ before a final \\n', (t) => {
  const latin = bytes('caf\xe9=1\n');
  const utf8 = Buffer.from('café=1\n');
  const hit = (re: string, b: Buffer): boolean => compilePythonRegExp(re).regexp.test(text(b));
  t.true(hit('caf.=', latin));
  t.false(hit('caf.=', utf8));
  t.true(hit('caf..=', utf8));
  t.true(hit('café', utf8));
  t.false(hit('café', latin));
  t.true(hit('caf\\xe9', latin));
  t.false(hit('x\\sy', bytes('x\xa0y')));
  t.true(hit('=1$', latin));
  t.false(hit('=1$', bytes('a=1\r\n')));
  t.true(hit('a.b', bytes('a\rb\n')));
  t.false(hit('\\Acaf.=1\\Z', latin));
  t.true(hit('\\Acaf.=1\\n\\Z', latin));
  t.true(hit('(?i)^CAF', latin));
  t.false(hit('(?i)x\\xe9', bytes('x\xc9\n')), 'IGNORECASE folds ASCII letters only, as in a Python bytes pattern');
  t.true(hit('^(?P<k>\\w+)=(?P=k)$', bytes('ab=ab\n')));
  t.true(hit('(?x) ^ caf \\S # comment', latin));
  t.true(hit('[]x]', bytes(']')));
  t.true(hit('o{,1}=', bytes('f=')));
});

test('regexps Python rejects are invalid; patterns rig cannot reproduce are refused, never approximated', (t) => {
  const problem = (re: string): PythonRegexpProblem => {
    try { compilePythonRegExp(re); } catch (e) { if (e instanceof PythonRegexpProblem) return e; throw e; }
    throw new Error(`${re} compiled`);
  };
  for (const re of ['(', '[a', '*x', 'a{2,1}', '\\u00e9', '(?u)a', 'a(?i)b', '(?<=a+)b', '\\q', '(?P<1>a)']) t.is(problem(re).kind, 'invalid', re);
  for (const re of ['(?<n>a)', '(?>a)', '(o)?\\1', '(a)|\\1', '(?i)(a)\\1', 'a*+', '(?L)a', '(?(1)a|b)']) t.is(problem(re).kind, 'unsupported', re);
  t.deepEqual(checkLineEdit({ regexp: '(?<n>a)', line: 'x' }), ["regexp: rig does not support named groups written (?<name>…): Python's syntax is (?P<name>…) in a Python regular expression"]);
  t.deepEqual(checkLineEdit({ regexp: 'a', searchString: 'a', line: 'x', insertAfter: 'a', insertBefore: 'b' }), [
    'insertAfter/insertBefore: give one of them, not both', 'regexp/searchString: give one of them, not both']);
  t.throws(() => editLines(bytes('a\n'), { regexp: '(a)', line: '\\g<nope>', backrefs: true }), { instanceOf: ValidationError, message: /unknown group name 'nope'/ });
});
