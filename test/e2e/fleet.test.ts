/**
 * Issue 2 done-when: a 4-host fleet answers over real OpenSSH with strict host-key checking, hosts are isolated from
 * each other and from the controller, the seeded stand-ins work (insecure port, secure port 401/200), `up` is
 * idempotent and `down` leaves nothing behind.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { downFleet, execInHost, statusFleet, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { countLogLines, waitForLogLine } from '../fleet/standin-log.ts';

const FLEET_ID = 11;
const run = promisify(execFile);
let fleet: Fleet;
let work: string;

/** Run a program, never throwing: `{ code, stdout, stderr }`. */
async function sh(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(cmd, args, { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}
const ssh = (host: string, command: string, config = fleet.sshConfigPath) => sh('ssh', ['-F', config, host, command]);
const master = () => fleet.hosts.find((h) => h.role === 'master')!;

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'rig-fleet-test-'));
  fleet = await upFleet({ size: 4, id: FLEET_ID });
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

test.serial('up 4: names, roles, addresses and the files the fleet writes', (t) => {
  t.deepEqual(fleet.hosts.map((h) => [h.name, h.role, h.ip, h.netns]), [
    ['master1', 'master', '10.213.11.11', 'rig11-master1'], ['worker1', 'worker', '10.213.11.12', 'rig11-worker1'],
    ['worker2', 'worker', '10.213.11.13', 'rig11-worker2'], ['worker3', 'worker', '10.213.11.14', 'rig11-worker3'],
  ]);
  const inventory = readFileSync(fleet.inventoryPath, 'utf8');
  t.regex(inventory, /masters:\n\s+hosts:\n\s+master1:\n\s+ansible_host: 10\.213\.11\.11\n\s+ansible_user: root/);
  t.regex(inventory, /workers:\n\s+hosts:\n\s+worker1:/);
  t.true(inventory.includes(`ansible_ssh_private_key_file: ${fleet.privateKeyPath}`));
  t.is(execFileSync('stat', ['-c', '%a', fleet.privateKeyPath]).toString().trim(), '600');
  const known = readFileSync(fleet.knownHostsPath, 'utf8');
  for (const h of fleet.hosts) t.regex(known, new RegExp(`^${h.name},${h.ip.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
});

test.serial('every host answers `ssh -F ssh_config <host> hostname` with strict host-key checking, by name and by IP', async (t) => {
  t.regex(readFileSync(fleet.sshConfigPath, 'utf8'), /StrictHostKeyChecking yes/);
  const answers = await Promise.all(fleet.hosts.map((h) => ssh(h.name, 'hostname')));
  t.deepEqual(answers.map((a) => a.stdout.trim()), fleet.hosts.map((h) => h.name), answers.map((a) => a.stderr).join('\n'));
  const byIp = await ssh(fleet.hosts[2]!.ip, 'hostname');
  t.is(byIp.stdout.trim(), fleet.hosts[2]!.name, byIp.stderr);
  // each host has its own key: a known_hosts entry with another host's key is refused
  const keys = readFileSync(fleet.knownHostsPath, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(1).join(' '));
  t.is(new Set(keys).size, fleet.hosts.length);
  const wrongKnown = join(work, 'known_hosts.wrong');
  writeFileSync(wrongKnown, `${fleet.hosts[1]!.name},${fleet.hosts[1]!.ip} ${keys[0]}\n`);
  const wrongConfig = join(work, 'ssh_config.wrong');
  writeFileSync(wrongConfig, readFileSync(fleet.sshConfigPath, 'utf8').replaceAll(fleet.knownHostsPath, wrongKnown));
  const refused = await ssh(fleet.hosts[1]!.name, 'hostname', wrongConfig);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
});

test.serial('a file written on one host is absent on the others and on the controller', async (t) => {
  const path = `/etc/rig-isolation-probe-${process.pid}`;
  const w = await ssh('worker1', `echo 'only on worker1 $x "q"' > ${path} && cat ${path}`);
  t.is(w.stdout, 'only on worker1 $x "q"\n', w.stderr);
  for (const h of fleet.hosts.filter((x) => x.name !== 'worker1')) {
    const r = await execInHost(fleet, h.name, ['test', '-e', path]);
    t.is(r.exitCode, 1, `${h.name} sees ${path}`);
  }
  t.false(existsSync(path), 'the controller sees it');
  t.true(existsSync(join(fleet.hosts[1]!.upperDir, path)), 'it is in worker1\'s upper dir');
  // /srv and /var too, and each host has its own /root, pid namespace and view of the fleet dir
  await execInHost(fleet, 'worker2', ['sh', '-c', 'mkdir -p /srv/probe && echo x > /srv/probe/f && echo y > /var/lib/probe-f']);
  t.is((await execInHost(fleet, 'worker3', ['sh', '-c', 'ls /srv/probe /var/lib/probe-f 2>/dev/null | wc -l'])).stdout.trim(), '0');
  t.is((await execInHost(fleet, 'worker3', ['ls', '-A', '/root'])).stdout.split('\n').filter(Boolean).sort().join(' '), '.bashrc .profile .ssh');
  t.is((await execInHost(fleet, 'worker3', ['ls', '-A', fleet.dir])).stdout, '', 'the fleet dir looks empty inside a host');
  t.is((await execInHost(fleet, 'worker3', ['sh', '-c', 'ls /etc/ssh/ | grep -c ssh_host_'])).stdout.trim(), '2', 'only its own ed25519 host key');
  const ps = await execInHost(fleet, 'worker3', ['ps', '-eo', 'pid,comm']);
  t.regex(ps.stdout, /^\s*1 tini$/m);
  t.notRegex(ps.stdout, /kube-apiserver/);
});

test.serial('seeded state: flag files and /srv/kubernetes exactly as kube-up.sh left them', async (t) => {
  const m = master();
  const api = (await execInHost(fleet, m.name, ['cat', '/etc/default/kube-apiserver'])).stdout;
  t.true(api.startsWith('KUBE_APISERVER_OPTS=" --insecure-bind-address=0.0.0.0 --insecure-port=8080 --etcd-servers=http://127.0.0.1:4001'));
  t.true(api.includes(`--advertise-address=${m.ip} --client-ca-file=/srv/kubernetes/ca.crt`));
  const kubelet = (await execInHost(fleet, 'worker2', ['cat', '/etc/default/kubelet'])).stdout;
  t.is(kubelet, `KUBELET_OPTS=" --hostname-override=10.213.11.13  --api-servers=http://${m.ip}:8080 --logtostderr=true  --cluster-dns=192.168.3.10  --cluster-domain=cluster.local  --config=  "\n`);
  t.is((await execInHost(fleet, 'worker2', ['cat', '/etc/default/kube-proxy'])).stdout,
    `KUBE_PROXY_OPTS=" --hostname-override=10.213.11.13  --master=http://${m.ip}:8080 --logtostderr=true  "\n`);
  t.is((await execInHost(fleet, 'worker2', ['test', '-e', '/etc/default/kube-apiserver'])).exitCode, 1);
  t.is((await execInHost(fleet, m.name, ['ls', '/srv/kubernetes'])).stdout, 'ca.crt\nkubecfg.crt\nkubecfg.key\nserver.cert\nserver.key\n');
  const caOnController = join(fleet.seedCaDir, 'ca.crt');
  t.is((await execInHost(fleet, m.name, ['cat', '/srv/kubernetes/ca.crt'])).stdout, readFileSync(caOnController, 'utf8'));
  t.is((await execInHost(fleet, m.name, ['sh', '-c', 'ls /srv/kubernetes /etc /root | grep -c "^ca.key$"'])).stdout.trim(), '0', 'the CA key is not on the host');
  const server = join(work, 'server.cert');
  writeFileSync(server, (await execInHost(fleet, m.name, ['cat', '/srv/kubernetes/server.cert'])).stdout);
  t.regex(execFileSync('openssl', ['verify', '-CAfile', caOnController, server]).toString(), /: OK/);
  const text = execFileSync('openssl', ['x509', '-in', server, '-noout', '-text']).toString();
  t.true(text.includes(`IP Address:${m.ip}`) && text.includes('DNS:master1'), text);
});

test.serial('seeded stand-ins: the workers\' kubelets get 200s from http://<master>:8080', async (t) => {
  const m = master();
  for (const w of fleet.hosts.filter((h) => h.role === 'worker')) {
    const line = await waitForLogLine(fleet, w.name, '/var/log/kubelet.log', new RegExp(`GET http://${m.ip.replace(/\./g, '\\.')}:8080/version status=200`), 20_000);
    t.regex(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    await waitForLogLine(fleet, w.name, '/var/log/kube-proxy.log', /status=200/, 20_000);
  }
  // one line per attempt, every ~2 s
  const before = await countLogLines(fleet, 'worker1', '/var/log/kubelet.log');
  await new Promise((r) => setTimeout(r, 4_500));
  const grown = (await countLogLines(fleet, 'worker1', '/var/log/kubelet.log')) - before;
  t.true(grown >= 2 && grown <= 3, `kubelet logged ${grown} lines in 4.5 s`);
  t.is((await execInHost(fleet, 'worker1', ['service', 'kubelet', 'status'])).exitCode, 0);
  t.is((await execInHost(fleet, 'worker1', ['service', 'kube-apiserver', 'status'])).exitCode !== 0, true);
});

test.serial('secure port: 401 without a client cert, 200 with one signed by the seed CA, 401 with a foreign CA', async (t) => {
  const m = master();
  const ca = join(fleet.seedCaDir, 'ca.crt');
  const caKey = join(fleet.seedCaDir, 'ca.key');
  const mk = (name: string, signer: [string, string] | 'self') => {
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, `${name}.key`), '-subj', `/O=system:nodes/CN=${name}`, '-out', join(work, `${name}.csr`)], { stdio: 'ignore' });
    if (signer === 'self') execFileSync('openssl', ['x509', '-req', '-in', join(work, `${name}.csr`), '-key', join(work, `${name}.key`), '-days', '2', '-out', join(work, `${name}.crt`)], { stdio: 'ignore' });
    else execFileSync('openssl', ['x509', '-req', '-in', join(work, `${name}.csr`), '-CA', signer[0], '-CAkey', signer[1], '-CAcreateserial', '-days', '2', '-out', join(work, `${name}.crt`)], { stdio: 'ignore' });
    return { cert: readFileSync(join(work, `${name}.crt`), 'utf8'), key: readFileSync(join(work, `${name}.key`), 'utf8') };
  };
  const good = mk('system:node:test-client', [ca, caKey]);
  const foreign = mk('intruder', 'self');
  const w = 'worker2';
  await execInHost(fleet, w, ['sh', '-c', 'umask 077; mkdir -p /tmp/c && cat > /tmp/c/good.crt'], good.cert);
  await execInHost(fleet, w, ['sh', '-c', 'cat > /tmp/c/good.key'], good.key);
  await execInHost(fleet, w, ['sh', '-c', 'cat > /tmp/c/bad.crt'], foreign.cert);
  await execInHost(fleet, w, ['sh', '-c', 'cat > /tmp/c/bad.key'], foreign.key);
  await execInHost(fleet, w, ['sh', '-c', 'cat > /tmp/c/ca.crt'], readFileSync(ca, 'utf8'));
  const curl = async (...extra: string[]) => (await execInHost(fleet, w, ['curl', '-s', '-o', '/tmp/c/body', '-w', '%{http_code}', '--max-time', '5',
    '--cacert', '/tmp/c/ca.crt', ...extra, `https://${m.ip}:6443/version`])).stdout;
  t.is(await curl(), '401');
  const body = JSON.parse((await execInHost(fleet, w, ['cat', '/tmp/c/body'])).stdout) as { kind: string; code: number };
  t.deepEqual([body.kind, body.code], ['Status', 401]);
  t.is(await curl('--cert', '/tmp/c/good.crt', '--key', '/tmp/c/good.key'), '200');
  t.regex((await execInHost(fleet, w, ['cat', '/tmp/c/body'])).stdout, /"gitVersion": "v1\.3\.0-rig-standin"/);
  t.is(await curl('--cert', '/tmp/c/bad.crt', '--key', '/tmp/c/bad.key'), '401');
  await waitForLogLine(fleet, m.name, '/var/log/kube-apiserver.log', /https GET \/version user=system:node:test-client status=200 remote=10\.213\.11\.13/, 5_000);
  t.pass();
});

