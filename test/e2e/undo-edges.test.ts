/**
 * Issue 13, items 2 and 6 on the fleet: files above the gather's content cap (5 MB, 50 MB) are overwritten, deleted
 * and re-moded, and rolled back byte for byte from the hosts' pre-images; a line edit of such a file is refused
 * before anything changes; a directory removed with its file, link and subdirectory comes back; every rollback is
 * itself rolled back; a run killed mid-play is rolled back without --force by `rig rollback` with no id, and a
 * rollback cut short on one host is finished by running it again. Each state is compared by bytes, mode and owner.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig, type RigResult } from '../helpers/run-rig.ts';

const FLEET_ID = 34;
const PLAYBOOK = 'test/fixtures/playbooks/undo-edges.ts';
const MB = 1000 * 1000;
let fleet: Fleet;
let stateDir: string;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'files' });
  stateDir = mkdtempSync(join(tmpdir(), 'rig-undo-'));
  work = mkdtempSync(join(tmpdir(), 'rig-undo-src-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const args = () => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', stateDir];
const rig = (a: string[]): Promise<RigResult> => runRig(a, { timeoutMs: 600_000 });
const said = (r: RigResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-6000);

/** type, mode, owner, group, size and sha256 (or link target) of each path, one line each. */
async function snapshot(host: string, paths: readonly string[]): Promise<string> {
  const script = 'for f; do if [ -L "$f" ]; then printf "%s link %s %s\\n" "$f" "$(stat -c "%U:%G" -- "$f")" "$(readlink -- "$f")";' +
    ' elif [ -e "$f" ]; then printf "%s %s\\n" "$f" "$(stat -c "%F %a %U:%G %s" -- "$f")"; [ -f "$f" ] && sha256sum < "$f";' +
    ' [ -d "$f" ] && ls -A -- "$f" | tr "\\n" " " && echo; else printf "%s absent\\n" "$f"; fi; done';
  const r = await execInHost(fleet, host, ['sh', '-c', script, 'sh', ...paths]);
  return r.stdout;
}
const sh = async (host: string, script: string, ...a: string[]): Promise<void> => {
  const r = await execInHost(fleet, host, ['sh', '-c', script, 'sh', ...a]);
  if (r.exitCode !== 0) throw new Error(`${script}: ${r.stderr}`);
};
const runIdOf = (r: RigResult): string => /(?:run|rollback) (\d{8}T\d{6}Z-[0-9a-f]+)(?: of run \S+)? journaled/.exec(r.stdout)?.[1] ?? '';

const BIG = ['/srv/big/a5', '/srv/big/b50', '/srv/big/c5', '/srv/big/d50', '/srv/big/e5', '/srv/big/f5'];

