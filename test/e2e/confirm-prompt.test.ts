/**
 * Issue 19: the confirmation prompt, in a real terminal (tmux), and the project file in a real run. A project
 * directory outside the checkout holds a rig.yaml naming the fleet's inventory, ssh_config and a state dir (relative
 * paths); every command runs there with no flag beyond the playbook.
 * - apply on a TTY shows the plan and "Apply these 4 changes on 2 hosts? (yes/no)"; `no` → exit 1, "not applied",
 *   no host changed, no lock left; `yes` → applied;
 * - rollback on a TTY answered with anything but `yes` → not rolled back; without a TTY it never prompts (runs to
 *   the end with stdin closed) and every file is back;
 * - `-y` skips the prompt on a TTY.
 * Tags on the same fleet: --tags/--skip-tags select by Ansible's rules (always, never), a saved plan made with
 * --tags records them and `apply PLAN` applies exactly its tasks.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { TmuxTerminal } from '../helpers/tmux-terminal.ts';

const FLEET_ID = 57;
// In the checkout (its imports are relative to it); loading a playbook outside the checkout is issue 19's package part.
const PLAYBOOK = join(PROJECT_ROOT, 'test/fixtures/playbooks/confirm.ts');
let fleet: Fleet;
let project: string;
let term: TmuxTerminal;

/** Run rig in a fresh tmux window (a real pty) in the project directory; returns its window name. */
const startInTerminal = (args: readonly string[]): string => term.startRig(args, { cwd: project });
const waitForScreen = (name: string, pattern: RegExp): Promise<string> => term.waitForScreen(name, pattern);
const answer = (name: string, text: string): void => term.answer(name, text);

const HOST_STATE = `for f in /etc/rig-confirm.motd /srv/rig-confirm.conf; do [ -e "$f" ] && sha256sum "$f" || echo "absent $f"; done; ls -A /var/lib/rig 2>/dev/null | grep -x lock || echo "no lock"`;
const hostState = async () => (await Promise.all(fleet.hosts.map((h) => execInHost(fleet, h.name, ['sh', '-c', HOST_STATE])))).map((r) => r.stdout).join('');

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'none' });
  project = mkdtempSync(join(tmpdir(), 'rig-confirm-project-'));
  mkdirSync(join(project, 'fleet'));
  copyFileSync(fleet.inventoryPath, join(project, 'fleet', 'inventory.yaml'));
  writeFileSync(join(project, 'rig.yaml'), `# relative paths: against this directory\ninventory: fleet/inventory.yaml\nssh_config: ${fleet.sshConfigPath}\nstate_dir: state\n`);
  term = new TmuxTerminal(`confirm-${FLEET_ID}`);
});

test.after.always(async () => {
  term?.kill();
  await downFleet({ id: FLEET_ID });
  if (project) rmSync(project, { recursive: true, force: true });
});

test.serial('plan with no flags uses the project file (exit 2); rig config names rig.yaml lines', async (t) => {
  const r = await runRig(['plan', PLAYBOOK], { cwd: project, env: { RIG_PROJECT_FILE: '' } });
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stdout, /\/etc\/rig-confirm\.motd/);
  const c = await runRig(['config'], { cwd: join(project, 'fleet'), env: { RIG_PROJECT_FILE: '' } });
  t.regex(c.stdout, new RegExp(`inventory +${project}/fleet/inventory\\.yaml +\\[rig\\.yaml:2\\]`), c.stdout);
  t.regex(c.stdout, new RegExp(`state_dir +${project}/state +\\[rig\\.yaml:4\\]`), c.stdout);
});

test.serial('apply --json on a terminal: the plan and the question on stderr; "no" still gives the one JSON result', async (t) => {
  const before = await hostState();
  const w = startInTerminal(['apply', '--json', PLAYBOOK]);
  const screen = await waitForScreen(w, /\(yes\/no\)/);
  t.regex(screen, /rig-confirm\.motd/, 'the plan is shown (on stderr) before the question');
  answer(w, 'no');
  const end = await waitForScreen(w, /EXIT=\d+/);
  t.regex(end, /EXIT=1/);
  const lines = end.split('\n');
  const first = lines.lastIndexOf('{');
  const json = lines.slice(first, lines.indexOf('}', first) + 1).join('\n');
  const result = JSON.parse(json) as { exitCode: number; error: { code: string } };
  t.is(result.exitCode, 1);
  t.is(result.error.code, 'NOT_CONFIRMED');
  t.is(await hostState(), before);
});

