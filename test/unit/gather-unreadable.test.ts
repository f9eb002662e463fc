/**
 * Issue 13 items 4 and 5, the gather's side: the real gather script runs with sh as an unprivileged user (setpriv,
 * user nobody) against root-only files and directories. What it cannot read is an UNREADABLE error naming every such
 * path and the fix, never "absent" and never empty — in the batch and in the one-by-one fallback. Owners without a
 * name are read as numeric ids, the same on the gather and in the apply script's signatures.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLY_PRELUDE } from '../../src/engine/apply-script.ts';
import { signFileState } from '../../src/engine/file-signature.ts';
import type { FactRequest } from '../../src/facts/fact-request.ts';
import { buildGatherScript } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';
import { quoteShell } from '../../src/text/shell-quote.ts';

const NOBODY = 65534;

function runGather(requests: FactRequest[], options: { asNobody?: boolean; path?: string } = {}): string {
  const argv = options.asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-s'] : ['sh', '-s'];
  return execFileSync(argv[0]!, argv.slice(1), {
    input: buildGatherScript(requests), cwd: '/', maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...(options.path ? { PATH: options.path } : {}) },
  }).toString();
}

/** A tree readable to nobody except where root keeps it private. */
function makeTree() {
  const top = mkdtempSync(join(tmpdir(), 'rig-unread-'));
  chmodSync(top, 0o755);
  const priv = join(top, 'private'); mkdirSync(priv); chmodSync(priv, 0o750); // root:root 0750, nobody is "other"
  const listOnly = join(top, 'list-only'); mkdirSync(listOnly); chmodSync(listOnly, 0o744); // r but no x for others
  const p = {
    secret: join(top, 'secret.conf'), // 0600 root
    inPrivate: join(priv, 'app.conf'), // exists, under a 0750 directory
    absentInPrivate: join(priv, 'not-there.conf'), // absent, but nobody cannot know: unreadable
    deepInPrivate: join(priv, 'sub', 'deeper.conf'),
    inListOnly: join(listOnly, 'x.conf'),
    newlineSecret: join(top, 'new\nline secret'), // read one by one (newline in the name)
    newlineInPrivate: join(priv, 'new\nline'),
    readable: join(top, 'readable.conf'),
    absent: join(top, 'absent.conf'), // really absent: nobody may search top
    absentUnderFile: join(top, 'readable.conf', 'child'), // a file on the way: absent
    privDir: priv, // the 0750 directory itself can be stat'ed: a directory fact, not an error
  };
  writeFileSync(p.secret, 'root only\n'); chmodSync(p.secret, 0o600);
  writeFileSync(p.inPrivate, 'in private\n'); chmodSync(p.inPrivate, 0o644);
  writeFileSync(p.inListOnly, 'x\n');
  writeFileSync(p.newlineSecret, 'nl\n'); chmodSync(p.newlineSecret, 0o600);
  writeFileSync(p.newlineInPrivate, 'nl\n');
  writeFileSync(p.readable, 'hello\n'); chmodSync(p.readable, 0o644);
  return { top, p };
}

const UNREADABLE_KEYS = ['secret', 'inPrivate', 'absentInPrivate', 'deepInPrivate', 'inListOnly', 'newlineSecret', 'newlineInPrivate'] as const;

function check(t: import('ava').ExecutionContext, p: ReturnType<typeof makeTree>['p'], requests: FactRequest[], stdout: string): void {
  const err = t.throws(() => parseGatherOutput(requests, stdout, 'h1'), { code: 'UNREADABLE' } as never) as unknown as { message: string; hint: string; where: { host: string } };
  for (const k of UNREADABLE_KEYS) t.true(err.message.includes(p[k]), `${k} is named as unreadable`);
  for (const k of ['readable', 'absent', 'absentUnderFile', 'privDir'] as const) t.false(err.message.includes(`${p[k]},`) || err.message.endsWith(p[k]), `${k} is not`);
  t.regex(err.message, /^user nobody \(uid 65534\) cannot read 7 paths: [^]*\(permission denied\)/);
  t.regex(err.hint, /ansible_become: true[^]*become: true/);
  t.is(err.where.host, 'h1');
  // Nothing of an unreadable path is reported as absent or as a file with a content.
  for (const line of stdout.split('\n')) {
    const [tag, i, what] = line.split(' ');
    if (tag !== 'F' && tag !== 'T') continue;
    const req = requests[Number(i)] as { path: string };
    if ((UNREADABLE_KEYS as readonly string[]).some((k) => p[k as keyof typeof p] === req.path)) t.is(what, 'unreadable', `${JSON.stringify(req.path)}: ${line.slice(0, 60)}`);
  }
}

