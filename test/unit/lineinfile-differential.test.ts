/**
 * Differential test: rig's `line` module against Ansible's own lineinfile (ansible-core 2.14 from Debian, imported
 * once by test/helpers/lineinfile-oracle.py, which forks per case). Generated cases — seeded, so a failure is
 * reproducible — cover ASCII, UTF-8 and Latin-1 bytes, CRLF and mixed terminators, files without a final newline,
 * empty and absent files, duplicate lines, × state / regexp (Python dialect) / searchString / insertAfter /
 * insertBefore / firstMatch / backrefs / create. Compared: the resulting bytes (or the file staying absent), `changed`,
 * and error versus success. Deliberate differences are recognised and counted, never silently accepted:
 *   - glue: insertAfter matches the last line and that line has no newline; Ansible glues the new line onto it
 *     (`a\nb` + x → `a\nbx\n`), rig writes `a\nb\nx\n`;
 *   - refused: a pattern Python accepts but rig cannot reproduce exactly ("rig does not support …"), or a `line`
 *     holding a newline (Ansible writes two lines and never converges) — rig refuses with a clear error;
 *   - early: a regexp Python rejects, on a host where the file is absent and state is absent — Ansible returns
 *     "file not present" before compiling it, rig rejects the playbook on every host.
 *
 * RIG_LINEINFILE_SEED (default 20261206) and RIG_LINEINFILE_CASES (default 600) change the seed and the number of
 * generated cases; the hand-written hostile cases always run.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { FileFact } from '../../src/facts/fact-request.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { line, type LineProps } from '../../src/modules/line.ts';
import type { TaskContext } from '../../src/modules/module.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';
import { EOLS, generateRegexp, LINE_POOL, latin1, pick, prng, REGEXPS, utf8 } from '../helpers/seeded-cases.ts';

const SEED = Number(process.env['RIG_LINEINFILE_SEED'] ?? 20261206);
const CASES = Number(process.env['RIG_LINEINFILE_CASES'] ?? 600);
const PATH = '/etc/rig-differential.conf';

interface Case { readonly content: Buffer | null; readonly props: Omit<LineProps, 'path'> }
interface Outcome { readonly failed: boolean; readonly changed: boolean; readonly content: Buffer | null; readonly msg: string }

const LINES = [
  'foo=9', 'foo=1', 'new line', '', 'café=ü', 'x', '# comment', 'bar=3', 'caf\u00e9=1', '  indented', 'foo = 2',
];
const TEMPLATES = ['\\1=changed', '\\g<k>=\\g<v>0', '\\g<0>!', '\\2\\1', 'k=\\g<k>', '\\3', 'tab\\tin', 'foo=\\1\\1', '\\g<v>', 'lit\\\\x', 'oct\\101\\0x', '\\g<1>-\\g<2>', 'two\\nlines', '\\8', '\\q', '\\g<k'];
const ANCHORS = ['BOF', 'EOF', '^foo', '^#', '=', 'bar', '^x', 'nomatch', '(?i)FOO', '\\xe9', '1$', '(', 'é', '^$', '\\r\\n'];

function generateCase(r: () => number): Case {
  let content: Buffer | null;
  const shape = r();
  if (shape < 0.07) content = null;
  else if (shape < 0.15) content = Buffer.alloc(0);
  else {
    const n = 1 + Math.floor(r() * 7);
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) parts.push(pick(r, LINE_POOL), latin1(pick(r, EOLS)));
    const ending = r();
    if (ending < 0.3) parts.pop(); // no final newline
    else if (ending < 0.35) parts[parts.length - 1] = latin1('\r'); // ends with a lone \r
    content = Buffer.concat(parts);
  }
  const props: Record<string, unknown> = {};
  const absent = r() < 0.2;
  if (absent) props['state'] = 'absent';
  const sel = r();
  if (sel < 0.3) props['regexp'] = pick(r, REGEXPS);
  else if (sel < 0.5) props['regexp'] = generateRegexp(r);
  else if (sel < 0.65) props['searchString'] = pick(r, ['foo', '=', 'caf\u00e9', '', 'x', 'nomatch', '\r', ' ']);
  if (!absent || r() < 0.5) props['line'] = props['regexp'] !== undefined && r() < 0.35 ? pick(r, TEMPLATES) : pick(r, LINES);
  if (!absent) {
    const ins = r();
    if (ins < 0.3) props['insertAfter'] = pick(r, ANCHORS);
    else if (ins < 0.55) props['insertBefore'] = pick(r, ANCHORS);
    else if (ins < 0.58) { props['insertAfter'] = pick(r, ANCHORS); props['insertBefore'] = pick(r, ANCHORS); }
    if (props['regexp'] !== undefined && r() < 0.3) props['backrefs'] = true;
  }
  if (r() < 0.3) props['firstMatch'] = true;
  if (content === null ? r() < 0.7 : r() < 0.2) props['create'] = true;
  return { content, props: props as Case['props'] };
}

/** Hand-written hostile cases: the classes of disagreement the issue found, each pinned. */
const HOSTILE: readonly Case[] = [
  { content: latin1('a=1\nb=\xe9\r\nc=\xff'), props: { regexp: '^a=', line: 'a=2' } },
  { content: latin1('a=1\r\nb=2\r\n'), props: { regexp: '^b=', line: 'b=3' } },
  { content: latin1('a=1\r\nb=2\r\n'), props: { line: 'b=2' } },
  { content: latin1('a\nb'), props: { line: 'x', insertAfter: '^b' } },
  { content: latin1('a\nb'), props: { line: 'x', insertAfter: '^a' } },
  { content: latin1('m\nm\nm\n'), props: { line: 'x', insertAfter: '^m' } },
  { content: latin1('m\nm\nm\n'), props: { line: 'x', insertBefore: '^m' } },
  { content: latin1('m\nm\nm\n'), props: { line: 'x', insertBefore: '^m', firstMatch: true } },
  { content: latin1('k=1\nk=2\n'), props: { regexp: '^k=', line: 'k=3' } },
  { content: latin1('k=1\nk=2\n'), props: { regexp: '^k=', line: 'k=3', firstMatch: true } },
  { content: latin1('caf\xe9=1\n'), props: { regexp: 'caf.=', line: 'caf\u00e9=2' } },
  { content: latin1('caf\xe9=1\n'), props: { regexp: 'caf\\xe9=(\\d)', line: 'v=\\1', backrefs: true } },
  { content: utf8('café=1\n'), props: { regexp: 'caf.=', line: 'x' } },
  { content: utf8('café=1\n'), props: { regexp: 'caf..=', line: 'x' } },
  { content: latin1('a=1\r\n'), props: { regexp: '1$', line: 'a=2' } },
  { content: latin1('A=1\n'), props: { regexp: '(?i)^a=(?P<v>\\d)', line: 'a=\\g<v>\\g<v>', backrefs: true } },
  { content: latin1('x\xc9=1\n'), props: { regexp: '(?i)x\xe9', line: 'y' } },
  { content: latin1('a\n'), props: { regexp: '^b', line: 'b=\\1', backrefs: true } },
  { content: latin1('a=1\n'), props: { regexp: '\\Aa=1\\Z', line: 'z' } },
  { content: latin1('a=1\n'), props: { regexp: '\\Aa=1\\n\\Z', line: 'z' } },
  { content: latin1('x\xa0y\n'), props: { regexp: 'x\\sy', line: 'z' } },
  { content: latin1('a\rb\n'), props: { regexp: 'a.b', line: 'z' } },
  { content: Buffer.alloc(0), props: { line: 'first', insertBefore: 'BOF' } },
  { content: null, props: { line: 'new', create: true } },
  { content: null, props: { line: 'new', create: true, regexp: '^x', backrefs: true } },
  { content: latin1('keep\n'), props: { state: 'absent', regexp: '^nothing' } },
  { content: latin1('a\r\nb\nb\r\nc'), props: { state: 'absent', line: 'b' } },
  { content: latin1('a\n\xe9\nb'), props: { state: 'absent', searchString: '\u00e9' } },
  { content: latin1('a\n\xe9\nb'), props: { state: 'absent', regexp: '\\xe9' } },
  { content: latin1('one\n'), props: { line: 'two\nthree' } },
  { content: latin1('one\n'), props: { regexp: '(?P<x>o)', line: '\\g<y>', backrefs: true } },
  { content: latin1('one\n'), props: { regexp: 'o', searchString: 'o', line: 'x' } },
];

