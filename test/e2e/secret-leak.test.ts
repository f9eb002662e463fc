/**
 * Issue 14, secrets and retention. Secrets: a secret() file whose content ends in a newline (a failing command then
 * prints it), a secret-named variable from -e rendered into a template and printed by a failing command, and a
 * become password. Every output (plan, apply on a terminal and plain, show text and --json, rollback, log) and every
 * journal byte (controller state dir, hosts' /var/lib/rig — pre-images aside: they are the files' own copies, 0600,
 * removed by prune) is grepped for each value, with and without its newline: zero hits. A secret-named variable the
 * playbook declares public is shown. Retention: `rig prune` on the controller and the hosts.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 47;
const PLAYBOOK = 'test/fixtures/playbooks/secret-leak.ts';
const FILE_SECRET = 'File-Secret-91ab';
const DB_PASSWORD = 'Db-Pass-77cd';
const BECOME_PASSWORD = 'Become-Pw-55ef';
const ROTATED = 'Db-Pass-Rotated-3a';
let fleet: Fleet;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'none' });
  work = mkdtempSync(join(tmpdir(), 'rig-leak-'));
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The CLI under a pseudo-terminal (util-linux `script`): live listr2 progress, colors. */
function runOnTty(args: string[]): { out: string; code: number } {
  const cmd = [process.execPath, join(PROJECT_ROOT, 'bin/rig.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: PROJECT_ROOT, env: { ...process.env, CI: '', NO_COLOR: '', TERM: 'xterm-256color' }, timeout: 240_000 });
  return { out: r.stdout.toString() + r.stderr.toString(), code: r.status ?? -1 };
}

const stateOf = (name: string) => join(work, name);
const common = (state: string) => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', state,
  '-e', `leak_file_body=${FILE_SECRET}`, '-e', `db_password=${DB_PASSWORD}`, '-e', 'db_user=appuser', '-e', 'api_token=Public-Tok-1234',
  '-e', `ansible_become_password=${BECOME_PASSWORD}`];

test.serial('no secret in any output or journal byte, with or without its newline; a public variable is shown', async (t) => {
  const state = stateOf('leak');
  const outputs: string[] = [];
  const keep = <R extends { stdout: string; stderr: string }>(r: R): R => { outputs.push(r.stdout, r.stderr); return r; };
  const plan = keep(await runRig(['plan', ...common(state), PLAYBOOK]));
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /\+db_password=\*{8}\n/, 'the secret-named variable is masked in the template diff');
  t.regex(plan.stdout, /\+db_user=appuser\n/);
  t.regex(plan.stdout, /\+api_token=Public-Tok-1234\n/, 'a variable declared public is shown');
  keep(await runRig(['plan', ...common(state), '--json', PLAYBOOK]));
  // Apply on a terminal: the commands fail and print the secrets (live output, errors, the journal).
  const tty = runOnTty(['apply', '-y', ...common(state), '-e', 'fail_commands=true', PLAYBOOK]);
  outputs.push(tty.out);
  t.is(tty.code, 1, tty.out);
  t.regex(tty.out, /exit 3/);
  const plain = keep(await runRig(['apply', ...common(state), '-e', 'fail_commands=true', PLAYBOOK]));
  t.is(plain.code, 1, plain.stdout + plain.stderr);
  t.regex(plain.stdout, /failed \(exit 3\): \*{8}\n/, 'the file content printed by the command is masked (its newline trimmed)');
  t.regex(plain.stdout, /failed \(exit 4\): connecting with \*{8}/);
  keep(await runRig(['apply', ...common(state), '--json', '-e', 'fail_commands=true', PLAYBOOK]));
  const show = keep(await runRig(['show', '--state-dir', state]));
  t.regex(show.stdout, /failed \(exit 3\): \*{8}/);
  keep(await runRig(['show', '--json', '--state-dir', state]));
  keep(await runRig(['log', '--json', '--state-dir', state]));
  // A rotated password: the diff shows neither the new value nor the old one (which no variable holds any more).
  const rotated = keep(await runRig(['plan', ...common(state).map((a) => (a === `db_password=${DB_PASSWORD}` ? `db_password=${ROTATED}` : a)), PLAYBOOK]));
  t.regex(rotated.stdout, /-db_password=\*{8}\n\s*\+db_password=\*{8}\n/);
  keep(await runRig(['rollback', ...common(state), '--check']));
  const rb = keep(await runRig(['rollback', ...common(state)]));
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  keep(await runRig(['show', '--state-dir', state]));
  keep(await runRig(['show', '--json', '--state-dir', state]));

  const secrets = [FILE_SECRET, `${FILE_SECRET}\n`, DB_PASSWORD, `${DB_PASSWORD}\n`, BECOME_PASSWORD, ROTATED];
  const files = walk(state);
  t.true(files.some((f) => f.endsWith('events.jsonl')), 'the journal has events');
  const hits: string[] = [];
  for (const s of secrets) {
    outputs.forEach((o, i) => { if (o.includes(s)) hits.push(`output ${i}: ${JSON.stringify(s)}`); });
    for (const f of files) if (!f.includes('/pre/') && readFileSync(f).includes(s)) hits.push(`${f}: ${JSON.stringify(s)}`);
  }
  for (const h of fleet.hosts) {
    for (const s of [FILE_SECRET, DB_PASSWORD, BECOME_PASSWORD]) {
      const r = await execInHost(fleet, h.name, ['sh', '-c', `grep -rlF --exclude-dir=pre -e '${s}' /var/lib/rig || true`]);
      if (r.stdout.trim()) hits.push(`${h.name}: ${r.stdout.trim()}`);
    }
  }
  t.deepEqual(hits, []);
  // Pre-images (the files' own copies, kept for rollback) are 0600.
  for (const f of files.filter((p) => p.includes('/pre/'))) t.is((statSync(f).mode & 0o777).toString(8), '600', f);
});

