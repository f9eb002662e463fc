/**
 * The user and group modules on the fleet (real sshd logins, real getent/id): create a group and a user with her key,
 * change an existing user, remove another; plan converges; rollback restores /etc byte for byte (the removed user logs
 * in again, the created one cannot); a rollback after someone else changed /etc/passwd is refused and changes nothing.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 56;
const PLAYBOOK = 'test/fixtures/playbooks/accounts.ts';
const SNAPSHOT = `cd / && find etc -xdev -printf '%p %y %m %u %g %l\\n' | LC_ALL=C sort && find etc -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`;
const run = promisify(execFile);
let fleet: Fleet;
let work: string;

const sh = (script: string) => execInHost(fleet, 'worker1', ['sh', '-c', script]);
async function login(who: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run('ssh', ['-F', fleet.sshConfigPath, '-i', join(work, `${who}.key`), '-o', `User=${who}`, 'worker1', '--', ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout };
  } catch (e) { return { code: (e as { code?: number }).code ?? -1, stdout: '' }; }
}
const rig = (cmd: string, extra: string[] = []) => runRig([cmd, ...extra, '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state'),
  ...(cmd === 'rollback' ? [] : ['-e', `carol_key=${readFileSync(join(work, 'carol.key.pub'), 'utf8').trim()}`, PLAYBOOK])], { timeoutMs: 180_000 });

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-accounts-'));
  for (const who of ['carol', 'erin']) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', who, '-f', join(work, `${who}.key`)]);
  const erinKey = readFileSync(join(work, 'erin.key.pub'), 'utf8');
  const setup = await execInHost(fleet, 'worker1', ['sh', '-c', `set -e
useradd -m -s /bin/sh dan
useradd -m -s /bin/sh erin
mkdir -p /home/erin/.ssh && printf '%s' "$1" > /home/erin/.ssh/authorized_keys && chown -R erin:erin /home/erin/.ssh`, 'sh', erinKey]);
  if (setup.exitCode !== 0) throw new Error(setup.stderr);
});
test.after.always(async () => {
  if (fleet) await downFleet({ id: FLEET_ID });
  if (work) rmSync(work, { recursive: true, force: true });
});

test.serial('user/group: create, change, remove; plan 0; rollback byte for byte; drifted rollback refused', async (t) => {
  const before = await sh(SNAPSHOT);
  t.is((await login('erin', ['id', '-un'])).stdout.trim(), 'erin');

  const apply = await rig('apply');
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const run1 = /undo with: rig rollback (\S+)/.exec(apply.stdout)![1]!;
  const carol = await login('carol', ['id']);
  t.is(carol.code, 0);
  t.is(carol.stdout.trim(), 'uid=2600(carol) gid=2600(carol) groups=2600(carol),2500(ops)');
  t.is((await sh('getent passwd dan | cut -d: -f7; id -nG dan; stat -c "%U %a" /home/carol/.ssh /home/carol/.ssh/authorized_keys; getent passwd erin || echo no-erin')).stdout,
    '/bin/bash\ndan ops\ncarol 700\ncarol 600\nno-erin\n');
  t.not((await login('erin', ['id'])).code, 0, 'erin is gone');
  t.is((await rig('plan')).code, 0, 'converged');

  const back = await rig('rollback', [run1]);
  t.is(back.code, 0, back.stdout + back.stderr);
  t.is((await sh(SNAPSHOT)).stdout, before.stdout, '/etc is byte for byte as before');
  t.is((await login('erin', ['id', '-un'])).stdout.trim(), 'erin', 'erin logs in again');
  t.not((await login('carol', ['id'])).code, 0, 'carol is gone');
  t.is((await sh('ls -d /home/carol 2>/dev/null || echo none')).stdout, 'none\n');

  // someone changes /etc/passwd after the apply: the rollback refuses and changes nothing
  const again = await rig('apply');
  t.is(again.code, 0, again.stdout);
  const run2 = /undo with: rig rollback (\S+)/.exec(again.stdout)![1]!;
  t.is((await sh('useradd -M zed')).exitCode, 0);
  const passwd = (await sh('sha256sum /etc/passwd /etc/group')).stdout;
  const refused = await rig('rollback', [run2]);
  t.not(refused.code, 0, refused.stdout);
  t.regex(refused.stdout + refused.stderr, /\/etc\/passwd \(/, 'a conflict on /etc/passwd');
  t.is((await sh('sha256sum /etc/passwd /etc/group')).stdout, passwd, 'nothing restored over the newer change');
  t.is((await login('carol', ['id', '-un'])).stdout.trim(), 'carol');
});
