/**
 * Issue 16 end to end on the fleet (real kernel, real setcap/getcap, real nginx):
 * - worker1 runs Debian's nginx binary copied to /opt/kong/sbin/nginx as the unprivileged user `kong`, with a config
 *   listening on :80 and :443 (self-signed cert). Before apply it fails with `(13: Permission denied)`; after
 *   `rig apply` of playbooks/kong-host-ports.ts it serves both ports (curl from the controller); `rig plan` exits 0;
 *   a package upgrade (the binary replaced) drops the capability and the next plan adds it back; `rig rollback` puts
 *   the exact getcap sets back and nginx fails again with the same error.
 * - master1 gets the Kong chart's output (test/fixtures/kong/chart-output.yaml) transformed: the written manifest is a
 *   DaemonSet with the five changes, passes the schema, keeps every other field; a stand-in kubectl records the
 *   guarded apply (and the deletion of the Deployment and proxy Service) and the rollback's re-apply of the chart
 *   output; without kubectl the plan says so and skips; broken inputs are MANIFEST errors with nothing written.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 51;
const BIN = '/opt/kong/sbin/nginx';
const FIXTURE = join(PROJECT_ROOT, 'test/fixtures/kong/chart-output.yaml');
let fleet: Fleet;
let work: string;

const NGINX_CONF = `daemon on;
pid /opt/kong/run/nginx.pid;
error_log /opt/kong/run/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path /opt/kong/run/body;
  proxy_temp_path /opt/kong/run/proxy;
  fastcgi_temp_path /opt/kong/run/fastcgi;
  uwsgi_temp_path /opt/kong/run/uwsgi;
  scgi_temp_path /opt/kong/run/scgi;
  server {
    listen 80;
    listen 443 ssl;
    ssl_certificate /opt/kong/conf/tls.crt;
    ssl_certificate_key /opt/kong/conf/tls.key;
    location / { return 200 "kong-host-ports ok\\n"; }
  }
}
`;

/** A stand-in for kubectl on the master: a "cluster" that is the last applied file; every call is logged. */
const KUBECTL_STUB = `#!/bin/sh
d=/var/lib/kubectl-stub; mkdir -p "$d"; printf '%s\\n' "$*" >> "$d/calls.log"
case $1 in
  apply) cp -- "$3" "$d/applied.yaml" ;;
  diff) [ -f "$d/applied.yaml" ] || exit 1; cmp -s -- "$3" "$d/applied.yaml" || exit 1 ;;
  delete) ;;
  *) exit 2 ;;
esac
`;

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-kong-'));
  const setup = await sh('worker1', `set -e
useradd --system --no-create-home --shell /usr/sbin/nologin kong
mkdir -p /opt/kong/sbin /opt/kong/conf /opt/kong/run
cp /usr/sbin/nginx ${BIN}
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kong.test -keyout /opt/kong/conf/tls.key -out /opt/kong/conf/tls.crt 2>/dev/null
chmod 644 /opt/kong/conf/tls.key
cat > /opt/kong/conf/nginx.conf
chown -R kong:kong /opt/kong/run`, NGINX_CONF);
  if (setup.exitCode !== 0) throw new Error(`worker1 setup failed: ${setup.stderr}`);
  const stub = await sh('master1', 'cat > /usr/local/bin/kubectl-stub && chmod 755 /usr/local/bin/kubectl-stub', KUBECTL_STUB);
  if (stub.exitCode !== 0) throw new Error(`master1 setup failed: ${stub.stderr}`);
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

function sh(host: string, script: string, input?: string) {
  return execInHost(fleet, host, ['sh', '-c', script], input);
}

/** Start nginx as `kong` (exit code and stderr), stop it and wait until its master is gone. */
async function startNginx() {
  return sh('worker1', `setpriv --reuid kong --regid kong --clear-groups ${BIN} -e /opt/kong/run/error.log -p /opt/kong/run -c /opt/kong/conf/nginx.conf 2>&1`);
}
async function stopNginx() {
  await sh('worker1', 'pid=$(cat /opt/kong/run/nginx.pid) && kill -QUIT "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done');
}
const getcap = async (): Promise<string> => (await sh('worker1', `getcap ${BIN}`)).stdout.trim();
const curl = async (url: string): Promise<string> => {
  try {
    return (await promisify(execFile)('curl', ['-sk', '--max-time', '10', url])).stdout;
  } catch (e) { return `curl failed: ${(e as Error).message}`; }
};

const args = (...extra: string[]): string[] => [
  '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state'),
  '-e', `kong_manifest_file=${FIXTURE}`, '-e', `kong_nginx_path=${BIN}`, '-e', 'kong_kubectl=/usr/local/bin/kubectl-stub', ...extra, 'playbooks/kong-host-ports.ts',
];
const env = { RIG_KONG_NODE_HOSTS: 'worker1' };
const KEEP_DIR = '/var/lib/rig/kong-host-ports';
const FIXTURE_SHA = createHash('sha256').update(readFileSync(FIXTURE)).digest('hex').slice(0, 16);
const PERMISSION = 'bind() to 0.0.0.0:80 failed (13: Permission denied)';