test.serial('prune: old runs go on the controller and the hosts, never the last run of a host, never a run left to roll back without --force', async (t) => {
  const state = stateOf('prune');
  const args = ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', state];
  const ids: string[] = [];
  const apply = async (n: number, ...more: string[]) => {
    const r = await runRig(['apply', ...args, '-e', `n=${n}`, ...more, 'test/fixtures/playbooks/prune.ts']);
    t.is(r.code, 0, r.stdout + r.stderr);
    ids.push(/run (\S+) journaled/.exec(r.stdout)![1]!);
  };
  await apply(1); // A1: both hosts, never rolled back
  await apply(2); // A2: both hosts, rolled back by R2
  const rb = await runRig(['rollback', ...args]);
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  ids.push(/rollback (\S+) of run/.exec(rb.stdout)![1]!);
  await apply(3, '--limit', 'master1'); // A3: master1 only
  const [a1, a2, r2, a3] = ids as [string, string, string, string];
  // This test's runs on a host (the first test's runs are there too, from another state dir: never touched).
  const onHost = async (h: string) => (await execInHost(fleet, h, ['sh', '-c', 'ls /var/lib/rig/runs'])).stdout.split('\n').filter((x) => ids.includes(x)).sort();
  const onController = () => readdirSync(join(state, 'runs')).sort();
  t.deepEqual(await onHost('worker1'), [a1, a2, r2].sort());

  // Shown like a plan; --check changes nothing and exits 2.
  const check = await runRig(['prune', ...args, '--keep', '0', '--check']);
  t.is(check.code, 2, check.stdout + check.stderr);
  t.regex(check.stdout, new RegExp(`- ${a2} apply .*nothing of it is left to roll back`));
  t.regex(check.stdout, new RegExp(`= ${a1} apply .*kept, not fully rolled back on master1, worker1 \\(--force`));
  t.regex(check.stdout, new RegExp(`= ${r2} rollback .*kept, the last run of worker1`));
  t.regex(check.stdout, new RegExp(`= ${a3} apply .*kept, the last run of master1`));
  t.deepEqual(onController(), [a1, a2, r2, a3].sort());
  const young = await runRig(['prune', ...args, '--older-than', '1h']);
  t.is(young.code, 0, young.stdout);
  t.regex(young.stdout, /nothing to prune/);

  const done = await runRig(['prune', ...args, '--keep', '0']);
  t.is(done.code, 0, done.stdout + done.stderr);
  t.deepEqual(onController(), [a1, r2, a3].sort());
  for (const h of ['master1', 'worker1']) t.false((await onHost(h)).includes(a2), `${h} still holds ${a2}`);
  t.true((await onHost('worker1')).includes(a1));

  // --force removes A1 too; an unreachable host keeps the controller copy until a later prune finishes.
  const broken = join(work, 'broken.yaml');
  // worker1 on a closed port: refused at once.
  const inv = readFileSync(fleet.inventoryPath, 'utf8').replace(/worker1:\n(\s+)/, 'worker1:\n$1ansible_port: 1\n$1');
  writeFileSync(broken, inv);
  const cut = await runRig(['prune', '-i', broken, '--ssh-config', fleet.sshConfigPath, '--state-dir', state, '--keep', '0', '--force']);
  t.is(cut.code, 1, cut.stdout + cut.stderr);
  t.regex(cut.stdout, /worker1: UNREACHABLE/);
  t.regex(cut.stdout, new RegExp(`kept ${a1}`));
  t.deepEqual(onController(), [a1, r2, a3].sort());
  t.false((await onHost('master1')).includes(a1));
  const fin = await runRig(['prune', ...args, '--keep', '0', '--force']);
  t.is(fin.code, 0, fin.stdout + fin.stderr);
  t.deepEqual(onController(), [r2, a3].sort());
  t.deepEqual(await onHost('worker1'), [r2]);
  t.deepEqual(await onHost('master1'), [r2, a3].sort());
});