test.serial('status reports every host running with ssh answering', async (t) => {
  const s = await statusFleet({ id: FLEET_ID });
  t.true(s.bridge);
  t.deepEqual(s.hosts.map((h) => [h.name, h.running, h.ssh]), fleet.hosts.map((h) => [h.name, true, true]));
});

test.serial('up again on the same id: leftovers torn down, fresh hosts, same host keys', async (t) => {
  const known = readFileSync(fleet.knownHostsPath, 'utf8');
  const oldPids = fleet.hosts.map((h) => h.initPid);
  const again = await upFleet({ size: 4, id: FLEET_ID });
  t.is(readFileSync(again.knownHostsPath, 'utf8'), known);
  for (const pid of oldPids) t.false(existsSync(`/proc/${pid}/root/run/rig-fleet-ready`), `old init ${pid} still alive`);
  fleet = again;
  const answers = await Promise.all(fleet.hosts.map((h) => ssh(h.name, 'hostname; test -e /etc/rig-isolation-probe-* && echo stale || echo fresh')));
  t.deepEqual(answers.map((a) => a.stdout.trim().split('\n')), fleet.hosts.map((h) => [h.name, 'fresh']));
});

test.serial('down leaves nothing: no netns, links, bridge, mounts, processes or upper dirs', async (t) => {
  const pids = fleet.hosts.map((h) => h.initPid);
  await downFleet({ id: FLEET_ID });
  t.false((await sh('ip', ['netns', 'list'])).stdout.includes('rig11-'));
  const links = (await sh('ip', ['-o', 'link', 'show'])).stdout;
  t.notRegex(links, /rigbr11\b|rv11h\d/);
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(fleet.dir));
  const live = (await sh('ps', ['-eo', 'pid=,stat=,args='])).stdout.split('\n')
    .filter((l) => /rig11-|10\.213\.11\./.test(l) && !/^\s*\d+\s+Z/.test(l));
  t.deepEqual(live, []);
  for (const pid of pids) t.false(existsSync(`/proc/${pid}/root/run/rig-fleet-ready`), `init ${pid} alive`);
  t.false(existsSync(join(fleet.dir, 'hosts')));
  t.deepEqual((await statusFleet({ id: FLEET_ID })).hosts, []);
  // a second down is harmless
  await downFleet({ id: FLEET_ID });
  t.pass();
});

test('without root: a clear FleetError and no traces', async (t) => {
  const r = await sh('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '--import=tsx',
    join(import.meta.dirname, '../fleet/fleet.ts'), 'up', '1', '--id', '13', '--dir', join(work, 'nonroot')]);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stderr, /error \[FLEET\]: the fleet needs root/);
  t.false((await sh('ip', ['netns', 'list'])).stdout.includes('rig13-'));
});
