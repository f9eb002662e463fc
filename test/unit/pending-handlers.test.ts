import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunId } from '../../src/changelog/journal-store.ts';
import { PatternError } from '../../src/errors.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import type { Host, Inventory } from '../../src/inventory/types.ts';
import { defineModule } from '../../src/modules/module.ts';
import { flushHandlers } from '../../src/modules/flush-handlers.ts';
import { definePlaybook } from '../../src/playbook/types.ts';
import { buildApplyScript } from '../../src/engine/apply-script.ts';
import { HostTasks, planHost, selectPlays } from '../../src/engine/build-plan.ts';
import { buildHandlerHooks, clearRunPendingScript } from '../../src/engine/handler-script.ts';
import { parsePendingRecords, pendingGatherScript, pendingPlayLabel, type PendingRecord } from '../../src/engine/pending-handlers.ts';
import type { HostPlan } from '../../src/engine/plan-types.ts';

/** A command that changes something when `run` is true, and is a no-op otherwise. */
const cmd = defineModule<{ run: boolean; argv: string[] }>({
  name: 'cmd', validate: () => [], facts: () => [],
  plan: (p) => (p.run ? { changes: [{ kind: 'run-command', argv: p.argv, task: '', reason: 'run' }] } : { noop: 'not needed' }),
});

const h: Host = { name: 'h1', address: '127.0.0.1', groups: ['all'], vars: {} };
const inventory: Inventory = {
  source: 'mem', hosts: [h], groups: new Map(), warnings: [],
  selectHosts: (p: string) => { if (p !== 'all') throw new PatternError(p); return [h]; },
  getHost: () => h,
};

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rig-pending-'));
  return { dir, state: join(dir, 'state'), root: join(dir, 'state/handlers'), mark: join(dir, 'restarts') };
}

/** Plan one host: task 1 notifies `restart` when `change`, task 2 fails when `fail`; the handler appends to `mark`. */
function plan(mark: string, o: { change: boolean; fail: boolean; flushBetween?: boolean }, pending: PendingRecord[] = []): HostPlan {
  const pb = definePlaybook({ name: 'pb', plays: [{
    name: 'the play', hosts: 'all',
    tasks: [
      cmd({ run: o.change, argv: ['true'] }, { name: 'edit config', notify: 'restart' }),
      ...(o.flushBetween ? [flushHandlers()] : []),
      cmd({ run: true, argv: ['sh', '-c', o.fail ? 'echo broken >&2; exit 3' : 'true'] }, { name: 'later task' }),
    ],
    handlers: [cmd({ run: true, argv: ['sh', '-c', 'echo restarted >> "$0"', mark] }, { name: 'restart' })],
  }] });
  const input = { inventory, playbook: { path: 'pb.ts', sha256: 'x', playbook: pb }, projectRoot: '/' };
  return planHost(new HostTasks(h, input, selectPlays(input)), new MemoryHostFacts({ os: DEBIAN_SYSV_OS }), pending);
}

