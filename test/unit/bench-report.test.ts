/**
 * The bench's report (bench/bench-report.ts, issue 21): a run that failed is recorded with its error and the other
 * cells still come out; both floors and their ratios; the load; each sitting goes on top of the earlier ones, and a
 * results file from before sittings keeps its text below the new header.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attempt, renderSitting, SITTINGS_MARKER, writeSitting, type ScalingPoint, type SizeResult } from '../../bench/bench-report.ts';

const work = mkdtempSync(join(tmpdir(), 'rig-bench-report-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function sizeResult(): SizeResult {
  return {
    n: 50, rig: { changing: [5000, 5200, 5100], converged: [1500, 1600, 1550], rssKb: [150_000] }, ansible: { changing: [300_000], converged: [200_000] },
    mitogen: { changing: [], converged: [] }, mitogenNote: '', floor: [1000, 1100, 1050], floorDefaultKex: [2500, 2600, 2550], restartFloor: [3000, 3200, 3100],
    roundTrips: { changing: 2, converged: 2 }, failures: [], load: [1.2, 0.8],
    cpu: { rig: { client: [1000, 900, 1100], hosts: [2000, 2200, 2100] }, floor: { client: [500, 400, 450], hosts: [1500, 1400, 1600] } },
  };
}

test('a failing run is recorded with its error; the bench goes on with the result undefined', async (t) => {
  const failures: string[] = [];
  const ok = await attempt(failures, 'N=50 round 1 rig changing', async () => 42);
  const failed = await attempt(failures, 'N=50 round 2 mitogen converged', async () => { throw new Error('ansible-playbook (mitogen) failed (4): fatal: [worker7]: UNREACHABLE!\n  timed out'); });
  t.is(ok, 42);
  t.is(failed, undefined);
  t.deepEqual(failures, ['N=50 round 2 mitogen converged: ansible-playbook (mitogen) failed (4): fatal: [worker7]: UNREACHABLE! timed out']);
});

test('one sitting: both floors with rig over each, the load, the failures and the scaling line', (t) => {
  const r = sizeResult();
  r.failures.push('N=50 round 2 mitogen converged: timed out');
  r.mitogenNote = 'does not work here: x';
  const scaling: ScalingPoint[] = [
    { n: 200, fleets: 1, ms: [8000, 8200, 8100], rssKb: [200_000, 210_000], failures: [], load: [1, 1.5] },
    { n: 1000, fleets: 5, ms: [], rssKb: [], failures: ['scaling N=1000: host f191-worker7 did not come up'], load: [] },
  ];
  const text = renderSitting({ argv: ['50', '--runs', '3'] }, { at: new Date('2026-12-07T03:00:00Z'), load: '0.50 0.40 0.30' }, [r], scaling);
  t.regex(text, /^## Sitting 2026-12-07 03:00 UTC — commit \S+/);
  t.regex(text, /Command: `npm run bench -- 50 --runs 3`/);
  t.regex(text, /Load average \(1, 5, 15 min\) at the start: 0\.50 0\.40 0\.30/);
  t.regex(text, /KexAlgorithms=curve25519-sha256/);
  t.true(text.includes('| 50 | converged | 1550 ms (1500 ms–1600 ms) | 200.0 s (200.0 s–200.0 s) | not measured | 1050 ms (1000 ms–1100 ms) | 2550 ms (2500 ms–2600 ms) | 129.0× | – | 1.48 | 0.61 | 0.8–1.2 |'), text);
  t.true(text.includes('| 200 | 1 | 8100 ms | 3 | 40.5 ms | 205 MB | 1.0–1.5 |'), text);
  t.true(text.includes('| 1000 | 5 | failed | 0 | – | ? | ? |'), text);
  t.regex(text, /Failed runs \(recorded; the bench went on\):\n\n- N=50 round 2 mitogen converged: timed out\n- scaling N=1000: host f191-worker7 did not come up/);
  t.regex(text, /Ansible with mitogen at N=50: does not work here: x/);
  t.true(text.includes('| 50 | 3100 ms (3000 ms–3200 ms) | 1.65 | 96.77 | – |'), text);
  // where the CPU goes: medians of the controller's and the hosts' side, the total over the floor's total
  t.true(text.includes('| 50 | floor, curve25519 | 450 ms | 1500 ms | 1950 ms | 1.00 |'), text);
  t.true(text.includes('| 50 | rig converged | 1000 ms | 2100 ms | 3100 ms | 1.59 |'), text);
});

test('sittings go on top of the earlier ones; a file from before sittings keeps its text under the header', (t) => {
  const file = join(work, 'RESULTS.md');
  writeFileSync(file, '# Benchmark results: old\n\nRun B table\n');
  const started = { at: new Date('2026-12-07T03:00:00Z'), load: '1 1 1' };
  writeSitting(file, renderSitting({ argv: ['50'] }, started, [sizeResult()], []), readFileSync(file, 'utf8'));
  const first = readFileSync(file, 'utf8');
  t.true(first.includes(SITTINGS_MARKER));
  t.true(first.indexOf('## Sitting') > first.indexOf(SITTINGS_MARKER));
  t.regex(first, /## Earlier results\n\nRun B table\n$/);
  const later = { at: new Date('2026-12-08T04:00:00Z'), load: '2 2 2' };
  writeSitting(file, renderSitting({ argv: ['10'] }, later, [sizeResult()], []), first);
  const second = readFileSync(file, 'utf8');
  t.is(second.match(/^## Sitting /gm)?.length, 2);
  t.true(second.indexOf('## Sitting 2026-12-08 04:00') < second.indexOf('## Sitting 2026-12-07 03:00'), 'the newest first');
  t.regex(second, /## Earlier results\n\nRun B table\n$/);
});
