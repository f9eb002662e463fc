/**
 * Issue 20, "Rollback in the run's own order": secure-cluster on 1 master + 3 workers (workers one at a time). Its
 * rollback undoes the master's last play (its insecure port) first, then the workers' play, one batch at a time,
 * last batch first, then the master's first play; each host's
 * waits run after its restarts; --serial changes the batches; a batch that fails stops the rollback, the later
 * batches untouched, and `rig rollback RUN` again finishes it (restarting what the stopped attempt had not).
 * Evidence: the rollback's own journal (events.jsonl, in the order they happened) and the stand-ins' logs on the
 * hosts (one clock: every host is a namespace of this machine).
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore, type JournalEvent } from '../../src/changelog/journal-store.ts';
import type { Plan } from '../../src/engine/plan-types.ts';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';
import { runRig } from '../helpers/run-rig.ts';
import { snapshotTrees } from '../helpers/tree-snapshot.ts';

const FLEET_ID = 69;
let fleet: Fleet;
let stateDir: string;
let pkiDir: string;

const sh = (host: string, script: string) => execInHost(fleet, host, ['sh', '-c', script]);
const snapshot = (host: string) => snapshotTrees(fleet, host);
const snapshots = () => Promise.all(fleet.hosts.map((h) => snapshot(h.name)));
const master = () => fleet.hosts.find((h) => h.role === 'master')!.name;
const workers = () => fleet.hosts.filter((h) => h.role === 'worker').map((h) => h.name);
const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, '-e', `pki_dir=${pkiDir}`, '-e', 'worker_serial=1']; // workers one at a time
const rig = (a: string[]) => runRig(a, { timeoutMs: 300_000 });

const eventsOf = (runId: string): JournalEvent[] => [...new JournalStore(stateDir).load(runId).events];
const planOf = (runId: string): Plan => new JournalStore(stateDir).load(runId).plan;
const batchStarts = (evs: JournalEvent[]) => evs.flatMap((e) => (e.t === 'batch' && e.phase === 'start' ? [{ play: e.play, hosts: [...e.hosts] }] : []));

/** Lines of a host's log (the stand-ins write `<ISO time> <text>`). */
const logLines = async (host: string, log: string): Promise<string[]> => (await sh(host, `cat ${log} 2>/dev/null`)).stdout.split('\n').filter(Boolean);
/** The time of the last line matching `re` after line `since`, or undefined. */
const lastAt = (lines: string[], since: number, re: RegExp): string | undefined => lines.slice(since).filter((l) => re.test(l)).at(-1)?.split(' ')[0];

/**
 * Apply secure-cluster; from its journal: its batches in the order they started (the master's play first, the
 * workers one at a time), and which play moved the workers.
 */
async function apply(t: ExecutionContext): Promise<{ runId: string; batches: { play: number; hosts: string[] }[]; workerPlay: number }> {
  const r = await rig(['apply', ...args(), 'playbooks/secure-cluster.ts']);
  t.is(r.code, 0, r.stdout + r.stderr);
  const runId = /run (\S+) journaled/.exec(r.stdout)![1]!;
  const batches = batchStarts(eventsOf(runId));
  const workerPlay = batches.find((b) => b.hosts.includes(workers()[0]!))!.play;
  t.deepEqual(batches[0], { play: 0, hosts: [master()] }, 'the master first');
  t.deepEqual(batches.filter((b) => b.play === workerPlay).map((b) => b.hosts), workers().map((w) => [w]), 'then the workers one at a time');
  return { runId, batches, workerPlay };
}

/** What the rollback of a run with these batches does: every play in reverse, each in its batches last first. */
function reversedBatches(batches: { play: number; hosts: string[] }[], replace: (play: number) => string[][] | undefined = () => undefined): string[][] {
  const plays = [...new Set(batches.map((b) => b.play))].reverse();
  return plays.flatMap((p) => replace(p) ?? batches.filter((b) => b.play === p).map((b) => b.hosts).reverse());
}

/**
 * The journal of a rollback shows it went batch by batch in `expected` order (each batch ended before the next
 * started), every host's steps inside its own batch, and on every host the waits after the service restarts.
 */
