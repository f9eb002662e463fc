/**
 * Issue 17 end to end on the fleet, with the real CNI plugins (Debian's containernetworking-plugins: bridge,
 * host-local) and a stand-in Galaxy plugin (test/fleet/standins/galaxy-sdn.mjs) driven by `kubelet-sandbox`, which
 * creates pod sandboxes the way kubelet's CNI code does (test/fleet/cni-standins.ts).
 * - worker1, worker2: as after an Istio CNI install and uninstall — 00-galaxy.conflist with cniVersion 0.3.1 around the
 *   Galaxy entry (worker1's entry keeps its pre-Istio 0.2.0; worker2's has none and still holds Istio's entry); the
 *   plugin supports 0.1.0/0.2.0, so a new pod fails with the version error. worker3's plugin supports 0.3.1: left
 *   alone. master1 has no CNI config: skipped with its reason.
 * - `rig plan` shows the new conf and the removal per node; `rig apply` repairs; a new sandbox gets an IP from the real
 *   bridge plugin; `rig plan` exits 0; `rig rollback` puts the conflists back byte for byte and pods fail again.
 * - The guard (cni_mode=check) on a healthy fleet with a proposed 0.3.1 chained conflist fails exactly the nodes whose
 *   plugin would refuse it (CNI_WOULD_BREAK, in the text and in --json) and changes nothing, with `rig apply` too.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { createPodSandbox, installCniStandins } from '../fleet/cni-standins.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 53;
const DIR = '/etc/cni/net.d';
const CONF = `${DIR}/00-galaxy.conf`;
const CONFLIST = `${DIR}/00-galaxy.conflist`;
const WORKERS = ['worker1', 'worker2', 'worker3'] as const;
const BROKEN = ['worker1', 'worker2'] as const;
const VERSION_ERROR = 'plugin galaxy-sdn does not support config version "0.3.1"';
let fleet: Fleet;
let work: string;

const galaxyEntry = (n: number, withVersion: boolean): Record<string, unknown> => ({
  ...(withVersion ? { cniVersion: '0.2.0', name: 'galaxy-sdn' } : {}),
  type: 'galaxy-sdn', bridge: 'cni0', isGateway: false, ipMasq: false,
  ipam: { type: 'host-local', subnet: `10.244.${n}.0/24`, dataDir: '/var/lib/cni/networks' },
});
/** What Istio CNI's chained mode left after its uninstall (worker2: the uninstall did not even remove its entry). */
const LEFT_BY_ISTIO: Record<string, string> = {
  worker1: `${JSON.stringify({ cniVersion: '0.3.1', name: 'k8s-pod-network', plugins: [galaxyEntry(1, true)] }, null, 2)}\n`,
  worker2: `{"cniVersion":"0.3.1","name":"k8s-pod-network","plugins":[${JSON.stringify(galaxyEntry(2, false))},{"type":"istio-cni","log_level":"info","kubernetes":{"kubeconfig":"/etc/cni/net.d/ZZZ-istio-cni-kubeconfig"}}]}`,
  worker3: `${JSON.stringify({ cniVersion: '0.3.1', name: 'k8s-pod-network', plugins: [galaxyEntry(3, true)] }, null, 2)}\n`,
};

/** A stand-in kubectl on master1: the "cluster" is /var/lib/kubectl-stub/{pods,events}.json; every call is logged;
 *  `delete pod -n NS NAME` removes the pod. */
