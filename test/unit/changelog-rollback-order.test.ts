import test from 'ava';
import { createHash } from 'node:crypto';
import type { FileState } from '../../src/core/file-state.ts';
import { invertRunForHost } from '../../src/changelog/invert-run.ts';
import type { JournalEvent, LoadedRun } from '../../src/changelog/journal-store.ts';
import { parseSerialOption, pendingServicePlays, rollbackOrder, rollbackPlays } from '../../src/changelog/rollback-order.ts';
import type { HostPlan, PlanStep } from '../../src/engine/plan-types.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const fileState = (c: string): FileState => ({ exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: sha(c) });
const write = (id: string, path: string): PlanStep => ({
  id, change: { kind: 'write-file', path, before: fileState('old'), after: fileState('new'), content: Buffer.from('new').toString('base64'), secret: false, task: 't', reason: 'r' },
});
const restart = (id: string, service: string): PlanStep => ({ id, change: { kind: 'service', service, action: 'restart', init: 'sysv', task: 't', reason: 'h' } });
const wait = (id: string, rollback?: false | { argv: string[] }): PlanStep => ({
  id, change: {
    kind: 'wait', argv: ['check-new'], timeoutSeconds: 60, intervalSeconds: 1, description: 'new is up', task: 't', reason: 'w',
    ...(rollback === undefined ? {} : { rollback: rollback === false ? false : { ...rollback, timeoutSeconds: 30, intervalSeconds: 1, description: 'old is up' } }),
  },
});

/** master m in play 0; workers w1..w3 in play 1, one per batch; every step done. */
function clusterRun(withBatches: boolean): LoadedRun {
  const masterSteps = [write('0.0', '/etc/apiserver'), restart('0.1', 'kube-apiserver'), wait('0.2', { argv: ['check-old'] })];
  const workerSteps = [write('1.0', '/etc/kubelet'), restart('1.1', 'kubelet'), wait('1.2')];
  const hosts: HostPlan[] = [
    { host: 'm', address: 'm', plays: [{ play: 0, steps: masterSteps, tasks: [] }, { play: 1, steps: [], tasks: [] }] },
    ...['w1', 'w2', 'w3'].map((w) => ({ host: w, address: w, plays: [{ play: 0, steps: [], tasks: [] }, { play: 1, steps: workerSteps, tasks: [] }] })),
  ];
  const events: JournalEvent[] = [];
  const batch = (play: number, batchIndex: number, hs: string[], steps: PlanStep[]): void => {
    if (withBatches) events.push({ t: 'batch', phase: 'start', play, batch: batchIndex, hosts: hs, at: '' });
    for (const h of hs) {
      events.push({ t: 'intent', host: h, play, steps: steps.map((s) => s.id), at: '' });
      for (const s of steps) events.push({ t: 'step', host: h, id: s.id, status: 'done' });
    }
    if (withBatches) events.push({ t: 'batch', phase: 'end', play, batch: batchIndex, hosts: hs, at: '' });
  };
  batch(0, 0, ['m'], masterSteps);
  batch(1, 0, ['w1'], workerSteps);
  batch(1, 1, ['w2'], workerSteps);
  batch(1, 2, ['w3'], workerSteps);
  return {
    dir: '/nowhere', events,
    meta: { id: 'R1', kind: 'apply', playbook: 'pb.ts', startedAt: '', status: 'ok', hosts: ['m', 'w1', 'w2', 'w3'], pid: 1 },
    plan: {
      format: 'rig-plan/1', createdAt: '', playbook: { path: 'pb.ts', name: 'pb', sha256: '' }, inventory: ['inv'],
      plays: [
        { index: 0, name: 'master', hosts: 'masters', hostNames: ['m'], batches: [['m']], maxFailPercentage: 0 },
        { index: 1, name: 'workers', hosts: 'workers', hostNames: ['w1', 'w2', 'w3'], batches: [['w1'], ['w2'], ['w3']], maxFailPercentage: 0 },
      ],
      hosts,
    },
    preImage: () => Buffer.from('old'),
  };
}

const facts = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { '/etc/apiserver': fileState('new'), '/etc/kubelet': fileState('new') } });

function rollbackPlan(run: LoadedRun, serial?: Parameters<typeof rollbackPlays>[3]) {
  const order = rollbackOrder(run);
  const hostPlans = ['m', 'w1', 'w2', 'w3'].map((h) => invertRunForHost(run, h, h, facts, false, { groups: order.groups, waits: order.waits }).plan);
  return { order, hostPlans, plays: rollbackPlays(run, order, hostPlans, serial) };
}

