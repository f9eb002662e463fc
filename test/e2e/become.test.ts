/**
 * Issue 14 (sudo with a password) and issue 13 item 4 (become applies to the gather and the lock): the login users
 * are not root. On master1 `alice` may sudo with her password (a real sudoers rule checked by visudo); on worker1
 * `bob` has a NOPASSWD rule. The playbook's first play has `become: true` and edits a root-only file (0600 in a
 * 0700 directory), so its gather must read as root; its second play becomes through one task only.
 * - no password: a BECOME error naming the host and the fix; the NOPASSWD host plans (reading the root-only file);
 * - a wrong password: a BECOME error; su: a BECOME error;
 * - the password from -e, the inventory, or --ask-become-pass on a terminal: it goes to sudo -S on stdin — a watcher
 *   on the host records every process's command line during the run and never sees it; it is in no output, no
 *   controller journal byte and no host journal byte; apply and rollback run as root (lock taken and released).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 46;
const PLAYBOOK = 'test/fixtures/playbooks/become.ts';
const PASSWORD = 'Sudo-Pw-4f2a9c';
let fleet: Fleet;
let work: string;

const sh = async (host: string, script: string): Promise<string> => {
  const r = await execInHost(fleet, host, ['sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`${host}: ${script}: exit ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
};

/** A login user with the fleet key and a sudoers.d rule, checked with visudo -c before it is installed. */
async function addSudoUser(host: string, user: string, rule: string): Promise<void> {
  await sh(host, `useradd -m -s /bin/sh ${user} && echo '${user}:${PASSWORD}' | chpasswd && mkdir -p /home/${user}/.ssh && cp /root/.ssh/authorized_keys /home/${user}/.ssh/ && chown -R ${user}: /home/${user}/.ssh && chmod 700 /home/${user}/.ssh`);
  await sh(host, `printf '%s\\n' '${rule}' > /tmp/rig-sudoers && visudo -c -f /tmp/rig-sudoers && install -m 0440 /tmp/rig-sudoers /etc/sudoers.d/${user} && visudo -c`);
}