test.serial('capability: nginx as an unprivileged user binds 80/443 after apply, converges, is re-asserted, rolls back', async (t) => {
  t.is(await getcap(), '', 'no capabilities before');
  const before = await startNginx();
  t.not(before.exitCode, 0);
  t.true(before.stdout.includes(PERMISSION), before.stdout);

  const plan = await runRig(['plan', ...args()], { env });
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /adds cap_net_bind_service=ep\n\s+capabilities \/opt\/kong\/sbin\/nginx: none → cap_net_bind_service=ep/);
  t.regex(plan.stdout, /new file, shown as the diff from .*chart-output\.yaml:[^]*-kind: Deployment\n\s+\+kind: DaemonSet/);
  t.regex(plan.stdout, /-\s+value: "0\.0\.0\.0:8000, \[::\]:8000, 0\.0\.0\.0:8443 http2 ssl, \[::\]:8443 http2 ssl"\n\s+\+\s+value: "0\.0\.0\.0:80,0\.0\.0\.0:443 ssl"/);

  const apply = await runRig(['apply', ...args()], { env, timeoutMs: 180_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const run1 = /run (\S+) journaled/.exec(apply.stdout)![1]!;
  t.is(await getcap(), `${BIN} cap_net_bind_service=ep`);
  const started = await startNginx();
  t.is(started.exitCode, 0, started.stdout);
  const ip = fleet.hosts.find((h) => h.name === 'worker1')!.ip;
  t.is(await curl(`http://${ip}/`), 'kong-host-ports ok\n');
  t.is(await curl(`https://${ip}/`), 'kong-host-ports ok\n');
  await stopNginx();

  const converged = await runRig(['plan', ...args()], { env });
  t.is(converged.code, 0, converged.stdout + converged.stderr);

  // A package upgrade replaces the binary: the capability is gone, the next run adds it back.
  t.is((await sh('worker1', `cp /usr/sbin/nginx ${BIN}.new && mv -f ${BIN}.new ${BIN} && getcap ${BIN}`)).stdout.trim(), '');
  const upgraded = await runRig(['plan', ...args()], { env });
  t.is(upgraded.code, 2, upgraded.stdout);
  t.regex(upgraded.stdout, /capabilities \/opt\/kong\/sbin\/nginx: none → cap_net_bind_service=ep/);
  t.regex(upgraded.stdout, /Plan: 1 change on 1 of 2 hosts/);
  const reassert = await runRig(['apply', ...args()], { env, timeoutMs: 180_000 });
  t.is(reassert.code, 0, reassert.stdout + reassert.stderr);
  t.is(await getcap(), `${BIN} cap_net_bind_service=ep`);
  t.is((await runRig(['plan', ...args()], { env })).code, 0);

  // Roll back the re-assertion, then the first run: the exact sets before, and the same error.
  const back2 = await runRig(['rollback', '--state-dir', join(work, 'state'), '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath], { env, timeoutMs: 180_000 });
  t.is(back2.code, 0, back2.stdout + back2.stderr);
  t.regex(back2.stdout, /capabilities \/opt\/kong\/sbin\/nginx: cap_net_bind_service=ep → none/);
  t.is(await getcap(), '');
  const after = await startNginx();
  t.not(after.exitCode, 0);
  t.true(after.stdout.includes(PERMISSION), after.stdout);

  const back1 = await runRig(['rollback', run1, '--state-dir', join(work, 'state'), '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath], { env, timeoutMs: 180_000 });
  t.is(back1.code, 0, back1.stdout + back1.stderr);
  t.is(await getcap(), '');
  t.is((await sh('master1', 'ls /etc/kong 2>&1; true')).stdout.trim(), 'ls: cannot access \'/etc/kong\': No such file or directory');
  // the stand-in cluster: the DaemonSet deleted and the chart's own manifest applied again
  const calls = (await sh('master1', 'cat /var/lib/kubectl-stub/calls.log')).stdout.trim().split('\n');
  t.deepEqual(calls.slice(-2), ['delete --ignore-not-found -n kong daemonset/kong-kong', `apply -f ${KEEP_DIR}/kong-chart.${FIXTURE_SHA}.yaml`], calls.join('\n'));
  t.is((await sh('master1', 'cat /var/lib/kubectl-stub/applied.yaml')).stdout, readFileSync(FIXTURE, 'utf8'));
});

type Obj = Record<string, any>;
const parseAll = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter((o) => o !== null);

test.serial('manifest: the written DaemonSet has the five changes, validates, keeps the rest; kubectl guarded; broken input writes nothing', async (t) => {
  const a = (...extra: string[]) => args('-e', 'kong_manifest_path=/etc/kong2/kong-host-ports.yaml', ...extra);
  const apply = await runRig(['apply', ...a()], { env, timeoutMs: 180_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const written = parseAll((await sh('master1', 'cat /etc/kong2/kong-host-ports.yaml')).stdout);
  const input = parseAll(readFileSync(FIXTURE, 'utf8'));
  t.deepEqual(written.map((o) => `${o['kind']}/${o['metadata']['name']}`),
    ['ServiceAccount/kong-kong', 'ConfigMap/kong-kong-default-custom-server-blocks', 'Service/kong-kong-manager', 'Service/kong-kong-validation-webhook', 'DaemonSet/kong-kong']);
  for (const o of written.filter((x) => x['kind'] !== 'DaemonSet')) t.deepEqual(o, input.find((i) => i['kind'] === o['kind'] && i['metadata']['name'] === o['metadata']['name']));
  const ds = written.find((o) => o['kind'] === 'DaemonSet')!;
  t.notThrows(() => new DaemonSet(ds as never).validate());
  const dep = input.find((o) => o['kind'] === 'Deployment')!;
  const pod = ds['spec']['template']['spec'];
  t.true(pod['hostNetwork']);
  t.is(pod['dnsPolicy'], 'ClusterFirstWithHostNet');
  const proxy = pod['containers'][1];
  t.is(proxy['env'].find((e: Obj) => e['name'] === 'KONG_PROXY_LISTEN')['value'], '0.0.0.0:80,0.0.0.0:443 ssl');
  t.deepEqual(proxy['ports'].map((p: Obj) => p['containerPort']), [80, 443, 8100]);
  // every other field as it was: undo the five changes (and the Deployment-only fields) and compare
  const { hostNetwork: _h, dnsPolicy: _d, ...podRest } = pod;
  const restoredProxy = { ...proxy, env: proxy['env'].map((e: Obj) => (e['name'] === 'KONG_PROXY_LISTEN' ? dep['spec']['template']['spec']['containers'][1]['env'].find((x: Obj) => x['name'] === 'KONG_PROXY_LISTEN') : e)),
    ports: dep['spec']['template']['spec']['containers'][1]['ports'] };
  const { updateStrategy: _u, ...specRest } = ds['spec'];
  const { replicas: _r, strategy: _s, progressDeadlineSeconds: _p, ...depSpecRest } = dep['spec'];
  t.deepEqual({ ...ds, kind: 'Deployment', spec: { ...specRest, template: { ...ds['spec']['template'], spec: { ...podRest, containers: [pod['containers'][0], restoredProxy] } } } },
    { ...dep, spec: depSpecRest });
  const calls = (await sh('master1', 'cat /var/lib/kubectl-stub/calls.log')).stdout;
  t.regex(calls, /^apply -f \/etc\/kong2\/kong-host-ports\.yaml\ndelete --ignore-not-found -n kong deployment\/kong-kong service\/kong-kong-proxy$/m);

  // Without kubectl on the master: the plan says so and skips that step (not a failure); here nothing else differs.
  const noKubectl = await runRig(['plan', '-v', ...a('-e', 'kong_kubectl=/nonexistent/kubectl')], { env });
  t.is(noKubectl.code, 0, noKubectl.stdout + noKubectl.stderr);
  t.regex(noKubectl.stdout, /\/nonexistent\/kubectl not found on master1: \/etc\/kong2\/kong-host-ports\.yaml is written but not applied/);
  // The cluster drifted (the stand-in's state changed): kubectl diff says so and the next plan applies again.
  await sh('master1', 'echo "# edited" >> /var/lib/kubectl-stub/applied.yaml');
  const drifted = await runRig(['plan', ...a()], { env });
  t.is(drifted.code, 2, drifted.stdout);
  t.regex(drifted.stdout, /the cluster differs from \/etc\/kong2\/kong-host-ports\.yaml \(kubectl diff\): kubectl apply -f/);

  // Broken inputs: a MANIFEST error naming the problem, nothing written anywhere.
  const noKong = join(work, 'no-kong.yaml');
  writeFileSync(noKong, readFileSync(FIXTURE, 'utf8').split(/^(?=---$)/m).filter((d) => !/kind: Deployment/.test(d)).join(''));
  const invalid = join(work, 'invalid.yaml');
  writeFileSync(invalid, readFileSync(FIXTURE, 'utf8').replace('  replicas: 1\n', '  replicas: [1\n'));
  for (const [file, message] of [[noKong, /MANIFEST.*no Kong workload: no Deployment has a container with a KONG_PROXY_LISTEN/], [invalid, /MANIFEST.*is not valid YAML \(document 6, line \d+/]] as const) {
    const broken = ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state'), '-e', `kong_manifest_file=${file}`,
      '-e', 'kong_manifest_path=/etc/kong3/kong-host-ports.yaml', '-e', `kong_nginx_path=${BIN}`, '-e', 'kong_kubectl=/usr/local/bin/kubectl-stub', 'playbooks/kong-host-ports.ts'];
    const r = await runRig(['apply', ...broken], { env, timeoutMs: 180_000 });
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(r.stdout + r.stderr, message);
    t.is((await sh('master1', '[ -e /etc/kong3 ] && echo exists || echo absent')).stdout.trim(), 'absent');
  }
});
