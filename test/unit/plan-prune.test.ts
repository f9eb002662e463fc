import test from 'ava';
import type { RunMeta } from '../../src/changelog/journal-store.ts';
import { planPrune, type PruneRunView } from '../../src/changelog/plan-prune.ts';
import { buildPruneScript, parsePruneOutput } from '../../src/engine/prune-script.ts';
import { parseDuration } from '../../src/text/parse-duration.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-31T00:00:00Z');
let seq = 0;
function run(kind: RunMeta['kind'], hosts: string[], o: { daysAgo?: number; rollbackOf?: string; left?: string[]; running?: boolean } = {}): PruneRunView {
  seq++;
  const at = new Date(NOW - (o.daysAgo ?? 0) * DAY);
  const id = `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${seq.toString(16).padStart(4, '0')}`;
  return {
    meta: { id, kind, playbook: 'p.ts', startedAt: at.toISOString(), status: 'ok', hosts, pid: 1, ...(o.rollbackOf ? { rollbackOf: o.rollbackOf } : {}) },
    leftToRollBack: o.left ?? [], running: o.running === true,
  };
}
const verdicts = (views: PruneRunView[], opts: Partial<Parameters<typeof planPrune>[1]>) =>
  planPrune(views, { now: NOW, force: false, ...opts }).map((d) => `${d.remove ? '-' : '='} ${d.reason}`);

test('the last run of each host, live runs and runs left to roll back stay; --force takes the latter', (t) => {
  const a1 = run('apply', ['h1', 'h2'], { daysAgo: 10, left: ['h1', 'h2'] });
  const a2 = run('apply', ['h1', 'h2'], { daysAgo: 9 });
  const r2 = run('rollback', ['h1', 'h2'], { daysAgo: 9, rollbackOf: a2.meta.id });
  const a3 = run('apply', ['h1'], { daysAgo: 8, left: ['h1'] });
  const live = run('apply', ['h3'], { daysAgo: 7, running: true });
  const a4 = run('apply', ['h3'], { daysAgo: 1 });
  const all = [a1, a2, r2, a3, live, a4];
  t.deepEqual(verdicts(all, { keep: 0 }), [
    '= not fully rolled back on h1, h2 (--force removes it, and with it the way to undo it)',
    '- nothing of it is left to roll back',
    '= the last run of h2',
    '= the last run of h1',
    '= still running',
    '= the last run of h3',
  ]);
  t.deepEqual(verdicts(all, { keep: 0, force: true }).slice(0, 2), ['- --force: not fully rolled back on h1, h2', '- nothing of it is left to roll back']);
  t.deepEqual(verdicts(all, { olderThanMs: 9.5 * DAY, olderThanText: '9d12h' }).slice(0, 2), ['= not fully rolled back on h1, h2 (--force removes it, and with it the way to undo it)', '= newer than 9d12h']);
  t.deepEqual(verdicts(all, { keep: 5, force: true }).map((v) => v[0]), ['-', '=', '=', '=', '=', '=']);
});

test('a rollback goes only with the run it undid', (t) => {
  const a1 = run('apply', ['h1'], { daysAgo: 5, left: ['h1'] });
  const r1 = run('rollback', ['h1'], { daysAgo: 5, rollbackOf: a1.meta.id });
  const a2 = run('apply', ['h1'], { daysAgo: 4 });
  t.deepEqual(verdicts([a1, r1, a2], { keep: 0 }), [
    '= not fully rolled back on h1 (--force removes it, and with it the way to undo it)',
    `= rollback of ${a1.meta.id}, which is kept (removed with it, never alone)`,
    '= the last run of h1',
  ]);
  t.deepEqual(verdicts([a1, r1, a2], { keep: 0, force: true }).slice(0, 2), ['- --force: not fully rolled back on h1', `- rollback of ${a1.meta.id}, removed with it`]);
  // Its run already pruned: the rollback can go.
  t.deepEqual(verdicts([r1, a2], { keep: 0 })[0], `- rollback of ${a1.meta.id}`);
});

test('durations and the host-side script', (t) => {
  t.is(parseDuration('30d', '--older-than'), 30 * DAY);
  t.is(parseDuration('2w', '--older-than'), 14 * DAY);
  t.is(parseDuration('90m', '--older-than'), 90 * 60_000);
  t.throws(() => parseDuration('30 days', '--older-than'), { message: /--older-than 30 days: expected a number and a unit/ });
  t.throws(() => parseDuration('-1d', '--older-than'));
  t.throws(() => buildPruneScript(['../../etc']), { message: /not a run id/ });
  t.regex(buildPruneScript(['20261206T234527Z-ddec']), /for rig_id in 20261206T234527Z-ddec; do/);
  t.deepEqual(parsePruneOutput('P a\nA b\nF c\nZ ok\n'), { removed: ['a'], absent: ['b'], failed: ['c'], complete: true });
});

test('runs within one second are ordered by their start, not by the random part of their ids', (t) => {
  // ids have a second's resolution and a random suffix (newRunId): here the rollback's sorts first
  const at = (ms: number): string => new Date(NOW - DAY + ms).toISOString();
  const view = (id: string, kind: RunMeta['kind'], startedAt: string, rollbackOf?: string): PruneRunView => ({
    meta: { id, kind, playbook: 'p.ts', startedAt, status: 'ok', hosts: ['h1'], pid: 1, ...(rollbackOf ? { rollbackOf } : {}) },
    leftToRollBack: [], running: false,
  });
  const apply = view('20261230T000000Z-ffff', 'apply', at(100));
  const rollback = view('20261230T000000Z-0000', 'rollback', at(700), apply.meta.id);
  for (const runs of [[apply, rollback], [rollback, apply]]) {
    const decisions = planPrune(runs, { now: NOW, force: false, keep: 0 });
    t.deepEqual(decisions.map((d) => [d.meta.id, d.remove, d.reason]), [
      [apply.meta.id, true, 'nothing of it is left to roll back'],
      [rollback.meta.id, false, 'the last run of h1'],
    ]);
  }
});