function checkRollbackJournal(t: ExecutionContext, rbId: string, expected: string[][]): JournalEvent[] {
  const evs = eventsOf(rbId);
  t.deepEqual(batchStarts(evs).map((b) => b.hosts), expected, 'batches in the run\'s order, reversed');
  const ix = (pred: (e: JournalEvent) => boolean) => evs.findIndex(pred);
  const batches = evs.flatMap((e, i) => (e.t === 'batch' ? [{ e, i }] : []));
  for (let k = 0; k < batches.length; k += 2) {
    const start = batches[k]!; const end = batches[k + 1]!;
    t.true(start.e.t === 'batch' && start.e.phase === 'start' && end.e.t === 'batch' && end.e.phase === 'end', 'start, end, start, end…');
    const hosts = start.e.t === 'batch' ? start.e.hosts : [];
    const play = start.e.t === 'batch' ? start.e.play : -1;
    // A host may be in several plays (secure-cluster's master: its secure port first, its insecure port last): the
    // steps of this batch's play (step ids are `<play>.<n>`).
    const ofPlay = (e: JournalEvent): boolean => (e.t === 'intent' && e.play === play) || (e.t === 'step' && e.id.startsWith(`${play}.`));
    for (const h of hosts) {
      const mine = evs.flatMap((e, i) => (ofPlay(e) && 'host' in e && e.host === h ? [i] : []));
      t.true(mine.length > 0 && mine.every((i) => i > start.i && i < end.i), `${h}: every step of play ${play} inside its batch`);
    }
  }
  const plan = planOf(rbId);
  for (const hp of plan.hosts) {
    const steps = hp.plays.flatMap((p) => p.steps);
    const services = steps.filter((s) => s.change.kind === 'service');
    const waits = steps.filter((s) => s.change.kind === 'wait');
    t.true(services.length > 0, `${hp.host}: services restarted`);
    t.true(waits.length > 0, `${hp.host}: a wait re-run`);
    const doneAt = (id: string) => ix((e) => e.t === 'step' && e.host === hp.host && e.id === id && e.status === 'done');
    for (const w of waits) {
      t.true(doneAt(w.id) >= 0, `${hp.host}: wait ${w.id} done`);
      const samePlay = services.filter((s) => s.id.split('.')[0] === w.id.split('.')[0]);
      for (const s of samePlay) t.true(doneAt(s.id) >= 0 && doneAt(s.id) < doneAt(w.id), `${hp.host}: ${s.id} restarted before the wait ${w.id}`);
    }
  }
  return evs;
}

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID });
  const work = mkdtempSync(join(tmpdir(), 'rig-rborder-'));
  stateDir = join(work, 'state');
  pkiDir = join(work, 'pki');
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

