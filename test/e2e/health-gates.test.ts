/**
 * Issue 22 end to end: health-gated rolling with automatic revert of a failed batch, on the secure-cluster playbook
 * (1 master + 3 workers, one worker per batch). worker2's stand-in kubelet is made to reject its new client
 * certificate (fault knob /var/lib/rig-standins/kubelet.fault): its gate fails, its batch is reverted from the journal
 * (files byte-identical, services restarted, kubelet on the old http port again), worker3 never starts, master1 and
 * worker1 stay applied and healthy, exit 1 naming the gate; `rig rollback` then undoes the earlier batches. Then: a
 * passing run records every gate with its timing and costs one round trip per gated host and play beyond the apply;
 * a converged run evaluates no gate; `--no-revert` leaves a failed batch as it is.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { JournalStore } from '../../src/changelog/journal-store.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { countLogLines, waitForLogLine } from '../fleet/standin-log.ts';
import { runRig } from '../helpers/run-rig.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';
import { snapshotTrees } from '../helpers/tree-snapshot.ts';

const FLEET_ID = 71;
let fleet: Fleet;
let stateDir: string;
let pkiDir: string;

const FAULT = '/var/lib/rig-standins/kubelet.fault';
const KUBELET_LOG = '/var/log/kubelet.log';

const sh = (host: string, script: string) => execInHost(fleet, host, ['sh', '-c', script]);
const snapshot = (host: string) => snapshotTrees(fleet, host);
const master = () => fleet.hosts.find((h) => h.role === 'master')!;
const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '-e', `pki_dir=${pkiDir}`, '-e', 'gate_timeout_seconds=10', '-e', 'worker_serial=1'];
const env = {};
const apply = (extra: string[] = []) => runRig(['apply', ...args(), ...extra, 'playbooks/secure-cluster.ts'], { timeoutMs: 300_000, env });
const events = (runId: string): ReadonlyArray<Record<string, unknown>> =>
  new JournalStore(stateDir).load(runId).events as unknown as ReadonlyArray<Record<string, unknown>>;
const runIdOf = (out: string): string => /run (\S+) journaled/.exec(out)![1]!;
const securePortAnswers = async () => (await sh(master().name, 'curl -s -o /dev/null -w %{http_code} --cacert /srv/kubernetes/ca.crt --cert /srv/kubernetes/admin.crt --key /srv/kubernetes/admin.key https://127.0.0.1:6443/healthz')).stdout;

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID });
  const work = mkdtempSync(join(tmpdir(), 'rig-gates-'));
  stateDir = join(work, 'state');
  pkiDir = join(work, 'pki');
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

test.serial('a worker whose kubelet rejects its new certificate fails its gate: its batch is reverted, the run stops, rollback undoes the rest', async (t) => {
  const m = master();
  const [w1, w2, w3] = fleet.hosts.filter((h) => h.role === 'worker').map((h) => h.name) as [string, string, string];
  const before = new Map<string, string>(await Promise.all(fleet.hosts.map(async (h) => [h.name, await snapshot(h.name)] as const)));
  await sh(w2, `mkdir -p /var/lib/rig-standins && echo reject-client-cert > ${FAULT}`);
  const w3Starts = (await sh(w3, `grep -c ' starting ' ${KUBELET_LOG} || true`)).stdout.trim();

  // The plan shows the gates per batch.
  const plan = await runRig(['plan', ...args(), 'playbooks/secure-cluster.ts'], { env });
  t.is(plan.code, 2, plan.stderr);
  t.regex(plan.stdout, new RegExp(`play 2 "move workers to TLS", batch 2 \\(${w2}\\):\\n.*${w2}: "kubelet reaches the secure port": kubelet reaches https://${m.ip.replace(/\./g, '\\.')}:6443`));
  t.regex(plan.stdout, /play 3 "close the insecure port", batch 1 \(master1\):[^]*"insecure port closed to the network": tcp \S+:8080 refuses connections \[from the controller/);

  const r = await apply();
  const out = r.stdout + r.stderr;
  t.is(r.code, 1, out);
  t.regex(r.stdout, new RegExp(`GATE_FAILED: gate "kubelet reaches the secure port" failed on ${w2} after [^]*client certificate rejected[^]*reverted by rollback run \\S+: \\d+ steps, gates pass again`));
  t.regex(r.stdout, /REVERTED batch 2 of play 2[^]*update \/etc\/default\/kubelet[^]*restart service kubelet/);
  t.regex(r.stdout, new RegExp(`STOPPED at batch 2 of play 2: gate "kubelet reaches the secure port" failed on ${w2}; that batch was reverted, the next batches did not start, earlier batches stay applied\\.\\n  Fix the cause and \`rig apply\` again, or undo the earlier batches with: rig rollback \\S+`));
  const runId = runIdOf(r.stdout);

  // worker2: byte-identical to before the run, its kubelet back on the insecure port the old way.
  t.is(await snapshot(w2), before.get(w2)!);
  const mark = await countLogLines(fleet, w2, KUBELET_LOG);
  await waitForLogLine(fleet, w2, KUBELET_LOG, new RegExp(`GET http://${m.ip}:8080/version status=200`), 30_000, { sinceLine: mark });
  // worker3 never started: unchanged, never journaled, its kubelet not restarted.
  t.is(await snapshot(w3), before.get(w3)!);
  t.false(events(runId).some((e) => e['host'] === w3 && e['t'] === 'intent'));
  t.is((await sh(w3, `grep -c ' starting ' ${KUBELET_LOG} || true`)).stdout.trim(), w3Starts);
  // master1 and worker1 stay applied and healthy.
  t.not(await snapshot(w1), before.get(w1)!);
  t.not(await snapshot(m.name), before.get(m.name)!);
  const w1mark = await countLogLines(fleet, w1, KUBELET_LOG);
  await waitForLogLine(fleet, w1, KUBELET_LOG, new RegExp(`GET https://${m.ip}:6443/version status=200`), 30_000, { sinceLine: w1mark });
  t.is(await securePortAnswers(), '200');

  // The journal records every gate with its timing, and the revert.
  const gates = events(runId).filter((e) => e['t'] === 'gate');
  const failed = gates.find((e) => e['host'] === w2 && e['passed'] === false && e['phase'] === 'apply')!;
  t.truthy(failed);
  t.is(failed['name'], 'kubelet reaches the secure port');
  t.true(typeof failed['ms'] === 'number' && (failed['ms'] as number) >= 9_000, JSON.stringify(failed));
  t.true(gates.filter((e) => e['host'] === w2 && e['phase'] === 'revert').every((e) => e['passed'] === true));
  t.is(gates.filter((e) => e['host'] === w2 && e['phase'] === 'revert').length, 2);
  const revert = events(runId).find((e) => e['t'] === 'revert')!;
  t.deepEqual(revert['hosts'], [w2]);
  const show = await runRig(['show', '--state-dir', stateDir, runId]);
  t.regex(show.stdout, new RegExp(`gates:\\n[^]*FAIL ${w2}: "kubelet reaches the secure port" in [\\d.]+ s[^]*reverted batch 2 of play 2 \\(${w2}\\) by rollback run ${revert['rollbackRun']}`));

  // rig rollback (no id) undoes the earlier batches; worker2 is left alone (already reverted).
  const rb = await runRig(['rollback', ...args()], { timeoutMs: 120_000 });
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.regex(rb.stderr, new RegExp(`${w2}: already rolled back by`));
  for (const h of fleet.hosts) t.is(await snapshot(h.name), before.get(h.name)!, h.name);
  const w1back = await countLogLines(fleet, w1, KUBELET_LOG);
  await waitForLogLine(fleet, w1, KUBELET_LOG, new RegExp(`GET http://${m.ip}:8080/version status=200`), 30_000, { sinceLine: w1back });
});

test.serial('passing gates are recorded with timings and add no round trip (host-side gates ride in the apply script); a converged run evaluates no gate; --no-revert leaves a failed batch', async (t) => {
  const [w1] = fleet.hosts.filter((h) => h.role === 'worker').map((h) => h.name) as [string];
  await sh(fleet.hosts.find((h) => h.name === 'worker2')!.name, `rm -f ${FAULT}`);
  const validate = compileResultSchema();
  const r = await apply(['--json', '--stats']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.deepEqual(validate(JSON.parse(r.stdout)), [], 'valid against docs/json-schema/rig-result.v1.json');
  const json = JSON.parse(r.stdout) as { runId: string; gates: { results: Array<{ host: string; passed: boolean; ms: number; attempts: number; from: string }> }; stats: Array<{ host: string; roundTrips: number }> };
  // master1: 1 gate after play 1, 2 after play 3; each worker: 2.
  t.is(json.gates.results.length, 9);
  t.true(json.gates.results.every((g) => g.passed && typeof g.ms === 'number' && g.attempts >= 1));
  t.is(json.gates.results.filter((g) => g.from === 'controller').length, 1);
  t.is(events(json.runId).filter((e) => e['t'] === 'gate').length, 9);
  // Round trips: gather + one apply per play. A host-side gate rides in its host's apply script and a controller gate
  // costs none, so a gate that passes adds no round trip: master1 3 (gather, play 1, play 3), each worker 2.
  const trips = new Map(json.stats.map((s) => [s.host, s.roundTrips]));
  t.is(trips.get('master1'), 3);
  for (const w of ['worker1', 'worker2', 'worker3']) t.is(trips.get(w), 2, w);

  const again = await apply(['--json', '--stats']);
  t.is(again.code, 0, again.stdout + again.stderr);
  const conv = JSON.parse(again.stdout) as { runId: string; gates?: unknown; stats: Array<{ host: string; roundTrips: number }> };
  t.is(conv.gates, undefined);
  t.true(conv.stats.every((s) => s.roundTrips === 2));
  const convDir = join(stateDir, 'runs', conv.runId);
  t.false(readdirSync(convDir).includes('events.jsonl') && events(conv.runId).some((e) => e['t'] === 'gate'));

  // --no-revert: back to the old cluster, worker1's kubelet made to crash on a client certificate; the batch stays.
  t.is((await runRig(['rollback', ...args()], { timeoutMs: 120_000 })).code, 0);
  const w1before = await snapshot(w1);
  await sh(w1, `mkdir -p /var/lib/rig-standins && echo crash-on-client-cert > ${FAULT}`);
  const nr = await apply(['--no-revert', '--json']);
  t.is(nr.code, 1, nr.stdout + nr.stderr);
  const nrj = JSON.parse(nr.stdout) as { hosts: Array<{ host: string; error?: { code: string; message: string } }>; gates: { reverts: unknown[]; stoppedBy?: unknown } };
  t.deepEqual(validate(nrj), []);
  t.regex(nrj.hosts.find((h) => h.host === w1)!.error!.message, /^gate "kubelet reaches the secure port" failed on worker1 [^]*left as it is \(--no-revert\)/);
  t.is(nrj.hosts.find((h) => h.host === w1)!.error!.code, 'GATE_FAILED');
  t.deepEqual(nrj.gates.reverts, []);
  t.like(nrj.gates, { stoppedBy: { play: 1, batch: 0, host: w1, gate: 'kubelet reaches the secure port', reverted: false } });
  t.not(await snapshot(w1), w1before);
  await sh(w1, `rm -f ${FAULT}`);
});
