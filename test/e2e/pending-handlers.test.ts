/**
 * Issue 20 end to end. "Handlers are never lost": a template change notifies `restart kube-proxy`, a later task fails
 * (or the run is interrupted with Ctrl-C between them, or the host is cut off and its script dies there): the handler
 * stays pending on the host, the next plan of the playbook shows it ("pending from run X") and the next apply — once
 * of a saved plan — runs it (counted on the host), then it is gone. A rollback of the interrupted run clears its
 * pending handler. `--force-handlers` (and the play's forceHandlers from a variable) run it in the failed run itself.
 * "worker_serial": `-e worker_serial=2` changes secure-cluster's batches in the plan and in the apply (journal order).
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { downFleet, execInHost, layoutFleet, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { releaseHold, startRig, waitForHold, waitForPath } from '../helpers/drill-control.ts';
import { runRig } from '../helpers/run-rig.ts';
import { RESTARTS, SCRIPT_PID } from '../fixtures/playbooks/pending-handlers.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';

const validateResult = compileResultSchema();

const FLEET_ID = 67;
const exec = promisify(execFile);
const PLAYBOOK = 'test/fixtures/playbooks/pending-handlers.ts';
let fleet: Fleet;
let work: string;
let stateDir: string;

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID });
  work = mkdtempSync(join(tmpdir(), 'rig-pending-'));
  stateDir = join(work, 'state');
});
test.after.always(async () => { await releaseHold(fleet).catch(() => undefined); await downFleet({ id: FLEET_ID }); });

const workers = () => fleet.hosts.filter((h) => h.role === 'worker').map((h) => h.name);
const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const restarts = async (host: string) => Number((await execInHost(fleet, host, ['sh', '-c', `cat ${RESTARTS} 2>/dev/null | wc -l`])).stdout.trim());
const allRestarts = () => Promise.all(workers().map(restarts));
const proxyFlags = async (host: string) => (await execInHost(fleet, host, ['cat', '/etc/default/kube-proxy'])).stdout;
const runDirs = (): Set<string> => new Set(readdirSync(join(stateDir, 'runs')));
/** The run started since `before` was listed (ids of runs started in the same second do not sort by start). */
const newRun = (before: Set<string>): string => { const n = [...runDirs()].filter((d) => !before.has(d)); if (n.length !== 1) throw new Error(`expected one new run, got ${n.join(', ')}`); return n[0]!; };
const runIdOf = (out: string) => /run (\S+) journaled/.exec(out)?.[1] ?? /rig rollback (\S+)/.exec(out)?.[1];
interface JsonPlan { plays: Array<{ name: string; batches: string[][] }>; hosts: Array<{ host: string; plays: Array<{ pendingHandlers?: Array<{ handler: string; fromRuns: string[] }> }> }> }

