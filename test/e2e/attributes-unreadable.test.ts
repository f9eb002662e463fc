/**
 * Issue 13, items 4 and 5 on the fleet. (a) A non-root login without become plans and applies file tasks on a
 * root-only 0600 file and on a file under a root 0750 directory: an UNREADABLE error naming both paths and the fix,
 * exit 1, nothing changed; with ansible_become the same plan reads them. (b) setuid, setgid and sticky modes in every
 * spelling apply once, then plan nothing and fire no handler. (c) Files owned by uid/gid 4321 without names are
 * overwritten and chowned by a run, rolled back to 4321:4321 with their bytes, and the rollback is rolled back.
 * Every state is checked by bytes (sha256), mode and owner on the host.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig, type RigResult } from '../helpers/run-rig.ts';
import { HANDLER_LOG } from '../fixtures/playbooks/attributes-unreadable.ts';

const FLEET_ID = 42;
const PLAYBOOK = 'test/fixtures/playbooks/attributes-unreadable.ts';
let fleet: Fleet;
let host: string;
let stateDir: string;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 1, id: FLEET_ID, seed: 'none' });
  host = fleet.hosts[0]!.name;
  stateDir = mkdtempSync(join(tmpdir(), 'rig-attr-'));
  work = mkdtempSync(join(tmpdir(), 'rig-attr-work-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const said = (r: RigResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-6000);
const runIdOf = (r: RigResult): string => /(?:run|rollback) (\d{8}T\d{6}Z-[0-9a-f]+)(?: of run \S+)? journaled/.exec(r.stdout)?.[1] ?? '';

const sh = async (script: string, ...a: string[]): Promise<string> => {
  const r = await execInHost(fleet, host, ['sh', '-c', script, 'sh', ...a]);
  if (r.exitCode !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
};
/** Per path: type, mode, numeric owner, owner names, size and sha256 (bytes, mode and owner). */
const snapshot = (...paths: string[]): Promise<string> => sh('for f; do if [ -e "$f" ]; then printf "%s %s " "$f" "$(stat -c "%F %04a %u:%g %U:%G %s" -- "$f")";'
  + ' if [ -f "$f" ]; then sha256sum < "$f"; else echo; fi; else echo "$f absent"; fi; done', ...paths);
const handlerFired = async (): Promise<number> => Number((await sh(`[ -f ${HANDLER_LOG} ] && wc -l < ${HANDLER_LOG} || echo 0`)).trim());

