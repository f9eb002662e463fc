import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { definePlaybook } from '../../src/playbook/types.ts';
import { file } from '../../src/modules/index.ts';
import { parseTagList, renderTaskList, selectTasks, taskSelected } from '../../src/playbook/select-tags.ts';
import { flattenTasks, type LoadedPlaybook } from '../../src/playbook/load-playbook.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

const POOL = ['a', 'b', 'c', 'always', 'never', 'tagged', 'untagged', 'all'];

test('differential against Ansible\'s Task.evaluate_tags: seeded random tag sets (always, never, all, tagged, untagged)', (t) => {
  let seed = 5719;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  const pick = (pool: readonly string[], p: number) => pool.filter(() => rnd() < p);
  const cases: { taskTags: string[]; only: string[]; skip: string[] }[] = [];
  for (let i = 0; i < 3000; i++) {
    const only = pick(POOL, 0.2);
    cases.push({ taskTags: pick(['a', 'b', 'c', 'always', 'never'], 0.3), only: only.length ? only : ['all'], skip: pick(POOL, 0.15) });
  }
  // Hand-picked: the documented cases.
  cases.push({ taskTags: ['never', 'debug'], only: ['debug'], skip: [] }, { taskTags: ['never'], only: ['all'], skip: [] },
    { taskTags: ['always'], only: ['a'], skip: [] }, { taskTags: ['always'], only: ['all'], skip: ['always'] },
    { taskTags: ['always'], only: ['all'], skip: ['all'] }, { taskTags: [], only: ['untagged'], skip: [] }, { taskTags: ['a'], only: ['tagged'], skip: ['a'] });
  const r = spawnSync('/usr/bin/python3', [join(PROJECT_ROOT, 'test/helpers/ansible-tags-oracle.py')], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 24 });
  t.is(r.status, 0, r.stderr);
  const oracle = JSON.parse(r.stdout) as boolean[];
  let mismatches = 0;
  cases.forEach((c, i) => {
    const mine = taskSelected(c.taskTags, { tags: c.only, skipTags: c.skip });
    if (mine !== oracle[i] && mismatches++ < 5) t.fail(`${JSON.stringify(c)}: rig ${mine}, Ansible ${oracle[i]}`);
  });
  t.is(mismatches, 0);
  t.true(oracle.some(Boolean) && oracle.some((x) => !x), 'both outcomes occur');
});

const loaded = (): LoadedPlaybook => ({
  path: '/pb.ts', sha256: '0',
  playbook: definePlaybook({ name: 'tags', plays: [
    { hosts: 'all', tags: ['base'], tasks: [
      file({ path: '/a', content: 'a' }, { tags: ['certs'] }),
      [file({ path: '/b', content: 'b' }, { tags: ['always'] })],
      file({ path: '/c', content: 'c' }, { tags: ['debug', 'never'] }),
      file({ path: '/d', content: 'd' }),
    ] },
    { hosts: 'all', tasks: [file({ path: '/e', content: 'e' }, { name: 'e', tags: ['certs'] }), file({ path: '/f', content: 'f' })] },
  ] }),
});
const paths = (l: LoadedPlaybook) => l.playbook.plays.map((p) => flattenTasks(p.tasks).map((t) => (t.props as { path: string }).path).join(''));

test('selectTasks: play tags are inherited, nested groups flattened, handlers and play count kept', (t) => {
  t.deepEqual(paths(selectTasks(loaded(), {})), ['/a/b/d', '/e/f']);
  t.deepEqual(paths(selectTasks(loaded(), { tags: ['certs'] })), ['/a/b', '/e']);
  t.deepEqual(paths(selectTasks(loaded(), { tags: ['base'] })), ['/a/b/c/d', ''], 'never runs when one of its tags (here the play\'s) is asked for by name');
  t.deepEqual(paths(selectTasks(loaded(), { tags: ['debug'] })), ['/b/c', '']);
  t.deepEqual(paths(selectTasks(loaded(), { skipTags: ['certs', 'always'] })), ['/d', '/f']);
  t.deepEqual(paths(selectTasks(loaded(), { tags: ['untagged'] })), ['/b', '/f']);
});

test('--list-tasks shows each play and its selected tasks with their tags', (t) => {
  const text = renderTaskList(loaded(), { tags: ['certs'] });
  t.regex(text, /play #1 \(all\): all\tTAGS: \[base\]\n    tasks:\n      file \/a\tTAGS: \[base, certs\]\n      file \/b\tTAGS: \[base, always\]/);
  t.regex(text, /play #2 \(all\): all\tTAGS: \[\]\n    tasks:\n      e\tTAGS: \[certs\]$/);
});

test('bad tags are a PLAYBOOK error; the option lists split on commas', (t) => {
  const bad = { ...loaded(), playbook: definePlaybook({ name: 'x', plays: [{ hosts: 'all', tags: 'certs' as unknown as string[], tasks: [] }] }) };
  t.throws(() => selectTasks(bad, {}), { message: /play 1: tags must be a list of non-empty strings/ });
  t.deepEqual(parseTagList(['a,b', ' c ', ',']), ['a', 'b', 'c']);
  t.is(parseTagList([]), undefined);
});
