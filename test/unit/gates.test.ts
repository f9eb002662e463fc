/**
 * Health gates (issue 22): validation, and the probes run for real — the host-side polling script through `sh -s`
 * (real curl, awk, bash /dev/tcp) and the controller-side probes (node http/net), which must agree on the same
 * servers and logs.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeFromController, readKubeconfigTarget } from '../../src/gates/controller-gate-probe.ts';
import { buildGateScript, parseGateLine, type HostGateProbe } from '../../src/gates/gate-host-script.ts';
import type { GateCheck, GateProps, PlannedGate } from '../../src/gates/gate-types.ts';
import { checkGates } from '../../src/gates/check-gates.ts';
import { StopSignal } from '../../src/engine/stop-signal.ts';
import { LocalConnector } from '../../src/connectors/local-connector.ts';
import { validateGate } from '../../src/gates/plan-gates.ts';
import { renderPlanGates } from '../../src/cli/render-gates.ts';
import { HostTasks, planHost, selectPlays } from '../../src/engine/build-plan.ts';
import type { Plan } from '../../src/engine/plan-types.ts';
import { ValidationError } from '../../src/errors.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import type { Host, Inventory } from '../../src/inventory/types.ts';
import { defineModule } from '../../src/modules/module.ts';
import { validatePlaybook } from '../../src/playbook/load-playbook.ts';
import { definePlaybook } from '../../src/playbook/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'rig-gates-unit-'));

/** Run the gate script as a host would (`sh -s`, the script on stdin); its G lines by gate id. */
async function runHostGates(probes: readonly HostGateProbe[]): Promise<Map<string, ReturnType<typeof parseGateLine>>> {
  // Asynchronously: the servers these probes reach live in this process.
  const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stdin.end(buildGateScript(probes));
  await new Promise((r) => child.on('close', r));
  const lines = stdout.split('\n');
  if (!lines.includes('Z ok')) throw new Error(`gate script did not finish: ${stdout}`);
  return new Map(lines.flatMap((l) => { const p = parseGateLine(l); return p ? [[p.id, p] as const] : []; }));
}
const once = (check: GateCheck): HostGateProbe => ({ id: 'g', check, timeoutSeconds: 1, intervalSeconds: 0.2 });
const hostPasses = async (check: GateCheck): Promise<boolean> => (await runHostGates([once(check)])).get('g')!.passed;

test('validation collects every problem with its path; agent gates run on the host, kubeconfig on the controller', (t) => {
  t.deepEqual(validateGate({ name: 'ok', check: { kind: 'tcp', host: '10.0.0.1', port: 8080 } }), []);
  const bad = validateGate({ name: '', timeoutSeconds: 0, check: { kind: 'apiserver', url: 'ftp://x', clientCert: '/c' }, colour: 1 } as unknown as GateProps);
  t.deepEqual(bad, [
    'colour: unknown prop (allowed: name, check, from, timeoutSeconds, intervalSeconds, afterRevert)',
    'name: a non-empty string',
    'timeoutSeconds: a positive number',
    'check.url: an http(s) URL (got "ftp://x")',
    'check.clientCert and clientKey go together',
  ]);
  t.deepEqual(validateGate({ name: 'a', from: 'controller', check: { kind: 'agent', service: 'kubelet' } }), ["check.the agent's log or health endpoint is read on the host: from: 'host'"]);
  t.deepEqual(validateGate({ name: 'k', check: { kind: 'apiserver', kubeconfig: '/k' } }), ["check.kubeconfig: read on the controller only (from: 'controller'), or give url + caFile/clientCert/clientKey"]);
  t.deepEqual(validateGate({ name: 'p', check: { kind: 'tcp', host: 'a b', port: 70000 }, afterRevert: { kind: 'command', argv: [] } }),
    ['check.host: a host name or address', 'check.port: 1..65535', 'afterRevert.argv: a non-empty list of strings']);
  t.deepEqual(validateGate({ name: 'x', check: { kind: 'ping' } as unknown as GateCheck }), ['check.kind: one of apiserver, agent, tcp, command (got "ping")']);
});

