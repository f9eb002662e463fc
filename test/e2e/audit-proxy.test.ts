/**
 * Issue 6, end to end with the real nginx + Lua module on the fleet: after secure-cluster, `rig apply` of the
 * audit-proxy playbook puts nginx on master1:6444 in front of two apiservers (master1 and a second stand-in on
 * worker2, chosen by server_name); requests go through with the proxy's client certificate; the audit log has a JSON
 * line per request without the bearer token or any Secret value; a bad upstream fails at `nginx -t` and leaves the old
 * config serving; plan converges; rollback removes the site and the port refuses.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 28;
let fleet: Fleet;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 3, id: FLEET_ID });
  work = mkdtempSync(join(tmpdir(), 'rig-audit-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const sh = (host: string, script: string, input?: string) => execInHost(fleet, host, ['sh', '-c', script], input);

test.serial('audit proxy: TLS through nginx, two clusters by server_name, redacted audit log, nginx -t guard, rollback', async (t) => {
  const pkiDir = join(work, 'pki');
  const stateDir = join(work, 'state');
  const base = ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '-e', `pki_dir=${pkiDir}`];
  const secured = await runRig(['apply', ...base, '-e', 'worker_serial=100%', 'playbooks/secure-cluster.ts'], { timeoutMs: 240_000 });
  t.is(secured.code, 0, secured.stdout + secured.stderr);

  const master = fleet.hosts.find((h) => h.role === 'master')!;
  const [w1, w2] = fleet.hosts.filter((h) => h.role === 'worker');
  // A second apiserver (another "cluster") on worker2, with the same TLS material as the master's.
  for (const f of ['ca.crt', 'server.cert', 'server.key']) {
    const text = (await sh(master.name, `cat /srv/kubernetes/${f}`)).stdout;
    await sh(w2!.name, `mkdir -p /srv/apiserver2 && cat > /srv/apiserver2/${f} && chmod 600 /srv/apiserver2/${f}`, text);
  }
  await sh(w2!.name, `printf '%s\\n' 'KUBE_APISERVER_OPTS="--insecure-bind-address=127.0.0.1 --insecure-port=8080 --secure-port=6443 --tls-cert-file=/srv/apiserver2/server.cert --tls-private-key-file=/srv/apiserver2/server.key --client-ca-file=/srv/apiserver2/ca.crt"' > /etc/default/kube-apiserver && setsid node /usr/local/lib/rig-standins/kube-apiserver.mjs </dev/null >/dev/null 2>&1 &`);

  const clusters = JSON.stringify([
    { name: 'main', server_name: 'main.example', upstream: `${master.ip}:6443` },
    { name: 'second', server_name: 'second.example', upstream: `${w2!.ip}:6443` },
  ]);
  const args = [...base, '-e', `audit_clusters=${clusters}`, 'playbooks/audit-proxy.ts'];
  const plan = await runRig(['plan', ...args]);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /\+\s+server_name main\.example;/);
  t.regex(plan.stdout, /create \/etc\/nginx\/kube-audit\/proxy\.key .*\[secret\]/);
  const apply = await runRig(['apply', ...args], { timeoutMs: 120_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const runId = /run (\S+) journaled/.exec(apply.stdout)![1]!;

  // curl from worker1 through the proxy, trusting the proxy's CA (rig's cluster CA)
  await sh(w1!.name, 'cat > /tmp/proxy-ca.crt', readFileSync(join(pkiDir, 'ca.crt'), 'utf8'));
  const curl = (name: string, path: string, extra = '') =>
    sh(w1!.name, `curl -s --max-time 5 --cacert /tmp/proxy-ca.crt --resolve ${name}:6444:${master.ip} ${extra} -w '\\n%{http_code}' https://${name}:6444${path}; echo " rc=$?"`);
  const version = await curl('main.example', '/version');
  t.regex(version.stdout, /v1\.3\.0-rig-standin[^]*\n200 rc=0/, version.stdout);
  t.regex((await sh(master.name, 'cat /var/log/kube-apiserver.log')).stdout, /https GET \/version user=kube-audit-proxy status=200/);
  const second = await curl('second.example', '/version');
  t.regex(second.stdout, /\n200 rc=0/, second.stdout);
  t.regex((await sh(w2!.name, 'cat /var/log/kube-apiserver.log')).stdout, /https GET \/version user=kube-audit-proxy status=200/);

  // a bearer token and Secrets in both directions never reach the audit log
  const token = 'SUPERSECRETTOKEN123.abc-def';
  const got = await curl('main.example', '/api/v1/namespaces/default/secrets/demo', `-H 'Authorization: Bearer ${token}'`);
  t.regex(got.stdout, /czNjcjN0LXZhbHVl/, 'the client gets the Secret');
  const posted = await curl('main.example', '/api/v1/namespaces/default/secrets', `-H 'Content-Type: application/json' -d '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"kind\\":\\"Secret\\",\\"stringData\\":{\\"pw\\":\\"POSTEDSECRET42\\"}}"}},"stringData":{"pw":"POSTEDSECRET42"}}'`);
  t.regex(posted.stdout, /\n201 rc=0/, posted.stdout);
  const log = (await sh(master.name, 'cat /var/log/nginx/kube-audit.log')).stdout;
  const lines = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(lines.length >= 4, log);
  const getSecret = lines.find((l) => l['uri'] === '/api/v1/namespaces/default/secrets/demo')!;
  t.is(getSecret['method'], 'GET');
  t.is(getSecret['status'], 200);
  t.is(getSecret['cluster'], 'main');
  t.is((getSecret['request_headers'] as Record<string, string>)['authorization'], '[REDACTED]');
  t.regex(String(getSecret['response_body']), /"data": "\[REDACTED\]"/);
  const post = lines.find((l) => l['method'] === 'POST')!;
  t.regex(String(post['request_body']), /"stringData":"\[REDACTED\]"/);
  t.is(typeof post['duration_ms'], 'number');
  for (const leak of [token, 'SUPERSECRETTOKEN123', 'czNjcjN0LXZhbHVl', 's3cr3t-value', 'POSTEDSECRET42']) t.false(log.includes(leak), `${leak} in the audit log`);
  t.regex((await sh(master.name, 'cat /etc/logrotate.d/kube-audit; logrotate -d /etc/logrotate.d/kube-audit 2>&1 | tail -3')).stdout, /size 100M[^]*rotate 7[^]*compress/);

  // converged
  t.is((await runRig(['plan', ...args])).code, 0);

  // a bad upstream: the plan shows it, nginx -t refuses it, the old config stays and nginx keeps serving
  const siteBefore = (await sh(master.name, 'sha256sum /etc/nginx/sites-available/kube-audit-proxy')).stdout;
  const bad = JSON.stringify([{ name: 'main', server_name: 'main.example', upstream: 'no-such-apiserver.invalid:6443' }]);
  const badArgs = [...base, '-e', `audit_clusters=${bad}`, 'playbooks/audit-proxy.ts'];
  const badPlan = await runRig(['plan', ...badArgs]);
  t.is(badPlan.code, 2);
  t.regex(badPlan.stdout, /\+\s+proxy_pass\s+https:\/\/no-such-apiserver\.invalid:6443;/);
  const badApply = await runRig(['apply', ...badArgs], { timeoutMs: 120_000 });
  t.is(badApply.code, 1, badApply.stdout);
  t.regex(badApply.stdout + badApply.stderr, /host not found in upstream[^]*no-such-apiserver\.invalid/);
  t.is((await sh(master.name, 'sha256sum /etc/nginx/sites-available/kube-audit-proxy')).stdout, siteBefore);
  t.regex((await curl('main.example', '/version')).stdout, /\n200 rc=0/);

  // rollback of the proxy run: site removed, nginx reloaded, the port refuses
  const rb = await runRig(['rollback', ...base, runId], { timeoutMs: 120_000 });
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.is((await sh(master.name, 'ls /etc/nginx/sites-enabled/kube-audit-proxy /etc/nginx/sites-available/kube-audit-proxy 2>&1 | grep -c "No such"')).stdout.trim(), '2');
  t.regex((await curl('main.example', '/version')).stdout, /rc=7/);
});
