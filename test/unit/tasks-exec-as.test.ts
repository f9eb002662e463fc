/**
 * tasks/exec-as.ts: variable checks (every problem named), the rendered policy / sudoers / sshd drop-in, and the
 * drop-in check program run against the real sshd (`sshd -t` of a whole configuration with the candidate in place):
 * a good drop-in passes, a bad directive or value fails, a main config that does not include the drop-in fails, and
 * the real visudo accepts the sudoers drop-in.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRigError } from '../../src/errors.ts';
import type { TaskContext } from '../../src/modules/module.ts';
import { readExecAsVars, renderExecAsPolicy, renderSshdDropin, renderSudoers, SSHD_CHECK_PROGRAM } from '../../tasks/exec-as.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx alice@laptop';
const ctx = (vars: Record<string, unknown>): TaskContext => ({ host: { name: 'n1', address: '10.0.0.1', vars: {} } as unknown as TaskContext['host'], vars, taskPath: 't', projectRoot: '/x' });
const good = { exec_as_operators: [{ name: 'alice', keys: [KEY], allow: [{ namespace: 'shop', pod: 'web-*', user: 'app' }] }, { name: 'bob', keys: [KEY], allow: [] }] };

test('variables: defaults, the policy leaves out operators without rules', (t) => {
  const v = readExecAsVars(ctx(good));
  t.is(v.group, 'rig-exec');
  t.deepEqual(JSON.parse(renderExecAsPolicy(v)), { version: 1, operators: { alice: [{ namespace: 'shop', pod: 'web-*', container: '*', user: 'app' }] } });
  t.regex(renderSshdDropin(v), /^Match Group rig-exec\n {4}ForceCommand \/usr\/bin\/sudo -n \/usr\/local\/bin\/exec-as\n/m);
  t.regex(renderSudoers(v), /^%rig-exec ALL=\(root\) NOPASSWD: \/usr\/local\/bin\/exec-as ""$/m);
});

test('variables: every problem is named, nothing can inject a line or pick root', (t) => {
  const bad = {
    exec_as_group: 'Bad Group',
    exec_as_operators: [
      { name: 'root', keys: [KEY], allow: [{ namespace: 'a', pod: 'b', user: 'root' }] },
      { name: 'eve', keys: ['ssh-ed25519 AAAA x\nForceCommand /bin/sh'], allow: [{ namespace: 'a\nb', pod: 'p', user: 'app' }] },
    ],
    exec_as_sshd_options: { ForceCommand: '/bin/sh', PermitTTY: 'yes\nMatch all' },
  };
  try { readExecAsVars(ctx(bad)); t.fail('no error'); } catch (e) {
    t.true(isRigError(e) && e.code === 'VALIDATION');
    const m = (e as Error).message;
    for (const s of ['exec_as_group', 'exec_as_operators[0].name', 'exec_as_operators[0].allow[0].user', 'exec_as_operators[1].keys', 'exec_as_operators[1].allow[0].namespace', 'exec_as_sshd_options.ForceCommand', 'exec_as_sshd_options.PermitTTY']) t.true(m.includes(s), s);
  }
});

function sshdCheck(dir: string, main: string, candidate: string): { code: number; err: string } {
  writeFileSync(join(dir, 'sshd_config'), main);
  writeFileSync(join(dir, 'cand'), candidate);
  // sshd -t wants its privilege separation directory: give it one in a private /run (this machine runs no sshd)
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec "$@"', 'sh',
    '/usr/bin/python3', '-I', '-c', SSHD_CHECK_PROGRAM, join(dir, 'cand'), join(dir, 'd', 'rig-exec-as.conf'), join(dir, 'sshd_config')], { encoding: 'utf8' });
  return { code: r.status ?? -1, err: r.stderr };
}

test('the drop-in check runs the real sshd -t on the whole configuration with the candidate in place', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-sshd-check-'));
  try {
    mkdirSync(join(dir, 'd'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hostkey')]);
    writeFileSync(join(dir, 'd', '10-other.conf'), 'PasswordAuthentication no\n');
    writeFileSync(join(dir, 'd', 'rig-exec-as.conf'), 'ThisIsBroken yes\n'); // the old drop-in is replaced, not read
    const main = `Include ${dir}/d/*.conf\nHostKey ${dir}/hostkey\nUsePAM yes\n`;
    const v = readExecAsVars(ctx(good));
    t.is(sshdCheck(dir, main, renderSshdDropin(v)).code, 0);
    const badValue = sshdCheck(dir, main, renderSshdDropin(readExecAsVars(ctx({ ...good, exec_as_sshd_options: { ClientAliveInterval: 'soon' } }))));
    t.not(badValue.code, 0);
    t.regex(badValue.err, /ClientAliveInterval|invalid time value/i);
    t.not(sshdCheck(dir, main, renderSshdDropin(readExecAsVars(ctx({ ...good, exec_as_sshd_options: { NoSuchKeyword: 'x' } })))).code, 0);
    const notIncluded = sshdCheck(dir, `HostKey ${dir}/hostkey\n`, renderSshdDropin(v));
    t.not(notIncluded.code, 0);
    t.regex(notIncluded.err, /does not include .*rig-exec-as\.conf/);
    // another drop-in that breaks the whole configuration fails the check too (sshd -t sees everything)
    writeFileSync(join(dir, 'd', '10-other.conf'), 'Bogus yes\n');
    t.not(sshdCheck(dir, main, renderSshdDropin(v)).code, 0);
    // the sudoers drop-in passes the real visudo
    writeFileSync(join(dir, 'sudoers'), renderSudoers(v));
    t.is(spawnSync('visudo', ['-cf', join(dir, 'sudoers')]).status, 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
