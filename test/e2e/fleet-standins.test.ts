/**
 * The stand-in Kubernetes daemons behave like the real ones as far as rig's playbooks can tell: they re-read their
 * /etc/default flags on restart (both flag syntaxes), the apiserver authenticates by client certificate or basic auth
 * and logs who it saw, kubelet/kube-proxy use --kubeconfig for TLS, and bad input is logged, never a crash.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { countLogLines, readHostFile, waitForLogLine } from '../fleet/standin-log.ts';

const FLEET_ID = 12;
let fleet: Fleet;
let work: string;
const sh = (host: string, script: string, input?: string) => execInHost(fleet, host, ['sh', '-c', script], input);
const m = () => fleet.hosts[0]!;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A client pair signed by the seed CA, copied to `host` as /srv/kubernetes/<base>.{crt,key}. */
async function installClientCert(host: string, base: string, subject: string): Promise<void> {
  const key = join(work, `${base}.key`);
  const csr = join(work, `${base}.csr`);
  const crt = join(work, `${base}.crt`);
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', subject, '-out', csr], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(fleet.seedCaDir, 'ca.crt'), '-CAkey', join(fleet.seedCaDir, 'ca.key'),
    '-CAcreateserial', '-days', '2', '-out', crt], { stdio: 'ignore' });
  await sh(host, `mkdir -p /srv/kubernetes && cat > /srv/kubernetes/${base}.crt`, readFileSync(crt, 'utf8'));
  await sh(host, `umask 077; cat > /srv/kubernetes/${base}.key`, readFileSync(key, 'utf8'));
}

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'rig-standins-'));
  fleet = await upFleet({ size: 2, id: FLEET_ID });
  await waitForLogLine(fleet, m().name, '/var/log/kube-apiserver.log', /serving secure HTTPS on 0\.0\.0\.0:6443/, 15_000);
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

