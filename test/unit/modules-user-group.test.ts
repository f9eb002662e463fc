/**
 * The user and group modules: plans from fixture databases (create, change, remove, no-op, errors), the account-db
 * text edits, and a differential check against the real shadow tools on scratch copies of this machine's databases:
 * for seeded random accounts, rig's /etc/passwd and /etc/group equal what `useradd --prefix` / `usermod --prefix -G`
 * write, and pwck -r / grpck -r accept every result.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change, WriteFileChange } from '../../src/core/change.ts';
import { isRigError } from '../../src/errors.ts';
import type { FileFact } from '../../src/facts/fact-request.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { group } from '../../src/modules/group.ts';
import type { PlanResult, TaskContext } from '../../src/modules/module.ts';
import { user, type UserProps } from '../../src/modules/user.ts';
import { setAccountEntry, splitAccountLines } from '../../src/text/account-db.ts';

const ctx: TaskContext = { host: { name: 'n1', address: '10.0.0.1', vars: {} } as unknown as TaskContext['host'], vars: {}, taskPath: 'play 1 › task 1', projectRoot: '/nonexistent' };

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n+nis-line\nbob:x:1000:1000::/home/bob:/bin/sh\n';
const SHADOW = 'root:$y$secret:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\nbob:*:::::::\n';
const GROUP = 'root:x:0:\nbin:x:2:\nbob:x:1000:\nrig-exec:x:1500:bob\nops:x:1501:\n';
const GSHADOW = 'root:*::\nbin:*::\nbob:!::\nrig-exec:!::bob\nops:!::\n';

const file = (content: string, mode = '0644', grp = 'root'): FileFact => ({ exists: true, type: 'file', mode, owner: 'root', group: grp, uid: 0, gid: 0, size: content.length, sha256: 'x'.repeat(64), content: Buffer.from(content, 'latin1') });
const absent: FileFact = { exists: false };
function facts(over: Record<string, FileFact> = {}) {
  return new MemoryHostFacts({
    os: DEBIAN_SYSV_OS,
    files: { '/etc/passwd': file(PASSWD), '/etc/shadow': file(SHADOW, '0640', 'shadow'), '/etc/group': file(GROUP), '/etc/gshadow': file(GSHADOW, '0640', 'shadow'), ...over },
  });
}
const writes = (r: PlanResult): Map<string, string> => new Map(('changes' in r ? r.changes : []).filter((c): c is WriteFileChange => c.kind === 'write-file').map((c) => [c.path, Buffer.from(c.content, 'base64').toString('latin1')]));
const kinds = (r: PlanResult): string[] => ('changes' in r ? r.changes : []).map((c: Change) => `${c.kind} ${'path' in c ? c.path : ''}`);
const planUser = (p: UserProps, f = facts()) => { const v = user.module.validate(p); if (v.length) throw new Error(v.join('; ')); return user.module.plan(p, f, ctx); };

test('a new user: private group, passwd and shadow entries appended, other lines kept byte for byte', (t) => {
  const f = facts({ '/home/alice': absent, '/home/alice/.ssh': absent, '/home/alice/.ssh/authorized_keys': absent });
  const r = planUser({ name: 'alice', groups: ['rig-exec'], authorizedKeys: ['ssh-ed25519 AAAAC3Nza alice@laptop'], keysOwner: 'root' }, f);
  const w = writes(r);
  t.is(w.get('/etc/passwd'), `${PASSWD}alice:x:1001:1001::/home/alice:/bin/sh\n`);
  t.is(w.get('/etc/shadow'), `${SHADOW}alice:*:::::::\n`);
  t.is(w.get('/etc/group'), 'root:x:0:\nbin:x:2:\nbob:x:1000:\nrig-exec:x:1500:bob,alice\nops:x:1501:\nalice:x:1001:\n');
  t.is(w.get('/etc/gshadow'), 'root:*::\nbin:*::\nbob:!::\nrig-exec:!::bob,alice\nops:!::\nalice:!::\n');
  t.is(w.get('/home/alice/.ssh/authorized_keys'), 'ssh-ed25519 AAAAC3Nza alice@laptop\n');
  const changes = 'changes' in r ? r.changes : [];
  const shadow = changes.find((c) => c.kind === 'write-file' && c.path === '/etc/shadow') as WriteFileChange;
  t.true(shadow.secret, 'shadow is a secret write: masked in the plan, 0600 in the journal');
  t.is(shadow.after.mode, '0640');
  t.is(shadow.after.group, 'shadow', 'attributes of the database are kept');
  t.deepEqual(kinds(r).slice(4), ['ensure-directory /home/alice', 'ensure-directory /home/alice/.ssh', 'write-file /home/alice/.ssh/authorized_keys']);
  const keys = changes.find((c) => c.kind === 'write-file' && c.path.endsWith('authorized_keys')) as WriteFileChange;
  t.like(keys.after, { owner: 'root', mode: '0644' });
});

test('an existing user as wanted is a no-op; a changed shell rewrites only its passwd line; group membership is exact', (t) => {
  const f = facts({ '/home/bob': { exists: true, type: 'directory', mode: '0750', owner: 'bob', group: 'bob' } });
  t.true('noop' in planUser({ name: 'bob' }, f));
  t.true('noop' in planUser({ name: 'bob', groups: ['rig-exec'] }, f));
  const r = planUser({ name: 'bob', shell: '/bin/bash', groups: ['ops'] }, f);
  const w = writes(r);
  t.is(w.get('/etc/passwd'), PASSWD.replace('/home/bob:/bin/sh', '/home/bob:/bin/bash'));
  t.is(w.get('/etc/group'), 'root:x:0:\nbin:x:2:\nbob:x:1000:\nrig-exec:x:1500:\nops:x:1501:bob\n');
  t.false(w.has('/etc/shadow'), 'an existing shadow entry is kept');
});

test('absent removes the entries and memberships; a missing user is a no-op', (t) => {
  const w = writes(planUser({ name: 'bob', state: 'absent' }));
  t.is(w.get('/etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n+nis-line\n');
  t.is(w.get('/etc/shadow'), 'root:$y$secret:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n');
  t.is(w.get('/etc/group'), 'root:x:0:\nbin:x:2:\nbob:x:1000:\nrig-exec:x:1500:\nops:x:1501:\n');
  t.true('noop' in planUser({ name: 'carol', state: 'absent' }));
});

test('errors: taken uid, missing group, duplicate entries, bad props', (t) => {
  const home = { '/home/x': absent, '/home/x/.ssh': absent, '/home/x/.ssh/authorized_keys': absent };
  const code = (fn: () => unknown) => { try { fn(); return 'none'; } catch (e) { return isRigError(e) ? e.code : String(e); } };
  t.is(code(() => planUser({ name: 'x', uid: 1000 }, facts(home))), 'ACCOUNT');
  t.is(code(() => planUser({ name: 'x', group: 'nope' }, facts(home))), 'ACCOUNT');
  t.is(code(() => planUser({ name: 'x', groups: ['nope'] }, facts(home))), 'ACCOUNT');
  t.is(code(() => planUser({ name: 'bob', shell: '/bin/zsh' }, facts({ '/etc/passwd': file(`${PASSWD}bob:x:1:1::/:/bin/sh\n`) }))), 'ACCOUNT');
  t.is(code(() => group.module.plan({ name: 'bob', state: 'absent' }, facts(), ctx)), 'ACCOUNT', 'a primary group is not removed');
  t.deepEqual(user.module.validate({ name: 'Root:0', shell: 'sh', authorizedKeys: ['a\nb'], paht: 1 } as never).length, 4);
  t.deepEqual(group.module.validate({ name: 'ops', gid: -1 }), ['gid: a non-negative integer']);
});

test('group: create with a free gid, change the gid, remove; gshadow optional', (t) => {
  t.is(writes(group.module.plan({ name: 'web' }, facts(), ctx)).get('/etc/group'), `${GROUP}web:x:1001:\n`);
  t.is(writes(group.module.plan({ name: 'svc', system: true }, facts(), ctx)).get('/etc/group'), `${GROUP}svc:x:100:\n`);
  t.is(writes(group.module.plan({ name: 'ops', gid: 1600 }, facts(), ctx)).get('/etc/group'), GROUP.replace('ops:x:1501', 'ops:x:1600'));
  const w = writes(group.module.plan({ name: 'ops', state: 'absent' }, facts({ '/etc/gshadow': absent }), ctx));
  t.is(w.get('/etc/group'), 'root:x:0:\nbin:x:2:\nbob:x:1000:\nrig-exec:x:1500:bob\n');
  t.false(w.has('/etc/gshadow'));
  t.true('noop' in group.module.plan({ name: 'ops' }, facts(), ctx));
});

test('account-db edits keep odd bytes and a missing final newline is added', (t) => {
  const raw = Buffer.from([0x61, 0x3a, 0xff, 0x0a, 0x62, 0x3a, 0x31]); // "a:\xff\nb:1" (no final newline)
  t.deepEqual(splitAccountLines(raw), ['a:\xff', 'b:1']);
  t.deepEqual(setAccountEntry(raw, 'c', ['c', '2']), Buffer.from([0x61, 0x3a, 0xff, 0x0a, 0x62, 0x3a, 0x31, 0x0a, 0x63, 0x3a, 0x32, 0x0a]));
  t.is(setAccountEntry(Buffer.from('a:1\na:2\n'), 'a', undefined), undefined);
});

/** Seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => { seed = (seed + 0x6d2b79f5) | 0; let x = Math.imul(seed ^ (seed >>> 15), 1 | seed); x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x; return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
}

test('differential: rig\'s passwd and group equal useradd/usermod --prefix; pwck -r and grpck -r accept them', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rig-user-diff-'));
  const rnd = prng(18);
  const base = Object.fromEntries(['passwd', 'shadow', 'group', 'gshadow'].map((n) => [n, readFileSync(`/etc/${n}`)]));
  try {
    for (let i = 0; i < 12; i++) {
      const dir = join(root, String(i));
      mkdirSync(join(dir, 'etc'), { recursive: true });
      for (const [n, c] of Object.entries(base)) writeFileSync(join(dir, 'etc', n), c);
      copyFileSync('/etc/login.defs', join(dir, 'etc', 'login.defs'));
      // a few extra groups to be a member of
      const extra = ['g-a', 'g-b', 'g-c'].map((g, k) => ({ g, gid: 3000 + 10 * i + k }));
      for (const { g, gid } of extra) execFileSync('groupadd', ['--prefix', dir, '-g', String(gid), g]);
      const name = `u${i}-${Math.floor(rnd() * 1000)}`;
      const uid = 4000 + Math.floor(rnd() * 1000);
      const shell = rnd() < 0.5 ? '/bin/sh' : '/bin/bash';
      const groups = extra.filter(() => rnd() < 0.5).map((x) => x.g);
      const read = (n: string) => readFileSync(join(dir, 'etc', n));
      const f = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { '/etc/passwd': file(read('passwd').toString('latin1')), '/etc/shadow': file(read('shadow').toString('latin1')), '/etc/group': file(read('group').toString('latin1')), '/etc/gshadow': file(read('gshadow').toString('latin1')) } });
      const w = writes(planUser({ name, uid, shell, groups, createHome: false, group: 'g-a' }, f));
      execFileSync('useradd', ['--prefix', dir, '-M', '-N', '-u', String(uid), '-g', 'g-a', '-d', `/home/${name}`, '-s', shell, name]);
      if (groups.length) execFileSync('usermod', ['--prefix', dir, '-G', groups.join(','), name]);
      t.is(w.get('/etc/passwd'), read('passwd').toString('latin1'), `passwd for ${name}`);
      t.is(w.get('/etc/group') ?? read('group').toString('latin1'), read('group').toString('latin1'), `group for ${name} in ${groups.join(',')}`);
      for (const [n, c] of w) writeFileSync(join(dir, n), c, 'latin1');
      // pwck/grpck read the other databases from /etc: check in a mount namespace where /etc's are the scratch ones
      const binds = ['passwd', 'shadow', 'group', 'gshadow'].flatMap((n) => ['mount', '--bind', join(dir, 'etc', n), `/etc/${n}`, '&&']);
      execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${binds.map((a) => (a === '&&' ? a : `'${a}'`)).join(' ')} pwck -r -q && grpck -r`]);
    }
  } finally { rmSync(root, { recursive: true, force: true }); }
});
