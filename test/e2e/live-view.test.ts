/**
 * Issue 20, the live view and the recap, in a real terminal (tmux, read back with capture-pane): a rolling play
 * (serial 1, maxFailPercentage 0) on 4 hosts where worker1 fails its second step, so the run is aborted after batch 2.
 * - during the run: master1 done, worker1 applying (its task waits for the test), worker2 and worker3 pending;
 * - after: worker1 failed with its error (never a ✔), worker2/worker3 and master1's second play `not run` with the
 *   reason, the recap says `not run (aborted: …)`, the retry file lists the failed and the not-run hosts;
 * - counts: the plan's per-host changes = the view's `pending/applying N changes` = the recap's changed=, on the
 *   aborted run, on a full run, and on its rollback;
 * - Ctrl-C while worker1 is mid-play: it finishes its step and stops (interrupted), the others are `not run
 *   (interrupted: …)` in the view and the recap, the signal's notice stays on the screen above the view;
 * - without a terminal, --json says the same (hosts[].status `not-run` with notRun.cause `aborted`, schema-valid).
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';
import { TmuxTerminal } from '../helpers/tmux-terminal.ts';
import { FAIL_MARK, GO_MARK, HOLD_MARK } from '../fixtures/playbooks/live-view.ts';

const FLEET_ID = 63;
const PLAYBOOK = join(PROJECT_ROOT, 'test/fixtures/playbooks/live-view.ts');
let fleet: Fleet;
let term: TmuxTerminal;
let stateDir: string;

const args = (command: string, ...rest: string[]): string[] => [command, '-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir, ...rest];

/** The lines of the screen from the line matching `title` up to the next section title (or the end). */
function section(screen: string, title: RegExp): string[] {
  const lines = screen.split('\n');
  const start = lines.findIndex((l) => title.test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^(gathering facts|apply play|rollback play|RECAP|── |Plan:)/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}
/** The row of `host` in a section: its mark and text. */
function row(lines: readonly string[], host: string): { mark: string; text: string } | undefined {
  for (const l of lines) {
    const m = new RegExp(`^\\s+(\\S) ${host}\\s+(.*)$`).exec(l);
    if (m) return { mark: m[1]!, text: m[2]! };
  }
  return undefined;
}
/** Per host: the plan's count (`── host (addr) N changes`). */
function planCounts(screen: string): Map<string, number> {
  return new Map([...screen.matchAll(/^── (\S+) \([^)]*\) (?:(\d+) changes?|no changes)$/gm)].map((m) => [m[1]!, Number(m[2] ?? 0)]));
}
/** Per host: the recap's changed= (hosts with counts only). */
function recapCounts(screen: string): Map<string, number> {
  return new Map([...screen.matchAll(/^(\S+)\s+: ok=\d+ changed=(\d+) /gm)].map((m) => [m[1]!, Number(m[2])]));
}

test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID, seed: 'none' });
  stateDir = mkdtempSync(join(tmpdir(), 'rig-live-view-'));
  term = new TmuxTerminal(`live-${FLEET_ID}`, 220, 60);
});