test('as a non-root user: root-only files and paths under a 0750 directory are UNREADABLE, named with the fix (batch and one-by-one)', (t) => {
  const { p } = makeTree();
  const requests: FactRequest[] = Object.values(p).map((path) => ({ kind: 'file', path }));
  const stdout = runGather(requests, { asNobody: true });
  t.false(stdout.split('\n').includes('X'), 'the batch itself did not fail');
  check(t, p, requests, stdout);
  // The readable and the truly absent paths were read as such.
  const ok = requests.filter((r) => r.kind === 'file' && !(UNREADABLE_KEYS as readonly string[]).some((k) => p[k as keyof typeof p] === r.path));
  const facts = parseGatherOutput(ok, runGather(ok, { asNobody: true }), 'h1');
  t.like(facts.file(p.readable), { exists: true, type: 'file', mode: '0644', owner: 'root', uid: 0, content: Buffer.from('hello\n') });
  t.false(facts.file(p.absent).exists);
  t.false(facts.file(p.absentUnderFile).exists);
  t.like(facts.file(p.privDir), { exists: true, type: 'directory', mode: '0750' });
});

test('as a non-root user, when the batch fails and every file is read one by one: the same UNREADABLE paths', (t) => {
  const { top, p } = makeTree();
  // A sha256sum that refuses file arguments (the batch form) but hashes stdin (the one-by-one form).
  const bin = join(top, 'bin');
  mkdirSync(bin); chmodSync(bin, 0o755);
  writeFileSync(join(bin, 'sha256sum'), '#!/bin/sh\n[ $# -gt 0 ] && { echo "sha256sum: refused" >&2; exit 1; }\nexec /usr/bin/sha256sum\n');
  chmodSync(join(bin, 'sha256sum'), 0o755);
  const requests: FactRequest[] = Object.values(p).map((path) => ({ kind: 'file', path }));
  const stdout = runGather(requests, { asNobody: true, path: `${bin}:${process.env.PATH}` });
  t.true(stdout.split('\n').includes('X'), 'the batch reported its failure');
  check(t, p, requests, stdout);
});

test('as root the same tree reads fully (the check costs nothing when rig may read)', (t) => {
  const { p } = makeTree();
  const requests: FactRequest[] = Object.values(p).map((path) => ({ kind: 'file', path }));
  const facts = parseGatherOutput(requests, runGather(requests), 'h1');
  t.deepEqual(facts.file(p.secret).content, Buffer.from('root only\n'));
  t.deepEqual(facts.file(p.inPrivate).content, Buffer.from('in private\n'));
  t.false(facts.file(p.absentInPrivate).exists);
  t.false(facts.file(p.deepInPrivate).exists);
});

test('parser: an unreadable record is an UNREADABLE error for the host; as root the hint says root cannot read it either', (t) => {
  const req: FactRequest[] = [{ kind: 'file', path: '/etc/a' }, { kind: 'file', path: '/srv/app/b.conf' }];
  const asUser = ['O bG9jYWw= debian sysv apt 1000 deploy', 'F 0 unreadable', 'F 1 absent', 'E done', ''].join('\n');
  const e1 = t.throws(() => parseGatherOutput(req, asUser, 'h1'), { code: 'UNREADABLE' } as never) as unknown as { message: string; hint: string };
  t.regex(e1.message, /^user deploy \(uid 1000\) cannot read \/etc\/a \(permission denied\)/);
  t.regex(e1.hint, /^read it as root/);
  t.regex(e1.hint, /become/);
  const asRoot = ['O bG9jYWw= debian sysv apt 0 root', 'T 0 directory', 'F 1 unreadable', 'Fs 0755 root root 4096 0 0', 'E done', ''].join('\n');
  const e2 = t.throws(() => parseGatherOutput(req, asRoot, 'h1'), { code: 'UNREADABLE' } as never) as unknown as { message: string; hint: string };
  t.regex(e2.message, /^user root \(uid 0\) cannot read \/srv\/app\/b\.conf/);
  t.regex(e2.hint, /root cannot read it either/);
});

