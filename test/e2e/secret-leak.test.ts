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
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 47;
const PLAYBOOK = 'test/fixtures/playbooks/secret-leak.ts';
const FILE_SECRET = 'File-Secret-91ab';
const DB_PASSWORD = 'Db-Pass-77cd';
const BECOME_PASSWORD = 'Become-Pw-55ef';
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
  const tty = runOnTty(['apply', ...common(state), '-e', 'fail_commands=true', PLAYBOOK]);
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
  keep(await runRig(['rollback', ...common(state), '--check']));
  const rb = keep(await runRig(['rollback', ...common(state)]));
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  keep(await runRig(['show', '--state-dir', state]));
  keep(await runRig(['show', '--json', '--state-dir', state]));

  const secrets = [FILE_SECRET, `${FILE_SECRET}\n`, DB_PASSWORD, `${DB_PASSWORD}\n`, BECOME_PASSWORD];
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
