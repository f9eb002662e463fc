/**
 * The capability module and capability text: getcap's output forms normalised to one text, plans from fixtures,
 * plan-time errors; and a differential check against the real setcap/getcap (libcap2-bin) on a scratch file.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isRigError } from '../../src/errors.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';
import { capability } from '../../src/modules/capability.ts';
import type { TaskContext } from '../../src/modules/module.ts';
import { buildApplyScript } from '../../src/engine/apply-script.ts';
import { describeChange } from '../../src/cli/render-plan.ts';
import {
  CAPABILITY_NAMES, checkFileCapabilities, formatCapabilities, normalizeCapabilities, parseCapabilities,
} from '../../src/text/file-capabilities.ts';

const ctx: TaskContext = { host: { name: 'n1', address: '10.0.0.1', vars: {} } as unknown as TaskContext['host'], vars: {}, taskPath: 'play 1 › task 1', projectRoot: '/nonexistent' };
const cap = capability.module;
const BIN = '/opt/kong/sbin/nginx';
const binary = { exists: true, type: 'file', mode: '0755', owner: 'root', group: 'root', size: 1234, sha256: 'a'.repeat(64) } as const;
const sbin = { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root', uid: 0, gid: 0 } as const;
const facts = (caps: string, file: object = binary, dir: object = sbin) => new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [BIN]: file as never, '/opt/kong/sbin': dir as never }, capabilities: { [BIN]: caps }, commands: { [LAST_CAP]: lastCap(40) } });
const LAST_CAP = 'kernel-cap-last-cap';
const lastCap = (n: number) => ({ exitCode: 0, stdout: `${n}\n`, stderr: '' });

/** getcap's output forms (libcap 2.66 on Debian 12, and older libcap's ` = …+ep`), each with its canonical text. */
const GETCAP_FORMS: ReadonlyArray<[string, string]> = [
  ['', ''],
  ['cap_net_bind_service=ep', 'cap_net_bind_service=ep'],
  [' = cap_net_bind_service+ep', 'cap_net_bind_service=ep'],
  ['cap_net_bind_service+ep', 'cap_net_bind_service=ep'],
  ['CAP_NET_BIND_SERVICE=pe', 'cap_net_bind_service=ep'],
  ['cap_net_raw,cap_net_admin=ep', 'cap_net_admin,cap_net_raw=ep'],
  [' = cap_net_admin,cap_net_raw+ep', 'cap_net_admin,cap_net_raw=ep'],
  ['cap_net_admin=ep cap_net_raw=ep', 'cap_net_admin,cap_net_raw=ep'],
  ['cap_chown=p cap_net_raw+i', 'cap_chown=p cap_net_raw=i'],
  ['cap_chown,cap_net_raw=p cap_net_raw+i', 'cap_chown=p cap_net_raw=ip'],
  ['cap_net_bind_service=eip cap_net_bind_service-i', 'cap_net_bind_service=ep'],
  ['all=p all-p cap_kill+p', 'cap_kill=p'],
  ['cap_net_raw=ep cap_net_raw=p', 'cap_net_raw=p'],
  ['cap_chown=eip =', ''],
  ['all=eip = cap_kill+p', 'cap_kill=p'],
];

test('getcap output forms normalise to one text', (t) => {
  for (const [text, canonical] of GETCAP_FORMS) t.is(normalizeCapabilities(text), canonical, text);
  t.is(normalizeCapabilities('all=ep').split(',').length, CAPABILITY_NAMES.length);
});

test('unknown names, bad flags and namespaced capabilities are CAPABILITY errors naming the offender', (t) => {
  for (const [text, re] of [['cap_net_bind_servic=ep', /unknown capability "cap_net_bind_servic"/], ['cap_net_raw=ex', /unknown flag "x"/],
    ['cap_net_raw', /not like cap_net_bind_service=ep/], ['+ep', /names no capability/], ['cap_net_raw=ep [rootid=1000]', /namespaced/]] as const) {
    const e = t.throws(() => parseCapabilities(text));
    t.true(isRigError(e) && e.code === 'CAPABILITY' && re.test(e.message), `${text}: ${e?.message}`);
  }
});