test.serial('rollback of secure-cluster: workers one batch at a time, last first, then the master, waits after the restarts', async (t) => {
  const [w1, w2, w3] = workers() as [string, string, string];
  const m = master();
  const before = await snapshots();
  const { runId, batches } = await apply(t);

  const kMarks = await Promise.all([w1, w2, w3].map(async (w) => (await logLines(w, '/var/log/kubelet.log')).length));
  const aMark = (await logLines(m, '/var/log/kube-apiserver.log')).length;
  const rb = await rig(['rollback', ...args(), runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.notRegex(rb.stderr, /note: /);
  t.regex(rb.stdout, new RegExp(`\\d\\. rollback of "move workers to TLS": ${w3} → ${w2} → ${w1}\\n(.*\\n)*  \\d\\. rollback of "secure the master": ${m}\\n`), 'the order is shown before it runs');
  const rbId = /rollback (\S+) of run/.exec(rb.stdout)![1]!;
  const expected = reversedBatches(batches);
  t.deepEqual(expected.slice(-4), [[w3], [w2], [w1], [m]], 'the workers last first, then the master');
  checkRollbackJournal(t, rbId, expected);
  const plan = planOf(rbId);
  const forward = planOf(runId).plays;
  t.deepEqual(plan.plays.map((p) => [p.name, p.undoes]), [...forward].reverse().map((p) => [`rollback of "${p.name}"`, [p.index]]));
  // the rollback waits for what the state before the run serves: the master's insecure port, the workers' agents
  const waitOf = (h: string) => plan.hosts.find((x) => x.host === h)!.plays.flatMap((p) => p.steps).find((s) => s.change.kind === 'wait')!.change;
  t.like(waitOf(m), { description: 'http://127.0.0.1:8080/version answers 200' });
  t.like(waitOf(w1), { description: 'sh -c service kubelet status && service kube-proxy status' });
  t.deepEqual(await snapshots(), before, 'every file back byte for byte');

  // On the hosts: the kubelets restarted in the order w3, w2, w1, then the apiserver, which then answered the wait.
  const kStarts = await Promise.all([w3, w2, w1].map(async (w) => lastAt(await logLines(w, '/var/log/kubelet.log'), kMarks[[w1, w2, w3].indexOf(w)]!, /starting kubelet/)));
  t.true(kStarts.every((x) => x !== undefined), `every kubelet restarted: ${kStarts.join(', ')}`);
  const api = await logLines(m, '/var/log/kube-apiserver.log');
  const aStart = lastAt(api, aMark, /starting kube-apiserver/);
  t.truthy(aStart);
  const order = [...kStarts, aStart] as string[];
  t.deepEqual([...order].sort(), order, `restarts in order w3, w2, w1, master: ${order.join(' < ')}`);
  const waited = lastAt(api, aMark, /http GET \/version .*status=200 remote=(::ffff:)?127\.0\.0\.1/);
  t.true(waited !== undefined && waited > aStart!, 'the rollback waited for the restarted apiserver on its insecure port');
});

test.serial('rollback --serial 2 undoes the workers two at a time instead', async (t) => {
  const [w1, w2, w3] = workers() as [string, string, string];
  const before = await snapshots();
  const { runId, batches, workerPlay } = await apply(t);
  t.is((await rig(['rollback', ...args(), '--serial', 'x', runId])).code, 1, 'a bad --serial is refused');
  const rb = await rig(['rollback', ...args(), '--json', '--serial', '2', runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  // --json: one result, valid against the published schema, with the rollback's plays and batches
  const result = JSON.parse(rb.stdout) as { runId: string; plan: { plays: { batches: string[][]; undoes: number[] }[] } };
  t.deepEqual(compileResultSchema()(result), []);
  const expected = reversedBatches(batches, (p) => (p === workerPlay ? [[w3, w2], [w1]] : undefined));
  t.deepEqual(result.plan.plays.flatMap((p) => p.batches), expected);
  t.deepEqual(result.plan.plays.find((p) => p.undoes.includes(workerPlay))!.batches, [[w3, w2], [w1]]);
  checkRollbackJournal(t, result.runId, expected);
  t.deepEqual(await snapshots(), before);
});

test.serial('a batch that fails stops the rollback; the later batches are untouched; rollback again finishes it', async (t) => {
  const [w1, w2, w3] = workers() as [string, string, string];
  const m = master();
  const before = await snapshots();
  const { runId, batches } = await apply(t);
  const applied = await snapshots();
  // w2's kubelet cannot be restarted
  await sh(w2, 'cp -p /etc/init.d/kubelet /root/kubelet.init && printf \'#!/bin/sh\\necho "kubelet init script broken by the test" >&2\\nexit 1\\n\' > /etc/init.d/kubelet');
  const rb = await rig(['rollback', ...args(), runId]);
  t.is(rb.code, 1, rb.stdout + rb.stderr);
  const rbId = /rollback (\S+) of run/.exec(rb.stdout)![1]!;
  t.regex(rb.stdout, new RegExp(`ROLLBACK STOPPED: batch 2/3 of rollback of "move workers to TLS" failed on ${w2}`));
  t.regex(rb.stdout, new RegExp(`still to roll back: .*${w1}`));
  t.regex(rb.stdout, new RegExp(`still to roll back: .*${m}`));
  t.regex(rb.stdout, new RegExp(`fix ${w2}, then finish: +rig rollback ${runId}`));
  const evs = eventsOf(rbId);
  const expected = reversedBatches(batches);
  const failedAt = expected.findIndex((b) => b.includes(w2));
  t.deepEqual(batchStarts(evs).map((b) => b.hosts), expected.slice(0, failedAt + 1), 'no batch after the failed one started');
  t.false(evs.some((e) => (e.t === 'intent' || e.t === 'step') && e.host === w1), 'w1 untouched');
  const undoMaster = planOf(rbId).plays.find((p) => p.undoes?.includes(0))!.index;
  t.false(evs.some((e) => e.t === 'intent' && e.host === m && e.play === undoMaster), 'the master\'s own play not undone');
  const now = await snapshots();
  const idx = (h: string) => fleet.hosts.findIndex((x) => x.name === h);
  t.is(now[idx(w3)], before[idx(w3)], 'w3 rolled back');
  t.is(now[idx(w1)], applied[idx(w1)], 'w1 still as the apply left it');
  t.regex((await sh(m, 'cat /etc/default/kube-apiserver')).stdout, /--tls-cert-file=/, 'the master still serves TLS');

  // fixed: the same rollback again finishes it, w3 left alone, w2's services restarted although its files are back
  await sh(w2, 'cp -p /root/kubelet.init /etc/init.d/kubelet');
  const kMark = (await logLines(w2, '/var/log/kubelet.log')).length;
  const again = await rig(['rollback', ...args(), runId]);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.regex(again.stderr, new RegExp(`${w3}: already rolled back by ${rbId}, left alone`));
  const againId = /rollback (\S+) of run/.exec(again.stdout)![1]!;
  checkRollbackJournal(t, againId, [[w2], [w1], [m]]);
  t.truthy(lastAt(await logLines(w2, '/var/log/kubelet.log'), kMark, /starting kubelet/), 'w2\'s kubelet restarted on its old flags');
  t.deepEqual(await snapshots(), before);
});

test.serial('a journal from before batch records rolls back every host at once, without waits, and says so', async (t) => {
  const before = await snapshots();
  const { runId } = await apply(t);
  // what an older rig journaled: no batch events
  const events = join(stateDir, 'runs', runId, 'events.jsonl');
  writeFileSync(events, readFileSync(events, 'utf8').split('\n').filter((l) => !l.includes('"t":"batch"')).join('\n'));
  const rb = await rig(['rollback', ...args(), runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.regex(rb.stderr, new RegExp(`note: the journal of run ${runId} does not record the order of its batches[^]*every host is rolled back at once and no wait is re-run`));
  const rbId = /rollback (\S+) of run/.exec(rb.stdout)![1]!;
  t.deepEqual(batchStarts(eventsOf(rbId)).map((b) => new Set(b.hosts)), [new Set(fleet.hosts.map((h) => h.name))]);
  t.false(planOf(rbId).hosts.some((h) => h.plays.some((p) => p.steps.some((s) => s.change.kind === 'wait'))));
  t.deepEqual(await snapshots(), before);
});