test.serial('(a) a non-root login without become: a root-only file and a file under a 0750 directory are UNREADABLE, named with the fix; nothing changes', async (t) => {
  const h = fleet.hosts[0]!;
  const pub = readFileSync(`${fleet.privateKeyPath}.pub`, 'utf8');
  await execInHost(fleet, host, ['sh', '-c', 'id viewer >/dev/null 2>&1 || useradd -m -s /bin/sh viewer; mkdir -p ~viewer/.ssh; cat > ~viewer/.ssh/authorized_keys;'
    + ' chown -R viewer: ~viewer/.ssh; chmod 700 ~viewer/.ssh; echo "viewer ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/viewer; chmod 440 /etc/sudoers.d/viewer'], pub);
  await sh(`set -e; mkdir -p /srv/attr /srv/attr-private; chmod 0755 /srv/attr; chmod 0750 /srv/attr-private
    printf 'secret=1\\n' > /srv/attr/secret.conf; chmod 0600 /srv/attr/secret.conf
    printf 'app=1\\n' > /srv/attr-private/app.conf; chmod 0644 /srv/attr-private/app.conf`);
  const paths = ['/srv/attr/secret.conf', '/srv/attr-private/app.conf', '/srv/attr', '/srv/attr-private'];
  const before = await snapshot(...paths);
  t.regex(before, /\/srv\/attr\/secret\.conf regular file 0600 0:0 root:root 9 /);
  const inv = (become: boolean): string => {
    const f = join(work, `viewer-${become}.yaml`);
    writeFileSync(f, `all:\n  hosts:\n    ${h.name}:\n      ansible_host: ${h.ip}\n      ansible_user: viewer\n      ansible_become: ${become}\n`);
    return f;
  };
  const base = (become: boolean) => ['-i', inv(become), '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '-e', 'scene=unreadable', PLAYBOOK];
  for (const cmd of ['plan', 'apply']) {
    const r = await runRig([cmd, ...base(false)]);
    const out = r.stdout + r.stderr;
    t.is(r.code, 1, `${cmd}: ${said(r)}`);
    t.regex(out, /UNREADABLE/, `${cmd}: the stable code`);
    t.regex(out, /user viewer \(uid \d+\) cannot read 2 paths: \/srv\/attr\/secret\.conf, \/srv\/attr-private\/app\.conf \(permission denied\)/, `${cmd}: both paths and the user`);
    t.regex(out, /hint: read them as root: set `ansible_become: true`/, `${cmd}: the fix`);
    t.notRegex(out, /file absent|content differs/, `${cmd}: no plan from what it could not read`);
    t.is(await snapshot(...paths), before, `${cmd} changed nothing`);
  }
  t.is((await sh('[ -e /var/lib/rig/lock ] && echo held || echo free')).trim(), 'free', 'no lock left behind');
  // The fix the error names works: with become the same login reads both files and plans their content change.
  const fixed = await runRig(['plan', ...base(true)]);
  t.is(fixed.code, 2, said(fixed));
  t.regex(fixed.stdout, /-secret=1[^]*\+replaced=1/, said(fixed));
  t.regex(fixed.stdout, /-app=1[^]*\+replaced=1/, said(fixed));
  t.is(await snapshot(...paths), before);
});

test.serial('(b) setuid, setgid and sticky modes apply once, then plan nothing and fire no handler', async (t) => {
  await sh('set -e; mkdir -p /srv/modes/was-setgid; chmod 0755 /srv/modes; chmod 2775 /srv/modes/was-setgid; rm -f /var/tmp/rig-attr-handler.log');
  const paths = ['/srv/modes/shared', '/srv/modes/tmp', '/srv/modes/was-setgid', '/srv/modes/tool', '/srv/modes/group-tool'];
  const first = await runRig(['apply', ...args(), '-e', 'scene=modes', PLAYBOOK]);
  t.is(first.code, 0, said(first));
  t.is(await handlerFired(), 1, 'the handler ran once');
  const applied = await snapshot(...paths);
  t.regex(applied, /\/srv\/modes\/shared directory 2775 0:50 root:staff/);
  t.regex(applied, /\/srv\/modes\/tmp directory 1777 0:0 root:root/);
  t.regex(applied, /\/srv\/modes\/was-setgid directory 0775 0:0 /, 'a four-digit mode clears a directory\'s setgid');
  t.regex(applied, /\/srv\/modes\/tool regular file 4755 0:0 root:root 20 /);
  t.regex(applied, /\/srv\/modes\/group-tool regular file 2775 0:0 root:root 21 /);
  const plan = await runRig(['plan', ...args(), '-e', 'scene=modes', PLAYBOOK]);
  t.is(plan.code, 0, `converged: nothing to change\n${said(plan)}`);
  t.notRegex(plan.stdout, /→ 0?[0-7]{4}/, said(plan));
  const again = await runRig(['apply', ...args(), '-e', 'scene=modes', PLAYBOOK]);
  t.is(again.code, 0, said(again));
  t.is(await handlerFired(), 1, 'a converged apply fires no handler');
  t.is(await snapshot(...paths), applied);
});

test.serial('(c) files owned by uid/gid 4321 without names: overwritten and chowned, rolled back to 4321:4321 with their bytes, and the rollback rolled back', async (t) => {
  t.is((await sh('getent passwd 4321 || true; getent group 4321 || true')).trim(), '', '4321 has no name on the host');
  await sh(`set -e; mkdir -p /srv/orphan; cd /srv/orphan
    printf 'kept=\\377\\376 latin1 \\351\\n' > keep.conf; chown 4321:4321 keep.conf; chmod 0640 keep.conf
    printf 'same\\n' > chown.conf; chown 4321:4321 chown.conf; chmod 0644 chown.conf`);
  const paths = ['/srv/orphan/keep.conf', '/srv/orphan/chown.conf'];
  const original = await snapshot(...paths);
  t.regex(original, /keep\.conf regular file 0640 4321:4321 UNKNOWN:UNKNOWN 17 /);
  const plan = await runRig(['plan', ...args(), '-e', 'scene=orphan', PLAYBOOK]);
  t.is(plan.code, 2, said(plan));
  t.regex(plan.stdout, /0644 4321:4321 → 0600 daemon:4321/, said(plan));
  const applied = await runRig(['apply', ...args(), '-e', 'scene=orphan', PLAYBOOK]);
  t.is(applied.code, 0, said(applied));
  const after = await snapshot(...paths);
  t.regex(after, /keep\.conf regular file 0640 4321:4321 UNKNOWN:UNKNOWN 14 /, 'overwritten, owner and mode kept');
  t.regex(after, /chown\.conf regular file 0600 1:4321 daemon:UNKNOWN 5 /);
  t.is((await sh('cat /srv/orphan/keep.conf')), 'overwritten=1\n');
  const back = await runRig(['rollback', ...args(), runIdOf(applied)]);
  t.is(back.code, 0, said(back));
  t.is(await snapshot(...paths), original, 'bytes, mode and the numeric owner are back');
  const redo = await runRig(['rollback', ...args(), runIdOf(back)]);
  t.is(redo.code, 0, said(redo));
  t.is(await snapshot(...paths), after, 'the rollback of the rollback restores the applied state');
});
