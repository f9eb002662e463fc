import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore, type RunKind } from '../../src/changelog/journal-store.ts';
import { hostsLeftToRollBack, pickRollbackTarget } from '../../src/changelog/rollback-target.ts';
import type { Plan } from '../../src/engine/plan-types.ts';

const plan = (hosts: string[]): Plan => ({
  format: 'rig-plan/1', createdAt: '', playbook: { path: 'pb.ts', name: 'pb', sha256: '' }, inventory: ['inv'],
  plays: [{ index: 0, name: 'p', hosts: 'all', hostNames: hosts, batches: [hosts], maxFailPercentage: 0 }],
  hosts: hosts.map((host) => ({
    host, address: '10.0.0.1',
    plays: [{ play: 0, steps: [{ id: '0.0', change: { kind: 'remove-path', path: '/x', before: { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: 'a' }, secret: false, task: 't', reason: 'r' } }], tasks: [] }],
  })),
});

function record(store: JournalStore, id: string, kind: RunKind, recap: Record<string, { failed?: number; unreachable?: boolean; notRun?: string }>, o: { rollbackOf?: string; intent?: boolean } = {}): void {
  const hosts = Object.keys(recap);
  const j = store.create({ id, kind, playbook: 'pb.ts', hosts, ...(o.rollbackOf ? { rollbackOf: o.rollbackOf } : {}) });
  j.begin(plan(hosts));
  if (o.intent !== false) for (const h of hosts) j.append({ t: 'intent', host: h, play: 0, steps: ['0.0'], at: '' });
  j.writeMeta({
    ...j.meta, status: 'ok', finishedAt: 'x',
    recap: Object.fromEntries(hosts.map((h) => [h, { ok: 0, changed: 1, failed: recap[h]!.failed ?? 0, skipped: 0, unreachable: recap[h]!.unreachable ?? false, ...(recap[h]!.notRun ? { notRun: recap[h]!.notRun } : {}) }])),
  });
}

test('no id picks the newest apply that changed something and is not fully rolled back, never a rollback attempt', (t) => {
  const store = new JournalStore(mkdtempSync(join(tmpdir(), 'rig-target-')));
  record(store, '20260101T000000Z-0001', 'apply', { a: {}, b: {} });
  record(store, '20260101T000001Z-0002', 'apply', { a: {} });
  record(store, '20260101T000002Z-0003', 'apply', { a: {} }, { intent: false }); // changed nothing
  t.is(pickRollbackTarget(store).meta.id, '20260101T000001Z-0002');
  record(store, '20260101T000003Z-0004', 'rollback', { a: {} }, { rollbackOf: '20260101T000001Z-0002' });
  // A partial rollback (b unreachable) leaves the older run the target, with only b left.
  record(store, '20260101T000004Z-0005', 'rollback', { a: {}, b: { unreachable: true } }, { rollbackOf: '20260101T000000Z-0001' });
  // A failed rollback attempt is never the target.
  record(store, '20260101T000005Z-0006', 'rollback', { a: { failed: 1 } }, { rollbackOf: '20260101T000000Z-0001' });
  const target = pickRollbackTarget(store);
  t.is(target.meta.id, '20260101T000000Z-0001');
  t.deepEqual(hostsLeftToRollBack(store.listRuns(), target), ['b']);
  // Rolling back the rollback makes its run a target again.
  record(store, '20260101T000006Z-0007', 'rollback', { a: {} }, { rollbackOf: '20260101T000003Z-0004' });
  t.is(pickRollbackTarget(store).meta.id, '20260101T000001Z-0002');
  record(store, '20260101T000007Z-0008', 'rollback', { a: {} }, { rollbackOf: '20260101T000001Z-0002' });
  record(store, '20260101T000008Z-0009', 'rollback', { b: {} }, { rollbackOf: '20260101T000000Z-0001' });
  t.throws(() => pickRollbackTarget(store), { message: /no apply .* is left to roll back/ });
});

test('a rollback that stopped at a failed batch before reaching a host has not rolled that host back', (t) => {
  const store = new JournalStore(mkdtempSync(join(tmpdir(), 'rig-target-')));
  record(store, '20260101T000000Z-0001', 'apply', { a: {}, b: {}, c: {} });
  record(store, '20260101T000001Z-0002', 'rollback', { a: {}, b: { failed: 1 }, c: { notRun: 'not run: the run stopped when batch 2 of play 1 failed' } }, { rollbackOf: '20260101T000000Z-0001' });
  const target = pickRollbackTarget(store);
  t.is(target.meta.id, '20260101T000000Z-0001');
  t.deepEqual(hostsLeftToRollBack(store.listRuns(), target), ['b', 'c']);
});