test.serial('apiserver restart re-reads its flags: space-separated flags, insecure port off, basic auth, demo Secret', async (t) => {
  const ip = m().ip;
  await sh(m().name, String.raw`printf '%s\n' 'p@ss "w$rd",admin,1' 'other,bob,2' > /srv/kubernetes/basic_auth.csv
cat > /etc/default/kube-apiserver <<'EOF'
# rewritten by a test
KUBE_APISERVER_OPTS=" --insecure-bind-address 127.0.0.1 --insecure-port=0 --secure-port 6443
  --client-ca-file=/srv/kubernetes/ca.crt --tls-cert-file=/srv/kubernetes/server.cert --tls-private-key-file /srv/kubernetes/server.key --basic-auth-file=/srv/kubernetes/basic_auth.csv --no-such-flag"
EOF`);
  const since = await countLogLines(fleet, m().name, '/var/log/kube-apiserver.log');
  const restart = await sh(m().name, 'service kube-apiserver restart');
  t.is(restart.exitCode, 0, restart.stderr);
  await waitForLogLine(fleet, m().name, '/var/log/kube-apiserver.log', /serving secure HTTPS on 0\.0\.0\.0:6443/, 10_000, { sinceLine: since });
  const log = (await readHostFile(fleet, m().name, '/var/log/kube-apiserver.log')).split('\n').slice(since).join('\n');
  t.regex(log, /--insecure-port=0 .*--basic-auth-file=\/srv\/kubernetes\/basic_auth\.csv --no-such-flag=true/);
  t.notRegex(log, /serving insecure/);
  const code = async (...args: string[]) => (await execInHost(fleet, 'worker1', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', ...args])).stdout;
  t.is(await code(`http://${ip}:8080/version`), '000', 'the insecure port is closed');
  t.is(await code('-k', '-u', 'admin:p@ss "w$rd"', `https://${ip}:6443/healthz`), '200');
  t.is(await code('-k', '-u', 'admin:wrong', `https://${ip}:6443/healthz`), '401');
  t.is(await code('-k', '-u', 'bob:p@ss "w$rd"', `https://${ip}:6443/healthz`), '401', 'password of another user');
  const secret = await execInHost(fleet, 'worker1', ['curl', '-s', '-k', '-u', 'bob:other', `https://${ip}:6443/api/v1/namespaces/default/secrets/demo`]);
  const parsed = JSON.parse(secret.stdout) as { kind: string; data: { password: string } };
  t.is(parsed.kind, 'Secret');
  t.is(Buffer.from(parsed.data.password, 'base64').toString(), 's3cr3t-value');
  const body = '{"kind":"Secret","metadata":{"name":"x"},"data":{"k":"ü$\\"q"}}';
  const post = await execInHost(fleet, 'worker1', ['curl', '-s', '-k', '-u', 'bob:other', '-w', '\n%{http_code}', '-H', 'Content-Type: application/json',
    '--data-binary', '@-', `https://${ip}:6443/api/v1/namespaces/default/secrets`], body);
  t.is(post.stdout, `${body}\n201`);
  await waitForLogLine(fleet, m().name, '/var/log/kube-apiserver.log', /https POST \/api\/v1\/namespaces\/default\/secrets user=bob status=201/, 5_000);
  t.notRegex(await readHostFile(fleet, m().name, '/var/log/kube-apiserver.log'), /w\$rd|s3cr3t/, 'no secrets in the log');
});

test.serial('kubelet and kube-proxy with --kubeconfig: client certificate over TLS, the apiserver logs their CNs', async (t) => {
  const w = 'worker1';
  const ip = m().ip;
  await installClientCert(w, 'kubelet', `/O=system:nodes/CN=system:node:${w}`);
  await installClientCert(w, 'kube-proxy', '/CN=system:kube-proxy');
  await sh(w, 'cat > /srv/kubernetes/ca.crt', readFileSync(join(fleet.seedCaDir, 'ca.crt'), 'utf8'));
  const kubeconfig = (user: string, server: string) => `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /srv/kubernetes/ca.crt
${server ? `    server: ${server}\n` : ''}  name: rig
contexts:
- context:
    cluster: rig
    user: ${user}
  name: rig
current-context: rig
users:
- name: ${user}
  user:
    client-certificate: /srv/kubernetes/${user}.crt
    client-key: "/srv/kubernetes/${user}.key"
`;
  await sh(w, 'mkdir -p /root/.kube && cat > /root/.kube/config', kubeconfig('kubelet', ''));
  // kube-proxy: no --master at all, the kubeconfig's server is used
  await sh(w, 'cat > /root/.kube/kube-proxy.kubeconfig', kubeconfig('kube-proxy', `https://${ip}:6443`));
  await sh(w, `sed -i 's|--api-servers=[^ ]*|--api-servers=https://${ip}:6443,https://10.213.12.99:6443 --kubeconfig=/root/.kube/config|' /etc/default/kubelet`);
  await sh(w, `sed -i 's|--master=[^ ]*|--kubeconfig /root/.kube/kube-proxy.kubeconfig|' /etc/default/kube-proxy`);
  const k0 = await countLogLines(fleet, w, '/var/log/kubelet.log');
  const p0 = await countLogLines(fleet, w, '/var/log/kube-proxy.log');
  t.is((await sh(w, 'service kubelet restart && service kube-proxy restart')).exitCode, 0);
  const secure = new RegExp(`GET https://${esc(ip)}:6443/version status=200`);
  t.truthy(await waitForLogLine(fleet, w, '/var/log/kubelet.log', secure, 10_000, { sinceLine: k0 }));
  t.truthy(await waitForLogLine(fleet, w, '/var/log/kube-proxy.log', secure, 10_000, { sinceLine: p0 }));
  const api = await readHostFile(fleet, m().name, '/var/log/kube-apiserver.log');
  t.regex(api, /https GET \/version user=system:node:worker1 status=200 remote=10\.213\.12\.12/);
  t.regex(api, /https GET \/version user=system:kube-proxy status=200/);
});

test.serial('bad input is logged, never a crash: unreadable key, wrong CA, nonsense URL, missing flag file', async (t) => {
  const w = 'worker1';
  const k0 = await countLogLines(fleet, w, '/var/log/kubelet.log');
  await sh(w, 'mv /srv/kubernetes/kubelet.key /srv/kubernetes/kubelet.key.gone && service kubelet restart');
  const line = await waitForLogLine(fleet, w, '/var/log/kubelet.log', /GET https:\S+ error=config cannot read client-key \/srv\/kubernetes\/kubelet\.key: ENOENT/, 10_000, { sinceLine: k0 });
  t.truthy(line);
  t.is((await sh(w, 'service kubelet status')).exitCode, 0, 'kubelet still running');
  // a CA that did not sign the server certificate: a TLS error per attempt
  const p0 = await countLogLines(fleet, w, '/var/log/kube-proxy.log');
  await sh(w, 'openssl req -x509 -newkey rsa:2048 -nodes -keyout /tmp/o.key -subj /CN=other -days 1 -out /srv/kubernetes/ca.crt 2>/dev/null && service kube-proxy restart');
  t.regex(await waitForLogLine(fleet, w, '/var/log/kube-proxy.log', /error=/, 10_000, { sinceLine: p0 }), /error=(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
  // nonsense URL and a deleted flag file
  const m0 = await countLogLines(fleet, m().name, '/var/log/kubelet.log');
  await sh(m().name, `sed -i 's|--api-servers=[^ ]*|--api-servers=not-a-url|' /etc/default/kubelet && service kubelet restart`);
  await waitForLogLine(fleet, m().name, '/var/log/kubelet.log', /error: bad --api-servers "not-a-url"/, 10_000, { sinceLine: m0 });
  const q0 = await countLogLines(fleet, m().name, '/var/log/kube-proxy.log');
  await sh(m().name, 'rm /etc/default/kube-proxy && service kube-proxy restart');
  await waitForLogLine(fleet, m().name, '/var/log/kube-proxy.log', /warning: cannot read \/etc\/default\/kube-proxy/, 10_000, { sinceLine: q0 });
  const status = await sh(m().name, 'service kubelet status; service kube-proxy status; service kube-apiserver status');
  t.regex(status.stdout, /kubelet is running\nkube-proxy is running\nkube-apiserver is running/);
  // stop really stops, start starts again
  t.is((await sh(m().name, 'service kube-proxy stop >/dev/null; service kube-proxy status')).exitCode, 3);
  t.is((await sh(m().name, 'service kube-proxy start >/dev/null; service kube-proxy status')).exitCode, 0);
});