test('one effective bit per file: e on some capabilities but not others is refused, as setcap refuses it', (t) => {
  t.is(checkFileCapabilities(parseCapabilities('cap_net_admin,cap_net_raw=ep')), undefined);
  t.is(checkFileCapabilities(parseCapabilities('cap_chown=p cap_net_raw=i')), undefined);
  t.regex(checkFileCapabilities(parseCapabilities('cap_net_admin=ep cap_net_raw=p')) ?? '', /one effective bit.*cap_net_raw are not/);
  t.regex(checkFileCapabilities(parseCapabilities('cap_net_admin=e')) ?? '', /without being permitted/);
});

test('plan: adds cap_net_bind_service=ep to a binary without capabilities, described readably', (t) => {
  const r = cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=+ep' }, facts(''), ctx);
  t.true('changes' in r);
  if (!('changes' in r)) return;
  t.deepEqual(r.changes, [{ kind: 'set-capability', path: BIN, beforeCaps: '', afterCaps: 'cap_net_bind_service=ep', task: ctx.taskPath, reason: 'adds cap_net_bind_service=ep' }]);
  t.is(describeChange(r.changes[0]!), `capabilities ${BIN}: none → cap_net_bind_service=ep`);
  t.deepEqual(cap.facts({ path: BIN, capabilities: 'cap_net_bind_service=ep' }, ctx),
    [{ kind: 'file', path: BIN, content: false }, { kind: 'file', path: '/opt/kong/sbin', content: false }, { kind: 'capability', path: BIN },
      { kind: 'command', key: LAST_CAP, argv: ['cat', '/proc/sys/kernel/cap_last_cap'] }]);
});

test('plan: converged in every getcap form is a no-op; exact replaces other capabilities, at-least keeps them', (t) => {
  for (const form of ['cap_net_bind_service=ep', ' = cap_net_bind_service+ep', 'cap_net_bind_service+ep']) {
    t.deepEqual(cap.plan({ path: BIN, capabilities: 'cap_net_bind_service+ep' }, facts(form), ctx), { noop: `${BIN} has cap_net_bind_service=ep` });
  }
  const exact = cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep' }, facts('cap_net_raw,cap_net_bind_service=ep'), ctx);
  t.like('changes' in exact ? exact.changes[0] : {}, { beforeCaps: 'cap_net_bind_service,cap_net_raw=ep', afterCaps: 'cap_net_bind_service=ep', reason: 'removes cap_net_raw=ep' });
  t.deepEqual(cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep', exact: false }, facts('cap_net_raw,cap_net_bind_service=ep'), ctx),
    { noop: `${BIN} has cap_net_bind_service,cap_net_raw=ep` });
  const atLeast = cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep', exact: false }, facts('cap_net_raw=ep'), ctx);
  t.like('changes' in atLeast ? atLeast.changes[0] : {}, { afterCaps: 'cap_net_bind_service,cap_net_raw=ep', reason: 'adds cap_net_bind_service=ep' });
  // at least, but the file keeps a capability without e: one effective bit, so no valid result.
  const e = t.throws(() => cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep', exact: false }, facts('cap_chown=p'), ctx));
  t.true(isRigError(e) && e.code === 'CAPABILITY' && /one effective bit/.test(e.message));
  // removing all: '' plans `setcap -r`.
  const none = cap.plan({ path: BIN, capabilities: '' }, facts('cap_net_bind_service=ep'), ctx);
  t.like('changes' in none ? none.changes[0] : {}, { beforeCaps: 'cap_net_bind_service=ep', afterCaps: '', reason: 'removes cap_net_bind_service=ep' });
  t.deepEqual(cap.plan({ path: BIN, capabilities: '' }, facts(''), ctx), { noop: `${BIN} has no capabilities` });
});

test('plan-time errors: missing binary, a symlink, getcap missing; validate names unknown capabilities', (t) => {
  const missing = t.throws(() => cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep' }, facts('', { exists: false }), ctx));
  t.true(isRigError(missing) && missing.code === 'CAPABILITY' && /does not exist/.test(missing.message));
  const link = t.throws(() => cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep' }, facts('', { exists: true, type: 'symlink', target: '/usr/sbin/nginx', mode: '0777', owner: 'root', group: 'root' }), ctx));
  t.true(isRigError(link) && /symlink.*regular files only/.test(link.message) && /\/usr\/sbin\/nginx/.test(link.hint ?? ''));
  const noGetcap = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [BIN]: binary, '/opt/kong/sbin': sbin }, commands: { [LAST_CAP]: lastCap(40) }, capabilityErrors: { [BIN]: 'getcap is not installed on the host (Debian: apt-get install libcap2-bin)' } });
  const ng = t.throws(() => cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep' }, noGetcap, ctx));
  t.true(isRigError(ng) && ng.code === 'CAPABILITY' && /libcap2-bin/.test(ng.message));
  t.deepEqual(cap.validate({ path: BIN, capabilities: 'cap_net_bind_service=ep' }), []);
  t.true(cap.validate({ path: BIN, capabilities: 'cap_net_bind=ep' }).some((p) => /^capabilities: unknown capability "cap_net_bind"/.test(p)));
  t.true(cap.validate({ path: 'nginx', capabilities: 'cap_net_bind_service=ep', color: 1 } as never).length === 2);
  t.true(cap.validate({ path: BIN, capabilities: 'cap_net_admin=ep cap_net_raw=p' }).some((p) => /one effective bit/.test(p)));
});

test("a capability the host's kernel does not have (newer than its cap_last_cap) is refused at plan time", (t) => {
  const old = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [BIN]: binary, '/opt/kong/sbin': sbin }, capabilities: { [BIN]: '' }, commands: { [LAST_CAP]: lastCap(37) } });
  const e = t.throws(() => cap.plan({ path: BIN, capabilities: 'cap_bpf,cap_net_bind_service=ep' }, old, ctx));
  t.true(isRigError(e) && e.code === 'CAPABILITY');
  t.regex(e?.message ?? '', /cap_bpf: not supported by the host's kernel \(its last capability is cap_audit_read\)/);
  t.true('changes' in cap.plan({ path: BIN, capabilities: 'cap_net_bind_service=ep' }, old, ctx));
});