test('the polling script: a command gate passes once its command succeeds, fails at its timeout with the last output', async (t) => {
  const flag = join(dir, 'flag');
  const r = await runHostGates([
    { id: 'late', check: { kind: 'command', argv: ['sh', '-c', `[ -e ${flag} ] || { touch ${flag}; echo not yet; exit 1; }; echo ready`] }, timeoutSeconds: 10, intervalSeconds: 0.2 },
    { id: 'never', check: { kind: 'command', argv: ['sh', '-c', 'echo "it is \'down\'"; exit 3'] }, timeoutSeconds: 1, intervalSeconds: 0.3 },
  ]);
  t.like(r.get('late'), { passed: true, attempts: 2, output: 'ready' });
  t.like(r.get('never'), { passed: false, output: "it is 'down'" });
  t.true(r.get('never')!.attempts >= 2);
});

// Apiserver stand-ins: what /readyz and /healthz answer.
const SERVERS: Array<{ readyz: number; healthz: number; want: boolean; path?: '/readyz' | '/healthz' }> = [
  { readyz: 200, healthz: 500, want: true },
  { readyz: 404, healthz: 200, want: true }, // an old apiserver: no /readyz
  { readyz: 404, healthz: 500, want: false },
  { readyz: 503, healthz: 200, want: false }, // not ready: /healthz is not asked
  { readyz: 401, healthz: 401, want: false }, // no client certificate accepted
  { readyz: 200, healthz: 500, want: false, path: '/healthz' },
  { readyz: 404, healthz: 200, want: false, path: '/readyz' },
];