function inventory(name: string, extra: Record<string, Record<string, string>> = {}): string {
  const file = join(work, `${name}.yaml`);
  const users: Record<string, string> = { master1: 'alice', worker1: 'bob' };
  const hosts = fleet.hosts.map((h) => {
    const vars = { ansible_host: h.ip, ansible_user: users[h.name]!, ansible_ssh_private_key_file: fleet.privateKeyPath, ...(extra[h.name] ?? {}) };
    return `    ${h.name}:\n${Object.entries(vars).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`).join('\n')}`;
  });
  writeFileSync(file, `all:\n  hosts:\n${hosts.join('\n')}\n`);
  return file;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-become-'));
  await addSudoUser('master1', 'alice', 'alice ALL=(ALL:ALL) ALL');
  await addSudoUser('worker1', 'bob', 'bob ALL=(ALL:ALL) NOPASSWD: ALL');
  for (const h of fleet.hosts) await sh(h.name, 'mkdir -m 700 -p /root/rig-become && printf "keep=1\\nmanaged=no\\n" > /root/rig-become/only-root.conf && chmod 600 /root/rig-become/only-root.conf');
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const common = (inv: string, state = join(work, 'state')) => ['-i', inv, '--ssh-config', fleet.sshConfigPath, '--state-dir', state];

test.serial('no password: a BECOME error naming the host and the fix; the NOPASSWD host gathers a root-only file', async (t) => {
  const r = await runRig(['plan', ...common(inventory('plain')), PLAYBOOK]);
  const all = r.stdout + r.stderr;
  t.is(r.code, 1, all);
  t.regex(all, /master1[^\n]*\n\s*FAILED \[BECOME\]: sudo on master1 asks for a password \(to become root\) and none was given/);
  t.regex(all, /--ask-become-pass/);
  t.notRegex(all, /truncated/);
  // worker1 (NOPASSWD): play-level become reached the gather: the root-only file's content is in the diff.
  t.regex(all, /worker1[^]*only-root\.conf[^]*\n\s+ keep=1\n\s+-managed=no\n\s+\+managed=rig/);
});

test.serial('a wrong password and an unsupported become method are BECOME errors', async (t) => {
  const wrong = await runRig(['plan', ...common(inventory('plain')), '-e', 'ansible_become_password=not-the-password', '--limit', 'master1', PLAYBOOK]);
  t.is(wrong.code, 1, wrong.stdout + wrong.stderr);
  t.regex(wrong.stdout, /FAILED \[BECOME\]: sudo on master1 refused the become password/);
  const su = await runRig(['plan', ...common(inventory('su', { worker1: { ansible_become_method: 'su' } })), '--limit', 'worker1', PLAYBOOK]);
  t.is(su.code, 1, su.stdout + su.stderr);
  t.regex(su.stdout, /FAILED \[BECOME\]: become method "su" is not supported: rig becomes with sudo only/);
});

test.serial('the password goes to sudo -S on stdin: never on a command line, in an output or a journal; apply and rollback as root', async (t) => {
  const inv = inventory('plain');
  const state = join(work, 'state-pw');
  // Record every command line on master1 while rig runs (the host has its own pid namespace).
  await sh('master1', 'rm -f /tmp/rig-ps.stop /tmp/rig-ps.log');
  const watcher = execInHost(fleet, 'master1', ['sh', '-c', 'while [ ! -e /tmp/rig-ps.stop ]; do ps -eo args >> /tmp/rig-ps.log; sleep 0.02; done']);
  const outputs: string[] = [];
  const apply = await runRig(['apply', ...common(inv, state), '-e', `ansible_become_password=${PASSWORD}`, PLAYBOOK]);
  outputs.push(apply.stdout, apply.stderr);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  for (const h of fleet.hosts) {
    t.is(await sh(h.name, 'stat -c "%U:%G %a" /etc/rig-become.conf /etc/rig-become-task.conf; cat /etc/rig-become.uid; cat /root/rig-become/only-root.conf; [ -e /var/lib/rig/lock ] && echo locked || echo unlocked'),
      'root:root 600\nroot:root 644\n0\nkeep=1\nmanaged=rig\nunlocked\n', h.name);
  }
  const show = await runRig(['show', '--state-dir', state]);
  const showJson = await runRig(['show', '--json', '--state-dir', state]);
  outputs.push(show.stdout, show.stderr, showJson.stdout, showJson.stderr);
  const rb = await runRig(['rollback', ...common(inv, state), '-e', `ansible_become_password=${PASSWORD}`]);
  outputs.push(rb.stdout, rb.stderr);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  // prune reaches the hosts' root-only journals through sudo too (the apply is rolled back: it goes; the rollback,
  // the last run of each host, stays).
  const applyId = /run (\S+) journaled/.exec(apply.stdout)![1]!;
  const prune = await runRig(['prune', ...common(inv, state), '-e', `ansible_become_password=${PASSWORD}`, '--keep', '0']);
  outputs.push(prune.stdout, prune.stderr);
  t.is(prune.code, 0, prune.stdout + prune.stderr);
  for (const h of fleet.hosts) t.false((await sh(h.name, 'ls /var/lib/rig/runs')).includes(applyId), `${h.name} still holds ${applyId}`);
  await sh('master1', 'touch /tmp/rig-ps.stop');
  await watcher;
  for (const h of fleet.hosts) {
    t.is(await sh(h.name, 'ls /etc/rig-become.conf /etc/rig-become-task.conf /etc/rig-become.uid 2>/dev/null; cat /root/rig-become/only-root.conf; [ -e /var/lib/rig/lock ] && echo locked || echo unlocked'),
      'keep=1\nmanaged=no\nunlocked\n', h.name);
  }
  const ps = await sh('master1', 'cat /tmp/rig-ps.log');
  t.regex(ps, /sudo -S -p \[rig-sudo-password\] -u root sh -c/, 'the watcher saw rig\'s sudo');
  t.false(ps.includes(PASSWORD), 'the password is on no command line');
  for (const o of outputs) t.false(o.includes(PASSWORD), `output leaks the password: ${o.slice(0, 200)}`);
  for (const f of walk(state)) t.false(readFileSync(f).includes(PASSWORD), `controller journal file ${f}`);
  for (const h of fleet.hosts) t.is(await sh(h.name, `grep -rlF -e '${PASSWORD}' /var/lib/rig || true`), '', `${h.name}: host journal`);
});

test.serial('the password from the inventory and from --ask-become-pass on a terminal (no echo)', async (t) => {
  const inv = inventory('pw', { master1: { ansible_become_password: PASSWORD } });
  const r = await runRig(['plan', ...common(inv), '--limit', 'master1', PLAYBOOK]);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.false((r.stdout + r.stderr).includes(PASSWORD));
  // -K needs a terminal: refused on a pipe, changing nothing.
  const noTty = await runRig(['plan', ...common(inventory('plain')), '-K', '--limit', 'master1', PLAYBOOK]);
  t.is(noTty.code, 1, noTty.stdout + noTty.stderr);
  t.regex(noTty.stderr, /USAGE[^]*needs a terminal/);
  // On a pseudo-terminal (util-linux script): the typed password is not echoed.
  const cmd = [process.execPath, join(PROJECT_ROOT, 'bin/rig.js'), 'plan', ...common(inventory('plain')), '-K', '--limit', 'master1', PLAYBOOK]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const k = await new Promise<{ out: string; code: number | null }>((resolve) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: PROJECT_ROOT, env: { ...process.env, CI: '1', NO_COLOR: '1' } });
    let out = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      // Type only once the prompt is shown (raw mode is on then: the terminal does not echo).
      if (!typed && out.includes('BECOME password: ')) { typed = true; child.stdin.write(`${PASSWORD}\r`); }
    });
    child.stderr.on('data', (d: Buffer) => { out += d; });
    child.on('close', (code) => resolve({ out, code }));
  });
  const out = k.out;
  t.regex(out, /BECOME password: /);
  t.is(k.code, 2, out);
  t.regex(out, /Plan: \d+ changes on 1 of 1 host/);
  t.false(out.includes(PASSWORD), 'the typed password is not echoed');
});