test('rollback undoes the plays in reverse, each in the run\'s batches last first, waits after the restarts', (t) => {
  const { order, hostPlans, plays } = rollbackPlan(clusterRun(true));
  t.is(order.note, undefined);
  t.deepEqual(plays.map((p) => p.batches), [[['w3'], ['w2'], ['w1']], [['m']]]);
  t.deepEqual(plays.map((p) => p.name), ['rollback of "workers"', 'rollback of "master"']);
  const m = hostPlans[0]!;
  t.deepEqual(m.plays[0]!.steps, [], 'the master has nothing in the workers\' rollback play');
  t.deepEqual(m.plays[1]!.steps.map((s) => [s.id, s.change.kind]), [['1.0', 'write-file'], ['1.1', 'service'], ['1.2', 'wait']]);
  // the wait's own rollback check replaces the apply's
  const mw = m.plays[1]!.steps[2]!.change;
  t.true(mw.kind === 'wait' && mw.argv[0] === 'check-old' && mw.timeoutSeconds === 30);
  const w = hostPlans[1]!;
  t.deepEqual(w.plays[0]!.steps.map((s) => s.change.kind), ['write-file', 'service', 'wait']);
  const ww = w.plays[0]!.steps[2]!.change;
  t.true(ww.kind === 'wait' && ww.argv[0] === 'check-new', 'no rollback check: the same one as the apply');
});

test('--serial overrides the batches, in the order the run\'s batches are undone', (t) => {
  t.deepEqual(rollbackPlan(clusterRun(true), 2).plays.map((p) => p.batches), [[['w3', 'w2'], ['w1']], [['m']]]);
  t.deepEqual(rollbackPlan(clusterRun(true), '100%').plays.map((p) => p.batches), [[['w3', 'w2', 'w1']], [['m']]]);
});

test('a journal without batch records rolls back every host at once, without waits, and says so', (t) => {
  const { order, hostPlans, plays } = rollbackPlan(clusterRun(false));
  t.regex(order.note ?? '', /does not record the order[^]*at once/);
  t.deepEqual(plays.map((p) => p.batches), [[['m', 'w1', 'w2', 'w3']]]);
  t.deepEqual(hostPlans[0]!.plays[0]!.steps.map((s) => s.change.kind), ['write-file', 'service']);
});

test('a wait with rollback: false is not re-run', (t) => {
  const run = clusterRun(true);
  const steps = [write('1.0', '/etc/kubelet'), restart('1.1', 'kubelet'), wait('1.2', false)];
  const patched: LoadedRun = { ...run, plan: { ...run.plan, hosts: run.plan.hosts.map((h) => (h.host === 'w1' ? { ...h, plays: [h.plays[0]!, { play: 1, steps, tasks: [] }] } : h)) } };
  const inv = invertRunForHost(patched, 'w1', 'w1', facts, false, { groups: rollbackOrder(patched).groups, waits: true });
  t.deepEqual(inv.plan.plays[0]!.steps.map((s) => s.change.kind), ['write-file', 'service']);
});

test('--serial is parsed like a play\'s serial; anything else is a usage error', (t) => {
  t.is(parseSerialOption('1'), 1);
  t.is(parseSerialOption('50%'), '50%');
  t.deepEqual(parseSerialOption('1,2,50%'), [1, 2, '50%']);
  for (const bad of ['0', '', 'x', '-1', '1,,2', '2 hosts']) t.throws(() => parseSerialOption(bad), { code: 'USAGE' } as never, bad);
});

test('a rollback attempt that restored a host and stopped before its restarts leaves them pending for the next one', (t) => {
  const run = clusterRun(true);
  const order = rollbackOrder(run);
  const hostPlans = ['m', 'w1', 'w2', 'w3'].map((h) => invertRunForHost(run, h, h, facts, false, { groups: order.groups, waits: order.waits }).plan);
  const attempt = (id: string, startedAt: string, host: string, doneKinds: string[]): LoadedRun => {
    const hp = hostPlans.find((h) => h.host === host)!;
    const steps = hp.plays[0]!.steps;
    return {
      ...run, dir: '/nowhere', preImage: () => undefined,
      meta: { ...run.meta, id, kind: 'rollback', rollbackOf: 'R1', startedAt },
      plan: { ...run.plan, plays: rollbackPlays(run, order, hostPlans), hosts: hostPlans },
      events: [
        { t: 'intent', host, play: 0, steps: steps.map((s) => s.id), at: '' },
        ...steps.filter((s) => doneKinds.includes(s.change.kind)).map((s) => ({ t: 'step' as const, host, id: s.id, status: 'done' as const })),
      ],
    };
  };
  const restoredOnly = attempt('A', '1', 'w2', ['write-file']);
  t.deepEqual([...pendingServicePlays([restoredOnly], 'w2')], [1], 'the workers\' play: its restart is owed');
  t.deepEqual([...pendingServicePlays([restoredOnly], 'w1')], [], 'a host the attempt never reached owes nothing');
  t.deepEqual([...pendingServicePlays([restoredOnly, attempt('B', '2', 'w2', ['write-file', 'service', 'wait'])], 'w2')], [], 'a later attempt did it');
  // With nothing left to restore, the owed restart and wait are planned anyway.
  const back = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { '/etc/kubelet': fileState('old') } });
  const without = invertRunForHost(run, 'w2', 'w2', back, false, { groups: order.groups, waits: true });
  t.deepEqual(without.plan.plays[0]!.steps, []);
  const owed = invertRunForHost(run, 'w2', 'w2', back, false, { groups: order.groups, waits: true, pendingServices: new Set([1]) });
  t.deepEqual(owed.plan.plays[0]!.steps.map((s) => s.change.kind), ['service', 'wait']);
});