test('apiserver gates: /readyz, or /healthz where /readyz is 404; the curl probe (host) and the node probe (controller) agree', async (t) => {
  for (const s of SERVERS) {
    const server = http.createServer((req, res) => { res.writeHead(req.url === '/readyz' ? s.readyz : req.url === '/healthz' ? s.healthz : 404); res.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const check: GateCheck = { kind: 'apiserver', url, ...(s.path ? { path: s.path } : {}) };
    const controller = await probeFromController(check);
    const host = (await runHostGates([once(check)])).get('g')!;
    server.close();
    t.is(controller.passed, s.want, `${JSON.stringify(s)} controller: ${controller.output}`);
    t.is(host.passed, s.want, `${JSON.stringify(s)} host: ${host.output}`);
  }
});

test('tcp gates: open and closed, from the host (bash /dev/tcp) and from the controller, agree', async (t) => {
  const server = net.createServer((c) => c.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const open = (server.address() as net.AddressInfo).port;
  const closedServer = net.createServer();
  await new Promise<void>((r) => closedServer.listen(0, '127.0.0.1', r));
  const closed = (closedServer.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closedServer.close(() => r()));
  for (const [port, wantOpen] of [[open, true], [closed, false]] as const) {
    for (const openWanted of [true, false]) {
      const check: GateCheck = { kind: 'tcp', host: '127.0.0.1', port, open: openWanted };
      t.is((await probeFromController(check)).passed, wantOpen === openWanted, `controller ${port} open=${openWanted}`);
      t.is(await hostPasses(check), wantOpen === openWanted, `host ${port} open=${openWanted}`);
    }
  }
  server.close();
});

test('agent gates read the log: the last request since the gate started, after the last (re)start, answered 200 at the server', async (t) => {
  const log = join(dir, 'kubelet.log');
  const future = new Date(Date.now() + 3_600_000).toISOString();
  const past = '2020-01-01T00:00:00.000Z';
  const check = (server?: string): GateCheck => ({ kind: 'agent', service: 'kubelet', log, ...(server ? { server } : {}) });
  const cases: Array<{ lines: string[]; server?: string; want: boolean; why: string }> = [
    { lines: [], want: false, why: 'empty log' },
    { lines: [`${future} starting kubelet (rig stand-in) pid=1`, `${future} GET https://m:6443/version status=200`], want: true, why: 'fresh 200' },
    { lines: [`${future} GET https://m:6443/version status=200`], server: 'https://m:6443', want: true, why: 'fresh 200 at the server' },
    { lines: [`${future} GET http://m:8080/version status=200`], server: 'https://m:6443', want: false, why: 'fresh 200 elsewhere' },
    { lines: [`${past} GET https://m:6443/version status=200`], want: false, why: 'only an old request' },
    { lines: [`${future} GET https://m:6443/version status=200`, `${future} GET https://m:6443/version error=config client certificate rejected`], want: false, why: 'the last one failed' },
    { lines: [`${future} GET https://m:6443/version status=200`, `${future} stopping (SIGTERM)`, `${future} starting kubelet`], want: false, why: 'restarted since, no request yet' },
    { lines: [`${future} GET https://m:6443/version status=200`, `${future} starting kubelet`, `${future} crashing: fault`], want: false, why: 'crashed after a restart' },
    { lines: [`${future} GET https://m:6443/version status=401`], want: false, why: 'unauthorized' },
    { lines: [`${future} GET https://m:6443/version status=200`, `${future} warning: something`], want: true, why: 'other lines do not count' },
  ];
  for (const c of cases) {
    writeFileSync(log, c.lines.map((l) => l + '\n').join(''));
    t.is(await hostPasses(check(c.server)), c.want, c.why);
  }
  t.false(await hostPasses({ kind: 'agent', service: 'kubelet', log: join(dir, 'absent.log') }), 'a missing log fails');
});

test('a kubeconfig gives the server and the TLS material (data fields or paths relative to the file)', (t) => {
  writeFileSync(join(dir, 'ca.crt'), 'CA-PEM');
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: b',
    'clusters:', '- name: a', '  cluster: {server: "https://a:6443"}', '- name: c2', '  cluster: {server: "https://b:6443", certificate-authority: ca.crt}',
    'users:', '- name: u', `  user: {client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key-data: ${Buffer.from('KEY').toString('base64')}}`,
    'contexts:', '- name: a', '  context: {cluster: a, user: u}', '- name: b', '  context: {cluster: c2, user: u}',
  ].join('\n'));
  const k = readKubeconfigTarget(file);
  t.is(k.url, 'https://b:6443');
  t.is(k.ca?.toString(), 'CA-PEM');
  t.is(k.cert?.toString(), 'CERT');
  t.is(k.key?.toString(), 'KEY');
});

test('gates are planned per host only where the play changes something, resolved from the host context, and shown per batch', (t) => {
  const touch = defineModule<{ path: string }>({
    name: 'touch', validate: () => [], facts: (p) => [{ kind: 'file', path: p.path }],
    plan: (p, facts) => (facts.file(p.path).exists ? { noop: 'exists' } : { changes: [{
      kind: 'write-file', path: p.path, before: { exists: false }, after: { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
      content: '', secret: false, task: '', reason: 'create',
    }] }),
  });
  const pb = definePlaybook({ name: 'x', plays: [{
    hosts: 'all', serial: 1, tasks: [touch({ path: '/f' })],
    gates: [(ctx) => ({ name: `port of ${ctx.host.name}`, check: { kind: 'tcp', host: ctx.host.address, port: 22 } }), { name: 'cmd', from: 'controller', check: { kind: 'command', argv: ['true'] }, afterRevert: false }],
  }] });
  const hosts: Host[] = ['h1', 'h2'].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, groups: ['all'], vars: {} }));
  const inventory = { source: 'mem', hosts, groups: new Map(), warnings: [], selectHosts: () => hosts, getHost: (n: string) => hosts.find((h) => h.name === n)! } as unknown as Inventory;
  const input = { inventory, playbook: { path: 'mem.ts', sha256: 'x', playbook: pb }, projectRoot: '/' };
  const plays = selectPlays(input);
  const facts = (exists: boolean) => new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { '/f': exists ? { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: 'x' } : { exists: false } } });
  const p1 = planHost(new HostTasks(hosts[0]!, input, plays), facts(false));
  const p2 = planHost(new HostTasks(hosts[1]!, input, plays), facts(true));
  t.deepEqual(p1.plays[0]!.gates, [
    { id: 'g0.0', name: 'port of h1', from: 'host', timeoutSeconds: 60, intervalSeconds: 1, check: { kind: 'tcp', host: '10.0.0.1', port: 22 }, afterRevert: { kind: 'tcp', host: '10.0.0.1', port: 22 } },
    { id: 'g0.1', name: 'cmd', from: 'controller', timeoutSeconds: 60, intervalSeconds: 1, check: { kind: 'command', argv: ['true'] }, afterRevert: null },
  ]);
  t.is(p2.plays[0]!.gates, undefined, 'a converged host evaluates no gate');
  const shown = renderPlanGates({ plays, hosts: [p1, p2] } as unknown as Plan);
  t.regex(shown, /play 1 "all", batch 1 \(h1\):\n    \? h1: "port of h1": tcp 10\.0\.0\.1:22 accepts connections \[from h1, timeout 60s\]\n    \? h1: "cmd": command true exits 0 \[from the controller/);
  t.notRegex(shown, /batch 2/);
  // A gate function's bad result is a VALIDATION error naming the gate and host.
  const bad = definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [touch({ path: '/f' })], gates: [() => ({ name: 'b', check: { kind: 'tcp', host: 'x', port: 0 } })] }] });
  const badInput = { ...input, playbook: { path: 'mem.ts', sha256: 'x', playbook: bad } };
  const e = t.throws(() => planHost(new HostTasks(hosts[0]!, badInput, selectPlays(badInput)), facts(false)), { instanceOf: ValidationError });
  t.is(e!.message, 'play 1 "all" › gate 1 "b": check.port: 1..65535');
  t.is(e!.where.host, 'h1');
  // Static gates are checked when the playbook loads.
  t.throws(() => validatePlaybook(definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [], gates: [{ name: 'n', check: { kind: 'agent', service: 'kubelet' }, from: 'controller' }] }] }), 'pb.ts'),
    { message: /plays\[0\]\.gates\[0\]: check\.the agent's log/ });
});

