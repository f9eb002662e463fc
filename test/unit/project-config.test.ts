import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProjectFile, parseProjectConfig, PROJECT_SCHEMA, type ProjectKey } from '../../src/cli/project-config.ts';
import { resolveSettings } from '../../src/cli/effective-settings.ts';
import { isRigError } from '../../src/errors.ts';
import { runRig } from '../helpers/run-rig.ts';

const project = (text: string) => parseProjectConfig(text, '/proj/rig.yaml');

test('found by walking up from the working directory; the nearest wins', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rig-project-'));
  mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
  t.is(findProjectFile(join(root, 'a', 'b', 'c')), undefined);
  writeFileSync(join(root, 'rig.yaml'), 'forks: 3\n');
  t.is(findProjectFile(join(root, 'a', 'b', 'c')), join(root, 'rig.yaml'));
  writeFileSync(join(root, 'a', 'rig.yaml'), 'forks: 4\n');
  t.is(findProjectFile(join(root, 'a', 'b', 'c')), join(root, 'a', 'rig.yaml'));
  mkdirSync(join(root, 'a', 'b', 'rig.yaml'));
  t.is(findProjectFile(join(root, 'a', 'b', 'c')), join(root, 'a', 'rig.yaml'), 'a directory named rig.yaml is not a project file');
});

test('relative paths resolve against the project root; typed values and their lines', (t) => {
  const p = project('# team defaults\ninventory: [inv/a.yaml, /abs/b.ini]\nssh_config: ../ssh/config\nstate_dir: .state\npki_dir: pki\nforks: 10\nmax_handshakes: 4\nextra_vars:\n  cluster_name: prod\nbecome: true\n');
  t.deepEqual(p.settings.inventory, ['/proj/inv/a.yaml', '/abs/b.ini']);
  t.is(p.settings.ssh_config, '/ssh/config');
  t.is(p.settings.state_dir, '/proj/.state');
  t.is(p.settings.pki_dir, '/proj/pki');
  t.is(p.settings.forks, 10);
  t.is(p.settings.max_handshakes, 4);
  t.deepEqual(p.settings.extra_vars, { cluster_name: 'prod' });
  t.true(p.settings.become);
  t.is(p.lines.inventory, 2);
  t.is(p.lines.become, 10);
  t.deepEqual(project('inventory: hosts.ini\n').settings.inventory, ['/proj/hosts.ini']);
  t.deepEqual(project('').settings, {});
});

const BAD: readonly [string, number, RegExp][] = [
  ['forks: 3\nforkz: 4\n', 2, /unknown setting "forkz"/],
  ['forks: 0\n', 1, /forks: expected a positive integer/],
  ['\n\nmax_handshakes: "8"\n', 3, /max_handshakes: expected a positive integer/],
  ['become: yes\n', 1, /become: expected true or false/],
  ['inventory: []\n', 1, /inventory: expected at least one path/],
  ['inventory:\n  - a\n  - 3\n', 2, /expected a path/],
  ['state_dir:\n', 1, /state_dir: expected a path/],
  ['extra_vars: [a, b]\n', 1, /extra_vars: expected a mapping/],
  ['- forks: 3\n', 1, /expected a mapping of settings/],
  ['forks: 3\nforks: 4\n', 2, /not valid YAML/],
  ['forks: 3\n  bad: [\n', 1, /not valid YAML/],
];

for (const [text, line, message] of BAD) {
  test(`refused with file:line: ${JSON.stringify(text)}`, (t) => {
    const e = t.throws(() => project(text));
    t.true(isRigError(e));
    t.is((e as { code?: string }).code, 'PROJECT_CONFIG');
    t.regex(e!.message, message);
    t.is((e as unknown as { where: { file: string; line: number } }).where.file, '/proj/rig.yaml');
    t.is((e as unknown as { where: { file: string; line: number } }).where.line, line);
  });
}

