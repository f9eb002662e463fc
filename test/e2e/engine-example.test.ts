/**
 * End to end on a 4-host fleet: plan → apply → plan (converged) → rollback with the example playbook, then a saved
 * plan with drift on one host, an unreachable host, and an unknown host key.
 */
import test from 'ava';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 21;
let fleet: Fleet;
let stateDir: string;

const SNAPSHOT = String.raw`for p in /etc/rig-example /etc/rig-example/* /etc/default/kubelet /etc/default/kube-proxy; do
  [ -e "$p" ] || continue; printf '%s %s ' "$p" "$(stat -c '%a %U %G %F' "$p")"; [ -f "$p" ] && sha256sum < "$p" | cut -c1-64 || echo; done`;

async function snapshot(host: string): Promise<string> {
  const r = await execInHost(fleet, host, ['sh', '-c', SNAPSHOT]);
  return r.stdout;
}

async function kubeletPid(host: string): Promise<string> {
  const r = await execInHost(fleet, host, ['sh', '-c', 'pgrep -f "kubelet" | sort | head -1']);
  return r.stdout.trim();
}

function common(): string[] {
  return ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
}

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID });
  stateDir = join(fleet.dir, 'rig-state');
});

test.after.always(async () => {
  await downFleet({ id: FLEET_ID });
});

test.serial('plan exits 2 with diffs; apply; plan exits 0; converged apply ≤ 2 round trips; rollback restores byte for byte and re-runs the handler', async (t) => {
  const names = fleet.hosts.map((h) => h.name);
  const before = await Promise.all(names.map(snapshot));
  const pids0 = await Promise.all(names.map(kubeletPid));

  const plan = await runRig(['plan', ...common(), 'playbooks/example.ts']);
  t.is(plan.code, 2, plan.stderr + plan.stdout);
  t.regex(plan.stdout, /\+# managed-by=rig/);
  t.regex(plan.stdout, /\+This host is worker/);
  t.regex(plan.stdout, /restart service kubelet/);

  const apply = await runRig(['apply', ...common(), 'playbooks/example.ts']);
  t.is(apply.code, 0, apply.stderr + apply.stdout);
  t.regex(apply.stdout, /RECAP/);
  for (const h of names) {
    const motd = await execInHost(fleet, h, ['cat', '/etc/rig-example/motd']);
    t.regex(motd.stdout, new RegExp(`This host is ${h} `));
    const kubelet = await execInHost(fleet, h, ['cat', '/etc/default/kubelet']);
    t.is(kubelet.stdout.split('\n').filter((l) => l === '# managed-by=rig').length, 1);
  }
  const pids1 = await Promise.all(names.map(kubeletPid));
  names.forEach((_h, i) => t.not(pids1[i], pids0[i], 'handler restarted kubelet'));

  const again = await runRig(['plan', ...common(), 'playbooks/example.ts']);
  t.is(again.code, 0, again.stdout);

  const converged = await runRig(['apply', ...common(), '--json', '--stats', 'playbooks/example.ts']);
  t.is(converged.code, 0, converged.stderr);
  const j = JSON.parse(converged.stdout) as { stats: { host: string; roundTrips: number }[] };
  t.is(j.stats.length, 4);
  for (const s of j.stats) t.true(s.roundTrips <= 2, `${s.host}: ${s.roundTrips} round trips`);

  const log = await runRig(['log', '--state-dir', stateDir]);
  t.regex(log.stdout, /apply\s+ok/);
  const applyRunId = /run (\S+) journaled/.exec(apply.stdout)?.[1];
  t.truthy(applyRunId);

  const rb = await runRig(['rollback', ...common(), applyRunId!]);
  t.is(rb.code, 0, rb.stderr + rb.stdout);
  const after = await Promise.all(names.map(snapshot));
  t.deepEqual(after, before);
  const pids2 = await Promise.all(names.map(kubeletPid));
  names.forEach((_h, i) => t.not(pids2[i], pids1[i], 'handler re-ran on rollback'));

  const show = await runRig(['show', '--state-dir', stateDir, applyRunId!]);
  t.regex(show.stdout, /managed-by=rig/);
});

test.serial('a saved plan aborts only the host whose file changed since the plan', async (t) => {
  const planFile = join(fleet.dir, 'example.plan.json');
  const p = await runRig(['plan', ...common(), '--out', planFile, 'playbooks/example.ts']);
  t.is(p.code, 2, p.stderr);
  const victim = fleet.hosts[1]!.name;
  await execInHost(fleet, victim, ['sh', '-c', 'echo "# edited by hand" >> /etc/default/kubelet']);
  const a = await runRig(['apply', ...common(), planFile]);
  t.is(a.code, 1, a.stdout);
  t.regex(a.stdout + a.stderr, new RegExp(`${victim}[\\s\\S]*DRIFT[\\s\\S]*/etc/default/kubelet`));
  for (const h of fleet.hosts) {
    const r = await execInHost(fleet, h.name, ['sh', '-c', 'test -e /etc/rig-example/motd && echo yes || echo no']);
    t.is(r.stdout.trim(), h.name === victim ? 'no' : 'yes', h.name);
  }
  const rb = await runRig(['rollback', ...common()]);
  t.is(rb.code, 0, rb.stderr + rb.stdout);
});

test.serial('an unreachable host is reported and the others go on; retry file lists it', async (t) => {
  const inv = join(fleet.dir, 'inventory-with-ghost.yaml');
  const text = readFileSync(fleet.inventoryPath, 'utf8');
  const ghostIp = fleet.hosts[0]!.ip.replace(/\.\d+$/, '.250');
  writeFileSync(inv, text.replace(/(\n\s+workers:\s*\n\s+hosts:\s*\n)/, `$1        ghost: { ansible_host: ${ghostIp} }\n`));
  const r = await runRig(['apply', '-i', inv, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '--json', 'playbooks/example.ts'], { timeoutMs: 60_000 });
  t.is(r.code, 1);
  const j = JSON.parse(r.stdout) as { hosts: { host: string; status: string }[] };
  t.is(j.hosts.find((h) => h.host === 'ghost')?.status, 'unreachable');
  t.true(j.hosts.filter((h) => h.host !== 'ghost').every((h) => h.status === 'changed'));
  t.is(readFileSync(join(stateDir, 'retry'), 'utf8'), 'ghost\n');
  const rb = await runRig(['rollback', ...common()]);
  t.is(rb.code, 0, rb.stderr + rb.stdout);
});

test.serial('a host whose key is not in known_hosts is refused with its fingerprint', async (t) => {
  const cfg = join(fleet.dir, 'ssh_config.emptyknown');
  const empty = join(fleet.dir, 'known_hosts.empty');
  writeFileSync(empty, '');
  writeFileSync(cfg, readFileSync(fleet.sshConfigPath, 'utf8').replaceAll(fleet.knownHostsPath, empty));
  const r = await runRig(['plan', '-i', fleet.inventoryPath, '--ssh-config', cfg, '--state-dir', stateDir, '--limit', fleet.hosts[0]!.name, 'playbooks/example.ts']);
  t.is(r.code, 1);
  t.regex(r.stdout + r.stderr, /SHA256:[A-Za-z0-9+/]{20,}/);
  t.regex(r.stdout + r.stderr, new RegExp(fleet.hosts[0]!.name));
  void copyFileSync; void PROJECT_ROOT;
});
