/**
 * `rig init`: the scaffold it writes, its refusal to overwrite anything (bad input changes nothing), the `rig`
 * dependency it names, and `rig plan` on the fresh project (a clear unreachable report, not a crash). The whole flow
 * against a fleet, with rig installed from a tarball, is test/e2e/project-init.test.ts.
 */
import test from 'ava';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PROJECT_ROOT, runRig } from '../helpers/run-rig.ts';
import { projectPackageName, rigDependencySpec } from '../../src/init/rig-dependency-spec.ts';
import { listScaffoldFiles } from '../../src/init/scaffold-project.ts';

const work = mkdtempSync(join(tmpdir(), 'rig-init-unit-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** Every path under dir with its content (directories as 'dir'), to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      out[relative(dir, p)] = e.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : readFileSync(p, 'utf8');
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

test('init writes the project, wired to the running rig; rig plan on it reports the example hosts unreachable', async (t) => {
  const dir = join(work, 'My Project');
  const r = await runRig(['init', dir]);
  t.is(r.code, 0, r.stderr);
  const files = Object.keys(snapshot(dir)).filter((p) => !p.endsWith('inventory') && !p.endsWith('group_vars') && !['playbooks', 'tasks', 'templates'].includes(p));
  t.deepEqual(files.sort(), ['.gitignore', 'inventory/group_vars/all.yaml', 'inventory/hosts.yaml', 'package.json', 'playbooks/site.ts', 'rig.yaml', 'tasks/motd.ts', 'templates/motd.hbs', 'tsconfig.json']);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  t.is(pkg.name, 'my-project');
  t.is(pkg.type, 'module');
  t.is(pkg.dependencies.rig, `file:${PROJECT_ROOT}`);
  t.truthy(pkg.devDependencies.typescript);
  t.regex(readFileSync(join(dir, 'playbooks', 'site.ts'), 'utf8'), /from 'rig'/);
  const plan = await runRig(['plan', 'playbooks/site.ts'], { cwd: dir, env: { RIG_PROJECT_FILE: '' } });
  t.is(plan.code, 3, plan.stderr);
  t.regex(plan.stdout, /Plan: 0 changes on 0 of 2 hosts, 2 unreachable/);
  t.regex(plan.stderr, /web1: UNREACHABLE/);
  t.notRegex(plan.stderr, /error\[/);
  const config = await runRig(['config'], { cwd: dir, env: { RIG_PROJECT_FILE: '' } });
  t.regex(config.stdout, /inventory\s+.*\/inventory\/hosts\.yaml\s+\[rig\.yaml:4\]/);
});

const conflicts: ReadonlyArray<readonly [string, (dir: string) => void]> = [
  ['every file (init run twice)', (dir) => { listScaffoldFiles(dir, { rigRoot: PROJECT_ROOT }).forEach((f) => { mkdirSync(join(dir, f.path, '..'), { recursive: true }); writeFileSync(join(dir, f.path), 'mine\n'); }); }],
  ['one file: rig.yaml of its own', (dir) => { writeFileSync(join(dir, 'rig.yaml'), 'forks: 3\n'); }],
  ['a nested one: playbooks/site.ts', (dir) => { mkdirSync(join(dir, 'playbooks')); writeFileSync(join(dir, 'playbooks', 'site.ts'), 'export {};\n'); }],
  ['a dangling symlink as package.json', (dir) => { symlinkSync('/nonexistent/target', join(dir, 'package.json')); }],
];
for (const [what, prepare] of conflicts) {
  test(`init refuses to overwrite ${what}: exit 1, error INIT naming the files, nothing written`, async (t) => {
    const dir = mkdtempSync(join(work, 'conflict-'));
    prepare(dir);
    const before = snapshot(dir);
    const r = await runRig(['init', dir]);
    t.is(r.code, 1);
    t.regex(r.stderr, /error\[INIT\].*refusing to overwrite/);
    t.deepEqual(snapshot(dir), before);
  });
}

test('init refuses a DIR that is a file', async (t) => {
  const file = join(work, 'a-file');
  writeFileSync(file, 'x');
  const r = await runRig(['init', file]);
  t.is(r.code, 1);
  t.regex(r.stderr, /error\[INIT\].*not a directory/);
  t.is(readFileSync(file, 'utf8'), 'x');
});

test('the rig dependency: file: of a checkout; from an installed copy, the spec its project declared', (t) => {
  t.is(rigDependencySpec('/opt/rig'), 'file:/opt/rig');
  const owner = join(work, 'owner');
  mkdirSync(join(owner, 'node_modules', 'rig'), { recursive: true });
  t.is(rigDependencySpec(join(owner, 'node_modules', 'rig')), `file:${join(owner, 'node_modules', 'rig')}`);
  writeFileSync(join(owner, 'package.json'), JSON.stringify({ dependencies: { rig: 'file:../vendor/rig-0.1.0.tgz' } }));
  t.is(rigDependencySpec(join(owner, 'node_modules', 'rig')), `file:${join(work, 'vendor', 'rig-0.1.0.tgz')}`);
  writeFileSync(join(owner, 'package.json'), JSON.stringify({ devDependencies: { rig: 'git+https://example.invalid/ops/rig.git#v0.1.0' } }));
  t.is(rigDependencySpec(join(owner, 'node_modules', 'rig')), 'git+https://example.invalid/ops/rig.git#v0.1.0');
  t.is(projectPackageName('/srv/Team Infra!'), 'team-infra');
  t.is(projectPackageName('/srv/rig'), 'rig-project');
});
