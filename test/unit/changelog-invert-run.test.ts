import test from 'ava';
import { createHash } from 'node:crypto';
import type { FileState } from '../../src/core/file-state.ts';
import { invertRunForHost, rollbackFactRequests } from '../../src/changelog/invert-run.ts';
import type { JournalEvent, LoadedRun } from '../../src/changelog/journal-store.ts';
import type { PlanStep } from '../../src/engine/plan-types.ts';
import { signFileState } from '../../src/engine/file-signature.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const fileState = (c: string, mode = '0644'): FileState => ({ exists: true, type: 'file', mode, owner: 'root', group: 'root', sha256: sha(c) });

function write(id: string, path: string, before: FileState, after: string, secret = false): PlanStep {
  return { id, change: { kind: 'write-file', path, before, after: fileState(after, secret ? '0600' : '0644'), content: Buffer.from(after).toString('base64'), secret, task: 't', reason: 'r' } };
}

function runOf(steps: PlanStep[], events: JournalEvent[], pre: Record<string, string>): LoadedRun {
  return {
    dir: '/nowhere', events,
    meta: { id: 'R1', kind: 'apply', playbook: 'pb.ts', startedAt: '', status: 'ok', hosts: ['h'], pid: 1 },
    plan: {
      format: 'rig-plan/1', createdAt: '', playbook: { path: 'pb.ts', name: 'pb', sha256: '' }, inventory: ['inv'],
      plays: [{ index: 0, name: 'p', hosts: 'all', hostNames: ['h'], batches: [['h']], maxFailPercentage: 0 }],
      hosts: [{ host: 'h', address: '10.0.0.1', plays: [{ play: 0, steps, tasks: [] }] }],
    },
    preImage: (_h, id) => (pre[id] === undefined ? undefined : Buffer.from(pre[id]!)),
  };
}

const facts = (files: Record<string, FileState & { readonly content?: Buffer }>) => new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files });

test('inverse restores the original content of a file edited twice, removes a created file, re-runs the handler', (t) => {
  const steps: PlanStep[] = [
    write('0.0', '/etc/a', fileState('v0'), 'v1'),
    write('0.1', '/etc/a', fileState('v1'), 'v2'),
    write('0.2', '/etc/new.key', { exists: false }, 'KEY', true),
    { id: '0.3', change: { kind: 'service', service: 'kubelet', action: 'restart', init: 'sysv', task: 't', reason: 'h' } },
  ];
  const events: JournalEvent[] = [
    { t: 'intent', host: 'h', play: 0, steps: steps.map((s) => s.id), at: '' },
    ...steps.map((s) => ({ t: 'step' as const, host: 'h', id: s.id, status: 'done' as const })),
  ];
  const run = runOf(steps, events, { '0.0': 'v0', '0.1': 'v1' });
  t.deepEqual(rollbackFactRequests(run, 'h').map((r) => r.kind === 'file' && r.path), ['/etc/a', '/etc/a', '/etc/new.key']);
  const inv = invertRunForHost(run, 'h', '10.0.0.1', facts({ '/etc/a': fileState('v2'), '/etc/new.key': fileState('KEY', '0600') }), false);
  t.deepEqual(inv.conflicts, []);
  const changes = inv.plan.plays[0]!.steps.map((s) => s.change);
  t.deepEqual(changes.map((c) => c.kind), ['remove-path', 'write-file', 'service']);
  const restore = changes[1] as Extract<typeof changes[number], { kind: 'write-file' }>;
  t.is(Buffer.from(restore.content, 'base64').toString(), 'v0');
  t.is(restore.after.sha256, sha('v0'));
  t.is(signFileState(restore.before), signFileState(fileState('v2')), 'before = current state, so apply checks drift');
  t.true((changes[0] as { secret: boolean }).secret);
});