test.serial('a failed run leaves its handler pending; the next plan shows it, a saved plan applied later runs it on the host, then nothing is pending', async (t) => {
  t.timeout(300_000);
  const before = await allRestarts();
  const failed = await runRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.1', '-e', 'fail_later=true', PLAYBOOK]);
  t.is(failed.code, 1, failed.stdout + failed.stderr);
  const runX = runIdOf(failed.stdout)!;
  t.truthy(runX, failed.stdout);
  for (const w of workers()) t.regex(await proxyFlags(w), /--master=10\.0\.0\.1 /, 'the template was applied');
  t.deepEqual(await allRestarts(), before, 'the handler did not run: the later task failed');
  for (const w of workers()) t.regex(failed.stdout, new RegExp(`handlers left pending .*\\n(.*\\n)*  ${w}: restart kube-proxy\\n`), 'the operator is told');

  // The template is in place: the plan has nothing to write, but the restart is pending from run X.
  const plan = await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.1', PLAYBOOK]);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, new RegExp(`handler "restart kube-proxy": pending from run ${runX}`));
  t.notRegex(plan.stdout, /task 1 "kube-proxy flags"/, 'the template is not shown as a change');
  t.regex(plan.stdout, new RegExp(`Plan: ${workers().length} changes on ${workers().length} of ${workers().length} hosts`));
  const json = JSON.parse((await runRig(['plan', '--json', '--stats', ...args(), '-e', 'proxy_master=10.0.0.1', PLAYBOOK])).stdout) as { plan: JsonPlan; stats: Array<{ host: string; roundTrips: number }> };
  t.deepEqual(validateResult(json), [], 'the published JSON schema documents pendingHandlers');
  t.deepEqual(json.stats.map((x) => x.roundTrips), workers().map(() => 1), 'pending handlers are read in the one gather round trip');
  for (const h of json.plan.hosts) t.deepEqual(h.plays[0]!.pendingHandlers?.map((p) => [p.handler, p.fromRuns]), [['restart kube-proxy', [runX]]]);

  // Saved, then applied later: the saved plan carries the pending handler.
  const saved = join(work, 'pending.json');
  t.is((await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.1', '--out', saved, PLAYBOOK])).code, 2);
  const apply = await runRig(['apply', ...args(), saved]);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  t.deepEqual(await allRestarts(), before.map((n) => n + 1), 'the pending restart ran once on every worker');

  const converged = await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.1', PLAYBOOK]);
  t.is(converged.code, 0, converged.stdout + converged.stderr);
  t.notRegex(converged.stdout, /pending/);
});

test.serial('Ctrl-C between the template and its handler: pending; a rollback of that run clears it (the config is back, no restart owed)', async (t) => {
  t.timeout(300_000);
  const converge = await runRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.1', PLAYBOOK]);
  t.is(converge.code, 0, converge.stdout + converge.stderr);
  const before = await allRestarts();
  const runsBefore = runDirs();
  const run = startRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.2', '-e', 'hold=true', PLAYBOOK]);
  await waitForHold(fleet, workers());
  const y = newRun(runsBefore);
  run.child.kill('SIGINT');
  // Each host finishes the step in flight (the hold) and stops before the handler.
  await waitForPath(fleet, workers(), `/var/lib/rig/runs/${y}/stop`);
  await releaseHold(fleet);
  t.is(await run.exited, 130, run.output());
  t.deepEqual(await allRestarts(), before);
  for (const w of workers()) t.regex(await proxyFlags(w), /--master=10\.0\.0\.2 /);
  t.regex(run.output(), /handlers left pending/);

  const plan = await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.2', PLAYBOOK]);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, new RegExp(`handler "restart kube-proxy": pending from run ${y}`));

  const rollback = await runRig(['rollback', ...args(), y]);
  t.is(rollback.code, 0, rollback.stdout + rollback.stderr);
  for (const w of workers()) t.regex(await proxyFlags(w), /--master=10\.0\.0\.1 /, 'the config of the run before');
  const after = await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.1', PLAYBOOK]);
  t.is(after.code, 0, after.stdout + after.stderr);
  t.notRegex(after.stdout, /pending/);
  t.deepEqual(await allRestarts(), before, 'no restart: the handler never ran and the rollback owes none');
});

test.serial('a host cut off and crashed between the template and its handler: unreachable; its restart stays pending and runs on the next apply, the others ran theirs', async (t) => {
  t.timeout(300_000);
  t.is((await runRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.1', PLAYBOOK])).code, 0);
  const before = await allRestarts();
  const [victim, ...others] = workers();
  const veth = layoutFleet(fleet.id, fleet.hosts.length).hosts.find((h) => h.name === victim)!.veth;
  const runsBefore = runDirs();
  const run = startRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.5', '-e', 'hold=true', PLAYBOOK]);
  await waitForHold(fleet, workers());
  const z = newRun(runsBefore);
  // The victim's link goes down and its apply script dies there (the shell that ran the template step, by its pid).
  await exec('ip', ['link', 'set', veth, 'down']);
  try {
    await execInHost(fleet, victim!, ['sh', '-c', `kill -9 "$(cat ${SCRIPT_PID})"`]);
    await releaseHold(fleet);
    t.is(await run.exited, 1, run.output());
  } finally {
    await exec('ip', ['link', 'set', veth, 'up']);
  }
  t.regex(run.output(), new RegExp(`${victim}\\s*: .*unreachable=1`));
  t.deepEqual(await allRestarts(), [before[0]!, ...before.slice(1).map((n) => n + 1)], 'the others ran their handler');

  const plan = await runRig(['plan', '--json', ...args(), '-e', 'proxy_master=10.0.0.5', PLAYBOOK]);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  const pending = (JSON.parse(plan.stdout) as { plan: JsonPlan }).plan.hosts.map((h) => [h.host, h.plays[0]!.pendingHandlers?.map((p) => p.fromRuns)]);
  t.deepEqual(pending, [[victim, [[z]]], ...others.map((o) => [o, undefined])]);
  // The dead script left its lock: a stale lock, broken with --break-lock (its controller is gone).
  const apply = await runRig(['apply', ...args(), '--break-lock', '-e', 'proxy_master=10.0.0.5', PLAYBOOK]);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  t.deepEqual(await allRestarts(), before.map((n) => n + 1));
  t.is((await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.5', PLAYBOOK])).code, 0);
});

test.serial('--force-handlers, and the play\'s forceHandlers from -e: the notified handler runs in the failed run itself', async (t) => {
  t.timeout(300_000);
  const before = await allRestarts();
  const forced = await runRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.3', '-e', 'fail_later=true', '--force-handlers', PLAYBOOK]);
  t.is(forced.code, 1, forced.stdout + forced.stderr);
  t.regex(forced.stdout + forced.stderr, /the later task failed/);
  t.deepEqual(await allRestarts(), before.map((n) => n + 1));
  const plan = await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.3', PLAYBOOK]);
  t.is(plan.code, 0, plan.stdout + plan.stderr);

  const planned = JSON.parse((await runRig(['plan', '--json', ...args(), '-e', 'proxy_master=10.0.0.4', '-e', 'play_force_handlers=true', PLAYBOOK])).stdout) as { plan: { plays: Array<{ forceHandlers?: boolean }> } };
  t.true(planned.plan.plays[0]!.forceHandlers);
  t.deepEqual(validateResult(planned), []);
  const byPlay = await runRig(['apply', ...args(), '-e', 'proxy_master=10.0.0.4', '-e', 'fail_later=true', '-e', 'play_force_handlers=true', PLAYBOOK]);
  t.is(byPlay.code, 1, byPlay.stdout + byPlay.stderr);
  t.deepEqual(await allRestarts(), before.map((n) => n + 2));
  t.is((await runRig(['plan', ...args(), '-e', 'proxy_master=10.0.0.4', PLAYBOOK])).code, 0);
});

test.serial('secure-cluster: -e worker_serial=2 changes the batches of the plan and of the apply', async (t) => {
  t.timeout(600_000);
  const pki = ['-e', `pki_dir=${join(work, 'pki')}`];
  const batches = async (extra: string[]) => {
    const r = await runRig(['plan', '--json', ...args(), ...pki, ...extra, 'playbooks/secure-cluster.ts'], { timeoutMs: 240_000 });
    return (JSON.parse(r.stdout) as { plan: JsonPlan }).plan.plays[1]!.batches;
  };
  const [w1, w2, w3] = workers();
  t.deepEqual(await batches([]), [[w1], [w2], [w3]], 'default 50% of 3 workers: one at a time');
  t.deepEqual(await batches(['-e', 'worker_serial=2']), [[w1, w2], [w3]]);
  t.deepEqual(await batches(['-e', 'worker_serial=100%']), [[w1, w2, w3]]);
  const bad = await runRig(['plan', ...args(), ...pki, '-e', 'worker_serial=half', 'playbooks/secure-cluster.ts']);
  t.is(bad.code, 1);
  t.regex(bad.stderr + bad.stdout, /serial: "half" is not a positive integer or a percentage/);

  const apply = await runRig(['apply', ...args(), ...pki, '-e', 'worker_serial=2', 'playbooks/secure-cluster.ts'], { timeoutMs: 480_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const id = runIdOf(apply.stdout)!;
  const events = readFileSync(join(stateDir, 'runs', id, 'events.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as { t: string; host: string; play: number })
    .filter((e) => (e.t === 'intent' || e.t === 'host-end') && e.play === 1).map((e) => `${e.t} ${e.host}`);
  // Two workers in flight together, then the third.
  t.deepEqual(events.slice(0, 2).sort(), [`intent ${w1}`, `intent ${w2}`].sort(), events.join('\n'));
  t.deepEqual(events.slice(2, 4).sort(), [`host-end ${w1}`, `host-end ${w2}`].sort(), events.join('\n'));
  t.deepEqual(events.slice(4), [`intent ${w3}`, `host-end ${w3}`], events.join('\n'));
});
