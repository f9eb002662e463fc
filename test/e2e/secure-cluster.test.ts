/**
 * Issue 5 end to end: the secure-cluster playbook on 1 master + 3 workers from the seeded kube-up state.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';
import { snapshotTrees } from '../helpers/tree-snapshot.ts';

const FLEET_ID = 22;
let fleet: Fleet;
let work: string;
let stateDir: string;
let pkiDir: string;

const sh = (host: string, script: string) => execInHost(fleet, host, ['sh', '-c', script]);
const snapshot = (host: string) => snapshotTrees(fleet, host);
const master = () => fleet.hosts.find((h) => h.role === 'master')!;
const workers = () => fleet.hosts.filter((h) => h.role === 'worker');
const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '-e', `pki_dir=${pkiDir}`];

/** Wait until a log on a host has a line matching `re` written after `since` lines. */
async function waitForLog(host: string, log: string, re: RegExp, since: number, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text = (await sh(host, `tail -n +${since + 1} ${log} 2>/dev/null`)).stdout;
    const hit = text.split('\n').find((l) => re.test(l));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${host}:${log}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${text.split('\n').slice(-5).join('\n')}`);
}
const lineCount = async (host: string, log: string) => Number((await sh(host, `wc -l < ${log} 2>/dev/null || echo 0`)).stdout.trim());

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID });
  work = mkdtempSync(join(tmpdir(), 'rig-secure-'));
  stateDir = join(work, 'state');
  pkiDir = join(work, 'pki');
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

test.serial('secure-cluster: plan, apply, verify TLS everywhere, converge, re-issue near expiry, rollback byte for byte', async (t) => {
  const m = master();
  const before = await Promise.all(fleet.hosts.map((h) => snapshot(h.name)));

  // plan: flag-level diffs, new files, key contents masked, exit 2
  const plan = await runRig(['plan', ...args(), 'playbooks/secure-cluster.ts']);
  t.is(plan.code, 2, plan.stderr + plan.stdout);
  t.regex(plan.stdout, /-.*--insecure-bind-address=0\.0\.0\.0/);
  t.regex(plan.stdout, /\+.*--insecure-bind-address=127\.0\.0\.1/);
  t.regex(plan.stdout, new RegExp(`\\+.*--api-servers=https://${m.ip.replace(/\./g, '\\.')}:6443`));
  t.regex(plan.stdout, /create \/srv\/kubernetes\/kubelet\.key .*\[secret\]/);
  t.notRegex(plan.stdout, /BEGIN (RSA )?PRIVATE KEY-----\n[A-Za-z0-9+/]{20}/);
  const basicAuth = readFileSync(join(pkiDir, 'basic-auth.csv'), 'utf8');
  const [password] = basicAuth.split(',');
  t.false(plan.stdout.includes(password!), 'basic-auth password never shown');

  const marks = await Promise.all(workers().map(async (w) => ({ k: await lineCount(w.name, '/var/log/kubelet.log'), p: await lineCount(w.name, '/var/log/kube-proxy.log') })));
  const apply = await runRig(['apply', ...args(), 'playbooks/secure-cluster.ts'], { timeoutMs: 240_000 });
  t.is(apply.code, 0, apply.stderr + apply.stdout);
  t.false((apply.stdout + apply.stderr).includes(password!));

  // every worker's kubelet and kube-proxy reach https://master:6443 with their own client certs
  for (const [i, w] of workers().entries()) {
    await waitForLog(w.name, '/var/log/kubelet.log', new RegExp(`https://${m.ip}:6443.*status=200`), marks[i]!.k);
    await waitForLog(w.name, '/var/log/kube-proxy.log', new RegExp(`https://${m.ip}:6443.*status=200`), marks[i]!.p);
  }
  const apiLog = (await sh(m.name, 'cat /var/log/kube-apiserver.log')).stdout;
  for (const w of workers()) t.regex(apiLog, new RegExp(`system:node:${w.name}`));
  t.regex(apiLog, /system:kube-proxy/);
  // the master's own agents keep working over loopback
  const mk = await lineCount(m.name, '/var/log/kubelet.log');
  await waitForLog(m.name, '/var/log/kubelet.log', /127\.0\.0\.1:8080.*status=200/, mk);
  // the insecure port is closed to the network
  const insecure = await sh(workers()[0]!.name, `curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://${m.ip}:8080/version; echo " rc=$?"`);
  t.regex(insecure.stdout, /rc=7/, insecure.stdout);

  // certificates verify against the CA and carry the SANs and usages
  const ca = join(work, 'ca.crt');
  writeFileSync(ca, (await sh(m.name, 'cat /srv/kubernetes/ca.crt')).stdout);
  const check = async (host: string, path: string): Promise<string> => {
    const f = join(work, `${host}-${path.replace(/\//g, '_')}`);
    writeFileSync(f, (await sh(host, `cat ${path}`)).stdout);
    t.regex(execFileSync('openssl', ['verify', '-CAfile', ca, f]).toString(), /: OK/);
    return execFileSync('openssl', ['x509', '-in', f, '-noout', '-text']).toString();
  };
  const server = await check(m.name, '/srv/kubernetes/server.cert');
  for (const san of [`IP Address:${m.ip}`, 'DNS:kubernetes', 'DNS:kubernetes.default.svc.cluster.local', 'IP Address:192.168.3.1']) t.true(server.includes(san), san);
  t.regex(server, /TLS Web Server Authentication/);
  for (const w of workers()) {
    const kubelet = await check(w.name, '/srv/kubernetes/kubelet.crt');
    t.regex(kubelet, new RegExp(`Subject: O\\s?=\\s?system:nodes, CN\\s?=\\s?system:node:${w.name}`));
    t.regex(kubelet, /TLS Web Client Authentication/);
    const keyMode = (await sh(w.name, 'stat -c %a /srv/kubernetes/kubelet.key /srv/kubernetes')).stdout.split('\n');
    t.deepEqual(keyMode.slice(0, 2), ['600', '700']);
  }
  t.regex(await check(workers()[0]!.name, '/srv/kubernetes/kube-proxy.crt'), /CN\s?=\s?system:kube-proxy/);
  t.regex(await check(m.name, '/srv/kubernetes/admin.crt'), /O\s?=\s?system:masters/);

  // basic auth on the secure port
  const curlAuth = (pw: string) => sh(workers()[0]!.name, `curl -s -o /dev/null -w '%{http_code}' --cacert /srv/kubernetes/ca.crt -u 'admin:${pw}' https://${m.ip}:6443/version`);
  t.is((await curlAuth(password!)).stdout, '200');
  t.is((await curlAuth('wrong-password')).stdout, '401');

  // converged
  const again = await runRig(['plan', ...args(), 'playbooks/secure-cluster.ts']);
  t.is(again.code, 0, again.stdout);

  // a certificate near expiry is re-issued, with the reason shown
  const w0 = workers()[0]!.name;
  const nearKey = join(work, 'near.key'); const nearCrt = join(work, 'near.crt');
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', nearKey, '-subj', `/O=system:nodes/CN=system:node:${w0}`, '-out', join(work, 'near.csr')]);
  writeFileSync(join(work, 'ext.cnf'), 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  execFileSync('openssl', ['x509', '-req', '-in', join(work, 'near.csr'), '-CA', join(pkiDir, 'ca.crt'), '-CAkey', join(pkiDir, 'ca.key'), '-CAcreateserial', '-days', '10', '-extfile', join(work, 'ext.cnf'), '-out', nearCrt]);
  await execInHost(fleet, w0, ['sh', '-c', 'cat > /srv/kubernetes/kubelet.crt'], readFileSync(nearCrt, 'utf8'));
  await execInHost(fleet, w0, ['sh', '-c', 'cat > /srv/kubernetes/kubelet.key'], readFileSync(nearKey, 'utf8'));
  const near = await runRig(['plan', ...args(), '--limit', w0, 'playbooks/secure-cluster.ts']);
  t.is(near.code, 2);
  t.regex(near.stdout, /expires in (9|10) days/);
  const reissue = await runRig(['apply', ...args(), '--limit', w0, 'playbooks/secure-cluster.ts'], { timeoutMs: 120_000 });
  t.is(reissue.code, 0, reissue.stdout + reissue.stderr);
  t.is((await runRig(['plan', ...args(), 'playbooks/secure-cluster.ts'])).code, 0);

  // rollback the re-issue, then the main run: every file back byte for byte, workers back on http://master:8080
  t.is((await runRig(['rollback', ...args()])).code, 0);
  const runId = /run (\S+) journaled/.exec(apply.stdout)![1]!;
  const wmarks = await Promise.all(workers().map((w) => lineCount(w.name, '/var/log/kubelet.log')));
  // the test planted kubelet.crt/.key by hand after the main run: rollback refuses, naming them, until --force
  const refused = await runRig(['rollback', ...args(), runId], { timeoutMs: 120_000 });
  t.is(refused.code, 1, refused.stdout + refused.stderr);
  t.regex(refused.stderr + refused.stdout, new RegExp(`error\\[JOURNAL\\][^]*${w0}: /srv/kubernetes/kubelet\\.key[^]*--force`));
  const rb = await runRig(['rollback', ...args(), '--force', runId], { timeoutMs: 120_000 });
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  const after = await Promise.all(fleet.hosts.map((h) => snapshot(h.name)));
  t.deepEqual(after, before);
  for (const [i, w] of workers().entries()) {
    await waitForLog(w.name, '/var/log/kubelet.log', new RegExp(`http://${m.ip}:8080.*status=200`), wmarks[i]!);
  }
});
