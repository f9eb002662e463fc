/**
 * Issue 18 end to end on the fleet: playbooks/exec-as.ts on worker1, which runs real OCI containers (Debian's runc,
 * a busybox-static root with its own /etc/passwd, annotated like kubelet's containers; the fleet host needs a cgroup2
 * mount at /sys/fs/cgroup for runc, nothing else). Real sshd, sudo, visudo and `sshd -t`.
 * - alice enters web-7f9c only as `app` (uid 1000 of the container's passwd), whatever she passes; no node shell,
 *   no forwarding; refused on a container her policy does not list, on one whose /etc/passwd is a link out of its root
 *   and on one without the user; bob (an account with no rules) is refused; every attempt is in /var/log/exec-as.log.
 * - a bad sshd option from the variables fails `sshd -t` at the drop-in's write: the apply fails, the old drop-in and
 *   the running sshd stay, alice still gets in.
 * - plan after apply exits 0; rollback removes everything and /etc is byte for byte what it was.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 55;
const PODS = ['web-7f9c', 'db-0', 'evil-1', 'nouser-1'];
let fleet: Fleet;
let work: string;

/** A busybox-static root with an `app` user, run by runc with the annotations kubelet's containers carry. */
const CONTAINERS = `set -e
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
for spec in web-7f9c:web db-0:db evil-1:evil nouser-1:app; do
  pod=\${spec%%:*}; name=\${spec#*:}; B=/var/lib/exec-as-test/$pod
  mkdir -p $B/rootfs/bin $B/rootfs/etc $B/rootfs/proc $B/rootfs/dev $B/rootfs/sys $B/rootfs/tmp
  cp /bin/busybox $B/rootfs/bin/busybox
  for a in sh id cat sleep ls; do ln -sf busybox $B/rootfs/bin/$a; done
  case $pod in
    evil-1) ln -s /etc/shadow $B/rootfs/etc/passwd ;;
    nouser-1) printf 'root:x:0:0:root:/root:/bin/sh\\n' > $B/rootfs/etc/passwd ;;
    *) printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000:app:/tmp:/bin/sh\\n' > $B/rootfs/etc/passwd ;;
  esac
  (cd $B && rm -f config.json && runc spec)
  python3 -I - $B/config.json $pod $name <<'PY'
import json, sys
path, pod, name = sys.argv[1:4]
c = json.load(open(path))
c['process']['terminal'] = False
c['process']['args'] = ['/bin/sleep', '1000000']
c['annotations'] = {'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.container.name': name,
                    'io.kubernetes.cri.container-type': 'container'}
json.dump(c, open(path, 'w'), indent=1)
PY
  runc run -d --bundle $B shop_\${pod}_$name </dev/null >$B/runc.log 2>&1 || { cat $B/runc.log >&2; exit 1; }
done
runc list`;

const SYSLOG = `import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('/dev/log')
while True:
    m = s.recv(65536)
    with open('/var/log/test-syslog', 'ab') as f: f.write(m.replace(b'\\n', b' ') + b'\\n')`;

/** Regular files with their sha256, and every path with type, mode, owner and link target: /etc byte for byte. */
const SNAPSHOT = `cd / && find etc -xdev -printf '%p %y %m %u %g %l\\n' | LC_ALL=C sort && find etc -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`;

