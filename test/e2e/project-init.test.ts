/**
 * Issue 19, done when: a team's own project, outside the checkout, depending on rig. In a temporary directory under
 * /tmp: `rig init`, rig installed into it the way a team does it (`npm pack` of the checkout, `npm install` of the
 * tarball: a real copy in node_modules/rig, not a link), its inventory pointed at a fleet; then with no flag beyond
 * the playbook: `npx rig plan` (exit 2), `npx rig apply` answered `yes` at the prompt in a real terminal (tmux),
 * `npx rig plan` (exit 0), `npx rig rollback -y` (every file gone again), `npx rig config` naming where each value
 * came from, and `npx tsc --noEmit` on the project. RIG_EXTRA_VARS and -b reach the run.
 * Also: after the fleet's rig.yaml is written beside the shipped playbooks (as `npm run fleet -- up` does in the
 * checkout), `rig plan playbooks/secure-cluster.ts` with no other flag plans the fleet (exit 2).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { writeFleetProjectFile } from '../fleet/fleet-project-file.ts';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { isBuiltCliFresh } from '../../bin/built-cli.js';
import { TmuxTerminal } from '../helpers/tmux-terminal.ts';

const FLEET_ID = 60;
const run = promisify(execFile);
let fleet: Fleet;
let work: string;
let project: string;

/** The environment a user has: no RIG_PROJECT_FILE (ava sets `none` for the other tests), no colors. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env['RIG_PROJECT_FILE'];
  return env;
}

/** `npx --no rig ARGS` in the project (--no: never fetch the registry's unrelated `rig`); never throws. */
async function npxRig(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('npx', ['--no', 'rig', ...args], { cwd: project, env: userEnv(extraEnv), maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

let terminal: TmuxTerminal;

const HOST_STATE = 'for f in /etc/rig-example/team /etc/rig-example/motd; do [ -e "$f" ] && cat "$f" || echo "absent $f"; done';
const hostState = async (name: string) => (await execInHost(fleet, name, ['sh', '-c', HOST_STATE])).stdout;

test.before(async () => {
  work = mkdtempSync('/tmp/rig-project-init-');
  fleet = await upFleet({ size: 2, id: FLEET_ID, seed: 'full' });
  terminal = new TmuxTerminal(`project-init-${FLEET_ID}`);
});

test.after.always(async () => {
  terminal?.kill();
  await downFleet({ id: FLEET_ID });
  if (work) rmSync(work, { recursive: true, force: true });
});

test.serial('a rig init project with rig installed from a tarball: plan, apply through the prompt, plan 0, rollback, config, tsc', async (t) => {
  // rig init, by the rig of this checkout
  project = join(work, 'team-infra');
  const init = await runRig(['init', project]);
  t.is(init.code, 0, init.stderr);

  // Install rig as a team does: a tarball of the checkout. `npm pack` runs `prepare` (the build) unless dist/ is
  // fresh already (rebuilding it would pull files away from rig processes of other test files).
  const pack = await run('npm', ['pack', ...(isBuiltCliFresh(PROJECT_ROOT) ? ['--ignore-scripts'] : []), '--pack-destination', work, PROJECT_ROOT], { cwd: work, maxBuffer: 1 << 24 });
  const tarball = join(work, pack.stdout.trim().split('\n').pop()!);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project, env: userEnv(), maxBuffer: 1 << 24 });
  t.true(readdirSync(join(project, 'node_modules', 'rig', 'dist')).includes('rig.mjs'), 'a real copy with its build');
  t.regex(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).dependencies.rig, /^file:.*\.tgz$/);

  // The project's own inventory names the fleet's hosts; its rig.yaml names the fleet's ssh_config.
  writeFileSync(join(project, 'inventory', 'hosts.yaml'), readFileSync(fleet.inventoryPath, 'utf8'));
  const rigYaml = readFileSync(join(project, 'rig.yaml'), 'utf8').replace(/^# ssh_config:.*$/m, `ssh_config: ${fleet.sshConfigPath}`);
  writeFileSync(join(project, 'rig.yaml'), rigYaml);

  const plan = await npxRig(['plan', 'playbooks/site.ts']);
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  t.regex(plan.stdout, /\/etc\/rig-example\/motd/);
  t.regex(plan.stdout, /\+platform-team/, 'group_vars/all.yaml reaches the task group');

  // RIG_EXTRA_VARS and -b reach the run: a become method rig refuses (su) matters only when the run becomes.
  const extra = { RIG_EXTRA_VARS: '{"motd_team": "sre-oncall", "ansible_become_method": "su"}' };
  const withEnv = await npxRig(['plan', 'playbooks/site.ts'], extra);
  t.is(withEnv.code, 2, withEnv.stdout + withEnv.stderr);
  t.regex(withEnv.stdout, /\+sre-oncall/);
  const withBecome = await npxRig(['plan', '-b', 'playbooks/site.ts'], extra);
  t.not(withBecome.code, 2, withBecome.stdout);
  t.regex(withBecome.stdout + withBecome.stderr, /become method "su" is not supported/);

  // apply in a real terminal: the prompt, answered yes
  const w = terminal.startCommand(['npx', '--no', 'rig', 'apply', 'playbooks/site.ts'], { cwd: project });
  const question = await terminal.waitForScreen(w, /\(yes\/no\)/);
  t.regex(question, /Apply these 6 changes on 2 hosts\? \(yes\/no\)/);
  terminal.answer(w, 'yes');
  const end = await terminal.waitForScreen(w, /EXIT=\d+/);
  t.regex(end, /EXIT=0/, end);
  for (const h of fleet.hosts) {
    const state = await hostState(h.name);
    t.regex(state, /^platform-team\n/, h.name);
    t.regex(state, new RegExp(`${h.name} is managed by rig for platform-team`), h.name);
  }

  const again = await npxRig(['plan', 'playbooks/site.ts']);
  t.is(again.code, 0, again.stdout + again.stderr);

  const rollback = await npxRig(['rollback', '-y']);
  t.is(rollback.code, 0, rollback.stdout + rollback.stderr);
  for (const h of fleet.hosts) t.is(await hostState(h.name), 'absent /etc/rig-example/team\nabsent /etc/rig-example/motd\n', h.name);

  const config = await npxRig(['config']);
  t.is(config.code, 0, config.stderr);
  t.regex(config.stdout, new RegExp(`project: ${project}/rig\\.yaml`));
  t.regex(config.stdout, new RegExp(`inventory +${project}/inventory/hosts\\.yaml +\\[rig\\.yaml:4\\]`));
  t.regex(config.stdout, new RegExp(`ssh_config +${fleet.sshConfigPath} +\\[rig\\.yaml:5\\]`));
  t.regex(config.stdout, new RegExp(`state_dir +${project}/\\.rig +\\[rig\\.yaml:6\\]`));
  t.regex(config.stdout, /forks +200 +\[default\]/);
  const envConfig = await npxRig(['config', '--forks', '3'], { RIG_STATE_DIR: join(work, 'elsewhere') });
  t.regex(envConfig.stdout, /forks +3 +\[flag --forks\]/);
  t.regex(envConfig.stdout, new RegExp(`state_dir +${work}/elsewhere +\\[env RIG_STATE_DIR\\]`));

  // the project type-checks against rig's types (its own typescript and @types/node, installed as devDependencies)
  const tsc = await run('npx', ['--no', 'tsc', '--noEmit'], { cwd: project, env: userEnv() }).then(() => ({ code: 0, out: '' }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
  t.is(tsc.code, 0, tsc.out);
  writeFileSync(join(project, 'playbooks', 'broken.ts'), "import { file } from 'rig';\nexport const t = file({ path: 1 });\n");
  const broken = await run('npx', ['--no', 'tsc', '--noEmit'], { cwd: project, env: userEnv() }).then(() => ({ code: 0, out: '' }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
  t.not(broken.code, 0, 'a type error in a playbook is reported');
  t.regex(broken.out, /playbooks\/broken\.ts/);
  rmSync(join(project, 'playbooks', 'broken.ts'));
});

test.serial('the fleet\'s rig.yaml beside the shipped playbooks: `rig plan playbooks/secure-cluster.ts` with no other flag plans the fleet (exit 2)', async (t) => {
  // As `npm run fleet -- up` writes it into the checkout (fleet.ts: writeFleetProjectFile), here into a copy of the
  // checkout's playbooks, tasks, templates and files, so the checkout's own rig.yaml is left alone.
  const copy = join(work, 'checkout-copy');
  for (const d of ['playbooks', 'tasks', 'templates', 'files']) cpSync(join(PROJECT_ROOT, d), join(copy, d), { recursive: true });
  writeFleetProjectFile(copy, { inventoryPath: fleet.inventoryPath, sshConfigPath: fleet.sshConfigPath, stateDir: join(copy, 'rig-state'), pkiDir: join(copy, 'pki') });
  const r = await runRig(['plan', 'playbooks/secure-cluster.ts'], { cwd: copy, env: { RIG_PROJECT_FILE: '' } });
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stdout, /master1/);
  t.regex(r.stdout, /worker1/);
});
