import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore } from '../../src/changelog/journal-store.ts';

test('listRuns: runs in the order they started, also within one second (ids order such runs by their random suffix)', (t) => {
  const state = mkdtempSync(join(tmpdir(), 'rig-order-'));
  // An apply and the rollback that a script ran right after it, in the same second; the rollback's suffix sorts first.
  const runs = [
    { id: '20261207T013114Z-a78f', kind: 'apply', startedAt: '2026-12-07T01:31:14.120Z' },
    { id: '20261207T013114Z-6b50', kind: 'rollback', startedAt: '2026-12-07T01:31:14.870Z' },
    { id: '20261207T013113Z-ffff', kind: 'apply', startedAt: '2026-12-07T01:31:13.999Z' },
  ];
  for (const r of runs) {
    mkdirSync(join(state, 'runs', r.id), { recursive: true });
    writeFileSync(join(state, 'runs', r.id, 'run.json'), JSON.stringify({ ...r, status: 'ok', pid: 1, controller: 'c' }));
  }
  t.deepEqual(new JournalStore(state).listRuns().map((r) => r.id),
    ['20261207T013113Z-ffff', '20261207T013114Z-a78f', '20261207T013114Z-6b50']);
});