test('a stop request ends the polling at once: host and controller gates still pending fail as interrupted', async (t) => {
  const stop = new StopSignal();
  const host: Host = { name: 'local', address: '127.0.0.1', groups: ['all'], vars: {} };
  const never = (id: string, from: 'host' | 'controller'): PlannedGate => ({ id, name: id, from, timeoutSeconds: 8, intervalSeconds: 0.2, check: { kind: 'command', argv: ['false'] }, afterRevert: null });
  setTimeout(() => stop.request(), 700);
  const results = await checkGates([{ host: 'local', connector: new LocalConnector(host), become: false, gates: [never('h', 'host'), never('c', 'controller')] }], { play: 0, batch: 0, phase: 'apply', forks: 2, stop });
  t.deepEqual(results.map((r) => [r.gate, r.passed, r.detail]).sort(), [['c', false, 'interrupted: a stop was requested while polling'], ['h', false, 'interrupted: a stop was requested while polling']]);
});

test('apiserver gates over TLS with client-certificate auth: the kubeconfig (controller), URL + files from the controller and the host agree', async (t) => {
  const tls = mkdtempSync(join(tmpdir(), 'rig-gates-tls-'));
  const ssl = (...a: string[]) => { const r = spawnSync('openssl', a, { cwd: tls, encoding: 'utf8' }); if (r.status !== 0) throw new Error(r.stderr); };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '2');
  writeFileSync(join(tls, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/O=system:masters/CN=admin');
  ssl('x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-days', '2');
  const f = (n: string) => join(tls, n);
  // Like the stand-in apiserver: TLS, a client certificate is asked for, 401 without one; no /readyz (an old apiserver).
  const server = https.createServer({ cert: readFileSync(f('server.crt')), key: readFileSync(f('server.key')), ca: readFileSync(f('ca.crt')), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const ok = (req.socket as import('node:tls').TLSSocket).authorized;
    res.writeHead(!ok ? 401 : req.url === '/healthz' ? 200 : 404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  writeFileSync(f('kubeconfig'), ['apiVersion: v1', 'kind: Config', 'current-context: c', `clusters: [{name: k, cluster: {server: "${url}", certificate-authority: ca.crt}}]`,
    `users: [{name: u, user: {client-certificate-data: ${readFileSync(f('admin.crt')).toString('base64')}, client-key: admin.key}}]`, 'contexts: [{name: c, context: {cluster: k, user: u}}]'].join('\n'));
  const withCert: GateCheck = { kind: 'apiserver', url, caFile: f('ca.crt'), clientCert: f('admin.crt'), clientKey: f('admin.key') };
  const noCert: GateCheck = { kind: 'apiserver', url, caFile: f('ca.crt') };
  const wrongCa: GateCheck = { kind: 'apiserver', url, caFile: f('admin.crt'), clientCert: f('admin.crt'), clientKey: f('admin.key') };
  t.true((await probeFromController({ kind: 'apiserver', kubeconfig: f('kubeconfig') })).passed);
  for (const [check, want] of [[withCert, true], [noCert, false], [wrongCa, false]] as const) {
    const c = await probeFromController(check);
    t.is(c.passed, want, `controller: ${c.output}`);
    const h = (await runHostGates([once(check)])).get('g')!;
    t.is(h.passed, want, `host: ${h.output}`);
  }
  server.close();
});
