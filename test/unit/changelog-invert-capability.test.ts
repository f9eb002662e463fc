/** Rollback of set-capability steps: the original set back (none included), in any getcap form; a set changed since is a conflict unless forced. */
import test from 'ava';
import { invertRunForHost, rollbackFactRequests } from '../../src/changelog/invert-run.ts';
import type { JournalEvent, LoadedRun } from '../../src/changelog/journal-store.ts';
import type { PlanStep } from '../../src/engine/plan-types.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';

const BIN = '/opt/kong/sbin/nginx';
const cap = (id: string, beforeCaps: string, afterCaps: string): PlanStep => ({ id, change: { kind: 'set-capability', path: BIN, beforeCaps, afterCaps, task: 't', reason: 'r' } });

function runOf(steps: PlanStep[]): LoadedRun {
  const events: JournalEvent[] = [
    { t: 'intent', host: 'h', play: 0, steps: steps.map((s) => s.id), at: '' },
    ...steps.map((s) => ({ t: 'step' as const, host: 'h', id: s.id, status: 'done' as const })),
  ];
  return {
    dir: '/nowhere', events,
    meta: { id: 'R1', kind: 'apply', playbook: 'pb.ts', startedAt: '', status: 'ok', hosts: ['h'], pid: 1 },
    plan: {
      format: 'rig-plan/1', createdAt: '', playbook: { path: 'pb.ts', name: 'pb', sha256: '' }, inventory: ['inv'],
      plays: [{ index: 0, name: 'p', hosts: 'all', hostNames: ['h'], batches: [['h']], maxFailPercentage: 0 }],
      hosts: [{ host: 'h', address: '10.0.0.1', plays: [{ play: 0, steps, tasks: [] }] }],
    },
    preImage: () => undefined,
  };
}
const facts = (caps: string) => new MemoryHostFacts({ os: DEBIAN_SYSV_OS, capabilities: { [BIN]: caps } });
const changesOf = (r: ReturnType<typeof invertRunForHost>) => r.plan.plays[0]!.steps.map((s) => s.change);

test('rollback restores the set before the run (none), whatever form getcap prints now', (t) => {
  const run = runOf([cap('0.0', '', 'cap_net_bind_service=ep')]);
  t.deepEqual(rollbackFactRequests(run, 'h'), [{ kind: 'capability', path: BIN }]);
  for (const now of ['cap_net_bind_service=ep', ' = cap_net_bind_service+ep']) {
    const r = invertRunForHost(run, 'h', '10.0.0.1', facts(now), false);
    t.deepEqual(r.conflicts, []);
    t.like(changesOf(r)[0], { kind: 'set-capability', path: BIN, beforeCaps: 'cap_net_bind_service=ep', afterCaps: '', reason: 'restore capabilities: removes cap_net_bind_service=ep' });
  }
});

test('a path already back is left alone (no setcap -r of a file without capabilities); two steps restore the first before', (t) => {
  const back = invertRunForHost(runOf([cap('0.0', '', 'cap_net_bind_service=ep')]), 'h', '10.0.0.1', facts(''), false);
  t.deepEqual(changesOf(back), []);
  t.deepEqual(back.unchanged, [BIN]);
  const two = invertRunForHost(runOf([cap('0.0', 'cap_chown=p', 'cap_chown=p cap_net_raw=p'), cap('0.1', 'cap_chown=p cap_net_raw=p', 'cap_chown,cap_net_raw=p')]), 'h', '10.0.0.1', facts('cap_chown,cap_net_raw=p'), false);
  t.like(changesOf(two), [{ beforeCaps: 'cap_chown,cap_net_raw=p', afterCaps: 'cap_chown=p' }]);
  t.is(changesOf(two).length, 1);
});

test('capabilities changed since the run are a conflict unless --force', (t) => {
  const run = runOf([cap('0.0', '', 'cap_net_bind_service=ep')]);
  const r = invertRunForHost(run, 'h', '10.0.0.1', facts('cap_net_admin=ep'), false);
  t.deepEqual(changesOf(r), []);
  t.deepEqual(r.conflicts, [`${BIN} (capabilities now cap_net_admin=ep, the run left cap_net_bind_service=ep)`]);
  const forced = invertRunForHost(run, 'h', '10.0.0.1', facts('cap_net_admin=ep'), true);
  t.like(changesOf(forced), [{ beforeCaps: 'cap_net_admin=ep', afterCaps: '' }]);
});