test('precedence per key: flag > env > project file > default (seeded combinations)', (t) => {
  let seed = 57;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  const keys = (Object.keys(PROJECT_SCHEMA) as ProjectKey[]).filter((k) => PROJECT_SCHEMA[k].env && PROJECT_SCHEMA[k].kind === 'int');
  for (let i = 0; i < 200; i++) {
    const flags: Record<string, unknown> = {}; const env: Record<string, string> = {}; let text = '';
    const expected = new Map<ProjectKey, [unknown, string]>();
    for (const k of keys) {
      const [f, e, p] = [rnd() < 0.4, rnd() < 0.4, rnd() < 0.5];
      if (p) text += `${k}: ${i + 3}\n`;
      if (e) env[PROJECT_SCHEMA[k].env!] = String(i + 2);
      if (f) flags[k] = String(i + 1);
      expected.set(k, f ? [String(i + 1), `flag --${k.replace('_', '-')}`] : e ? [i + 2, `env ${PROJECT_SCHEMA[k].env}`] : p ? [i + 3, /^rig\.yaml:\d+$/.source] : [undefined, 'default']);
    }
    const got = resolveSettings(flags, env, project(text), '/cwd');
    for (const [k, [v, src]] of expected) {
      const s = got.find((x) => x.key === k)!;
      if (src.startsWith('^')) t.regex(s.source, new RegExp(src)); else t.is(s.source, src);
      if (v !== undefined) t.is(s.value, v);
    }
  }
});

test('extra_vars merge per variable: rig.yaml < RIG_EXTRA_VARS < -e (seeded combinations); become: flag > env > file', (t) => {
  let seed = 91;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  for (let i = 0; i < 200; i++) {
    const fileVars: Record<string, unknown> = {}; const envVars: Record<string, unknown> = {}; const flagVars: Record<string, unknown> = {};
    for (const name of ['a', 'b', 'c', 'd']) {
      if (rnd() < 0.5) fileVars[name] = `file-${i}`;
      if (rnd() < 0.5) envVars[name] = rnd() < 0.5 ? i : { nested: [i, 'x'] };
      if (rnd() < 0.3) flagVars[name] = `flag-${i}`;
    }
    const text = Object.keys(fileVars).length ? `extra_vars: ${JSON.stringify(fileVars)}\n` : '';
    const env = Object.keys(envVars).length ? { RIG_EXTRA_VARS: rnd() < 0.5 ? JSON.stringify(envVars) : Object.entries(envVars).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') } : {};
    const got = resolveSettings(Object.keys(flagVars).length ? { extra_vars: flagVars } : {}, env, project(text), '/cwd').find((x) => x.key === 'extra_vars')!;
    t.deepEqual(got.value, { ...fileVars, ...envVars, ...flagVars });
    const sources = [...(text ? ['rig.yaml'] : []), ...(env.RIG_EXTRA_VARS ? ['env RIG_EXTRA_VARS'] : []), ...(Object.keys(flagVars).length ? ['flag -e'] : [])];
    t.is(got.source.replace(/:\d+/, ''), sources.join(' + ') || 'default');
  }
  for (const bad of ['[a, b]', '"just a string"', '{a: [}']) {
    t.throws(() => resolveSettings({}, { RIG_EXTRA_VARS: bad }, undefined, '/cwd'), { message: /^RIG_EXTRA_VARS: (expected a mapping|not valid JSON or YAML)/ });
  }
  const become = (flags: Record<string, unknown>, env: Record<string, string>, text: string) => resolveSettings(flags, env, project(text), '/cwd').find((x) => x.key === 'become')!;
  t.like(become({ become: false }, { RIG_BECOME: 'yes' }, 'become: true\n'), { value: false, source: 'flag --no-become' });
  t.like(become({ become: true }, {}, 'become: false\n'), { value: true, source: 'flag --become' });
  t.like(become({}, { RIG_BECOME: '0' }, 'become: true\n'), { value: false, source: 'env RIG_BECOME' });
  t.like(become({}, {}, 'forks: 2\nbecome: true\n'), { value: true, source: 'rig.yaml:2' });
});

test('the CLI: -b/--become and --no-become over rig.yaml, RIG_EXTRA_VARS between rig.yaml and -e (rig config)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rig-project-'));
  writeFileSync(join(root, 'rig.yaml'), 'become: false\nextra_vars:\n  a: from-file\n  b: from-file\n');
  const env = { RIG_PROJECT_FILE: '', RIG_EXTRA_VARS: '{"b": "from-env", "c": 3}' };
  const json = async (...args: string[]) => {
    const r = await runRig(['config', '--json', ...args], { cwd: root, env });
    t.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { settings: Array<{ key: string; value: unknown; source: string }> }).settings;
  };
  const b = await json('-b', '-e', 'c=4');
  t.like(b.find((s) => s.key === 'become'), { value: true, source: 'flag --become' });
  t.like(b.find((s) => s.key === 'extra_vars'), { value: ['a', 'b', 'c'], source: 'rig.yaml:2 + env RIG_EXTRA_VARS + flag -e' });
  t.like((await json()).find((s) => s.key === 'become'), { value: false, source: 'rig.yaml:1' });
  writeFileSync(join(root, 'rig.yaml'), 'become: true\n');
  t.like((await json('--no-become')).find((s) => s.key === 'become'), { value: false, source: 'flag --no-become' });
  const bad = await runRig(['config'], { cwd: root, env: { ...env, RIG_EXTRA_VARS: '[1, 2]' } });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /error\[USAGE\]: RIG_EXTRA_VARS: expected a mapping/);
});