function runAnsible(cases: readonly Case[]): Outcome[] {
  const input = cases.map((c) => JSON.stringify({ content: c.content?.toString('base64') ?? null, args: ansibleArgs(c.props) })).join('\n') + '\n';
  const r = spawnSync('/usr/bin/python3', [join(PROJECT_ROOT, 'test', 'helpers', 'lineinfile-oracle.py')], { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`lineinfile oracle failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout.toString().trim().split('\n').map((l) => {
    const o = JSON.parse(l) as { failed: boolean; changed: boolean; msg: string; content: string | null };
    return { failed: o.failed, changed: o.changed, msg: o.msg, content: o.content === null ? null : Buffer.from(o.content, 'base64') };
  });
}

function ansibleArgs(p: Case['props']): Record<string, unknown> {
  const names: Record<string, string> = { searchString: 'search_string', insertAfter: 'insertafter', insertBefore: 'insertbefore', firstMatch: 'firstmatch' };
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [names[k] ?? k, v]));
}

const ctx: TaskContext = { host: { name: 'h', address: '10.0.0.1', vars: {}, groups: ['all'] } as unknown as TaskContext['host'], vars: {}, taskPath: 'differential', projectRoot: PROJECT_ROOT };

function runRig(c: Case): Outcome {
  const props = { path: PATH, ...c.props } as LineProps;
  const fact = (c.content === null ? { exists: false } : { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', content: c.content, size: c.content.length, sha256: '' }) as FileFact;
  try {
    const problems = line.module.validate(props);
    if (problems.length) return { failed: true, changed: false, content: c.content, msg: problems.join('; ') };
    const plan = line.module.plan(props, new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [PATH]: fact } } as never), ctx);
    if ('noop' in plan) return { failed: false, changed: false, content: c.content, msg: plan.noop };
    const w = plan.changes[0]!;
    if (w.kind !== 'write-file') throw new Error(`unexpected change kind ${w.kind}`);
    return { failed: false, changed: true, content: Buffer.from(w.content, 'base64'), msg: w.reason };
  } catch (e) {
    return { failed: true, changed: false, content: c.content, msg: (e as Error).message };
  }
}

type Verdict = 'same' | 'glue' | 'refused' | 'early' | 'different';

function judge(c: Case, rig: Outcome, ans: Outcome): Verdict {
  if (rig.failed && ans.failed) return 'same';
  if (rig.failed && !ans.failed && /rig does not support|line: must be a single line/.test(rig.msg)) return 'refused';
  // Ansible compiles the regexp only after finding the file; rig checks it when the playbook loads, on every host.
  if (rig.failed && !ans.failed && !ans.changed && c.content === null && /invalid Python regular expression/.test(rig.msg)) return 'early';
  if (rig.failed !== ans.failed) return 'different';
  const eq = (a: Buffer | null, b: Buffer | null): boolean => (a === null ? b === null : b !== null && a.equals(b));
  if (rig.changed === ans.changed && eq(rig.content, ans.content)) return 'same';
  const orig = c.content;
  const add = utf8(c.props.line ?? '');
  if (c.props.insertAfter !== undefined && orig && orig.length && !/[\r\n]$/.test(orig.toString('latin1')) && ans.changed && rig.changed
    && eq(ans.content, Buffer.concat([orig, add, latin1('\n')])) && eq(rig.content, Buffer.concat([orig, latin1('\n'), add, latin1('\n')]))) return 'glue';
  return 'different';
}

const show = (b: Buffer | null): string => (b === null ? '(absent)' : JSON.stringify(b.toString('latin1')));

test(`lineinfile differential: ${CASES} generated cases (seed ${SEED}) + ${HOSTILE.length} hostile ones agree with Ansible's lineinfile`, (t) => {
  const r = prng(SEED);
  const cases = [...HOSTILE, ...Array.from({ length: CASES }, () => generateCase(r))];
  const ansible = runAnsible(cases);
  t.is(ansible.length, cases.length);
  const counts: Record<Verdict, number> = { same: 0, glue: 0, refused: 0, early: 0, different: 0 };
  const report: string[] = [];
  cases.forEach((c, i) => {
    const rig = runRig(c);
    const v = judge(c, rig, ansible[i]!);
    counts[v]++;
    if (v === 'different' && report.length < 15) {
      report.push(`case ${i} ${JSON.stringify(c.props)} on ${show(c.content)}\n    rig:     failed=${rig.failed} changed=${rig.changed} ${show(rig.content)} ${rig.msg}\n    ansible: failed=${ansible[i]!.failed} changed=${ansible[i]!.changed} ${show(ansible[i]!.content)} ${ansible[i]!.msg}`);
    }
  });
  t.log(`same ${counts.same}, deliberate: glue ${counts.glue}, refused ${counts.refused}, early ${counts.early}; unexpected ${counts.different}`);
  t.is(counts.different, 0, `unexpected differences (first ${report.length}):\n  ${report.join('\n  ')}`);
  // The pinned deliberate differences really occur (the classification is not dead code).
  t.true(counts.glue >= 1 && counts.refused >= 1);
});
