/**
 * Issue 7: two `rig apply` on the same host at once — the second refuses with a message naming the run that holds
 * the lock; a stale lock (its controller process is gone) is reported as stale and cleared only with --break-lock.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 29;
const PLAYBOOK = 'test/fixtures/playbooks/fault-drill.ts';
let fleet: Fleet;
let stateDir: string;

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'files' });
  stateDir = mkdtempSync(join(tmpdir(), 'rig-lock-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const held = async (host: string) => (await execInHost(fleet, host, ['sh', '-c', '[ -e /var/tmp/rig-drill-hold ] && echo yes'])).stdout.includes('yes');
const release = () => Promise.all(fleet.hosts.map((h) => execInHost(fleet, h.name, ['rm', '-f', '/var/tmp/rig-drill-hold'])));

/** Start an apply that stops at the drill's hold point on every host; resolves once all hosts are held. */
async function startHeldApply(): Promise<{ child: ReturnType<typeof spawn>; exited: Promise<number>; output: () => string }> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/rig.js'), 'apply', ...args(), '-e', 'fault_point=after-intent', PLAYBOOK], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if ((await Promise.all(fleet.hosts.map((h) => held(h.name)))).every(Boolean)) return { child, exited, output: () => out };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the first apply never reached the hold point:\n${out}`);
}

test.serial('a second apply is refused naming the run that holds the lock; a stale lock needs --break-lock', async (t) => {
  const first = await startHeldApply();
  const second = await runRig(['apply', ...args(), PLAYBOOK]);
  t.is(second.code, 1, second.stdout + second.stderr);
  t.regex(second.stdout + second.stderr, /LOCKED[^]*locked by run \d{8}T\d{6}Z-[0-9a-f]+ \(pid \d+/);
  await release();
  t.is(await first.exited, 0, first.output());
  const firstRun = /run (\S+) journaled/.exec(first.output())![1]!;
  t.true((second.stdout + second.stderr).includes(`locked by run ${firstRun}`), 'the refusal names the run holding the lock');

  // A controller that dies while holding the lock leaves a stale lock.
  const dead = await startHeldApply();
  dead.child.kill('SIGKILL');
  await dead.exited;
  await release();
  await new Promise((r) => setTimeout(r, 1500));
  const refused = await runRig(['apply', ...args(), PLAYBOOK]);
  t.is(refused.code, 1, refused.stdout + refused.stderr);
  t.regex(refused.stdout + refused.stderr, /stale lock: run \S+ \(pid \d+[^]*holds the lock but its process is gone[^]*--break-lock/);
  const broken = await runRig(['apply', ...args(), '--break-lock', PLAYBOOK]);
  t.is(broken.code, 0, broken.stdout + broken.stderr);
  t.is((await runRig(['plan', ...args(), PLAYBOOK])).code, 0);
});
