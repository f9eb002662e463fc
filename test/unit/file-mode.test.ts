/**
 * Issue 13 item 5: modes are normalised in one place (src/core/file-mode.ts). Fixtures of what a task may write,
 * a property test over every mode and its spellings, and a differential test with the real chmod and stat: the mode
 * rig plans is the mode the host reports after rig's chmod, whatever the path had before (GNU chmod keeps a
 * directory's setgid bit for a four-digit mode).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkMode, chmodArgument, normalizeMode } from '../../src/core/file-mode.ts';
import type { FileFact } from '../../src/facts/fact-request.ts';
import { MemoryHostFacts, DEBIAN_SYSV_OS } from '../../src/facts/host-facts.ts';
import { directory, file } from '../../src/modules/index.ts';
import type { Module, TaskContext } from '../../src/modules/module.ts';

const GOOD: ReadonlyArray<[string | number, string]> = [
  ['0644', '0644'], ['644', '0644'], ['00644', '0644'], ['0o644', '0644'], [0o644, '0644'], [420, '0644'],
  ['2775', '2775'], ['02775', '2775'], ['0o2775', '2775'], [0o2775, '2775'],
  ['1777', '1777'], ['01777', '1777'], [0o1777, '1777'], ['4755', '4755'], ['04755', '4755'], [0o4755, '4755'],
  ['6750', '6750'], ['0000', '0000'], [0, '0000'], ['000', '0000'], ['7777', '7777'], [0o7777, '7777'],
];
const BAD: ReadonlyArray<[unknown, RegExp]> = [
  ['rwxr-xr-x', /not an octal mode string/], ['44', /not an octal mode string/], ['0x1ff', /not an octal mode string/],
  ['0888', /not an octal mode string/], ['17777', /not an octal mode string/], [' 644', /not an octal mode string/], ['', /not an octal/],
  [644, /644 is the number 644 \(octal 1204\)[^]*0o644/], [2775, /write 0o2775 or the string "2775"/], [755, /octal 1363/],
  [0o10000, /a number must be 0 to 0o7777/], [-1, /must be 0 to 0o7777/], [1.5, /must be 0 to 0o7777/], [null, /not a mode/], [true, /not a mode/],
];

test('fixtures: every spelling of a mode normalises to four octal digits; bad ones say why', (t) => {
  for (const [input, want] of GOOD) {
    t.is(checkMode(input), undefined, String(input));
    t.is(normalizeMode(input), want, String(input));
    t.is(chmodArgument(input), `0${want}`, String(input));
  }
  for (const [input, why] of BAD) {
    t.regex(checkMode(input) ?? 'accepted', why, JSON.stringify(input));
    t.throws(() => normalizeMode(input as string), { code: 'INTERNAL' } as never);
  }
});

test('property: any mode, in any spelling (leading zeros, 0o, the number), is one canonical mode; normalising twice changes nothing', (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0o7777 }), fc.nat(3), fc.boolean(), (n, zeros, prefix) => {
    const want = n.toString(8).padStart(4, '0');
    const digits = '0'.repeat(zeros) + n.toString(8).padStart(3, '0');
    const text = (prefix ? '0o' : '') + digits;
    // A number is its value, unless its decimal digits read as a mode nobody means (644 = 0o1204): refused, never guessed.
    const asNumber = checkMode(n) === undefined ? normalizeMode(n) === want : /^[0-7]{3,4}$/.test(String(n));
    return normalizeMode(text) === want && asNumber && normalizeMode(normalizeMode(text)) === want
      && normalizeMode(want) === want && parseInt(want, 8) === n;
  }), { seed: 13, numRuns: 2000 });
  t.pass();
});

test('differential with chmod and stat: after chmod with chmodArgument(m), the host reports normalizeMode(m), from any previous mode (directories and files)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-mode-'));
  // Seeded: every special-bit combination × a spread of permission bits, each from a previous mode with every special bit set.
  const rnd = fc.sample(fc.integer({ min: 0, max: 0o777 }), { seed: 42, numRuns: 24 });
  const modes: string[] = [];
  for (const special of [0, 1, 2, 3, 4, 5, 6, 7]) for (const p of rnd.slice(0, 6)) modes.push(((special << 9) | p).toString(8).padStart(4, "0"));
  modes.push('0755', '2775', '1777', '4755', '02775', '644');
  // One sh for all cases: mode in, what stat says out (printed like the gather: %04o of 0%a).
  const script = 'd=$1; shift; for m; do for k in dir file; do p="$d/$k"; rm -rf -- "$p"; if [ $k = dir ]; then mkdir -- "$p"; else : > "$p"; fi\n'
    + 'chmod 7777 -- "$p"; chmod -- "$m" "$p"; printf "%s %s %04o\\n" "$m" "$k" "0$(stat -c %a -- "$p")"; done; done';
  const out = execFileSync('sh', ['-c', script, 'sh', dir, ...modes.map((m) => chmodArgument(m))]).toString().trim().split('\n');
  t.is(out.length, modes.length * 2);
  out.forEach((line, i) => {
    const [arg, kind, got] = line.split(' ');
    t.is(got, normalizeMode(modes[Math.floor(i / 2)]!), `${kind} chmod ${arg}`);
  });
  // And the four-digit argument is what kept the directory's setgid bit: the test sees the difference.
  const four = execFileSync('sh', ['-c', 'p="$1/d4"; mkdir -- "$p"; chmod 2775 "$p"; chmod 0775 "$p"; stat -c %a -- "$p"', 'sh', dir]).toString().trim();
  t.is(four, '2775', 'GNU chmod keeps a directory\'s setgid for a four-digit mode');
});

const ctx = { host: { name: 'h', address: 'h', vars: {} }, vars: {}, taskPath: 't', projectRoot: '/' } as unknown as TaskContext;
const planOf = <P>(m: { module: Module<P> }, props: P, files: Record<string, FileFact>) => {
  t0(m.module.validate(props));
  return m.module.plan(props, new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files }), ctx);
};
function t0(problems: string[]): void { if (problems.length) throw new Error(problems.join('; ')); }

test('modules: a setgid/sticky/setuid mode in any spelling plans once, then nothing on the state it produced', (t) => {
  const cases: ReadonlyArray<[string | number, string]> = [['2775', '2775'], ['02775', '2775'], [0o2775, '2775'], ['1777', '1777'], ['01777', '1777'],
    [0o1777, '1777'], ['4755', '4755'], ['04755', '4755'], [0o4755, '4755']];
  for (const [mode, want] of cases) {
    const d = planOf(directory, { path: '/srv/d', mode }, { '/srv/d': { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root' } });
    t.true('changes' in d && d.changes[0]!.kind === 'set-attributes', `directory ${mode} changes`);
    t.true('noop' in planOf(directory, { path: '/srv/d', mode }, { '/srv/d': { exists: true, type: 'directory', mode: want, owner: 'root', group: 'root' } }), `directory ${mode} converged`);
    const f = planOf(file, { path: '/srv/f', content: 'x', mode }, { '/srv/f': { exists: false } });
    t.true('changes' in f && (f.changes[0] as { after: { mode: string } }).after.mode === want, `file ${mode} planned as ${want}`);
  }
});

test('modules: a numeric owner or group is the gathered name when the ids match; an owner without a name stays numeric', (t) => {
  const named: FileFact = { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'daemon', uid: 0, gid: 1 };
  t.true('noop' in planOf(directory, { path: '/d', owner: '0', group: '1' }, { '/d': named }));
  const nameless: FileFact = { exists: true, type: 'directory', mode: '0755', owner: '4321', group: '4321', uid: 4321, gid: 4321 };
  t.true('noop' in planOf(directory, { path: '/d' }, { '/d': nameless }));
  t.true('noop' in planOf(directory, { path: '/d', owner: '4321', group: '4321' }, { '/d': nameless }));
  const r = planOf(directory, { path: '/d', owner: 'root' }, { '/d': nameless });
  t.like('changes' in r ? r.changes[0] : {}, { kind: 'set-attributes', before: { owner: '4321', group: '4321' }, after: { owner: 'root', group: '4321' } });
});