test('an owner and group without names are read as numeric ids, in the batch, one by one, and in the apply script\'s signature', (t) => {
  const top = mkdtempSync(join(tmpdir(), 'rig-ids-'));
  const f = join(top, 'orphan.conf'); const nl = join(top, 'orphan\nnl'); const d = join(top, 'orphan-dir');
  writeFileSync(f, 'orphan\n'); writeFileSync(nl, 'nl\n'); mkdirSync(d);
  for (const x of [f, nl, d]) chownSync(x, 4321, 4321);
  chmodSync(f, 0o2755); chmodSync(d, 0o3775);
  const ids = execFileSync('sh', ['-c', 'getent passwd 4321 || true; getent group 4321 || true']).toString();
  t.is(ids, '', 'uid and gid 4321 have no names on this machine');
  const requests: FactRequest[] = [f, nl, d].map((path) => ({ kind: 'file', path }));
  const facts = parseGatherOutput(requests, runGather(requests), 'h1');
  t.like(facts.file(f), { owner: '4321', group: '4321', uid: 4321, gid: 4321, mode: '2755' });
  t.like(facts.file(nl), { owner: '4321', group: '4321', uid: 4321, gid: 4321 });
  t.like(facts.file(d), { owner: '4321', group: '4321', mode: '3775', type: 'directory' });
  // The apply script's drift check compares the host's signature with the one computed from these facts.
  for (const path of [f, d]) {
    const hostSig = execFileSync('sh', ['-s'], { input: `${APPLY_PRELUDE}\nrig_sig ${quoteShell(path)}\n` }).toString().trim();
    t.is(hostSig, signFileState(facts.file(path)), path);
  }
});

test('gather with the lock: an unreadable path fails the host and the lock the script took is released; UNREADABLE wins over "cannot take the lock"', async (t) => {
  const { gatherHostFacts } = await import('../../src/engine/gather-facts.ts');
  const { buildReleaseScript } = await import('../../src/engine/apply-script.ts');
  const answer = (lock: string) => ['O bG9jYWw= debian sysv apt 1000 deploy', 'F 0 unreadable', 'E done', lock, ''].join('\n');
  const connectorAnswering = (lock: string) => {
    const scripts: string[] = [];
    const options: unknown[] = [];
    const connector = {
      host: { name: 'h1', address: 'h1', vars: {} }, stats: { roundTrips: 0, bytesSent: 0, bytesReceived: 0, connectMs: 0 },
      connect: async () => undefined, close: async () => undefined,
      runScript: async (script: string, o?: unknown) => { scripts.push(script); options.push(o); return { exitCode: 0, stdout: Buffer.from(scripts.length === 1 ? answer(lock) : 'Z ok\n'), stderr: '' }; },
    };
    return { connector: connector as never, scripts, options };
  };
  const lock = { runId: 'R1', spec: { acquire: true, owner: '{}' } };
  const taken = connectorAnswering('L ok');
  const g1 = await gatherHostFacts(taken.connector, [{ kind: 'file', path: '/etc/a' }], lock);
  t.like(g1, { ok: false, unreachable: false, error: { code: 'UNREADABLE' } });
  t.is(taken.scripts.length, 2, 'one more round trip releases the lock');
  t.is(taken.scripts[1], buildReleaseScript('R1'));
  // With become, the release runs as root too (the lock is root's).
  const viaSudo = connectorAnswering('L ok');
  await gatherHostFacts(viaSudo.connector, [{ kind: 'file', path: '/etc/a' }], lock, true);
  t.deepEqual(viaSudo.options.map((o) => (o as { become?: boolean }).become), [true, true], 'gather and release both become root');
  const denied = connectorAnswering('L denied deploy');
  const g2 = await gatherHostFacts(denied.connector, [{ kind: 'file', path: '/etc/a' }], lock);
  t.like(g2, { ok: false, error: { code: 'UNREADABLE' } });
  t.is(denied.scripts.length, 1, 'no lock was taken, none released');
});