test.serial('apply on a terminal: "no" applies nothing and releases the locks; "yes" applies', async (t) => {
  const before = await hostState();
  t.regex(before, /absent \/etc\/rig-confirm\.motd/);
  const w1 = startInTerminal(['apply', PLAYBOOK]);
  const screen = await waitForScreen(w1, /\(yes\/no\)/);
  t.regex(screen, /Apply these 4 changes on 2 hosts\? \(yes\/no\)/);
  t.regex(screen, /rig-confirm\.motd/, 'the plan is shown before the question');
  answer(w1, 'no');
  const end1 = await waitForScreen(w1, /EXIT=\d+/);
  t.regex(end1, /not applied: nothing changed, locks released/);
  t.regex(end1, /EXIT=1/);
  t.is(await hostState(), before, 'no host changed and no lock left');
  t.false(existsSync(join(project, 'state', 'runs')) && execFileSync('ls', [join(project, 'state', 'runs')], { encoding: 'utf8' }).trim() !== '', 'no run journaled');

  const w2 = startInTerminal(['apply', PLAYBOOK]);
  await waitForScreen(w2, /\(yes\/no\)/);
  answer(w2, 'yes');
  const end2 = await waitForScreen(w2, /EXIT=\d+/);
  t.regex(end2, /EXIT=0/, end2);
  const after = await hostState();
  t.notRegex(after, /absent/);
  t.regex(after, /no lock/);
});

test.serial('rollback on a terminal: anything but "yes" is a no; without a terminal it never prompts', async (t) => {
  const applied = await hostState();
  const w = startInTerminal(['rollback']);
  const screen = await waitForScreen(w, /\(yes\/no\)/);
  t.regex(screen, /Roll back these 4 changes on 2 hosts\?/);
  answer(w, 'y');
  const end = await waitForScreen(w, /EXIT=\d+/);
  t.regex(end, /not applied/);
  t.regex(end, /EXIT=1/);
  t.is(await hostState(), applied);
  // No TTY (stdin ignored, stdout a pipe): no question, no wait.
  const r = await runRig(['rollback'], { cwd: project, env: { RIG_PROJECT_FILE: '' } });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.notRegex(r.stdout + r.stderr, /yes\/no/);
  t.regex(await hostState(), /absent \/etc\/rig-confirm\.motd[\s\S]*absent \/srv\/rig-confirm\.conf/);
});

test.serial('-y on a terminal applies without asking', async (t) => {
  const w = startInTerminal(['apply', '-y', PLAYBOOK]);
  const end = await waitForScreen(w, /EXIT=\d+/);
  t.notRegex(end, /yes\/no/);
  t.regex(end, /EXIT=0/, end);
  t.notRegex(await hostState(), /absent/);
});

const TAGS = join(PROJECT_ROOT, 'test/fixtures/playbooks/tags.ts');
const planned = (out: string) => [...out.matchAll(/\/etc\/rig-tags\.([a-d])/g)].map((m) => m[1]).filter((x, i, a) => a.indexOf(x) === i).sort().join('');
const onHost = async () => (await execInHost(fleet, fleet.hosts[0]!.name, ['sh', '-c', 'ls /etc | grep "^rig-tags\\." | sed "s/rig-tags.//" | tr -d "\\n"'])).stdout;

test.serial('tags: --tags, --skip-tags, always and never; a saved plan made with --tags is applied verbatim', async (t) => {
  const run = (...args: string[]) => runRig(args, { cwd: project, env: { RIG_PROJECT_FILE: '' } });
  const all = await run('plan', TAGS);
  t.is(all.code, 2, all.stderr);
  t.is(planned(all.stdout), 'abd', 'never is left out by default');
  t.is(planned((await run('plan', '--tags', 'a', TAGS)).stdout), 'ab', 'always comes along');
  t.is(planned((await run('plan', '--tags', 'c', TAGS)).stdout), 'bc', 'never by name');
  t.is(planned((await run('plan', '--skip-tags', 'always,a', TAGS)).stdout), 'd');
  t.is(planned((await run('plan', '-t', 'files', '--skip-tags', 'a', TAGS)).stdout), 'bcd', 'the play tag selects every task, never included');
  const list = await run('plan', '--list-tasks', '--tags', 'a', TAGS);
  t.is(list.code, 0);
  t.regex(list.stdout, /rig-tags\.a\tTAGS: \[files, a\]\n +file \/etc\/rig-tags\.b\tTAGS: \[files, always\]\n*$/);
  const saved = join(project, 'tags-plan.json');
  const p = await run('plan', '--tags', 'a', '--out', saved, TAGS);
  t.is(p.code, 2, p.stderr);
  t.deepEqual(JSON.parse(execFileSync('cat', [saved], { encoding: 'utf8' })).tags, { tags: ['a'] });
  t.is(await onHost(), '');
  const a = await run('apply', saved);
  t.is(a.code, 0, a.stdout + a.stderr);
  t.is(await onHost(), 'ab', 'exactly the saved plan\'s tasks');
  t.is(planned((await run('plan', TAGS)).stdout), 'd');
});