test('a binary or directory another user could replace is refused (its capabilities would be theirs)', (t) => {
  const wanted = { path: BIN, capabilities: 'cap_net_bind_service=ep' };
  for (const [file, dir, re] of [
    [{ ...binary, owner: 'kong', uid: 999 }, sbin, /\/opt\/kong\/sbin\/nginx is kong:root 0755: another user could replace/],
    [{ ...binary, mode: '0775' }, sbin, /nginx is root:root 0775/],
    [binary, { ...sbin, owner: 'kong', uid: 999 }, /\/opt\/kong\/sbin is kong:root 0755/],
    [binary, { ...sbin, mode: '1777' }, /\/opt\/kong\/sbin is root:root 1777/],
  ] as const) {
    const e = t.throws(() => cap.plan(wanted, facts('', file, dir), ctx));
    t.true(isRigError(e) && e.code === 'CAPABILITY', e?.message);
    t.regex(e?.message ?? '', re);
  }
  // a numeric owner without a name (uid 0 shown as 0) is root
  t.true('changes' in cap.plan(wanted, facts('', { ...binary, owner: '0' }), ctx));
});

test('gather records: getcap text without the path; absent, missing getcap and getcap errors are kept as errors', (t) => {
  const b = (s: string): string => Buffer.from(s).toString('base64');
  const reqs = [{ kind: 'capability', path: '/a' }, { kind: 'capability', path: '/b' }, { kind: 'capability', path: '/c' }, { kind: 'capability', path: '/d' }] as const;
  const out = ['O dGVzdA== debian sysv apt 0 root', `K 0 ok ${b(' cap_net_bind_service=ep')}`, 'K 1 absent', 'K 2 nogetcap', `K 3 error ${b('/d (Operation not supported)')}`, 'E done', ''].join('\n');
  const f = parseGatherOutput(reqs, out, 'h');
  t.is(f.capability('/a'), 'cap_net_bind_service=ep');
  t.throws(() => f.capability('/b'), { message: /\/b does not exist/ });
  t.throws(() => f.capability('/c'), { message: /getcap is not installed/ });
  t.throws(() => f.capability('/d'), { message: /Operation not supported/ });
});

test('apply script: setcap guarded (regular file, not a link), drift-checked and read back with setcap -v', (t) => {
  const s = buildApplyScript({
    runId: 'r1', intentJson: '{}', lock: { owner: 'x' },
    steps: [{ id: '0.0', change: { kind: 'set-capability', path: BIN, beforeCaps: '', afterCaps: 'cap_net_bind_service=ep', task: 't', reason: 'r' } }],
  });
  t.regex(s, /rig_capexpect 0\.0 \/opt\/kong\/sbin\/nginx ''/);
  t.regex(s, /\[ -O "\.\/\$rig_base" \]/);
  t.regex(s, /rig_setcap 0\.0 \/opt\/kong\/sbin\/nginx cap_net_bind_service=ep/);
  t.regex(s, /"\$rig_sc" -q -v "\$\{3:-=\}" "\$2"/);
});