const KUBECTL_STUB = `#!/usr/bin/env node
const fs = require('node:fs');
const d = '/var/lib/kubectl-stub';
const a = process.argv.slice(2);
fs.appendFileSync(d + '/calls.log', a.join(' ') + '\\n');
const i = a[0] === '--kubeconfig' ? 2 : 0;
if (!fs.existsSync(a[1])) { process.stderr.write('no kubeconfig\\n'); process.exit(1); }
if (a[i] === 'get') { process.stdout.write(fs.readFileSync(d + '/' + a[i + 1] + '.json')); process.exit(0); }
if (a[i] === 'delete' && a[i + 1] === 'pod') {
  const pods = JSON.parse(fs.readFileSync(d + '/pods.json', 'utf8'));
  pods.items = pods.items.filter((p) => !(p.metadata.namespace === a[i + 3] && p.metadata.name === a[i + 4]));
  fs.writeFileSync(d + '/pods.json', JSON.stringify(pods));
  process.exit(0);
}
process.exit(2);
`;
const pod = (ns: string, name: string, phase: string, waiting?: string) => ({
  metadata: { namespace: ns, name }, status: { phase, containerStatuses: [{ name: 'c', state: waiting ? { waiting: { reason: waiting } } : { running: {} } }] },
});
const event = (ns: string, name: string, message: string) => ({ involvedObject: { kind: 'Pod', namespace: ns, name }, reason: 'FailedCreatePodSandBox', message });
const PODS = { items: [pod('default', 'web-1', 'Pending', 'ContainerCreating'), pod('kube-system', 'dns-2', 'Pending', 'ContainerCreating'), pod('default', 'ok-3', 'Running'), pod('default', 'pull-4', 'Pending', 'ContainerCreating')] };
const EVENTS = { items: [
  event('default', 'web-1', `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up sandbox container network: ${VERSION_ERROR}`),
  event('kube-system', 'dns-2', `Failed to create pod sandbox: ${VERSION_ERROR}`),
  event('default', 'pull-4', 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to pull image "pause:3.9"'),
] };

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-cni-'));
  for (const w of WORKERS) {
    await installCniStandins(fleet, w, w === 'worker3' ? { supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1'] } : {});
    await write(w, CONFLIST, LEFT_BY_ISTIO[w]!);
  }
  await execInHost(fleet, 'master1', ['mkdir', '-p', '/var/lib/kubectl-stub', '/root/.kube']);
  await write('master1', '/usr/local/bin/kubectl-stub', KUBECTL_STUB);
  await execInHost(fleet, 'master1', ['chmod', '755', '/usr/local/bin/kubectl-stub']);
  await write('master1', '/root/.kube/config', 'apiVersion: v1\nkind: Config\n');
  await write('master1', '/var/lib/kubectl-stub/pods.json', JSON.stringify(PODS));
  await write('master1', '/var/lib/kubectl-stub/events.json', JSON.stringify(EVENTS));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

async function write(host: string, path: string, content: string): Promise<void> {
  const r = await execInHost(fleet, host, ['sh', '-c', 'cat > "$1"', 'sh', path], content);
  if (r.exitCode !== 0) throw new Error(`${host}: writing ${path}: ${r.stderr}`);
}
/** The file's content, or undefined when it is absent. */
async function read(host: string, path: string): Promise<string | undefined> {
  const r = await execInHost(fleet, host, ['sh', '-c', '[ -e "$1" ] || exit 3; cat "$1"', 'sh', path]);
  return r.exitCode === 3 ? undefined : r.stdout;
}
const listing = async (host: string): Promise<string> => (await execInHost(fleet, host, ['sh', '-c', `ls -la --time-style=+ ${DIR} 2>&1; sha256sum ${DIR}/* 2>&1`])).stdout;

const common = (...extra: string[]): string[] => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state'), '-e', 'cni_kubectl=/usr/local/bin/kubectl-stub', ...extra];
const playbook = 'playbooks/cni-galaxy-repair.ts';
let sandboxes = 0;
const sandbox = (host: string) => createPodSandbox(fleet, host, `pod${++sandboxes}`);

test.serial('repair: plan shows the conf and removal per node, apply makes pods start, rollback breaks them again', async (t) => {
  for (const w of BROKEN) {
    const s = await sandbox(w);
    t.false(s.ok, s.text);
    t.true(s.text.includes(VERSION_ERROR), s.text);
  }
  const healthy = await sandbox('worker3');
  t.true(healthy.ok, healthy.text);

  const before = new Map<string, string>();
  for (const h of ['master1', ...WORKERS]) before.set(h, await listing(h));

  const plan = await runRig(['plan', ...common(), playbook]);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /Plan: 6 changes on 3 of 4 hosts/);
  for (const w of BROKEN) {
    const section = hostSection(plan.stdout, w);
    t.regex(section, /plugin galaxy-sdn supports 0\.1\.0, 0\.2\.0, not 0\.3\.1: plugins\[0\] as a \.conf with cniVersion 0\.2\.0/);
    t.regex(section, /create \/etc\/cni\/net\.d\/00-galaxy\.conf[^]*\+\s+"cniVersion": "0\.2\.0",\n\s+\+\s+"name": "/);
    t.regex(section, /remove \/etc\/cni\/net\.d\/00-galaxy\.conflist/);
  }
  t.regex(hostSection(plan.stdout, 'worker2'), /Istio's entry dropped/);
  t.regex(hostSection(plan.stdout, 'worker3'), /no changes[^]*= .*plugin galaxy-sdn supports cniVersion 0\.3\.1 of \/etc\/cni\/net\.d\/00-galaxy\.conflist: left alone/);
  const master = hostSection(plan.stdout, 'master1');
  t.regex(master, /run \/usr\/local\/bin\/kubectl-stub --kubeconfig \/root\/\.kube\/config delete pod -n default web-1 --wait=false/);
  t.regex(master, /kube-system\/dns-2 stuck in ContainerCreating: Failed to create pod sandbox: plugin galaxy-sdn does not support/);
  t.false(master.includes('pull-4'), 'a pod stuck for another reason is left alone');
  t.false(master.includes('ok-3'));
  t.regex(hostSection(plan.stdout, 'master1'), /neither \/etc\/cni\/net\.d\/00-galaxy\.conf nor \/etc\/cni\/net\.d\/00-galaxy\.conflist: not a node with this CNI config, skipped/);
  for (const h of ['master1', ...WORKERS]) t.is(await listing(h), before.get(h) ?? "(not listed)", `${h}: plan changed nothing`);

  const apply = await runRig(['apply', ...common(), playbook], { timeoutMs: 180_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  for (const [w, name] of [['worker1', 'galaxy-sdn'], ['worker2', 'k8s-pod-network']] as const) {
    const conf = await read(w, CONF);
    const entry = (JSON.parse(LEFT_BY_ISTIO[w]!) as { plugins: Array<Record<string, unknown>> }).plugins[0]!;
    const { cniVersion: _v, name: _n, ...rest } = entry;
    t.deepEqual(JSON.parse(conf ?? 'null'), { cniVersion: '0.2.0', name, ...rest }, `${w}: the conf is plugins[0] at 0.2.0`);
    t.is(await read(w, CONFLIST), undefined, `${w}: conflist removed`);
    const s = await sandbox(w);
    t.true(s.ok, s.text);
    t.regex(s.text, new RegExp(`ready \\(00-galaxy\\.conf\\): ip 10\\.244\\.${w.slice(-1)}\\.\\d+/24`), s.text);
    const inNs = (await execInHost(fleet, w, ['ip', '-n', `pod${sandboxes}`, '-4', 'addr', 'show', 'eth0'])).stdout;
    t.regex(inNs, new RegExp(`inet 10\\.244\\.${w.slice(-1)}\\.\\d+/24`), 'the address is on the pod namespace\'s eth0 (real bridge plugin)');
  }
  // kubelet-sandbox picks the config as libcni does: the first .conf/.conflist/.json by name that loads.
  await write('worker1', `${DIR}/00-aaa.json`, '{ not json');
  await write('worker1', `${DIR}/99-later.conflist`, LEFT_BY_ISTIO['worker1']!);
  const picked = await sandbox('worker1');
  t.true(picked.ok && picked.text.includes('(00-galaxy.conf)'), picked.text);
  await execInHost(fleet, 'worker1', ['rm', '-f', `${DIR}/00-aaa.json`, `${DIR}/99-later.conflist`]);
  t.is(await read('worker3', CONFLIST), LEFT_BY_ISTIO['worker3'], 'worker3 untouched');
  t.is(await read('worker3', CONF), undefined);
  const calls = (await read('master1', '/var/lib/kubectl-stub/calls.log')) ?? '';
  t.deepEqual(calls.split('\n').filter((l) => l.includes('delete')).sort(), [
    '--kubeconfig /root/.kube/config delete pod -n default web-1 --wait=false', '--kubeconfig /root/.kube/config delete pod -n kube-system dns-2 --wait=false']);

  const converged = await runRig(['plan', ...common(), playbook]);
  t.is(converged.code, 0, converged.stdout + converged.stderr);

  const back = await runRig(['rollback', ...common()], { timeoutMs: 180_000 });
  t.is(back.code, 0, back.stdout + back.stderr);
  for (const w of BROKEN) {
    t.is(await read(w, CONFLIST), LEFT_BY_ISTIO[w], `${w}: conflist restored byte for byte`);
    t.is(await read(w, CONF), undefined, `${w}: conf removed`);
    const s = await sandbox(w);
    t.false(s.ok, s.text);
    t.true(s.text.includes(VERSION_ERROR), s.text);
  }
});

/** Healthy nodes: each worker has its 00-galaxy.conf at 0.2.0 and no conflist; worker3's plugin also does 0.3.1. */
async function makeHealthy(): Promise<void> {
  for (const [i, w] of WORKERS.entries()) {
    await execInHost(fleet, w, ['rm', '-f', CONFLIST]);
    await write(w, CONF, `${JSON.stringify({ ...galaxyEntry(i + 1, true), name: 'galaxy-sdn' }, null, 2)}\n`);
  }
}

test.serial('guard: a proposed 0.3.1 chained conflist fails exactly the nodes whose plugin would refuse it, changing nothing', async (t) => {
  await makeHealthy();
  for (const w of WORKERS) t.true((await sandbox(w)).ok, `${w} healthy`);
  const before = new Map<string, string>();
  for (const h of ['master1', ...WORKERS]) before.set(h, await listing(h));
  const check = ['-e', 'cni_mode=check', '-e', 'cni_proposed_conflist_file=test/fixtures/cni/istio-chained-0.3.1.conflist'];

  const plan = await runRig(['plan', '-v', ...common(...check), playbook]);
  t.is(plan.code, 1, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /Plan: 0 changes on 0 of 4 hosts, 2 failed/);
  for (const w of BROKEN) {
    t.regex(hostSection(plan.stdout, w), /FAILED \[CNI_WOULD_BREAK\][^\n]*pods would stop being created on this node with [^\n]*istio-chained-0\.3\.1\.conflist: plugin galaxy-sdn supports 0\.1\.0, 0\.2\.0, not 0\.3\.1/);
  }
  t.regex(hostSection(plan.stdout, 'worker3'), /no changes[^]*galaxy-sdn supports cniVersion 0\.3\.1: pods keep being created/);
  t.regex(hostSection(plan.stdout, 'master1'), /no changes[^]*not a node with this CNI config, skipped/);

  const json = await runRig(['plan', '--json', ...common(...check), playbook]);
  t.is(json.code, 1, json.stderr);
  const hosts = (JSON.parse(json.stdout) as { plan: { hosts: Array<{ host: string; error?: { code: string; message: string } }> } }).plan.hosts;
  t.deepEqual(hosts.filter((h) => h.error).map((h) => [h.host, h.error!.code]).sort(), [['worker1', 'CNI_WOULD_BREAK'], ['worker2', 'CNI_WOULD_BREAK']]);
  for (const h of hosts.filter((x) => x.error)) t.true(h.error!.message.includes('does not support config version "0.3.1"'), h.error!.message);

  // Without a proposal: what Istio CNI's chained mode would make of each node's conf. Same verdict.
  const derived = await runRig(['plan', ...common('-e', 'cni_mode=check'), playbook]);
  t.is(derived.code, 1, derived.stdout + derived.stderr);
  t.regex(derived.stdout, /Plan: 0 changes on 0 of 4 hosts, 2 failed/);
  for (const w of BROKEN) t.regex(hostSection(derived.stdout, w), /CNI_WOULD_BREAK[^\n]*Istio CNI's chained mode \(cniVersion 0\.3\.1\): plugin galaxy-sdn supports 0\.1\.0, 0\.2\.0, not 0\.3\.1/);

  const bad = await runRig(['plan', ...common('-e', 'cni_mode=check', '-e', 'cni_proposed_conflist={"cniVersion":"0.3.1"'), playbook]);
  t.is(bad.code, 1, bad.stdout + bad.stderr);
  t.regex(bad.stdout + bad.stderr, /\[CNI\][^\n]*variable cni_proposed_conflist is not valid JSON/);

  const apply = await runRig(['apply', ...common(...check), playbook], { timeoutMs: 180_000 });
  t.is(apply.code, 1, apply.stdout + apply.stderr);
  for (const h of ['master1', ...WORKERS]) t.is(await listing(h), before.get(h) ?? "(not listed)", `${h}: the guard changed nothing`);
  for (const w of WORKERS) t.true((await sandbox(w)).ok, `${w} still healthy`);
});

test.serial('a malformed conflist or a plugin that does not answer VERSION fails that host with a clear message, untouched', async (t) => {
  // State after the guard test: every worker healthy with its conf. worker1 gets a truncated conflist, worker2's
  // plugin is replaced by one that crashes, worker3 gets the broken conflist and is repaired as usual.
  await write('worker1', CONFLIST, LEFT_BY_ISTIO['worker1']!.slice(0, 60));
  await execInHost(fleet, 'worker1', ['rm', '-f', CONF]);
  await write('worker2', CONFLIST, LEFT_BY_ISTIO['worker2']!);
  await execInHost(fleet, 'worker2', ['rm', '-f', CONF]);
  await execInHost(fleet, 'worker2', ['sh', '-c', 'mv /opt/cni/bin/galaxy-sdn /opt/cni/bin/galaxy-sdn.real && printf "#!/bin/sh\\necho panic: galaxy daemon socket missing >&2\\nexit 2\\n" > /opt/cni/bin/galaxy-sdn && chmod 755 /opt/cni/bin/galaxy-sdn']);
  await execInHost(fleet, 'worker3', ['sh', '-c', 'echo \'["0.1.0","0.2.0"]\' > /etc/galaxy-sdn/supported-versions']);
  await write('worker3', CONFLIST, LEFT_BY_ISTIO['worker3']!);
  await execInHost(fleet, 'worker3', ['rm', '-f', CONF]);
  const before = new Map<string, string>();
  for (const w of WORKERS) before.set(w, await listing(w));

  // rig applies nothing when planning fails on a host: every node stays as it was, the two say why.
  const apply = await runRig(['apply', ...common('-e', 'cni_delete_stuck_pods=false'), playbook], { timeoutMs: 180_000 });
  t.is(apply.code, 1, apply.stdout + apply.stderr);
  const out = apply.stdout + apply.stderr;
  t.regex(hostSection(out, 'worker1'), /FAILED \[CNI\][^\n]*\/etc\/cni\/net\.d\/00-galaxy\.conflist is not valid JSON/);
  t.regex(hostSection(out, 'worker2'), /FAILED \[CNI\][^\n]*plugin \/opt\/cni\/bin\/galaxy-sdn does not answer CNI_COMMAND=VERSION: exit 2: panic: galaxy daemon socket missing/);
  t.regex(out, /nothing applied: planning failed on worker1, worker2/);
  for (const w of WORKERS) t.is(await listing(w), before.get(w) ?? '(not listed)', `${w}: untouched`);

  // The operator repairs the rest with --limit; the two stay untouched.
  const rest = await runRig(['apply', ...common('-e', 'cni_delete_stuck_pods=false', '--limit', 'worker3'), playbook], { timeoutMs: 180_000 });
  t.is(rest.code, 0, rest.stdout + rest.stderr);
  t.is(JSON.parse((await read('worker3', CONF)) ?? 'null').cniVersion, '0.2.0', 'worker3 repaired');
  t.is(await read('worker3', CONFLIST), undefined);
  for (const w of BROKEN) t.is(await listing(w), before.get(w) ?? '(not listed)', `${w}: still untouched`);
});

/** The plan text of one host (from its `── host` line to the next). */
function hostSection(text: string, host: string): string {
  const m = new RegExp(`── ${host} \\([^]*?(?=\\n── |\\nPlan: )`).exec(text);
  return m ? m[0] : `(no section for ${host})`;
}
