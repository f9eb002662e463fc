/**
 * Issue 4, the SSH connector against real sshd hosts: accept-new host keys (recorded, then strict), a jump host from
 * the inventory's `ansible_ssh_common_args -o ProxyJump=`, ssh-agent as the only identity, and become (sudo) for a
 * non-root login user. Each host records how it was reached (test/fixtures/playbooks/whoami.ts).
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 30;
const PLAYBOOK = 'test/fixtures/playbooks/whoami.ts';
let fleet: Fleet;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 3, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-conn-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const conn = async (host: string) => (await execInHost(fleet, host, ['cat', '/tmp/rig-conn'])).stdout.trim().split('\n');
const hostOf = (name: string) => fleet.hosts.find((h) => h.name === name)!;

/** An ssh_config like the fleet's, with another known_hosts file and optionally no identity file. */
function sshConfig(name: string, knownHosts: string, identity = true): string {
  let text = readFileSync(fleet.sshConfigPath, 'utf8').replaceAll(fleet.knownHostsPath, knownHosts);
  if (!identity) text = text.replace(/^\s*IdentityFile .*\n/m, '').replace(/^\s*IdentitiesOnly yes\n/m, '');
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

test.serial('accept-new: unknown keys are recorded once, then checked strictly', async (t) => {
  const known = join(work, 'known_hosts_new');
  writeFileSync(known, '');
  const cfg = sshConfig('ssh_config_new', known);
  const base = ['-i', fleet.inventoryPath, '--ssh-config', cfg, '--state-dir', join(work, 'state1')];
  const refused = await runRig(['plan', ...base, PLAYBOOK]);
  t.is(refused.code, 1);
  t.regex(refused.stdout + refused.stderr, /UNREACHABLE \[HOST_KEY\]: host key of master1 .* is not known: SHA256:/);
  const accepted = await runRig(['plan', ...base, '--accept-new-host-keys', PLAYBOOK]);
  t.is(accepted.code, 2, accepted.stdout + accepted.stderr);
  const recorded = readFileSync(known, 'utf8');
  for (const h of fleet.hosts) {
    // what rig recorded is the key the host really has
    const real = readFileSync(fleet.knownHostsPath, 'utf8').split('\n').find((l) => l.startsWith(`${h.name},`))!.split(' ').slice(1).join(' ');
    t.true(recorded.includes(real), `${h.name} recorded`);
  }
  const strict = await runRig(['plan', ...base, PLAYBOOK]);
  t.is(strict.code, 2, 'known now, without the flag');
});

test.serial('ProxyJump from the inventory: master1 is reached through worker1', async (t) => {
  const m = hostOf('master1'); const w1 = hostOf('worker1');
  const inv = join(work, 'jump.yaml');
  writeFileSync(inv, `all:\n  hosts:\n    master1:\n      ansible_host: ${m.ip}\n      ansible_ssh_common_args: '-o ProxyJump=root@${w1.ip}'\n`);
  const r = await runRig(['apply', '-i', inv, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state2'), PLAYBOOK]);
  t.is(r.code, 0, r.stdout + r.stderr);
  const [sshConnection] = await conn('master1');
  t.true(sshConnection!.startsWith(`${w1.ip} `), `SSH_CONNECTION on master1: ${sshConnection}`);
  // without the jump the controller connects directly
  const direct = join(work, 'direct.yaml');
  writeFileSync(direct, `all:\n  hosts:\n    master1:\n      ansible_host: ${m.ip}\n`);
  t.is((await runRig(['apply', '-i', direct, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state2'), PLAYBOOK])).code, 0);
  t.true((await conn('master1'))[0]!.startsWith(`${fleet.controllerIp} `));
});

test.serial('--max-handshakes 1: one handshake at a time, jump hosts included, every host reached', async (t) => {
  const m = hostOf('master1'); const w1 = hostOf('worker1'); const w2 = hostOf('worker2');
  const inv = join(work, 'gate.yaml');
  // master1 and worker2 through worker1: each needs the jump's handshake, then its own, under the single slot
  writeFileSync(inv, `all:\n  hosts:\n    master1:\n      ansible_host: ${m.ip}\n      ansible_ssh_common_args: '-o ProxyJump=root@${w1.ip}'\n`
    + `    worker1:\n      ansible_host: ${w1.ip}\n    worker2:\n      ansible_host: ${w2.ip}\n      ansible_ssh_common_args: '-o ProxyJump=root@${w1.ip}'\n`);
  const r = await runRig(['apply', '-i', inv, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state-gate'), '--max-handshakes', '1', '--json', '--stats', PLAYBOOK]);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true((await conn('master1'))[0]!.startsWith(`${w1.ip} `));
  t.true((await conn('worker2'))[0]!.startsWith(`${w1.ip} `));
  t.true((await conn('worker1'))[0]!.startsWith(`${fleet.controllerIp} `));
  t.deepEqual((JSON.parse(r.stdout) as { stats: Array<{ host: string }> }).stats.map((s) => s.host).sort(), ['master1', 'worker1', 'worker2']);
});

test.serial('ssh-agent is used when no identity file is configured', async (t) => {
  const inv = join(work, 'agent.yaml');
  writeFileSync(inv, `all:\n  hosts:\n    worker2:\n      ansible_host: ${hostOf('worker2').ip}\n`);
  const cfg = sshConfig('ssh_config_agent', fleet.knownHostsPath, false);
  const base = ['-i', inv, '--ssh-config', cfg, '--state-dir', join(work, 'state3'), PLAYBOOK];
  const home = mkdtempSync(join(tmpdir(), 'rig-home-')); // no ~/.ssh/id_* to fall back on
  const noAgent = await runRig(['apply', ...base], { env: { SSH_AUTH_SOCK: '', HOME: home } });
  t.is(noAgent.code, 1);
  t.regex(noAgent.stdout + noAgent.stderr, /authentication failed/);
  const sock = join(work, 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)![1]!;
  try {
    execFileSync('ssh-add', [fleet.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const withAgent = await runRig(['apply', ...base], { env: { SSH_AUTH_SOCK: sock, HOME: home } });
    t.is(withAgent.code, 0, withAgent.stdout + withAgent.stderr);
    t.is((await conn('worker2'))[1], 'root');
  } finally {
    process.kill(Number(pid));
  }
});

test.serial('become: a non-root login user runs the play through sudo (and without it gets a clear refusal)', async (t) => {
  const w2 = hostOf('worker2');
  const pub = readFileSync(`${fleet.privateKeyPath}.pub`, 'utf8');
  await execInHost(fleet, w2.name, ['sh', '-c', 'id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy; mkdir -p ~deploy/.ssh; cat > ~deploy/.ssh/authorized_keys; chown -R deploy: ~deploy/.ssh; chmod 700 ~deploy/.ssh; echo "deploy ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy'], pub);
  const inv = (become: boolean) => {
    const f = join(work, `become-${become}.yaml`);
    writeFileSync(f, `all:\n  hosts:\n    worker2:\n      ansible_host: ${w2.ip}\n      ansible_user: deploy\n      ansible_become: ${become}\n`);
    return f;
  };
  // without become, a non-root user cannot hold rig's host lock: a clear error, nothing run
  await execInHost(fleet, w2.name, ['rm', '-f', '/tmp/rig-conn']);
  const plain = await runRig(['apply', '-i', inv(false), '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state4'), PLAYBOOK]);
  t.is(plain.code, 1, plain.stdout + plain.stderr);
  t.regex(plain.stdout + plain.stderr, /LOCKED[^]*cannot take the lock in \/var\/lib\/rig\/lock as user deploy[^]*ansible_become/);
  t.is((await execInHost(fleet, w2.name, ['sh', '-c', 'test -e /tmp/rig-conn && echo exists || echo absent'])).stdout.trim(), 'absent');
  const sudo = await runRig(['apply', '-i', inv(true), '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state4'), PLAYBOOK]);
  t.is(sudo.code, 0, sudo.stdout + sudo.stderr);
  t.is((await conn('worker2'))[1], 'root');
  t.is((await execInHost(fleet, w2.name, ['stat', '-c', '%U', '/tmp/rig-conn'])).stdout.trim(), 'root');
});
