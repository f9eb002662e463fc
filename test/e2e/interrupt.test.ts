/**
 * Issue 14, "interruption": Ctrl-C during an apply, like Terraform's graceful stop. First SIGINT: nothing new
 * starts, each host finishes its step in flight, the run is journaled `interrupted`, locks are released on every
 * host, the terminal says what ran and what did not and the two ways out, exit 130; rollback then restores byte for
 * byte. A second SIGINT stops at once and the journal stays consistent (the fault drill's invariants). `rig log`
 * shows a killed run as died. `--break-lock` refuses to break a lock whose holder is alive on this controller.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { hostHas, releaseHold, snapshotDrill, startRig, waitForHold, waitForPath } from '../helpers/drill-control.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 39;
const PLAYBOOK = 'test/fixtures/playbooks/fault-drill.ts';
const LOCK = '/var/lib/rig/lock';
const A_CONF = 'alpha=1\n'.repeat(200);

let fleet: Fleet;
let stateDir: string;
let names: string[];
test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID, seed: 'files' });
  names = fleet.hosts.map((h) => h.name);
});
test.beforeEach(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'rig-interrupt-'));
  // each test on its own: no hold point or lock left by an earlier test that failed
  await releaseHold(fleet);
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all(names.map((h) => execInHost(fleet, h, ['rm', '-rf', LOCK])));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const snapAll = () => Promise.all(names.map((n) => snapshotDrill(fleet, n)));
const lastRun = () => readdirSync(join(stateDir, 'runs')).sort().at(-1)!;
const runMeta = (id: string) => JSON.parse(readFileSync(join(stateDir, 'runs', id, 'run.json'), 'utf8')) as { status: string; forced?: boolean };
const hostFile = async (h: string, p: string) => (await execInHost(fleet, h, ['sh', '-c', 'cat "$1" 2>/dev/null', 'sh', p])).stdout;

/** Start an apply held between its two writes on every host; resolves with its run id once all hosts are held. */
async function startHeld(extra: string[] = []) {
  const apply = startRig(['apply', ...args(), ...extra, '-e', 'fault_point=between-writes', PLAYBOOK]);
  await waitForHold(fleet, names);
  return { apply, runId: lastRun() };
}