test.serial('files above the content cap: overwrite, delete and re-mode roll back byte for byte, and so does the rollback; a line edit is refused', async (t) => {
  const host = fleet.hosts[0]!.name;
  await sh(host, `set -e; mkdir -p /srv/big; cd /srv/big
    head -c ${5 * MB} /dev/urandom > a5; chmod 0640 a5; chown bin:daemon a5
    head -c ${50 * MB} /dev/urandom > b50; chmod 0604 b50; chown daemon:bin b50
    head -c ${5 * MB} /dev/urandom > c5; chmod 0600 c5
    head -c ${50 * MB} /dev/urandom > d50; chmod 0644 d50; chown bin:bin d50
    i=0; while [ $i -lt 200000 ]; do echo "line $i of a big text file"; i=$((i+1)); done > e5; chmod 0644 e5
    head -c ${5 * MB} /dev/urandom > f5; chmod 0644 f5`);
  const new5 = join(work, 'new5'); const new50 = join(work, 'new50');
  writeFileSync(new5, randomBytes(5 * MB)); writeFileSync(new50, randomBytes(50 * MB));
  const vars = ['-e', `new5=${new5}`, '-e', `new50=${new50}`];
  const original = await snapshot(host, BIG);
  t.regex(original, /\/srv\/big\/e5 regular file 644 root:root [6-9]\d{6}/, 'e5 is above the 4 MiB cap');

  // A line edit of a file whose content the gather did not read is refused before anything changes.
  const refused = await rig(['apply', ...args(), '--limit', host, '-e', 'scene=big-line', PLAYBOOK]);
  t.is(refused.code, 1, said(refused));
  t.regex(refused.stdout + refused.stderr, /FILE_TOO_LARGE[^]*\/srv\/big\/e5 is too large to read/, said(refused));
  t.regex(refused.stdout + refused.stderr, /nothing applied/, said(refused));
  t.is(await snapshot(host, BIG), original, 'the refused line edit changed nothing');

  const applied = await rig(['apply', ...args(), '--limit', host, '-e', 'scene=big', ...vars, PLAYBOOK]);
  t.is(applied.code, 0, said(applied));
  const after = await snapshot(host, BIG);
  t.regex(after, /\/srv\/big\/c5 absent/);
  t.regex(after, /\/srv\/big\/f5 regular file 600 daemon:root 10\n/);
  t.not(after, original);

  const check = await rig(['rollback', ...args(), '--check']);
  t.is(check.code, 2, said(check));
  t.regex(check.stdout, /restore \/srv\/big\/b50 \(0604 daemon:bin, 50000000 bytes\) from the host's pre-image/, said(check));

  const back = await rig(['rollback', ...args()]);
  t.is(back.code, 0, said(back));
  t.is(await snapshot(host, BIG), original, 'the rollback restored every big file byte for byte, with mode and owner');

  const rollbackId = runIdOf(back);
  t.truthy(rollbackId, said(back));
  const again = await rig(['rollback', ...args(), rollbackId]);
  t.is(again.code, 0, said(again));
  t.is(await snapshot(host, BIG), after, 'the rollback of the rollback put the run\'s files back byte for byte');

  const third = await rig(['rollback', ...args(), runIdOf(again)]);
  t.is(third.code, 0, said(third));
  t.is(await snapshot(host, BIG), original);
});

const TREE = ['/srv/tree', '/srv/tree/f1', '/srv/tree/l1', '/srv/tree/sub'];

test.serial('a directory removed with its file, link and subdirectory comes back with modes, owners and contents; so does the rollback', async (t) => {
  const host = fleet.hosts[1]!.name;
  await sh(host, `set -e; rm -rf /srv/tree; mkdir -m 0750 /srv/tree; chown daemon:adm /srv/tree
    printf 'tree file\\n\\377\\000bytes' > /srv/tree/f1; chmod 0640 /srv/tree/f1; chown bin:daemon /srv/tree/f1
    ln -s f1 /srv/tree/l1; mkdir -m 2710 /srv/tree/sub; chown bin:adm /srv/tree/sub`);
  const original = await snapshot(host, TREE);
  const applied = await rig(['apply', ...args(), '--limit', host, '-e', 'scene=tree', PLAYBOOK]);
  t.is(applied.code, 0, said(applied));
  const removed = await snapshot(host, TREE);
  t.is(removed, TREE.map((p) => `${p} absent\n`).join(''));

  const check = await rig(['rollback', ...args(), '--check', runIdOf(applied)]);
  t.is(check.code, 2, said(check));
  t.regex(check.stdout, /create directory \/srv\/tree \(0750 daemon:adm\)/, said(check));
  t.regex(check.stdout, /new file: \/srv\/tree\/f1\n\s*Binary files differ \(0 → 17 bytes/, said(check));

  const back = await rig(['rollback', ...args(), runIdOf(applied)]);
  t.is(back.code, 0, said(back));
  t.is(await snapshot(host, TREE), original);

  const again = await rig(['rollback', ...args(), runIdOf(back)]);
  t.is(again.code, 0, said(again));
  const recheck = await snapshot(host, TREE);
  t.is(recheck, removed, 'the rollback of the rollback removed the tree again');
  const third = await rig(['rollback', ...args(), runIdOf(again)]);
  t.is(third.code, 0, said(third));
  t.is(await snapshot(host, TREE), original);
});

const UNDO = ['/srv/undo', '/srv/undo/x.conf'];

test.serial('a run killed mid-play is rolled back without --force; a rollback cut short on one host is finished by running it again', async (t) => {
  const names = fleet.hosts.map((h) => h.name);
  for (const h of names) await sh(h, 'rm -rf /srv/undo /var/tmp/rig-undo-hold');
  const original = await Promise.all(names.map((h) => snapshot(h, UNDO)));
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/rig.js'), 'apply', ...args(), '-e', 'scene=hold', PLAYBOOK], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const held = async (h: string): Promise<string> => (await execInHost(fleet, h, ['sh', '-c', 'cat /var/tmp/rig-undo-hold 2>/dev/null'])).stdout.trim();
  const end = Date.now() + 300_000;
  let pids: string[] = [];
  while (Date.now() < end) {
    pids = await Promise.all(names.map(held));
    if (pids.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.true(pids.every(Boolean), out);
  // The controller dies mid-play, then the held step ends on every host (the host script stops there).
  child.kill('SIGKILL');
  await exited;
  for (const [i, h] of names.entries()) await sh(h, 'kill "$1" 2>/dev/null; rm -f /var/tmp/rig-undo-hold', pids[i] ?? "");
  await new Promise((r) => setTimeout(r, 1000));
  for (const h of names) t.regex(await snapshot(h, UNDO), /x\.conf regular file 640 daemon:root 8\n/, 'the first write happened, the second did not');

  // Partial rollback: the second host's sshd refuses root logins for this rollback.
  const cut = names[1]!;
  await sh(cut, 'mv /root/.ssh/authorized_keys /root/.ssh/authorized_keys.off');
  const partial = await rig(['rollback', ...args(), '--break-lock']);
  await sh(cut, 'mv /root/.ssh/authorized_keys.off /root/.ssh/authorized_keys');
  t.is(partial.code, 1, said(partial));
  t.is(await snapshot(names[0]!, UNDO), original[0] ?? '', 'the reachable host is rolled back without --force');
  t.not(await snapshot(cut, UNDO), original[1] ?? '');

  const finish = await rig(['rollback', ...args(), '--break-lock']);
  t.is(finish.code, 0, said(finish));
  t.regex(finish.stderr, new RegExp(`${names[0]}: already rolled back by \\S+, left alone`), said(finish));
  t.regex(finish.stderr, new RegExp(`rolling back what is left of run \\S+: ${cut}`), said(finish));
  for (const [i, h] of names.entries()) t.is(await snapshot(h, UNDO), original[i] ?? "", h);

  // Nothing is left: no id picks no empty or failed rollback attempt, it says so.
  const none = await rig(['rollback', ...args()]);
  t.regex(none.stdout + none.stderr, /no apply .* is left to roll back/, said(none));
});