const lock = { acquire: true, release: true, owner: '{}' };
function apply(env: ReturnType<typeof setup>, hp: HostPlan, runId: string, forceHandlers = false) {
  const hostPlay = hp.plays[0]!;
  const hooks = buildHandlerHooks({ runId, playbookName: 'pb', playName: 'the play', hostPlay, root: env.root, forceHandlers });
  const script = buildApplyScript({ runId, steps: hostPlay.steps, intentJson: '{}', lock, stateDir: env.state, hooks });
  const r = spawnSync('sh', ['-s'], { input: script });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
function gatherPending(env: ReturnType<typeof setup>): PendingRecord[] {
  const r = spawnSync('sh', ['-c', `rig_b64() { base64 -w0; }\n${pendingGatherScript('pb', env.root)}`]);
  return parsePendingRecords(r.stdout.toString());
}
const restarts = (env: ReturnType<typeof setup>): number => (existsSync(env.mark) ? readFileSync(env.mark, 'utf8').split('\n').filter(Boolean).length : 0);

test('a handler notified by an applied change and not run (a later task failed) stays pending, is planned and run next time, then cleared', (t) => {
  const env = setup();
  const run1 = newRunId();
  const failed = apply(env, plan(env.mark, { change: true, fail: true }), run1);
  t.is(failed.status, 1, failed.stderr);
  t.is(restarts(env), 0, 'the handler did not run');
  const records = gatherPending(env);
  t.is(records.length, 1);
  t.like(records[0], { run: run1, playbook: 'pb', play: 'the play', handler: 'restart', task: 'play 1 "the play" › task 1 "edit config"' });

  // The config is in place now (no change), the later task is fixed: the plan runs the pending handler.
  const next = plan(env.mark, { change: false, fail: false }, records);
  const p = next.plays[0]!;
  t.deepEqual(p.pendingHandlers, [{ handler: 'restart', fromRuns: [run1], notifiedBy: ['play 1 "the play" › task 1 "edit config"'], known: true }]);
  t.deepEqual(p.steps.map((s) => s.handler), [undefined, 'restart']);
  t.regex(p.tasks.find((o) => o.task.includes('handler'))!.reason, new RegExp(`^pending from run ${run1}; run$`));
  const ok = apply(env, next, newRunId());
  t.is(ok.status, 0, ok.stderr);
  t.is(restarts(env), 1);
  t.deepEqual(gatherPending(env), [], 'cleared once it ran');
  t.deepEqual(readdirSync(join(env.root)).flatMap((d) => readdirSync(join(env.root, d))), [], 'no record directory left');

  // Nothing pending: no handler planned.
  t.false(plan(env.mark, { change: false, fail: false }, gatherPending(env)).plays[0]!.steps.some((s) => s.handler !== undefined));
});

test('forceHandlers: the notified handler runs after the failure in the same script; the first failure stays the error', (t) => {
  const env = setup();
  const r = apply(env, plan(env.mark, { change: true, fail: true }), newRunId(), true);
  t.is(r.status, 1);
  t.is(restarts(env), 1, 'the handler ran although a later task failed');
  t.regex(r.stdout, /^X 0\.1 3 /m);
  t.true(r.stdout.indexOf('X 0.1') < r.stdout.indexOf('D 0.2'), 'after the failure');
  t.deepEqual(gatherPending(env), []);
  // Not notified (the change was not needed): nothing forced.
  const env2 = setup();
  t.is(apply(env2, plan(env2.mark, { change: false, fail: true }), newRunId(), true).status, 1);
  t.is(restarts(env2), 0);
});

test('flushHandlers keeps working: a handler flushed before the failure ran, nothing pending', (t) => {
  const env = setup();
  const hp = plan(env.mark, { change: true, fail: true, flushBetween: true });
  t.deepEqual(hp.plays[0]!.steps.map((s) => s.handler ?? '-'), ['-', 'restart', '-']);
  t.is(apply(env, hp, newRunId()).status, 1);
  t.is(restarts(env), 1);
  t.deepEqual(gatherPending(env), []);
});

test('two failed runs: pending from both; a rollback of one leaves the other run\'s record', (t) => {
  const env = setup();
  const run1 = newRunId(); const run2 = `${run1.slice(0, -4)}ffff`;
  apply(env, plan(env.mark, { change: true, fail: true }), run1);
  apply(env, plan(env.mark, { change: true, fail: true }), run2);
  const both = gatherPending(env);
  t.deepEqual(both.map((r) => r.run), [run1, run2]);
  t.deepEqual(plan(env.mark, { change: false, fail: false }, both).plays[0]!.pendingHandlers![0]!.fromRuns, [run1, run2]);
  const rollback = buildApplyScript({ runId: newRunId(), steps: [], intentJson: '{}', lock, stateDir: env.state, hooks: { epilogue: clearRunPendingScript(run2, env.root) } });
  t.is(spawnSync('sh', ['-s'], { input: rollback }).status, 0);
  t.deepEqual(gatherPending(env).map((r) => r.run), [run1]);
});

test('a pending handler the play no longer has is shown (notable), not run', (t) => {
  const env = setup();
  const rec: PendingRecord = { run: newRunId(), playbook: 'pb', play: 'the play', handler: 'reload gone', task: 'x', at: '' };
  const p = plan(env.mark, { change: false, fail: false }, [rec]).plays[0]!;
  t.false(p.steps.some((s) => s.handler !== undefined));
  t.like(p.tasks.at(-1), { status: 'ok', notable: true });
  t.regex(p.tasks.at(-1)!.reason, /no handler of that name any more: not run/);
});

test('the after-change hook sits between every kind of step\'s change and its done record', (t) => {
  const st = { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: 'a'.repeat(64), size: 1 } as const;
  const base = { task: 't', reason: 'r' };
  const changes = [
    { kind: 'write-file', path: '/x', before: st, after: st, content: 'eA==', secret: false },
    { kind: 'restore-preimage', path: '/x', before: st, after: st, fromRun: 'r', fromStep: '0.0', secret: false },
    { kind: 'set-attributes', path: '/x', before: st, after: st },
    { kind: 'ensure-directory', path: '/d', before: { exists: false }, after: { ...st, type: 'directory' } },
    { kind: 'remove-path', path: '/x', before: st, after: { exists: false } },
    { kind: 'symlink', path: '/l', target: '/x', before: { exists: false }, after: { exists: true, type: 'symlink' } },
    { kind: 'set-capability', path: '/x', beforeCaps: '', afterCaps: 'cap_net_bind_service=ep' },
    { kind: 'run-command', argv: ['true'] },
    { kind: 'service', service: 's', action: 'restart', init: 'sysv' },
    { kind: 'package', manager: 'apt', install: ['p'], remove: [] },
    { kind: 'wait', argv: ['true'], timeoutSeconds: 1, intervalSeconds: 1, description: 'w' },
  ];
  for (const c of changes) {
    const script = buildApplyScript({
      runId: 'r', intentJson: '{}', lock, checkDrift: false, steps: [{ id: '0.0', change: { ...base, ...c } as never }],
      hooks: { afterChange: new Map([['0.0', ': AFTER-CHANGE-HOOK']]) },
    });
    const lines = script.split('\n');
    const i = lines.indexOf(': AFTER-CHANGE-HOOK');
    t.true(i > 0, c.kind);
    t.regex(lines[i + 1]!, /^(rig_done |rig_jlog done .*; printf 'D |printf 'D )/, `${c.kind}: the hook must come right before the done record`);
    t.false(lines.slice(0, i).some((l) => /printf 'D %s/.test(l) && !l.startsWith('rig_done()') && !l.includes('rig_done() {')), `${c.kind}: no done record before the hook`);
  }
});

test('plays are matched by name; two plays with one name keep their own records (name #index)', (t) => {
  const play = () => ({ hosts: 'all', tasks: [cmd({ run: false, argv: ['true'] }, { notify: 'restart' })], handlers: [cmd({ run: true, argv: ['true'] }, { name: 'restart' })] });
  const pb = definePlaybook({ name: 'pb', plays: [play(), play()] });
  const input = { inventory, playbook: { path: 'pb.ts', sha256: 'x', playbook: pb }, projectRoot: '/' };
  const plays = selectPlays(input);
  t.is(pendingPlayLabel(plays, 1), 'all #1');
  const rec: PendingRecord = { run: newRunId(), playbook: 'pb', play: pendingPlayLabel(plays, 1), handler: 'restart', task: 'x', at: '' };
  const hp = planHost(new HostTasks(h, input, plays), new MemoryHostFacts({ os: DEBIAN_SYSV_OS }), [rec]);
  t.deepEqual(hp.plays.map((p) => p.steps.map((s) => s.handler)), [[], ['restart']]);
  // A single play named so is matched by its name alone, wherever it moved.
  t.is(pendingPlayLabel([{ index: 3, name: 'workers' }, { index: 0, name: 'masters' }], 3), 'workers');
});