test.serial('first SIGINT: the steps in flight finish, nothing new starts, locks released, journaled interrupted, exit 130; rollback restores', async (t) => {
  t.timeout(300_000);
  const before = await snapAll();
  const { apply, runId } = await startHeld();
  apply.child.kill('SIGINT');
  // the controller tells every host to stop after its current step (the held command) ...
  await waitForPath(fleet, names, `/var/lib/rig/runs/${runId}/stop`);
  await releaseHold(fleet); // ... which now finishes
  const code = await apply.exited;
  const out = apply.output();
  t.is(code, 130, out);
  for (const h of names) {
    t.is(await hostFile(h, '/etc/rig-drill/a.conf'), A_CONF, `${h}: the write before the step in flight stays`);
    t.notRegex(await hostFile(h, '/etc/default/kube-proxy'), /drill=yes/, `${h}: the write after the step in flight did not start`);
    t.false(await hostHas(fleet, h, LOCK), `${h}: lock released`);
    t.regex(await hostFile(h, `/var/lib/rig/runs/${runId}/journal.log`), /^interrupted before 0\.\d+$/m);
  }
  t.regex(out, /INTERRUPTED: run \S+ stopped after the steps in flight/);
  t.regex(out, /ran \(\d+ steps?\):[^]*create \/etc\/rig-drill\/a\.conf/);
  t.regex(out, /did not run \(\d+ steps?\):[^]*\/etc\/default\/kube-proxy/);
  t.true(out.includes(`rig rollback ${runId}`), out);
  t.regex(out, /finish it: +rig apply /);
  t.is(runMeta(runId).status, 'interrupted');
  const log = await runRig(['log', '--state-dir', stateDir]);
  t.regex(log.stdout, new RegExp(`${runId} +apply +interrupted`));

  const rb = await runRig(['rollback', ...args(), runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.deepEqual(await snapAll(), before, 'rollback restores every host byte for byte');
});

test.serial('second SIGINT: stops at once; the journal stays consistent and a rollback restores byte for byte', async (t) => {
  t.timeout(300_000);
  const before = await snapAll();
  const { apply, runId } = await startHeld();
  apply.child.kill('SIGINT');
  await waitForPath(fleet, names, `/var/lib/rig/runs/${runId}/stop`);
  apply.child.kill('SIGINT'); // while every host is still held: the controller does not wait for them
  const code = await apply.exited;
  t.is(code, 130, apply.output());
  t.regex(apply.output(), /stopped at once/);
  const meta = runMeta(runId);
  t.is(meta.status, 'interrupted');
  t.true(meta.forced);
  await releaseHold(fleet);
  // the fault drill's invariants: each target is its before or its after, no temp file, both journals name the run
  for (const [i, s] of (await snapAll()).entries()) {
    t.true(s.trim().endsWith('0'), `temp files left on ${names[i]}: ${s}`);
  }
  for (const h of names) {
    const a = await hostFile(h, '/etc/rig-drill/a.conf');
    t.true(a === '' || a === A_CONF, `${h}: a.conf half-written`);
  }
  const events = readFileSync(join(stateDir, 'runs', runId, 'events.jsonl'), 'utf8');
  t.regex(events, /"t":"intent"/);
  await new Promise((r) => setTimeout(r, 1_500)); // let the abandoned host scripts end (stop marker or broken pipe)
  const rb = await runRig(['rollback', ...args(), '--break-lock', runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.deepEqual(await snapAll(), before);
  for (const h of names) t.false(await hostHas(fleet, h, LOCK));
});

test.serial('rig log shows a run whose controller was killed as died, with its state, never as running', async (t) => {
  t.timeout(300_000);
  const before = await snapAll();
  const { apply, runId } = await startHeld();
  apply.child.kill('SIGKILL');
  await apply.exited;
  await releaseHold(fleet);
  const log = await runRig(['log', '--state-dir', stateDir]);
  const line = log.stdout.split('\n').find((l) => l.startsWith(runId)) ?? '';
  t.regex(line, /\bdied\b/, log.stdout);
  t.notRegex(line, /\brunning\b/, log.stdout);
  t.regex(line, /4 of 4 hosts reached, \d+ steps? done/, line);
  const json = JSON.parse((await runRig(['log', '--state-dir', stateDir, '--json'])).stdout) as Array<{ id: string; status: string }>;
  t.is(json.find((r) => r.id === runId)?.status, 'died');
  const show = await runRig(['show', '--state-dir', stateDir, runId]);
  t.regex(show.stdout, new RegExp(`run ${runId} \\(apply\\) died`));
  await new Promise((r) => setTimeout(r, 1_500));
  const rb = await runRig(['rollback', ...args(), '--break-lock', runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.deepEqual(await snapAll(), before);
});

test.serial('--break-lock refuses to break the lock of a run that is alive on this controller, and says who holds it', async (t) => {
  t.timeout(300_000);
  const { apply, runId } = await startHeld();
  const second = await runRig(['apply', ...args(), '--break-lock', PLAYBOOK]);
  t.is(second.code, 1, second.stdout + second.stderr);
  const text = second.stdout + second.stderr;
  t.regex(text, /LOCKED[^]*refusing to break the lock: run \S+ \(pid \d+ on [^)]+\) holds it and its process is alive/);
  t.true(text.includes(`run ${runId}`), text);
  t.regex(text, /--break-lock --force/);
  // the held run still owns every lock and goes on undisturbed
  for (const h of names) t.true((await hostFile(h, `${LOCK}/run`)) === runId, `${h}: the live run's lock is intact`);
  await releaseHold(fleet);
  t.is(await apply.exited, 0, apply.output());
  t.is((await runRig(['plan', ...args(), PLAYBOOK])).code, 0);
  t.is((await runRig(['rollback', ...args(), runId])).code, 0);
});
