/**
 * Issue 15, a bastion topology: the targets sit on a second bridge the controller cannot reach, behind two jump hosts
 * in a chain given as `ProxyJump jump-a,jump-b` in ssh_config. jump-a (master1) is on both bridges, jump-b (worker1)
 * and the targets app1/app2 (worker2/worker3) only on the isolated one, so jump-b is reachable only through jump-a.
 * `rig plan` and `rig apply` work through both hops with strict host-key checking of each jump host and the target,
 * and a wrong key anywhere on the way is refused before anything runs.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachIsolatedNetwork, downFleet, execInHost, upFleet, type Fleet, type IsolatedNetwork } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 44;
const PLAYBOOK = 'test/fixtures/playbooks/bastion.ts';
let fleet: Fleet;
let net: IsolatedNetwork;
let work: string;
let keys: Map<string, string>;

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID, seed: 'none' });
  net = await attachIsolatedNetwork(fleet, { dualHomed: ['master1'], isolated: ['worker1', 'worker2', 'worker3'] });
  work = mkdtempSync(join(tmpdir(), 'rig-bastion-'));
  // each host's public key, from the fleet's known_hosts (`name,ip type key`)
  keys = new Map(readFileSync(fleet.knownHostsPath, 'utf8').trim().split('\n').map((l) => {
    const [names, type, key] = l.split(' ');
    return [names!.split(',')[0]!, `${type} ${key}`];
  }));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

/** The address the ssh_config uses: master1's on the controller's bridge, the others' on the isolated one. */
const ip = (name: string) => (name === 'master1' ? fleet.hosts.find((h) => h.name === name)!.ip : net.addresses.get(name)!);
/** alias → fleet host behind it */
const ALIASES = { 'jump-a': 'master1', 'jump-b': 'worker1', app1: 'worker2', app2: 'worker3' } as const;

function sshConfig(knownHosts: string): string {
  const file = join(work, 'ssh_config');
  writeFileSync(file, [
    ...Object.entries(ALIASES).map(([alias, host]) => `Host ${alias}\n  HostName ${ip(host)}\n`),
    'Host app*\n  ProxyJump jump-a,jump-b\n',
    `Host *\n  User root\n  IdentityFile ${fleet.privateKeyPath}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${knownHosts}\n`
      + '  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 10\n',
  ].join(''));
  return file;
}

/** known_hosts naming each alias and its address; `swap` gives an alias another host's key. */
function knownHosts(name: string, swap: Partial<Record<keyof typeof ALIASES, string>> = {}, omit: readonly string[] = []): string {
  const file = join(work, name);
  writeFileSync(file, Object.entries(ALIASES).filter(([a]) => !omit.includes(a))
    .map(([alias, host]) => `${alias},${ip(host)} ${keys.get(swap[alias as keyof typeof ALIASES] ?? host)}\n`).join(''));
  return file;
}

function inventory(): string {
  const file = join(work, 'inventory.yaml');
  writeFileSync(file, 'all:\n  hosts:\n    app1: {}\n    app2: {}\n');
  return file;
}

const args = (cfg: string, state: string) => ['-i', inventory(), '--ssh-config', cfg, '--state-dir', join(work, state), PLAYBOOK];
const managedFile = async (host: string) => (await execInHost(fleet, host, ['sh', '-c', 'cat /etc/rig-bastion 2>/dev/null || echo absent'])).stdout;

/** The controller's own route to `address`: the device it would leave by (never a fleet bridge for the isolated net). */
function routeDevice(address: string): string {
  return /\bdev (\S+)/.exec(execFileSync('ip', ['-o', 'route', 'get', address], { encoding: 'utf8' }))?.[1] ?? '';
}

test.serial('the controller cannot reach jump-b nor the targets; OpenSSH itself reaches the targets through the chain', async (t) => {
  // the isolated bridge has no address on the controller, so no fleet interface leads there
  t.is(execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', net.bridge], { encoding: 'utf8' }).trim(), '');
  for (const h of ['worker1', 'worker2', 'worker3']) t.false(routeDevice(ip(h)).startsWith('rigb'), `${h} (${ip(h)}) has no route from the controller`);
  t.is(routeDevice(ip('master1')), fleet.bridge);
  t.is(execFileSync('ip', ['-o', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }).trim().split('\n').length, 4, 'four hosts on the isolated bridge');
  const cfg = sshConfig(knownHosts('known_hosts'));
  t.regex(execFileSync('ssh', ['-G', '-F', cfg, 'app1'], { encoding: 'utf8' }), /^proxyjump jump-a,jump-b$/m);
  t.is(execFileSync('ssh', ['-T', '-F', cfg, 'app1', 'hostname'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(), 'worker2');
});

test.serial('a wrong or unknown host key on either jump host or on the target is refused, nothing is run', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['jump-b has jump-a\'s key', knownHosts('kh_bad_b', { 'jump-b': 'master1' }), /HOST_KEY[^\n]*jump-b[^\n]*CHANGED/],
    ['jump-a has jump-b\'s key', knownHosts('kh_bad_a', { 'jump-a': 'worker1' }), /HOST_KEY[^\n]*jump-a[^\n]*CHANGED/],
    ['the targets are not known', knownHosts('kh_no_apps', {}, ['app1', 'app2']), /HOST_KEY[^\n]*app1[^\n]*not known/],
  ];
  for (const [what, kh, re] of cases) {
    const r = await runRig(['apply', ...args(sshConfig(kh), 'state-bad')]);
    t.is(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    t.regex(r.stdout + r.stderr, re, what);
  }
  t.is(await managedFile('worker2'), 'absent\n');
  t.is(await managedFile('worker3'), 'absent\n');
  // OpenSSH refuses the same wrong key on jump-b
  const cfg = sshConfig(join(work, 'kh_bad_b'));
  t.throws(() => execFileSync('ssh', ['-T', '-F', cfg, 'app1', 'true'], { stdio: 'ignore' }));
});

test.serial('plan and apply through ProxyJump jump-a,jump-b (one handshake at a time), then a clean plan', async (t) => {
  const cfg = sshConfig(knownHosts('known_hosts'));
  const plan = await runRig(['plan', ...args(cfg, 'state'), '--max-handshakes', '1']);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /\/etc\/rig-bastion/);
  const apply = await runRig(['apply', ...args(cfg, 'state'), '--max-handshakes', '1']);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  for (const host of ['worker2', 'worker3']) {
    t.is(await managedFile(host), 'managed through two jump hosts\n');
    // the target saw its SSH client at jump-b's isolated address: the last hop of the chain
    const conn = (await execInHost(fleet, host, ['cat', '/tmp/rig-bastion-conn'])).stdout;
    t.true(conn.startsWith(`${ip('worker1')} `), `${host}: SSH_CONNECTION ${conn}`);
  }
  const again = await runRig(['plan', ...args(cfg, 'state')]);
  t.is(again.code, 0, again.stdout + again.stderr);
});