test.after.always(async () => {
  term?.kill();
  await downFleet({ id: FLEET_ID });
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test.serial('a failed host and an aborted batch: the view shows each host\'s real state, the recap says not run, the retry file lists them', async (t) => {
  await execInHost(fleet, 'worker1', ['touch', FAIL_MARK]);
  const w = term.startRig(args('apply', '-y', PLAYBOOK), { cwd: PROJECT_ROOT });

  // During the run: worker1 waits in its second step for the test.
  const during = await term.waitForScreen(w, /▸ worker1 +applying 3 changes: 1\/3 steps done/);
  const live = section(during, /^apply play 1 "rolling": 4 batches/);
  t.regex(row(live, 'master1')?.text ?? '', /^done: 3 changes$/, during);
  t.is(row(live, 'master1')?.mark, '✔', during);
  t.is(row(live, 'worker2')?.mark, '·', during);
  t.regex(row(live, 'worker2')?.text ?? '', /^pending: 3 changes$/, during);
  t.regex(row(live, 'worker3')?.text ?? '', /^pending: 3 changes$/, during);
  t.regex(row(section(during, /^apply play 2 "after"/), 'master1')?.text ?? '', /^pending: 1 change$/, during);
  const gather = section(during, /^gathering facts on 4 hosts/);
  for (const h of fleet.hosts) t.regex(row(gather, h.name)?.text ?? '', /^facts gathered \(\d+ ms\)$/, during);

  await execInHost(fleet, 'worker1', ['touch', GO_MARK]);
  const end = await term.waitForScreen(w, /EXIT=\d+/);
  t.regex(end, /EXIT=1/, end);
  const play1 = section(end, /^apply play 1 "rolling": 4 batches/);
  const play2 = section(end, /^apply play 2 "after"/);
  // The failed host: failed, with its error, never a ✔.
  t.is(row(play1, 'worker1')?.mark, '✖', end);
  t.regex(row(play1, 'worker1')?.text ?? '', /^failed at step 2\/3, 1 of 3 steps done: \[\w+\] .*injected failure on worker1/, end);
  const applied = [...play1, ...play2].join('\n');
  t.notRegex(applied, /✔ worker1/, end);
  // Hosts that never ran: not run, with the reason; never a ✔.
  const abort = /not run: aborted: 1 of 1 host of play 1 "rolling" batch 2 failed, above maxFailPercentage 0%/;
  for (const h of ['worker2', 'worker3']) {
    t.is(row(play1, h)?.mark, '–', end);
    t.regex(row(play1, h)?.text ?? '', abort, end);
    t.notRegex(applied, new RegExp(`✔ ${h}`), end);
  }
  t.regex(row(play2, 'master1')?.text ?? '', abort, end);
  t.is(row(play1, 'master1')?.mark, '✔');
  t.notRegex(end, /^\s+[·▸] /m, 'no row left pending or running');

  // The recap: after the view; not run with the reason; counts as the plan's.
  const recap = end.slice(end.lastIndexOf('RECAP'));
  t.true(end.lastIndexOf('RECAP') > end.lastIndexOf('apply play 2'), 'the view ends before the recap');
  for (const h of ['worker2', 'worker3']) t.regex(recap, new RegExp(`^${h}\\s+: not run \\(aborted: 1 of 1 host of play 1 "rolling" batch 2 failed, above maxFailPercentage 0%\\)$`, 'm'), recap);
  t.regex(recap, /^master1\s+: ok=\d+ changed=3 failed=0 .*\n\s+not run: play 2 \(aborted: /m, recap);
  t.regex(recap, /^worker1\s+: ok=\d+ changed=1 failed=1 /m, recap);
  t.regex(recap, /REMOTE_COMMAND: run-command sh -c .* failed \(exit 3\): injected failure on worker1/, recap);
  t.notRegex(recap, /run-command \?/);
  // Plan = pending/applying count = recap: workers 3 changes each, master1 3 + 1 (its second play never ran).
  const plan = planCounts(end);
  t.deepEqual(Object.fromEntries(plan), { master1: 4, worker1: 3, worker2: 3, worker3: 3 }, end);
  t.is(recapCounts(recap).get('master1'), 3);

  // The retry file: the failed host and every host with a play that never ran.
  t.deepEqual(readFileSync(join(stateDir, 'retry'), 'utf8').trim().split('\n').sort(), ['master1', 'worker1', 'worker2', 'worker3']);
  // The journal keeps it: `rig show` names the hosts not run and why; `rig log` counts the changes made (3 + 1),
  // the failed host and the hosts not run.
  const show = await runRig(['show', '--state-dir', stateDir]);
  for (const h of ['master1', 'worker2', 'worker3']) t.regex(show.stdout, new RegExp(`^${h}: not run: aborted: 1 of 1 host`, 'm'), show.stdout);
  const log = await runRig(['log', '--state-dir', stateDir]);
  t.regex(log.stdout, /HOSTS +CHANGES +FAILED +NOT-RUN/);
  t.regex(log.stdout, /apply +failed +\S+ +4 +4 +1 +3 /, log.stdout);
});

test.serial('a full run and its rollback: plan, live view and recap count the same changes', async (t) => {
  await execInHost(fleet, 'worker1', ['rm', '-f', FAIL_MARK, GO_MARK]);
  const w = term.startRig(args('apply', '-y', '--limit', `@${join(stateDir, 'retry')}`, PLAYBOOK), { cwd: PROJECT_ROOT });
  const end = await term.waitForScreen(w, /EXIT=\d+/);
  t.regex(end, /EXIT=0/, end);
  const plan = planCounts(end);
  const recap = recapCounts(end.slice(end.lastIndexOf('RECAP')));
  // master1: the command again + play 2's file; worker1: the command + the file after it; the others: all three.
  t.deepEqual(Object.fromEntries(plan), { master1: 2, worker1: 2, worker2: 3, worker3: 3 }, end);
  t.deepEqual(Object.fromEntries(recap), Object.fromEntries(plan), end);
  // The view's done rows add up to the plan's count per host.
  const done = new Map<string, number>();
  for (const title of [/^apply play 1 "rolling"/, /^apply play 2 "after"/]) {
    for (const l of section(end, title)) {
      const m = /^\s+✔ (\S+)\s+done: (\d+) changes?/.exec(l);
      if (m) done.set(m[1]!, (done.get(m[1]!) ?? 0) + Number(m[2]));
    }
  }
  t.deepEqual(Object.fromEntries(done), Object.fromEntries(plan), end);
  t.is(readFileSync(join(stateDir, 'retry'), 'utf8'), '');

  const rb = term.startRig(args('rollback', '-y'), { cwd: PROJECT_ROOT });
  const rend = await term.waitForScreen(rb, /EXIT=\d+/);
  t.regex(rend, /EXIT=0/, rend);
  const rplan = planCounts(rend);
  t.true([...rplan.values()].every((n) => n > 0), rend);
  t.deepEqual(Object.fromEntries(recapCounts(rend.slice(rend.lastIndexOf('RECAP')))), Object.fromEntries(rplan), rend);
  const rgather = section(rend, /^gathering facts on 4 hosts/);
  for (const h of fleet.hosts) t.regex(row(rgather, h.name)?.text ?? '', /^facts gathered/, rend);
  // The rollback undoes the run play by play in reverse (rollback-order): a host's done rows add up to its count.
  const rdone = new Map<string, number>();
  for (const title of [/^rollback play 1 /, /^rollback play 2 /]) {
    for (const l of section(rend, title)) {
      const m = /^\s+✔ (\S+)\s+done: (\d+) changes?$/.exec(l);
      if (m) rdone.set(m[1]!, (rdone.get(m[1]!) ?? 0) + Number(m[2]));
    }
  }
  t.deepEqual(Object.fromEntries(rdone), Object.fromEntries(rplan), rend);
});

test.serial('--json of an aborted run: not-run hosts with the cause, valid against the published schema', async (t) => {
  for (const h of fleet.hosts) await execInHost(fleet, h.name, ['rm', '-f', '/etc/rig-live.conf', '/etc/rig-live-2.conf', '/etc/rig-live-after.conf']);
  await execInHost(fleet, 'worker1', ['sh', '-c', `touch ${FAIL_MARK} ${GO_MARK}`]);
  const r = await runRig(args('apply', '--json', PLAYBOOK));
  t.is(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { hosts: Array<{ host: string; status: string; recap: { changed: number; notRun?: string }; notRun?: { plays: number[]; cause: string } }> };
  t.deepEqual(compileResultSchema()(j), []);
  const by = new Map(j.hosts.map((h) => [h.host, h]));
  t.is(by.get('worker1')?.status, 'failed');
  for (const h of ['worker2', 'worker3']) {
    t.is(by.get(h)?.status, 'not-run');
    t.deepEqual(by.get(h)?.notRun?.plays, [0]);
    t.is(by.get(h)?.notRun?.cause, 'aborted');
    t.regex(by.get(h)?.recap.notRun ?? '', /^aborted: 1 of 1 host of play 1/);
  }
  t.is(by.get('master1')?.status, 'not-run');
  t.deepEqual(by.get('master1')?.notRun?.plays, [1]);
  t.is(by.get('master1')?.recap.changed, 3);
  await execInHost(fleet, 'worker1', ['rm', '-f', FAIL_MARK, GO_MARK]);
});

test.serial('Ctrl-C mid-run: the host in flight stops after its step, the others are not run (interrupted)', async (t) => {
  for (const h of fleet.hosts) await execInHost(fleet, h.name, ['rm', '-f', '/etc/rig-live.conf', '/etc/rig-live-2.conf', '/etc/rig-live-after.conf']);
  await execInHost(fleet, 'worker1', ['touch', HOLD_MARK]);
  const w = term.startRig(args('apply', '-y', PLAYBOOK), { cwd: PROJECT_ROOT });
  await term.waitForScreen(w, /▸ worker1 +applying 3 changes: 1\/3 steps done/);
  term.tmux('send-keys', '-t', `live-${FLEET_ID}:${w}`, 'C-c');
  await term.waitForScreen(w, /SIGINT: stopping after the steps in flight/);
  await execInHost(fleet, 'worker1', ['touch', GO_MARK]);
  const end = await term.waitForScreen(w, /EXIT=\d+/);
  t.regex(end, /EXIT=130/, end);
  const play1 = section(end, /^apply play 1 "rolling": 4 batches/);
  t.is(row(play1, 'worker1')?.mark, '■', end);
  t.regex(row(play1, 'worker1')?.text ?? '', /^interrupted after step 2\/3 \(2 changes made\): a stop was requested$/, end);
  for (const h of ['worker2', 'worker3']) t.regex(row(play1, h)?.text ?? '', /^not run: interrupted: a stop was requested before it started$/, end);
  t.regex(row(section(end, /^apply play 2 "after"/), 'master1')?.text ?? '', /^not run: interrupted/, end);
  const notice = end.indexOf('SIGINT: stopping after the steps in flight');
  t.true(notice >= 0 && notice < end.indexOf('batch 2/4\n    ■ worker1'), `the notice stays on the screen, above the view:\n${end}`);
  t.notRegex(end, /^\s+[·▸] /m, 'no row left pending or running');
  const recap = end.slice(end.lastIndexOf('RECAP'));
  for (const h of ['worker2', 'worker3']) t.regex(recap, new RegExp(`^${h}\\s+: not run \\(interrupted: a stop was requested before it started\\)$`, 'm'), recap);
  t.regex(recap, /^worker1\s+: ok=\d+ changed=2 failed=0 /m, recap);
  t.deepEqual(readFileSync(join(stateDir, 'retry'), 'utf8').trim().split('\n').sort(), ['master1', 'worker1', 'worker2', 'worker3']);
  await execInHost(fleet, 'worker1', ['rm', '-f', HOLD_MARK, GO_MARK]);
});