const run = promisify(execFile);
async function sh(host: string, script: string) {
  return execInHost(fleet, host, ['sh', '-c', script]);
}
/** ssh as an operator; `args` after `--` reach the helper verbatim (SSH_ORIGINAL_COMMAND), `opts` are ssh's. */
async function sshAs(who: string, args: string[], opts: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('ssh', ['-F', fleet.sshConfigPath, '-i', join(work, `${who}.key`), '-o', `User=${who}`, ...opts, 'worker1', '--', ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}
const key = (who: string) => readFileSync(join(work, `${who}.key.pub`), 'utf8').trim();
const operators = () => JSON.stringify([
  { name: 'alice', keys: [key('alice')], allow: [{ namespace: 'shop', pod: 'web-*', container: 'web', user: 'app' }, { namespace: 'shop', pod: 'evil-*', user: 'app' }, { namespace: 'shop', pod: 'nouser-*', user: 'app' }] },
  { name: 'bob', keys: [key('bob')], allow: [] },
]);
const rigArgs = (extra: string[] = []) => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state'), '-e', `exec_as_operators=${operators()}`, ...extra, 'playbooks/exec-as.ts'];

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-exec-as-'));
  for (const who of ['alice', 'bob']) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', who, '-f', join(work, `${who}.key`)]);
  const c = await sh('worker1', CONTAINERS);
  if (c.exitCode !== 0) throw new Error(`containers on worker1: ${c.stderr}`);
  // a syslog for worker1 (fleet hosts run none): every datagram on /dev/log, one per line
  const l = await execInHost(fleet, 'worker1', ['sh', '-c', 'setsid python3 -I -c "$1" </dev/null >/dev/null 2>&1 & while [ ! -S /dev/log ]; do sleep 0.1; done', 'sh', SYSLOG]);
  if (l.exitCode !== 0) throw new Error(`syslog on worker1: ${l.stderr}`);
});
test.after.always(async () => {
  if (fleet) {
    await sh('worker1', `for p in ${PODS.join(' ')}; do for id in $(runc list -q); do runc delete -f "$id"; done; done 2>/dev/null; true`).catch(() => undefined);
    await downFleet({ id: FLEET_ID });
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test.serial('exec-as: policy user only, no node shell, refusals logged; broken drop-in caught; plan 0; rollback byte for byte', async (t) => {
  const before = await sh('worker1', SNAPSHOT);
  t.is(before.exitCode, 0, before.stderr);
  const sshdPid = (await sh('worker1', 'cat /run/sshd.pid')).stdout.trim();

  const apply = await runRig(['apply', ...rigArgs()], { timeoutMs: 180_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  t.false(apply.stdout.includes('alice:*:'), 'the shadow diff is masked');
  t.true(apply.stdout.includes('+alice:x:'), 'the passwd diff is shown');
  const run1 = /undo with: rig rollback (\S+)/.exec(apply.stdout)?.[1];
  t.truthy(run1);
  t.is((await sh('worker1', 'stat -c "%U %a" /usr/local/bin/exec-as')).stdout.trim(), 'root 755');

  // alice: the policy's user, whatever she asks
  const who = await sshAs('alice', ['web-7f9c', 'id', '-un']);
  t.is(who.code, 0, who.stderr);
  t.is(who.stdout.trim(), 'app');
  t.is((await sshAs('alice', ['shop/web-7f9c:web', '--', 'id', '-u'])).stdout.trim(), '1000');
  const inside = await sshAs('alice', ['web-7f9c', '--', '/bin/sh', '-c', "'id -u; ls /; if test -e /etc/shadow; then echo NODE; fi'"]);
  t.is(inside.code, 0, inside.stderr);
  t.regex(inside.stdout, /^1000\n/);
  t.notRegex(inside.stdout, /NODE|home|usr/, 'the command ran in the container root, not on the node');
  const listing = await sshAs('alice', []);
  t.is(listing.code, 0, listing.stderr);
  t.regex(listing.stdout, /shop\/web-7f9c:web\tas app/);
  t.notRegex(listing.stdout, /db-0/);

  // no node shell, no other user, no forwarding
  for (const args of [
    ['--', '/bin/sh', '-c', 'id'], ['/bin/sh', '-c', 'id'], ['id'],
    ['--user', 'root', 'web-7f9c', 'id'], ['-u', '0', 'web-7f9c', 'id'], ['web-7f9c', '--user=root', 'id'], ['web-7f9c', '-u', 'root', 'id'],
    ['root@web-7f9c', 'id'], ['web-7f9c:web', '-u', '0', '--', 'id'],
  ]) {
    const r = await sshAs('alice', args);
    t.not(r.code, 0, `alice ${args.join(' ')} must be refused (got ${r.stdout})`);
    t.notRegex(r.stdout, /uid=/, `alice ${args.join(' ')} ran nothing`);
    t.regex(r.stderr, /exec-as: refused: /);
  }
  t.regex((await sshAs('alice', ['/bin/sh', '-c', 'id'])).stderr, /'\/bin\/sh' is not \[NAMESPACE\/\]POD\[:CONTAINER\]: exec-as runs commands only inside containers/);
  const fwd = await sshAs('alice', ['web-7f9c', 'true'], ['-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:22']);
  t.not(fwd.code, 0, 'port forwarding is refused');

  // containers the policy does not allow, hostile or incomplete containers, bob
  const db = await sshAs('alice', ['db-0', 'id']);
  t.not(db.code, 0);
  t.regex(db.stderr, /policy does not let you enter db-0/);
  const evil = await sshAs('alice', ['evil-1', 'id']);
  t.not(evil.code, 0);
  t.regex(evil.stderr, /cannot read \/etc\/passwd in the container|not a regular file/);
  const nouser = await sshAs('alice', ['nouser-1', 'id']);
  t.not(nouser.code, 0);
  t.regex(nouser.stderr, /user app does not exist in the container/);
  const bob = await sshAs('bob', ['web-7f9c', 'id']);
  t.not(bob.code, 0);
  t.regex(bob.stderr, /bob is not in the exec-as policy/);
  t.not((await sshAs('bob', ['--', '/bin/sh', '-c', 'id'])).code, 0);

  // every attempt is logged (root-only file, one JSON line each)
  const log = await sh('worker1', 'stat -c "%U %a" /var/log/exec-as.log && cat /var/log/exec-as.log');
  const [mode, ...lines] = log.stdout.trim().split('\n');
  t.is(mode, 'root 600');
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(entries.length, 19, lines.join('\n'));
  t.true(entries.every((e) => typeof e['from'] === 'string' && (e['from'] as string).startsWith(`10.213.${FLEET_ID}.1 `)));
  t.deepEqual(entries.filter((e) => e['decision'] === 'allowed').map((e) => [e['operator'], e['container'], e['user'], e['uid']]),
    Array(3).fill(['alice', 'shop/web-7f9c:web', 'app', 1000]));
  t.is(entries.filter((e) => e['operator'] === 'bob' && e['decision'] === 'refused').length, 2);
  t.truthy(entries.find((e) => e['request'] === '--user root web-7f9c id' && e['decision'] === 'refused'));
  const syslog = (await sh('worker1', 'cat /var/log/test-syslog')).stdout.trim().split('\n').filter((m) => / exec-as: \{/.test(m));
  t.is(syslog.length, 19, 'every attempt also went to syslog');
  t.true(syslog.every((m) => m.startsWith('<85>')), 'facility authpriv, severity notice');
  t.regex(syslog.join('\n'), /"operator": "bob".*"decision": "refused"|"decision": "refused".*"operator": "bob"/);

  // converged
  const plan = await runRig(['plan', ...rigArgs()], { timeoutMs: 120_000 });
  t.is(plan.code, 0, plan.stdout + plan.stderr);

  // a bad sshd option from the variables: sshd -t refuses the drop-in, nothing is reloaded, logins still work
  const dropinBefore = (await sh('worker1', 'sha256sum /etc/ssh/sshd_config.d/rig-exec-as.conf')).stdout;
  const broken = await runRig(['apply', ...rigArgs(['-e', 'exec_as_sshd_options={"ClientAliveInterval":"soon"}'])], { timeoutMs: 180_000 });
  t.not(broken.code, 0, broken.stdout);
  t.regex(broken.stdout + broken.stderr, /validation of the new \/etc\/ssh\/sshd_config\.d\/rig-exec-as\.conf failed/);
  t.regex(broken.stdout + broken.stderr, /ClientAliveInterval/);
  t.is((await sh('worker1', 'sha256sum /etc/ssh/sshd_config.d/rig-exec-as.conf')).stdout, dropinBefore, 'the old drop-in stays');
  t.is((await sh('worker1', 'cat /run/sshd.pid; kill -0 $(cat /run/sshd.pid) && echo running')).stdout, `${sshdPid}\nrunning\n`);
  t.is((await sshAs('alice', ['web-7f9c', 'id', '-un'])).stdout.trim(), 'app', 'alice still gets in');
  t.is((await run('ssh', ['-F', fleet.sshConfigPath, 'worker1', 'true'])).stderr, '', 'root still logs in');

  // rollback: accounts, keys, drop-ins, helper, policy, log rule gone; sshd reloaded; /etc as before
  const back = await runRig(['rollback', run1!, '--state-dir', join(work, 'state'), '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath], { timeoutMs: 180_000 });
  t.is(back.code, 0, back.stdout + back.stderr);
  t.regex(back.stdout, /reload service ssh/);
  const after = await sh('worker1', SNAPSHOT);
  t.is(after.stdout, before.stdout, 'every path, mode, owner and content under /etc is as before the apply');
  t.is((await sh('worker1', 'ls /usr/local/bin/exec-as /home/alice 2>&1; kill -0 $(cat /run/sshd.pid) && echo running')).stdout.split('\n').filter((l) => /running|No such/.test(l)).length, 3);
  t.not((await sshAs('alice', ['web-7f9c', 'id'])).code, 0, 'alice has no account any more');
});
