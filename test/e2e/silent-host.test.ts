/**
 * Issue 14, "a host that goes silent": the link of one of 4 hosts goes down for 60 s in the middle of a play. With
 * keepalives on by default (rig's 5 s × 3; the fleet's ssh_config sets no ServerAliveInterval), the host is reported
 * unreachable well before its link comes back, the 3 others finish, the journal records it, and once the link is
 * back `rig rollback` of that run and a new `rig apply` work on that host.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { downFleet, layoutFleet, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { releaseHold, snapshotDrill, startRig, waitForHold, waitForPath } from '../helpers/drill-control.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 38;
const PLAYBOOK = 'test/fixtures/playbooks/fault-drill.ts';
const LINK_DOWN_MS = 60_000;
const run = promisify(execFile);

let fleet: Fleet;
let stateDir: string;
test.before(async () => {
  fleet = await upFleet({ size: 4, id: FLEET_ID, seed: 'files' });
  stateDir = join(fleet.dir, 'silent-state');
  mkdirSync(stateDir, { recursive: true });
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];

test('a host whose link goes down mid-play is reported unreachable before the link is back; the others finish; rollback and apply work later', async (t) => {
  t.timeout(600_000);
  const names = fleet.hosts.map((h) => h.name);
  const victim = names[2]!;
  const veth = layoutFleet(fleet.id, names.length).hosts[2]!.veth;
  const before = await Promise.all(names.map((n) => snapshotDrill(fleet, n)));

  const apply = startRig(['apply', ...args(), '-e', 'fault_point=between-writes', PLAYBOOK]);
  await waitForHold(fleet, names); // every host is in the middle of its play (one file written, one to go)
  await run('ip', ['link', 'set', veth, 'down']);
  const downAt = Date.now();
  await releaseHold(fleet);
  let linkUp = false;
  const linkBack = new Promise<void>((r) => setTimeout(async () => { await run('ip', ['link', 'set', veth, 'up']); linkUp = true; r(); }, LINK_DOWN_MS));
  const code = await apply.exited;
  const endedWhileDown = !linkUp;
  const seconds = ((Date.now() - downAt) / 1000).toFixed(1);
  await linkBack;
  const out = apply.output();
  t.log(`run ended ${seconds} s after the link went down (link down for ${LINK_DOWN_MS / 1000} s)`);
  t.true(endedWhileDown, `the run must end before the link comes back (keepalives): ended after ${seconds} s\n${out}`);
  t.is(code, 1, out);
  t.regex(out, new RegExp(`${victim}\\s*: .*unreachable=1`), out);
  t.regex(out, /no answer to keepalives for 15 s \(ServerAliveInterval 5 × ServerAliveCountMax 3, rig's defaults\)/, out);
  for (const n of names.filter((x) => x !== victim)) t.regex(out, new RegExp(`${n}\\s*: .*changed=\\d+ failed=0 unreachable=0`), out);

  // the journal records it
  const runId = readdirSync(join(stateDir, 'runs')).sort().at(-1)!;
  const events = readFileSync(join(stateDir, 'runs', runId, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; host: string; status?: string; message?: string });
  const end = events.find((e) => e.t === 'host-end' && e.host === victim);
  t.is(end?.status, 'unreachable', JSON.stringify(events));
  t.regex(end?.message ?? '', /keepalives/);
  t.is(JSON.parse(readFileSync(join(stateDir, 'runs', runId, 'run.json'), 'utf8')).status, 'failed');

  // The victim's script ran on while it was cut off; it released its lock when it ended. Then rollback and apply work.
  await waitForPath(fleet, [victim], '/var/lib/rig/lock', { absent: true });
  const rb = await runRig(['rollback', ...args(), runId]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  t.deepEqual(await Promise.all(names.map((n) => snapshotDrill(fleet, n))), before, 'rollback restores every host byte for byte');
  const again = await runRig(['apply', ...args(), PLAYBOOK]);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is((await runRig(['plan', ...args(), PLAYBOOK])).code, 0);
});
