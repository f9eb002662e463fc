/**
 * Issue 3: ansible-inventory (Debian's ansible, installed by .ci/run) is the oracle. On the same fixtures —
 * every INI and YAML construct, a directory source, a kubespray-style inventory and the fleet's generated
 * inventory — `rig inventory --list` gives the same JSON, `--graph` the same tree, and host patterns select the
 * hosts Ansible selects.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadInventory } from '../../src/inventory/load-inventory.ts';
import { renderInventory } from '../fleet/fleet-files.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const run = promisify(execFile);
const FIX = join(PROJECT_ROOT, 'test', 'fixtures', 'inventories');
const ANSIBLE_ENV = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_LOCALHOST_WARNING: 'False' };

function fleetInventory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rig-inv-fleet-'));
  const hosts = Array.from({ length: 12 }, (_, i) => ({ name: i === 0 ? 'master1' : `worker${i}`, ip: `10.213.99.${10 + i}`, role: (i === 0 ? 'master' : 'worker') as 'master' | 'worker' }));
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, renderInventory(hosts as never, '/root/.fleet/id_ed25519'));
  return file;
}

const SOURCES: Array<[string, () => string]> = [
  ['INI constructs', () => join(FIX, 'ini-constructs', 'hosts.ini')],
  ['YAML constructs', () => join(FIX, 'yaml-constructs', 'hosts.yml')],
  ['directory source', () => join(FIX, 'dir-source')],
  ['kubespray-style sample', () => join(PROJECT_ROOT, 'inventory', 'kubespray-sample', 'inventory.ini')],
  ['fleet inventory', fleetInventory],
];

const PATTERNS: Record<string, string[]> = {
  'INI constructs': ['all', 'masters', 'k8s_cluster:&etcd', 'k8s_cluster:!etcd', 'node0*', '~node-[ab]', 'workers,etcd', 'masters:etcd:!master1', 'ungrouped', 'edge.example.com', 'wörker-ünïcode', 'all:!k8s_cluster'],
  'YAML constructs': ['all', 'k8s_cluster:!masters', 'node*:&workers', '~^master[12]$', 'spaced host', 'unicode_ñame', 'ungrouped'],
  'directory source': ['lb', 'edge:!edge2', 'edge*'],
  'kubespray-style sample': ['k8s_cluster', 'kube_control_plane:&etcd', 'kube_node:!node5', 'all:!bastion', 'etcd,kube_node'],
  'fleet inventory': ['masters', 'workers', 'workers:!worker1', 'worker1*', '~worker[2-4]$', 'all:&workers:!worker1[01]', 'workers:!~worker[1-5]$', 'workers[1:3]:&~worker[23]', 'workers[0]', 'workers[1:3]', 'workers[-1]', 'workers[2:]:!worker5', 'worker1[1]'],
};

async function ansibleInventory(source: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('ansible-inventory', ['-i', source, ...args], { env: ANSIBLE_ENV, maxBuffer: 1 << 24 });
  return stdout;
}

async function ansibleListHosts(source: string, pattern: string): Promise<string[]> {
  const { stdout } = await run('ansible', ['-i', source, pattern, '--list-hosts'], { env: ANSIBLE_ENV, maxBuffer: 1 << 24 });
  return stdout.split('\n').slice(1).map((l) => l.trim()).filter(Boolean).sort();
}

for (const [name, source] of SOURCES) {
  test(`${name}: rig inventory --list and --graph equal ansible-inventory's`, async (t) => {
    const src = source();
    const [ansList, ansGraph] = await Promise.all([ansibleInventory(src, '--list'), ansibleInventory(src, '--graph')]);
    const rigList = await runRig(['inventory', '-i', src, '--list', '--show-secrets']);
    t.is(rigList.code, 0, rigList.stderr);
    t.deepEqual(JSON.parse(rigList.stdout), JSON.parse(ansList));
    const rigGraph = await runRig(['inventory', '-i', src, '--graph']);
    t.is(rigGraph.stdout.trimEnd(), ansGraph.trimEnd());
    // one host's merged vars (--host) too, for the first host with variables
    const first = Object.keys((JSON.parse(ansList) as { _meta: { hostvars: Record<string, unknown> } })._meta.hostvars)[0]!;
    const rigHost = await runRig(['inventory', '-i', src, '--host', first, '--show-secrets']);
    t.deepEqual(JSON.parse(rigHost.stdout), JSON.parse(await ansibleInventory(src, '--host', first)));
  });

  test(`${name}: host patterns select what Ansible selects`, async (t) => {
    const src = source();
    const inv = await loadInventory(src);
    for (const pattern of PATTERNS[name]!) {
      const expected = await ansibleListHosts(src, pattern);
      let ours: string[];
      try { ours = inv.selectHosts(pattern).map((h) => h.name).sort(); } catch { ours = []; }
      t.deepEqual(ours, expected, `pattern ${pattern}`);
    }
  });
}

test('--limit restricts --list, --graph and --host; a pattern matching nothing is an error naming the hosts', async (t) => {
  const src = join(FIX, 'ini-constructs', 'hosts.ini');
  const list = JSON.parse((await runRig(['inventory', '-i', src, '--list', '--limit', 'etcd'])).stdout) as Record<string, { hosts?: string[] }>;
  t.deepEqual(list['etcd']!.hosts, ['master1', 'master2']);
  t.deepEqual(Object.keys((list['_meta'] as unknown as { hostvars: object }).hostvars).sort(), ['master1', 'master2']);
  t.is(list['workers'], undefined);
  const graph = await runRig(['inventory', '-i', src, '--graph', '--limit', 'node-a']);
  t.regex(graph.stdout, /\|--node-a\n/);
  t.notRegex(graph.stdout, /node01/);
  const none = await runRig(['inventory', '-i', src, '--list', '--limit', 'nope*']);
  t.is(none.code, 1);
  t.regex(none.stderr, /error\[PATTERN\]: pattern "nope\*" matches no host[^]*hosts: ungrouped-box, master1/);
  const outside = await runRig(['inventory', '-i', src, '--host', 'node01', '--limit', 'masters']);
  t.is(outside.code, 1);
});
