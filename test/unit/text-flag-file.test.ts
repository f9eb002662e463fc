import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRigError } from '../../src/errors.ts';
import type { FlagEdit } from '../../src/text/flag-edit-core.ts';
import { applyFlagFileEdits, parseFlagFile, printFlagFile, readFlags, readFlagWords } from '../../src/text/flag-file.ts';

interface Case {
  readonly name: string;
  readonly variable: string;
  readonly input: string;
  readonly edits: FlagEdit[];
  readonly keepOldCommented?: boolean;
  readonly expected?: string;
  readonly notes?: string[];
  readonly error?: { readonly code: string; readonly message: string; readonly line?: number };
}

const cases = JSON.parse(readFileSync(new URL('../fixtures/text/flag-file-cases.json', import.meta.url), 'utf8')) as Case[];
const dir = mkdtempSync(join(tmpdir(), 'rig-flag-file-'));

/** The words real sh gives for `$variable` after sourcing `text` (globbing off). */
function shellWords(text: string, variable: string): string[] {
  const file = join(dir, 'default');
  writeFileSync(file, text);
  const r = spawnSync('sh', ['-c', `set -f; . "$1"; for w in $${variable}; do printf '%s\\0' "$w"; done`, 'sh', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sh failed on ${JSON.stringify(text)}: ${r.stderr}`);
  return r.stdout.split('\0').slice(0, -1);
}

for (const c of cases) {
  test(`flag file: ${c.name}`, (t) => {
    const options = { variable: c.variable, file: '/etc/default/x', ...(c.keepOldCommented ? { keepOldCommented: true } : {}) };
    if (c.error) {
      const err = t.throws(() => applyFlagFileEdits(c.input, c.edits, options));
      t.true(isRigError(err), String(err));
      if (!isRigError(err)) return;
      t.is(err.code, c.error.code);
      t.true(err.message.includes(c.error.message), err.message);
      if (c.error.line !== undefined) t.is(err.where.line, c.error.line);
      t.is(err.where.file, '/etc/default/x');
      t.truthy(err.hint);
      return;
    }
    t.is(printFlagFile(parseFlagFile(c.input)), c.input);
    const result = applyFlagFileEdits(c.input, c.edits, options);
    t.is(result.text, c.expected ?? '');
    if (c.notes) t.deepEqual(result.notes, c.notes);
    t.is(printFlagFile(parseFlagFile(result.text)), result.text);
    // Editing again changes nothing (idempotent).
    t.is(applyFlagFileEdits(result.text, c.edits, options).text, result.text);
    // Real sh reads the same words as the parser (files without expansions or CR).
    if (!/[$`\r]/.test(result.text.replace(/\\[$`]/g, '').replace(/'[^']*'/g, ''))) {
      t.deepEqual(shellWords(result.text, c.variable), readFlagWords(result.text, c.variable) ?? []);
    }
  });
}

test('readFlags: names as written, last occurrence wins, bare flags are true', (t) => {
  const flags = readFlags(`X_OPTS="-v=1 --a --b x --v=3 --c= -- --d=4"\n`, 'X_OPTS');
  t.deepEqual([...flags], [['--a', true], ['--b', 'x'], ['--v', '3'], ['--c', '']]);
  t.deepEqual([...readFlags('A=1\n', 'X_OPTS')], []);
});

test('flag file: hostile values read back through real sh', (t) => {
  const values = ["it's", '"q"', '$HOME', '`id`', 'back\\slash', 'é☃🚀', "a'b\"c$d`e\\f", '', '-5', '=x=', '#h', ';x', '&&', '|', '~'];
  for (const quote of ['"', "'"]) {
    let text = `X_OPTS=${quote}--keep=1${quote}\n`;
    values.forEach((v, i) => { text = applyFlagFileEdits(text, [{ set: `--v${i}`, value: v }], { variable: 'X_OPTS' }).text; });
    const words = shellWords(text, 'X_OPTS');
    t.deepEqual(words, ['--keep=1', ...values.map((v, i) => `--v${i}=${v}`)], text);
    t.deepEqual(readFlagWords(text, 'X_OPTS'), words);
  }
});

// ── property tests ───────────────────────────────────────────────────────────────────────────────────────────
const VALUE_CHARS = ['a', 'z', '0', '9', '/', '.', ':', ',', '=', '-', '_', "'", '"', '$', '\\', '`', 'é', '☃', '#', ';', '&', '|', '~', '%', '@', '+', '(', ')', '{', '}', '!'];
const SHELL_SPECIAL = ['$', '\\', '"', "'", '`', '$a', '${a}', '$(x)'];
const arbValue = fc.array(fc.oneof({ arbitrary: fc.constantFrom(...SHELL_SPECIAL), weight: 1 }, { arbitrary: fc.constantFrom(...VALUE_CHARS), weight: 3 }), { maxLength: 8 })
  .map((a) => a.join(''));
const arbName = fc.constantFrom('a', 'b', 'api-servers', 'v', 'tls-cert-file', 'x.y');
const encoders: Record<'double' | 'single' | 'none', (s: string) => string> = {
  double: (s) => s.replace(/[\\"$`]/g, '\\$&'),
  single: (s) => s.replace(/'/g, `'\\''`),
  none: (s) => s.replace(/[^A-Za-z0-9_/.,:=@%+-]/g, '\\$&'),
};
/** A flag word as written in the file: --k=v, --k v, or a bare --k. */
const arbFlag = fc.tuple(arbName, fc.constantFrom('equals', 'space', 'bare'), arbValue)
  .map(([n, form, v]) => (form === 'bare' ? [`--${n}`] : form === 'space' && v !== '' && !v.startsWith('-') ? [`--${n}`, v] : [`--${n}=${v}`]));
const arbSep = fc.constantFrom(' ', '  ', '\t', ' \\\n  ', '\n');
const arbAssignment = fc.record({
  quote: fc.constantFrom('double', 'single', 'none') as fc.Arbitrary<'double' | 'single' | 'none'>,
  exported: fc.boolean(),
  lead: fc.constantFrom('', ' ', '  '),
  trail: fc.constantFrom('', ' ', '  '),
  flags: fc.array(arbFlag, { maxLength: 6 }),
  seps: fc.array(arbSep, { minLength: 12, maxLength: 12 }),
  comment: fc.constantFrom('', '  # set by kube-up', ' ;'),
}).map((a) => {
  const words = a.flags.flat();
  const enc = encoders[a.quote];
  if (a.quote === 'none') return `${a.exported ? 'export ' : ''}X_OPTS=${words.slice(0, 1).map(enc).join('')}${a.comment}`;
  const q = a.quote === 'double' ? '"' : "'";
  const seps = a.quote === 'single' ? a.seps.map((s) => s.replace('\\\n', '\n')) : a.seps;
  const body = words.map((w, i) => enc(w) + (i < words.length - 1 ? seps[i % seps.length] : '')).join('');
  return `${a.exported ? 'export ' : ''}X_OPTS=${q}${a.lead}${body}${a.trail}${q}${a.comment}`;
});
const arbOther = fc.constantFrom('', '# comment with \'quote and "dq"', 'DAEMON="--x=1"', "OTHER='a b'", '  # indented', 'if [ -x /bin/true ]; then :; fi', 'Y=$HOME', 'unicode=é☃');
const arbFile = fc.record({
  lines: fc.array(fc.oneof(arbOther, arbAssignment), { maxLength: 6 }),
  target: arbAssignment, eol: fc.constantFrom('\n', '\n', '\r\n'), final: fc.boolean(),
}).map((f) => [...f.lines, f.target].join(f.eol) + (f.final ? f.eol : ''));
const arbEdit: fc.Arbitrary<FlagEdit> = fc.oneof(
  fc.record({ set: arbName, value: fc.oneof(arbValue.filter((v) => !/[*?[]/.test(v)), fc.constant(true as const)) }),
  fc.record({ remove: arbName }),
);
const arbEdits = fc.uniqueArray(arbEdit, { maxLength: 4, selector: (e) => ('set' in e ? e.set : e.remove) });

test('property: generated flag files print back byte for byte and read like real sh', (t) => {
  fc.assert(fc.property(arbFile, (text) => {
    t.is(printFlagFile(parseFlagFile(text)), text);
    if (!text.includes('\r')) t.deepEqual(readFlagWords(text, 'X_OPTS'), shellWords(text, 'X_OPTS'));
  }), { numRuns: 150, seed: 42 });
});

test('property: random edits of generated files give files that parse, read back as wanted, and match sh', (t) => {
  fc.assert(fc.property(arbFile, arbEdits, fc.boolean(), (text, edits, keep) => {
    const out = applyFlagFileEdits(text, edits, { variable: 'X_OPTS', keepOldCommented: keep }).text;
    t.is(printFlagFile(parseFlagFile(out)), out);
    const flags = new Map([...readFlags(out, 'X_OPTS')].map(([k, v]) => [k.replace(/^-+/, ''), v]));
    for (const e of edits) t.is(flags.get('set' in e ? e.set : e.remove), 'set' in e ? e.value : undefined);
    if (!out.includes('\r')) t.deepEqual(readFlagWords(out, 'X_OPTS'), shellWords(out, 'X_OPTS'));
  }), { numRuns: 150, seed: 7 });
});

test('property: any text that parses prints back unchanged', (t) => {
  const arbText = fc.array(fc.constantFrom('X_OPTS=', 'export ', '"', "'", '\\', '$', '(', ')', '{', '}', '`', ' ', '\t', '\n', '\r\n', '#', '--a=1', '=', 'é', 'x', ';'), { maxLength: 40 }).map((a) => a.join(''));
  let parsed = 0;
  fc.assert(fc.property(fc.oneof(arbText, fc.string({ unit: 'grapheme', maxLength: 60 })), (text) => {
    let file;
    try { file = parseFlagFile(text); } catch (e) { t.true(isRigError(e) && e.code === 'PARSE', String(e)); return; }
    parsed++;
    t.is(printFlagFile(file), text);
  }), { numRuns: 1000, seed: 3 });
  t.true(parsed > 100, `only ${parsed} inputs parsed`);
});