/** A random file capability set the kernel accepts (one effective bit), as canonical text. */
const capSetArb = fc.uniqueArray(fc.integer({ min: 0, max: CAPABILITY_NAMES.length - 1 }), { maxLength: 6 }).chain((nums) =>
  fc.tuple(fc.constant(nums), fc.array(fc.constantFrom('p', 'i', 'ip'), { minLength: nums.length, maxLength: nums.length }), fc.boolean()));

/** The same set written in another of the forms setcap accepts: `+` or `=`, shuffled clauses, flags reordered. */
function rewrite(nums: number[], flags: string[], effective: boolean, seed: number): string {
  const clauses = nums.map((n, i) => {
    const f = (effective ? 'e' : '') + flags[i]!;
    const fl = seed % 2 ? [...f].reverse().join('') : f;
    return `${CAPABILITY_NAMES[n]!.toUpperCase()}${(seed >> 1) % 2 ? '+' : '='}${fl}`;
  });
  if ((seed >> 2) % 2) clauses.reverse();
  // a decoy first clause that a later `=` clears (cap_from_text reads clauses left to right)
  if ((seed >> 3) % 2) return ['all=ip', '=', ...clauses.map((c) => c.replace('=', '+'))].join(' ');
  return clauses.join(' ');
}

test('differential: the canonical text equals normalised getcap after setcap of any accepted form (real libcap)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-cap-'));
  const f = join(dir, 'bin');
  copyFileSync('/bin/true', f);
  try {
    fc.assert(fc.property(capSetArb, fc.nat(15), ([nums, flags, effective], seed) => {
      const text = rewrite(nums, flags, effective, seed);
      const ours = normalizeCapabilities(text);
      t.is(checkFileCapabilities(parseCapabilities(ours)), undefined);
      if (ours === '') { try { execFileSync('setcap', ['-r', f], { stdio: 'ignore' }); } catch { /* none to remove */ } }
      else execFileSync('setcap', [text, f]);
      const printed = execFileSync('getcap', [f]).toString().trim().slice(f.length);
      if (normalizeCapabilities(printed) !== ours) return false;
      // setcap -v of our canonical text agrees (what the apply script's drift check relies on)
      execFileSync('setcap', ['-q', '-v', ours || '=', f]);
      return formatCapabilities(parseCapabilities(printed)) === ours;
    }), { seed: 16, numRuns: 60 });
    t.pass();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apply script on this machine: setcap applied and read back; a changed set or a swapped-in symlink is drift, nothing changed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-capapply-'));
  const f = join(dir, 'nginx');
  copyFileSync('/bin/true', f);
  const run = (path: string): { code: number; out: string } => {
    const script = buildApplyScript({
      runId: `r${Math.random().toString(36).slice(2, 8)}`, intentJson: '{}', stateDir: join(dir, 'state'), lock: { owner: 'test', acquire: true, release: true },
      steps: [{ id: '0.0', change: { kind: 'set-capability', path, beforeCaps: '', afterCaps: 'cap_net_bind_service=ep', task: 't', reason: 'r' } }],
    });
    try { return { code: 0, out: execFileSync('sh', ['-s'], { input: script }).toString() }; } catch (e) {
      const x = e as { status: number; stdout: Buffer };
      return { code: x.status, out: x.stdout.toString() };
    }
  };
  try {
    const ok = run(f);
    t.is(ok.code, 0, ok.out);
    t.regex(ok.out, /^D 0\.0 -$/m);
    t.is(execFileSync('getcap', [f]).toString().trim(), `${f} cap_net_bind_service=ep`);
    // now the file has a set the plan did not expect: drift (exit 3), the set left as it is
    execFileSync('setcap', ['cap_net_raw=ep', f]);
    const drift = run(f);
    t.is(drift.code, 3, drift.out);
    t.regex(drift.out, /^V 0\.0 file /m);
    t.is(execFileSync('getcap', [f]).toString().trim(), `${f} cap_net_raw=ep`);
    // a symlink where the binary was: drift, the link's target untouched
    execFileSync('setcap', ['-r', f]);
    const link = join(dir, 'link');
    symlinkSync(f, link);
    const swapped = run(link);
    t.is(swapped.code, 3, swapped.out);
    t.regex(swapped.out, /^V 0\.0 symlink /m);
    t.is(execFileSync('getcap', [f]).toString().trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
