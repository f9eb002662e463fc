/**
 * Issue 13, item 1: an unprivileged user who owns the directory rig writes into attacks every run. While rig applies,
 * rolls back, and applies with a failing `validate` (so the apply script's restore runs), the user `app` plants
 * symlinks (to /etc/shadow, /root, /var/lib, /srv and a root-only directory) and hard links (of its own bait file)
 * at every name it can predict (PATH.rig-restore, PATH.rig-tmp, the next steps' `.rig-tmp.<run>.<step>` names) or
 * observe (any `.rig*` name that appears: it steals the file and plants a link in its place), and briefly swaps the
 * planned files and the planned directory for links. Runs may fail (rig refuses what it cannot do safely); afterwards
 * a hash snapshot (type, mode, owner, sha256) of /etc, /root, /srv and /var/lib shows that nothing outside the
 * planned paths changed, and once the attacker is gone an apply leaves every planned path exactly as planned.
 */
import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig, type RigResult } from '../helpers/run-rig.ts';
import { PLANNED } from '../fixtures/playbooks/attacker.ts';

const FLEET_ID = 40;
const PLAYBOOK = 'test/fixtures/playbooks/attacker.ts';
let fleet: Fleet;
let host: string;
let stateDir: string;
let blob: Buffer;
let blobPath: string;

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const rig = (a: string[]): Promise<RigResult> => runRig(a, { timeoutMs: 600_000 });
const said = (r: RigResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-4000);
const sh = async (script: string, ...a: string[]): Promise<string> => {
  const r = await execInHost(fleet, host, ['sh', '-c', script, 'sh', ...a]);
  if (r.exitCode !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
};

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/attacker');
const ATTACK = readFileSync(join(FIXTURES, 'attack.sh'), 'utf8');
const ATTACK_CLEANUP = readFileSync(join(FIXTURES, 'cleanup.sh'), 'utf8');



/** type, mode, owner and sha256 (files) of everything under /etc, /root, /srv, /var/lib (not /var/lib/rig). */
async function snapshot(): Promise<Map<string, string>> {
  const r = await execInHost(fleet, host, ['bash', '-c', `find /etc /root /srv /var/lib -xdev -path /var/lib/rig -prune -o -type f -print0 | xargs -0 -r sha256sum --; echo '--'; find /etc /root /srv /var/lib -xdev -path /var/lib/rig -prune -o -printf '%y %m %u:%g %p\\n'`]);
  const [sums, meta] = r.stdout.split('\n--\n');
  const out = new Map<string, string>();
  for (const l of (meta ?? '').split('\n').filter(Boolean)) {
    const [y, m, o, ...p] = l.split(' ');
    out.set(p.join(' '), `${y} ${m} ${o}`);
  }
  for (const l of (sums ?? '').split('\n').filter(Boolean)) {
    const path = l.slice(66);
    out.set(path, `${out.get(path) ?? '?'} ${l.slice(0, 64)}`);
  }
  return out;
}
const planned = (p: string): boolean => p in PLANNED || /^\/srv\/app\/(?:conf\.d\/)?(?:\.rig|\.atk-|.*\.rig-|.*\.atk-away)/.test(p);
/** Paths that differ and that the host itself changed (the overlay's upper layer holds them, or they are in the host's own /root). */
function changedByHost(before: Map<string, string>, after: Map<string, string>): string[] {
  const upper = join(fleet.dir, 'hosts', host, 'upper');
  const out: string[] = [];
  for (const p of new Set([...before.keys(), ...after.keys()])) {
    if (planned(p) || before.get(p) === after.get(p)) continue;
    let inUpper = p.startsWith('/root');
    try { lstatSync(upper + p); inUpper = true; } catch { /* lower layer only */ }
    if (inUpper) out.push(`${p}: ${before.get(p) ?? 'absent'} → ${after.get(p) ?? 'absent'}`);
  }
  return out;
}

test.before(async () => {
  fleet = await upFleet({ size: 1, id: FLEET_ID, seed: 'files' });
  host = fleet.hosts[0]!.name;
  stateDir = mkdtempSync(join(tmpdir(), 'rig-attacker-'));
  blob = randomBytes(6 * 1000 * 1000);
  blobPath = join(stateDir, 'blob.bin');
  writeFileSync(blobPath, blob);
  await sh(`set -e
    id app >/dev/null 2>&1 || useradd -M -U -s /bin/sh app
    mkdir -p /srv/app; chown app:app /srv/app; chmod 0755 /srv/app
    cd /srv/app
    printf 'port=80\n' > app.conf; printf 'old\n' > old.conf; printf 'same\n' > mode.conf; chmod 0600 mode.conf; printf 'bait\n' > bait; chmod 0600 bait
    chown app:app app.conf old.conf mode.conf bait
    printf 'victim\n' > /var/lib/rig-victim; chmod 0600 /var/lib/rig-victim
    printf 'victim\n' > /srv/victim; chmod 0600 /srv/victim
    mkdir -p -m 0700 /etc/rig-victim.d; rm -f /root/rig-victim /tmp/rig-atk-stop`);
});
test.after.always(async () => {
  if (fleet) await execInHost(fleet, host, ['sh', '-c', 'touch /tmp/rig-atk-stop']).catch(() => undefined);
  await downFleet({ id: FLEET_ID });
});

async function startAttacker(mode: 'plant' | 'steal'): Promise<void> {
  await sh(`rm -f /tmp/rig-atk-stop /tmp/rig-atk.pid; printf '%s\n' "$2" > /tmp/rig-atk-mode; chmod 0644 /tmp/rig-atk-mode
    runuser -u app -- sh -c "$1" >/dev/null 2>&1 </dev/null &
    while [ ! -s /tmp/rig-atk.pid ]; do sleep 0.05; done`, ATTACK, mode);
}
const setAttackMode = (mode: 'plant' | 'steal'): Promise<string> => sh(`printf '%s\n' "$1" > /tmp/rig-atk-mode`, mode);
async function stopAttacker(): Promise<void> {
  await sh('touch /tmp/rig-atk-stop; p=$(cat /tmp/rig-atk.pid); while kill -0 "$p" 2>/dev/null; do sleep 0.05; done');
}
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const runIdOf = (r: RigResult): string => /run (\d{8}T\d{6}Z-[0-9a-f]+) journaled/.exec(r.stdout)?.[1] ?? '';

/** Every planned path holds exactly what `scene=main` plans: content, mode, owner (and link target). */
async function checkPlanned(t: ExecutionContext, snap: Map<string, string>, when: string): Promise<void> {
  for (const [p, want] of Object.entries(PLANNED)) {
    const got = snap.get(p);
    if (want.type === 'absent') { t.is(got, undefined, `${when}: ${p}`); continue; }
    if (want.type === 'link') { t.is((await sh('readlink -- "$1"', p)).trim(), want.target, `${when}: ${p}`); t.regex(got ?? '', /^l /, p); continue; }
    if (want.type === 'directory') { t.is(got, `d ${want.mode} ${want.owner}`, `${when}: ${p}`); continue; }
    t.is(got, `f ${want.mode} ${want.owner} ${sha('content' in want ? want.content : blob)}`, `${when}: ${p}`);
  }
}

test.serial('an attacker owning the directory makes rig write, chown, chmod or remove nothing outside the planned paths', async (t) => {
  const vars = ['-e', `blob=${blobPath}`];
  const main = ['apply', ...args(), '-e', 'scene=main', ...vars, PLAYBOOK];
  const before = await snapshot();
  t.true(before.has('/etc/shadow') && before.has('/var/lib/rig-victim') && !before.has('/root/rig-victim'));
  const results: string[] = [];
  const run = async (name: string, a: string[]): Promise<RigResult> => {
    const r = await rig(a);
    results.push(`${name}: exit ${r.code}`);
    if (process.env['RIG_ATTACKER_VERBOSE']) t.log(said(r));
    t.notRegex(r.stdout + r.stderr, /internal error|TypeError/i, said(r));
    t.deepEqual(changedByHost(before, await snapshot()), [], `${name} (exit ${r.code}): nothing outside the planned paths changed`);
    return r;
  };
  await startAttacker('plant');
  try {
    // Links at every predictable name: rig's writes, the validation's restore and a rollback go through untouched.
    const applied = await run('apply', main);
    t.is(applied.code, 0, said(applied));
    await checkPlanned(t, await snapshot(), 'after the apply under attack');
    const bad = await run('apply with a failing validate', ['apply', ...args(), '-e', 'scene=bad', PLAYBOOK]);
    t.is(bad.code, 1, said(bad));
    t.regex(bad.stdout + bad.stderr, /config rejected/, said(bad));
    t.is((await sh('cat /srv/app/app.conf /srv/app/conf.d/db.conf')), 'port=8080\ndb=primary\n', 'the failed validation restored both files');
    const back = await run('rollback', ['rollback', ...args(), runIdOf(applied)]);
    t.is(back.code, 0, said(back));
    t.is(await sh('cat /srv/app/app.conf /srv/app/old.conf; stat -c "%a %U" /srv/app/mode.conf; [ -e /srv/app/conf.d ] || echo gone'), 'port=80\nold\n600 app\ngone\n');
    t.is((await run('apply again', main)).code, 0);
    // Every .rig* file it sees is taken away and replaced by a link, planned paths are swapped for links now and
    // then: runs may fail (rig refuses), but nothing outside the planned paths may change.
    await setAttackMode('steal');
    await run('apply with a failing validate', ['apply', ...args(), '-e', 'scene=bad', PLAYBOOK]);
    await run('rollback', ['rollback', ...args(), '--force']);
    await run('apply', main);
    await run('rollback', ['rollback', ...args(), '--force']);
    await run('apply', main);
  } finally {
    await stopAttacker();
  }
  t.log(results.join('; '));
  t.deepEqual(changedByHost(before, await snapshot()), [], 'nothing outside the planned paths changed while the attacker ran');

  // The attacker's debris goes (its links, hard links and the files it stole); then an apply converges exactly.
  await execInHost(fleet, host, ['runuser', '-u', 'app', '--', 'sh', '-c', ATTACK_CLEANUP]);
  // --break-lock: a gather that failed under attack ("changed while rig was reading it") can leave its lock behind.
  const clean = await rig([...main, '--break-lock']);
  t.is(clean.code, 0, said(clean));
  t.is((await rig(['plan', ...args(), '-e', 'scene=main', ...vars, PLAYBOOK])).code, 0);
  const after = await snapshot();
  t.deepEqual(changedByHost(before, after), [], 'nothing outside the planned paths changed');
  await checkPlanned(t, after, 'at the end');
  t.is((await sh('ls -A /srv/app /srv/app/conf.d | grep -c "^\\.rig" || true')).trim(), '0', 'no temp file left');
});