test('a file changed since the run is a conflict unless forced; a file already back is left alone', (t) => {
  const steps = [write('0.0', '/etc/a', fileState('v0'), 'v1'), write('0.1', '/etc/b', fileState('b0'), 'b1')];
  const events: JournalEvent[] = [{ t: 'intent', host: 'h', play: 0, steps: ['0.0', '0.1'], at: '' }, { t: 'step', host: 'h', id: '0.0', status: 'done' }, { t: 'step', host: 'h', id: '0.1', status: 'done' }];
  const run = runOf(steps, events, { '0.0': 'v0', '0.1': 'b0' });
  const current = facts({ '/etc/a': fileState('edited by hand'), '/etc/b': fileState('b0') });
  const refused = invertRunForHost(run, 'h', 'x', current, false);
  t.is(refused.conflicts.length, 1);
  t.regex(refused.conflicts[0]!, /\/etc\/a \(now file 0644 root:root/);
  t.deepEqual(refused.unchanged, ['/etc/b']);
  const forced = invertRunForHost(run, 'h', 'x', current, true);
  t.deepEqual(forced.conflicts, []);
  t.is(forced.plan.plays[0]!.steps.length, 1);
});

test('an interrupted run (intent, no done) is rolled back from the host state; a play stopped by drift is ignored', (t) => {
  const steps = [write('0.0', '/etc/a', fileState('v0'), 'v1'), write('0.1', '/etc/b', fileState('b0'), 'b1')];
  const run = runOf(steps, [{ t: 'intent', host: 'h', play: 0, steps: ['0.0', '0.1'], at: '' }], { '0.0': 'v0', '0.1': 'b0' });
  // Connection cut after the first write: a is new, b untouched.
  const inv = invertRunForHost(run, 'h', 'x', facts({ '/etc/a': fileState('v1'), '/etc/b': fileState('b0') }), false);
  t.deepEqual(inv.plan.plays[0]!.steps.map((s) => (s.change as { path: string }).path), ['/etc/a']);
  const drifted = runOf(steps, [{ t: 'intent', host: 'h', play: 0, steps: ['0.0', '0.1'], at: '' }, { t: 'host-end', host: 'h', play: 0, status: 'drift' }], {});
  t.deepEqual(rollbackFactRequests(drifted, 'h'), []);
});

test('a run stopped after its first write to a path rolls back without --force (any step\'s state is the run\'s own)', (t) => {
  const steps: PlanStep[] = [write('0.0', '/etc/a', fileState('v0'), 'v1'), write('0.1', '/etc/a', fileState('v1'), 'v2')];
  // Controller killed: the intent is journaled, no step event.
  const run = runOf(steps, [{ t: 'intent', host: 'h', play: 0, steps: ['0.0', '0.1'], at: '' }], { '0.0': 'v0', '0.1': 'v1' });
  const inv = invertRunForHost(run, 'h', '10.0.0.1', facts({ '/etc/a': { ...fileState('v1'), content: Buffer.from('v1') } }), false);
  t.deepEqual(inv.conflicts, []);
  const c = inv.plan.plays[0]!.steps[0]!;
  t.is(c.change.kind, 'write-file');
  t.is(Buffer.from((c.change as { content: string }).content, 'base64').toString(), 'v0');
  t.is(Buffer.from(c.preImage!, 'base64').toString(), 'v1', 'the rollback journals its own pre-image');
  const other = invertRunForHost(run, 'h', '10.0.0.1', facts({ '/etc/a': fileState('someone else') }), false);
  t.is(other.conflicts.length, 1, 'a state no step produced is still refused');
});

test('without a controller pre-image (file above the cap) the host pre-image is restored, checked against the journaled hash', (t) => {
  const big = fileState('big original', '0640');
  const steps: PlanStep[] = [{ id: '0.0', change: { kind: 'remove-path', path: '/srv/big', before: big, secret: false, task: 't', reason: 'r' } }];
  const run = runOf(steps, [{ t: 'intent', host: 'h', play: 0, steps: ['0.0'], at: '' }, { t: 'step', host: 'h', id: '0.0', status: 'done', after: 'absent' }], {});
  const inv = invertRunForHost(run, 'h', '10.0.0.1', facts({ '/srv/big': { exists: false } }), false);
  t.deepEqual(inv.conflicts, []);
  const c = inv.plan.plays[0]!.steps[0]!.change;
  t.like(c, { kind: 'restore-preimage', path: '/srv/big', fromRun: 'R1', fromStep: '0.0', after: { sha256: big.sha256, mode: '0640' } });
});

test('a directory removed by the run is recreated before what was in it', (t) => {
  const dir: FileState = { exists: true, type: 'directory', mode: '0750', owner: 'daemon', group: 'adm' };
  const steps: PlanStep[] = [
    { id: '0.0', change: { kind: 'remove-path', path: '/srv/t/f', before: fileState('f'), secret: false, task: 't', reason: 'r' } },
    { id: '0.1', change: { kind: 'remove-path', path: '/srv/t', before: dir, secret: false, task: 't', reason: 'r' } },
  ];
  const run = runOf(steps, [{ t: 'intent', host: 'h', play: 0, steps: ['0.0', '0.1'], at: '' }], { '0.0': 'f' });
  const inv = invertRunForHost(run, 'h', '10.0.0.1', facts({ '/srv/t/f': { exists: false }, '/srv/t': { exists: false } }), false);
  t.deepEqual(inv.plan.plays[0]!.steps.map((s) => [s.change.kind, (s.change as { path: string }).path]), [['ensure-directory', '/srv/t'], ['write-file', '/srv/t/f']]);
  t.like(inv.plan.plays[0]!.steps[0]!.change, { after: { mode: '0750', owner: 'daemon', group: 'adm' } });
});

// Rollback of set-capability steps: the original set back (none included), in any getcap form; a set changed since
// the run is a conflict unless forced.
const BIN = '/opt/kong/sbin/nginx';
const cap = (id: string, beforeCaps: string, afterCaps: string): PlanStep => ({ id, change: { kind: 'set-capability', path: BIN, beforeCaps, afterCaps, task: 't', reason: 'r' } });

const runOfCaps = (steps: PlanStep[]): LoadedRun => runOf(steps, [
  { t: 'intent', host: 'h', play: 0, steps: steps.map((s) => s.id), at: '' },
  ...steps.map((s) => ({ t: 'step' as const, host: 'h', id: s.id, status: 'done' as const })),
], {});
const capFacts = (caps: string): MemoryHostFacts => new MemoryHostFacts({ os: DEBIAN_SYSV_OS, capabilities: { [BIN]: caps } });
const changesOf = (r: ReturnType<typeof invertRunForHost>) => r.plan.plays[0]!.steps.map((s) => s.change);

test('rollback restores the set before the run (none), whatever form getcap prints now', (t) => {
  const run = runOfCaps([cap('0.0', '', 'cap_net_bind_service=ep')]);
  t.deepEqual(rollbackFactRequests(run, 'h'), [{ kind: 'capability', path: BIN }]);
  for (const now of ['cap_net_bind_service=ep', ' = cap_net_bind_service+ep']) {
    const r = invertRunForHost(run, 'h', '10.0.0.1', capFacts(now), false);
    t.deepEqual(r.conflicts, []);
    t.like(changesOf(r)[0], { kind: 'set-capability', path: BIN, beforeCaps: 'cap_net_bind_service=ep', afterCaps: '', reason: 'restore capabilities: removes cap_net_bind_service=ep' });
  }
});

test('a path already back is left alone (no setcap -r of a file without capabilities); two steps restore the first before', (t) => {
  const back = invertRunForHost(runOfCaps([cap('0.0', '', 'cap_net_bind_service=ep')]), 'h', '10.0.0.1', capFacts(''), false);
  t.deepEqual(changesOf(back), []);
  t.deepEqual(back.unchanged, [BIN]);
  const two = invertRunForHost(runOfCaps([cap('0.0', 'cap_chown=p', 'cap_chown=p cap_net_raw=p'), cap('0.1', 'cap_chown=p cap_net_raw=p', 'cap_chown,cap_net_raw=p')]), 'h', '10.0.0.1', capFacts('cap_chown,cap_net_raw=p'), false);
  t.like(changesOf(two), [{ beforeCaps: 'cap_chown,cap_net_raw=p', afterCaps: 'cap_chown=p' }]);
  t.is(changesOf(two).length, 1);
});

test('capabilities changed since the run are a conflict unless --force', (t) => {
  const run = runOfCaps([cap('0.0', '', 'cap_net_bind_service=ep')]);
  const r = invertRunForHost(run, 'h', '10.0.0.1', capFacts('cap_net_admin=ep'), false);
  t.deepEqual(changesOf(r), []);
  t.deepEqual(r.conflicts, [`${BIN} (capabilities now cap_net_admin=ep, the run left cap_net_bind_service=ep)`]);
  const forced = invertRunForHost(run, 'h', '10.0.0.1', capFacts('cap_net_admin=ep'), true);
  t.like(changesOf(forced), [{ beforeCaps: 'cap_net_admin=ep', afterCaps: '' }]);
});
