/**
 * `downFleet` leaves alone a fleet id that another live process holds (its claim in /run/rig-fleet-claims): a cleanup
 * for an id the caller never got must not tear down someone else's hosts. Needs root (the fleet's prerequisites).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FleetError } from '../../src/errors.ts';
import { downFleet } from '../../test/fleet/fleet-lib.ts';

const ID = 249;
const CLAIM = `/run/rig-fleet-claims/${ID}`;

test.serial('a fleet held by another live process is not torn down; once that process is gone it is', async (t) => {
  delete process.env['RIG_FLEET_ID_OFFSET'];
  let existing = '';
  try { existing = readFileSync(CLAIM, 'utf8'); } catch { /* free */ }
  if (existing) { t.log(`fleet id ${ID} is claimed by ${existing}; not touching it`); t.pass(); return; }
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    mkdirSync('/run/rig-fleet-claims', { recursive: true, mode: 0o700 });
    writeFileSync(CLAIM, String(holder.pid));
    const e = await t.throwsAsync(downFleet({ id: ID }), { instanceOf: FleetError });
    t.regex(e!.message, new RegExp(`fleet id ${ID} is in use by process ${holder.pid}`));
    t.is(readFileSync(CLAIM, 'utf8'), String(holder.pid), 'the claim stays');
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    rmSync(CLAIM, { force: true });
    writeFileSync(CLAIM, String(holder.pid)); // a dead holder's claim, as a crashed process leaves it
  }
  try {
    await t.notThrowsAsync(downFleet({ id: ID }), 'a dead holder does not block');
  } finally {
    rmSync(CLAIM, { force: true });
  }
});
