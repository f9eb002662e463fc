/**
 * Pure parts of the fleet: layout, client files, seeded host files, and the stand-ins' flag-file and kubeconfig
 * parsers (plain JS modules that run inside the hosts), with hostile input.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderInventory, renderKnownHosts, renderSshConfig } from './fleet-files.ts';
import { layoutFleet, nameHost } from './fleet-layout.ts';
import { buildHostFiles, renderInitScript, renderKubeDefaults } from './seed-host.ts';

interface FlagsModule {
  readShellAssignment(text: string, name: string): string | undefined;
  parseFlags(words: string[]): { flags: Map<string, string>; problems: string[] };
}
interface KubeconfigModule {
  readKubeconfigFields(text: string): Record<'server' | 'ca' | 'caData' | 'cert' | 'certData' | 'key' | 'keyData', string | undefined>;
}
const standin = (f: string) => new URL(`./standins/${f}`, import.meta.url).href;
const flagsModule = import(standin('flags.mjs')) as Promise<FlagsModule>;
const kubeconfigModule = import(standin('kubeconfig.mjs')) as Promise<KubeconfigModule>;

test('layout: names, addresses, namespaces and veths are distinct per id and fit Linux limits', (t) => {
  const a = layoutFleet(7, 3);
  t.deepEqual(a.hosts.map((h) => [h.name, h.ip, h.netns, h.veth, h.role]), [
    ['master1', '10.213.7.11', 'rig7-master1', 'rv7h1', 'master'],
    ['worker1', '10.213.7.12', 'rig7-worker1', 'rv7h2', 'worker'],
    ['worker2', '10.213.7.13', 'rig7-worker2', 'rv7h3', 'worker'],
  ]);
  t.is(a.controllerIp, '10.213.7.1');
  t.is(a.bridge, 'rigbr7');
  const big = layoutFleet(200, 200);
  t.is(big.hosts.at(-1)!.ip, '10.213.200.210');
  t.true(big.hosts.every((h) => h.veth.length <= 15) && big.bridge.length <= 15);
  t.is(new Set(big.hosts.map((h) => h.ip)).size, 200);
  t.is(nameHost(12), 'worker11');
});

test('inventory, ssh_config and known_hosts', (t) => {
  const hosts = layoutFleet(3, 3).hosts;
  const key = '/tmp/dir with space/id_ed25519';
  const inv = parse(renderInventory(hosts, key)) as { all: { children: Record<string, { hosts: Record<string, Record<string, string>> }> } };
  t.deepEqual(Object.keys(inv.all.children.masters!.hosts), ['master1']);
  t.deepEqual(Object.keys(inv.all.children.workers!.hosts), ['worker1', 'worker2']);
  t.deepEqual(inv.all.children.workers!.hosts.worker2, { ansible_host: '10.213.3.13', ansible_user: 'root', ansible_ssh_private_key_file: key });
  const cfg = renderSshConfig(hosts, key, '/k/known_hosts');
  t.regex(cfg, /^Host worker1\n  HostName 10\.213\.3\.12\n/m);
  t.regex(cfg, /IdentityFile "\/tmp\/dir with space\/id_ed25519"/);
  for (const opt of ['User root', 'IdentitiesOnly yes', 'UserKnownHostsFile /k/known_hosts', 'StrictHostKeyChecking yes', 'BatchMode yes']) t.true(cfg.includes(`  ${opt}\n`), opt);
  // ssh itself reads it: the real client resolves a host through the generated config
  const dir = mkdtempSync(join(tmpdir(), 'rig-fleet-cfg-'));
  writeFileSync(join(dir, 'ssh_config'), cfg);
  const g = execFileSync('ssh', ['-G', '-F', join(dir, 'ssh_config'), 'worker2'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  t.regex(g, /^hostname 10\.213\.3\.13$/m);
  t.regex(g, /^stricthostkeychecking true$/m);
  t.regex(g, /^user root$/m);
  const known = renderKnownHosts(hosts, ['ssh-ed25519 AAAA1 root@a\n', 'ssh-ed25519 AAAA2', 'ssh-ed25519 AAAA3 c']);
  t.is(known, 'master1,10.213.3.11 ssh-ed25519 AAAA1\nworker1,10.213.3.12 ssh-ed25519 AAAA2\nworker2,10.213.3.13 ssh-ed25519 AAAA3\n');
});

test('seeded flag files are exactly the kube-up.sh ones; seed modes decide what a host gets', (t) => {
  const [m, w] = layoutFleet(4, 2).hosts as [ReturnType<typeof layoutFleet>['hosts'][number], ReturnType<typeof layoutFleet>['hosts'][number]];
  const files = renderKubeDefaults(w, m);
  t.deepEqual([...files.keys()], ['/etc/default/kubelet', '/etc/default/kube-proxy']);
  t.is(files.get('/etc/default/kubelet'), 'KUBELET_OPTS=" --hostname-override=10.213.4.12  --api-servers=http://10.213.4.11:8080 --logtostderr=true  --cluster-dns=192.168.3.10  --cluster-domain=cluster.local  --config=  "\n');
  t.true(renderKubeDefaults(m, m).get('/etc/default/kube-apiserver')!.includes('--advertise-address=10.213.4.11 --client-ca-file=/srv/kubernetes/ca.crt --tls-cert-file=/srv/kubernetes/server.cert --tls-private-key-file=/srv/kubernetes/server.key"'));
  const pki = { caCrt: 'CA', serverCert: 'SC', serverKey: 'SK', kubecfgCrt: 'KC', kubecfgKey: 'KK' };
  const base = { master: m, allHosts: [m, w], hostKey: { private: 'PRIV', public: 'PUB' }, pki, standins: new Map([['kube-agent.mjs', '//']]) };
  const paths = (mode: 'none' | 'files' | 'full', host = m) => buildHostFiles({ ...base, host, mode }).map((f) => f.path);
  t.false(paths('none').some((p) => p.startsWith('/etc/default') || p.startsWith('/srv')));
  t.true(paths('files').includes('/srv/kubernetes/server.key'));
  t.false(paths('files', w).some((p) => p.startsWith('/srv')));
  t.true(paths('files', w).includes('/etc/init.d/kubelet'));
  const boot = (mode: 'files' | 'full') => buildHostFiles({ ...base, host: m, mode }).find((f) => f.path.endsWith('boot.sh'))!.content as string;
  t.notRegex(boot('files'), /service kube/);
  t.regex(boot('full'), /service kube-apiserver start.*\nservice kubelet start.*\nservice kube-proxy start/);
  const key = buildHostFiles({ ...base, host: w, mode: 'full' }).find((f) => f.path === '/srv/kubernetes/server.key');
  t.is(key, undefined);
  t.is(buildHostFiles({ ...base, host: m, mode: 'full' }).find((f) => f.path === '/srv/kubernetes/server.key')!.mode, 0o600);
});

test('init scripts are valid sh and answer usage errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-initd-'));
  for (const s of ['kube-apiserver', 'kubelet', 'kube-proxy'] as const) {
    const f = join(dir, s);
    writeFileSync(f, renderInitScript(s));
    execFileSync('sh', ['-n', f]);
    const r = (() => { try { execFileSync('sh', [f, 'bogus'], { stdio: 'pipe' }); return ''; } catch (e) { return String((e as { stderr: Buffer }).stderr); } })();
    t.regex(r, new RegExp(`Usage: /etc/init.d/${s} \\{start\\|stop\\|restart\\|force-reload\\|status\\}`));
  }
  t.regex(renderInitScript('kube-proxy'), /--exec "\$DAEMON" -- \/usr\/local\/lib\/rig-standins\/kube-agent\.mjs kube-proxy/);
});

test('stand-in flag files: shell quoting, last assignment wins, --k=v / --k v / bare flags', async (t) => {
  const { readShellAssignment, parseFlags } = await flagsModule;
  t.is(readShellAssignment('KUBELET_OPTS=" --a=1  --b 2 "\n', 'KUBELET_OPTS'), ' --a=1  --b 2 ');
  t.is(readShellAssignment('X="1"\nexport X=\'it is $HOME\'\n', 'X'), 'it is $HOME');
  t.is(readShellAssignment('X="a \\"q\\" \\$y \\\\ ü"  # comment', 'X'), 'a "q" $y \\ ü');
  t.is(readShellAssignment('X=bare\\ word tail', 'X'), 'bare word');
  t.is(readShellAssignment('#X="commented"\nXY="other"', 'X'), undefined);
  t.is(readShellAssignment('X=" --a=1\n  --b=2 \\\n--c"\nY=1', 'X'), ' --a=1\n  --b=2 --c');
  t.is(readShellAssignment('X=#not-a-comment', 'X'), '#not-a-comment');
  t.is(readShellAssignment('X="unterminated', 'X'), 'unterminated');
  const p = parseFlags(['--a=1', '--b', '2', '--c', '--d=', '-e=x=y', 'stray', '--f=sp ace']);
  t.deepEqual([...p.flags], [['a', '1'], ['b', '2'], ['c', 'true'], ['d', ''], ['e', 'x=y'], ['f', 'sp ace']]);
  t.deepEqual(p.problems, ['ignoring argument "stray" (not a flag)']);
});

test('stand-in kubeconfig reader: the standard layout, quoted values, -data fields, users after clusters', async (t) => {
  const { readKubeconfigFields } = await kubeconfigModule;
  const text = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: "/srv/kubernetes/ca.crt"
    server: https://10.213.1.11:6443
  name: rig
contexts:
- context:
    cluster: rig
    user: kubelet
  name: rig
current-context: rig
users:
- name: kubelet
  user:
    client-certificate: '/srv/kube''s dir/kubelet.crt'
    client-key-data: QUJD
`;
  t.deepEqual(readKubeconfigFields(text), {
    server: 'https://10.213.1.11:6443', ca: '/srv/kubernetes/ca.crt', caData: undefined,
    cert: "/srv/kube's dir/kubelet.crt", certData: undefined, key: undefined, keyData: 'QUJD',
  });
  t.deepEqual(readKubeconfigFields('garbage: [\n'), { server: undefined, ca: undefined, caData: undefined, cert: undefined, certData: undefined, key: undefined, keyData: undefined });
});
