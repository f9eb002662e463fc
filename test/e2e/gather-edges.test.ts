/**
 * The gather at its edges, on real SSH hosts (found by trying to break the held gather, 2026-12-07):
 * - a login shell that prints the gather's old end line ("E done") before the script runs: the controller took it
 *   for the end, reported "could not take the lock", and the script went on and took it;
 * - a converged host that stops hearing the controller once its facts are out (input dropped, output flowing): its
 *   lock's release is lost; the run said ok, exit 0, and left the lock;
 * - a gather that never finishes (a read that blocks): the run hung for ever, Ctrl-C did not stop it;
 * - Ctrl-C while facts are gathered: the run stops at once, nothing changed, no lock left.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { startRig } from '../helpers/drill-control.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 62;
const PLAYBOOK = 'test/fixtures/playbooks/slow-gather.ts';
let fleet: Fleet;
let stateDir: string;

test.before(async () => {
  fleet = await upFleet({ size: 3, id: FLEET_ID, seed: 'files' });
  stateDir = mkdtempSync(join(tmpdir(), 'rig-gather-edges-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const sh = (host: string, script: string) => execInHost(fleet, host, ['sh', '-c', script]);
const lockOf = async (host: string) => (await sh(host, 'cat /var/lib/rig/lock/run 2>/dev/null || true')).stdout.trim();
const slowGather = (host: string, seconds: number) => sh(host, seconds ? `echo ${seconds} > /var/tmp/rig-slow-gather` : 'rm -f /var/tmp/rig-slow-gather');
const runIdOf = (output: string) => /run (\S+) journaled/.exec(output)?.[1];

test.serial('a login shell printing "E done" before the script: applies work and leave no lock', async (t) => {
  const victim = fleet.hosts[1]!.name;
  await sh(victim, 'cp /root/.bashrc /root/.bashrc.rig-test 2>/dev/null || : > /root/.bashrc.rig-test; { echo "echo E done"; cat /root/.bashrc.rig-test; } > /root/.bashrc');
  t.teardown(() => sh(victim, 'mv /root/.bashrc.rig-test /root/.bashrc'));
  const probe = spawnSync('ssh', ['-F', fleet.sshConfigPath, victim, 'true'], { encoding: 'utf8' });
  t.is(probe.stdout, 'E done\n', 'over SSH, the host prints the line before any command');
  for (const run of ['changing', 'converged']) {
    const r = await runRig(['apply', '-y', ...args(), PLAYBOOK]);
    t.is(r.code, 0, `${run}: ${r.stdout}${r.stderr}`);
    for (const h of fleet.hosts) t.is(await lockOf(h.name), '', `${run}: no lock left on ${h.name}`);
  }
});

test.serial('a converged host whose lock release is lost is failed [LOCKED], exit 1, never "ok"', async (t) => {
  const victim = fleet.hosts[2]!;
  await runRig(['apply', '-y', ...args(), PLAYBOOK]); // converged everywhere
  await slowGather(victim.name, 4);
  t.teardown(async () => {
    await sh(victim.name, 'nft delete table inet rigtest 2>/dev/null; rm -f /var/tmp/rig-slow-gather; rm -rf /var/lib/rig/lock');
  });
  const apply = startRig(['apply', '-y', ...args(), PLAYBOOK]);
  await new Promise((r) => setTimeout(r, 1500)); // the victim's gather is in its 4 s fact
  // The host stops hearing the controller; its facts still go out (output is not filtered).
  const drop = await sh(victim.name, "nft add table inet rigtest && nft add chain inet rigtest input '{ type filter hook input priority 0; policy drop; }'");
  t.is(drop.exitCode, 0, drop.stderr);
  const code = await apply.exited;
  const out = apply.output();
  t.is(code, 1, out);
  t.regex(out, new RegExp(`${victim.name}[^\\n]*(LOCKED|could not be released)`), out);
  t.notRegex(out, new RegExp(`${victim.name}\\s*:\\s*ok=\\d+ changed=0 unreachable=0 failed=0`), 'not reported ok');
  await sh(victim.name, 'nft delete table inet rigtest');
  t.is(await lockOf(victim.name), runIdOf(out) ?? 'the run id', 'the lock left on the host is the one reported');
});

test.serial('a gather that never finishes fails its host with TIMEOUT (RIG_GATHER_TIMEOUT) and the others go on', async (t) => {
  const victim = fleet.hosts[0]!.name;
  await sh(victim, 'rm -rf /var/lib/rig/lock');
  await slowGather(victim, 600);
  t.teardown(async () => { await slowGather(victim, 0); await sh(victim, 'pkill -f "sleep 600" || true'); });
  const t0 = Date.now();
  const r = await runRig(['apply', '-y', ...args(), PLAYBOOK], { env: { RIG_GATHER_TIMEOUT: '4' } });
  t.true(Date.now() - t0 < 60_000, `finished in ${Date.now() - t0} ms`);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout + r.stderr, new RegExp(`${victim}[^]*TIMEOUT[^]*fact gathering did not finish within 4 s`));
  t.is(await lockOf(victim), '', 'the stuck gather took no lock');
  for (const h of fleet.hosts.slice(1)) t.is(await lockOf(h.name), '', `no lock left on ${h.name}`);
});

test.serial('Ctrl-C while facts are gathered stops the run at once: nothing changed, no lock left', async (t) => {
  const victim = fleet.hosts[1]!.name;
  await slowGather(victim, 600);
  t.teardown(async () => { await slowGather(victim, 0); await sh(victim, 'pkill -f "sleep 600" || true'); });
  const apply = startRig(['apply', '-y', ...args(), PLAYBOOK]);
  await new Promise((r) => setTimeout(r, 2500));
  const t0 = Date.now();
  apply.child.kill('SIGINT');
  const code = await apply.exited;
  t.true(Date.now() - t0 < 15_000, `stopped ${Date.now() - t0} ms after the signal`);
  t.is(code, 130, apply.output());
  t.regex(apply.output(), /interrupted before anything was applied: nothing changed, locks released/);
  for (const h of fleet.hosts) t.is(await lockOf(h.name), '', `no lock left on ${h.name}`);
});