test('paths from the environment resolve against the cwd, defaults against the project root', (t) => {
  const s = resolveSettings({}, { RIG_STATE_DIR: 'st' }, project('forks: 2\n'), '/cwd');
  t.is(s.find((x) => x.key === 'state_dir')!.value, '/cwd/st');
  const d = resolveSettings({}, {}, project('forks: 2\n'), '/cwd/sub');
  t.is(d.find((x) => x.key === 'state_dir')!.value, '/proj/.rig');
  t.deepEqual(d.find((x) => x.key === 'inventory')!.value, ['/proj/inventory']);
  t.throws(() => resolveSettings({}, { RIG_FORKS: 'many' }, undefined, '/cwd'), { message: /RIG_FORKS=many: expected a positive integer/ });
});

test('rig config (real CLI, from a subdirectory) prints each value and where it came from; a broken file exits 1 naming file:line', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rig-project-'));
  mkdirSync(join(root, 'playbooks'));
  writeFileSync(join(root, 'rig.yaml'), 'inventory: inv.yaml\nforks: 7\n');
  const r = await runRig(['config', '--max-handshakes', '5'], { cwd: join(root, 'playbooks'), env: { RIG_PROJECT_FILE: '', RIG_STATE_DIR: '/tmp/st' } });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`inventory +${root}/inv\\.yaml +\\[rig\\.yaml:1\\]`));
  t.regex(r.stdout, /forks +7 +\[rig\.yaml:2\]/);
  t.regex(r.stdout, /max_handshakes +5 +\[flag --max-handshakes\]/);
  t.regex(r.stdout, /state_dir +\/tmp\/st +\[env RIG_STATE_DIR\]/);
  t.regex(r.stdout, /ssh_config +\(unset\) +\[default\]/);
  writeFileSync(join(root, 'rig.yaml'), 'inventory: inv.yaml\nforks: lots\n');
  const b = await runRig(['plan', 'playbooks/x.ts'], { cwd: root, env: { RIG_PROJECT_FILE: '' } });
  t.is(b.code, 1);
  t.regex(b.stderr, new RegExp(`error\\[PROJECT_CONFIG\\] ${root}/rig\\.yaml:2: forks: expected a positive integer`));
});
