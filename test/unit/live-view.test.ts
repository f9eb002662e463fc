/**
 * The live view's model and terminal writer (src/cli/live-view-model.ts, live-view.ts), fed with run events as the
 * engine emits them: each host's row shows its real state, a failed host is never ✔, hosts that never ran say why,
 * rows left open are never drawn as done, and the terminal output redraws only the live area.
 */
import test from 'ava';
import { PassThrough } from 'node:stream';
import { LiveViewModel, type ViewBlock } from '../../src/cli/live-view-model.ts';
import { LiveView, truncate } from '../../src/cli/live-view.ts';
import { RigError } from '../../src/errors.ts';
import type { RunEvent } from '../../src/engine/run-events.ts';
import type { PlanStep } from '../../src/engine/plan-types.ts';
import { secret } from '../../src/core/secret.ts';
import { writeNotice } from '../../src/cli/terminal-notice.ts';

const step = (id: string, path: string): PlanStep => ({
  id, change: { kind: 'write-file', path, task: 't', reason: 'r', before: { exists: false }, after: { mode: '0644', owner: 'root', group: 'root', sha256: 'x', size: 1 }, content: '', secret: false } as unknown as PlanStep['change'],
});
const layout = (batches: string[][], steps = 2): RunEvent => ({
  kind: 'phase', phase: 'apply', hosts: batches.flat(),
  plays: [{ play: 0, name: 'rolling', maxFailPercentage: 0, batches: batches.map((b) => b.map((host) => ({ host, steps, changes: steps }))) }],
});
const text = (blocks: readonly ViewBlock[]): string => blocks.flatMap((b) => b.lines).join('\n');
const rowOf = (screen: string, host: string): string => screen.split('\n').find((l) => new RegExp(`^\\s+\\S ${host}\\b`).test(l)) ?? '';
const run = (events: readonly RunEvent[]): LiveViewModel => { const m = new LiveViewModel(); for (const e of events) m.applyEvent(e); return m; };

const ABORT = { cause: 'aborted' as const, message: 'aborted: 1 of 1 host of play 1 "rolling" batch 2 failed, above maxFailPercentage 0%' };
const failedRun: RunEvent[] = [
  layout([['m'], ['w1'], ['w2']]),
  { kind: 'batch-start', play: 0, playName: 'rolling', batch: 0, hosts: ['m'] },
  { kind: 'host-apply-start', host: 'm', play: 0, steps: 2, changes: 2 },
  { kind: 'step-done', host: 'm', step: step('0.1', '/etc/a') },
  { kind: 'step-done', host: 'm', step: step('0.2', '/etc/b') },
  { kind: 'host-apply-done', host: 'm', play: 0, changed: 2, status: 'ok' },
  { kind: 'batch-start', play: 0, playName: 'rolling', batch: 1, hosts: ['w1'] },
  { kind: 'host-apply-start', host: 'w1', play: 0, steps: 2, changes: 2 },
  { kind: 'step-done', host: 'w1', step: step('0.1', '/etc/a') },
  // The engine reports the script's end first, then the error.
  { kind: 'host-apply-done', host: 'w1', play: 0, changed: 1, status: 'failed' },
  { kind: 'host-failed', host: 'w1', error: new RigError('write-file /etc/b failed (exit 1): disk full', { host: 'w1' }) },
  { kind: 'host-not-run', host: 'w2', play: 0, reason: ABORT },
];

test('a failed host shows failed with its error, never ✔; a host that never ran says not run and why', (t) => {
  const screen = text(run(failedRun).blocks(false, 24));
  t.regex(rowOf(screen, 'm'), /✔ m\s+done: 2 changes$/);
  t.regex(rowOf(screen, 'w1'), /✖ w1\s+failed at step 2\/2, 1 of 2 steps done: \[\w+\] write-file \/etc\/b failed \(exit 1\): disk full$/);
  t.regex(rowOf(screen, 'w2'), /– w2\s+not run: aborted: 1 of 1 host/);
  t.regex(screen, /^apply play 1 "rolling": 3 batches, maxFailPercentage 0%\n {2}batch 1\/3\n/);
});

test('pending and running rows are never final, and stay pending when flushed', (t) => {
  const m = run(failedRun.slice(0, 9));
  const blocks = m.blocks(false, 24);
  const screen = text(blocks);
  t.regex(rowOf(screen, 'w1'), /▸ w1\s+applying 2 changes: 1\/2 steps done \(last: create \/etc\/a/);
  t.regex(rowOf(screen, 'w2'), /· w2\s+pending: 2 changes$/);
  t.deepEqual(blocks.map((b) => b.final), [true, true, false, false]);
  m.closeAll();
  t.regex(rowOf(text(m.blocks(false, 24)), 'w2'), /· w2\s+pending/, 'closing the view does not turn a row done');
});

test('a failure whose error has not arrived yet is not final', (t) => {
  const blocks = run(failedRun.slice(0, 10)).blocks(false, 24);
  t.false(blocks[2]!.final);
  t.regex(rowOf(text(blocks), 'w1'), /✖ w1\s+failed after step 1\/2/);
});

test('gather rows: gathered, unreachable, and a planning failure after the facts came back replaces the ✔', (t) => {
  const m = run([
    { kind: 'phase', phase: 'gather', hosts: ['a', 'b', 'c'] },
    { kind: 'host-gathered', host: 'a', ms: 5 },
    { kind: 'host-gathered', host: 'b', ms: 7 },
    { kind: 'host-unreachable', host: 'c', error: new RigError('connect ETIMEDOUT', { host: 'c' }) },
  ]);
  t.false(m.blocks(false, 24).slice(1).some((b) => b.final), 'gather rows stay open until the phase ends');
  m.applyEvent({ kind: 'host-failed', host: 'b', error: new RigError('bad template', { host: 'b' }) });
  m.closeAll();
  const screen = text(m.blocks(false, 24));
  t.regex(rowOf(screen, 'a'), /✔ a\s+facts gathered \(5 ms\)/);
  t.regex(rowOf(screen, 'b'), /✖ b\s+failed: \[\w+\] bad template/);
  t.regex(rowOf(screen, 'c'), /✖ c\s+unreachable: \[\w+\] connect ETIMEDOUT/);
});

test('interrupted, unreachable mid-play, nothing to change, skipped before the apply, several plays', (t) => {
  const screen = text(run([
    {
      kind: 'phase', phase: 'rollback', hosts: ['a', 'b'],
      plays: [
        { play: 0, name: 'one', maxFailPercentage: 100, batches: [[{ host: 'a', steps: 3, changes: 2 }, { host: 'b', steps: 1, changes: 1 }, { host: 'c', steps: 0, changes: 0 }, { host: 'd', steps: 0, changes: 0, skip: 'unreachable before the apply: timeout' }]] },
        { play: 1, name: 'two', maxFailPercentage: 0, batches: [[{ host: 'a', steps: 1, changes: 1 }]] },
      ],
    },
    { kind: 'host-apply-start', host: 'a', play: 0, steps: 3, changes: 2 },
    { kind: 'host-apply-start', host: 'b', play: 0, steps: 1, changes: 1 },
    { kind: 'step-done', host: 'a', step: step('0.1', '/etc/a') },
    { kind: 'host-apply-done', host: 'a', play: 0, changed: 1, status: 'interrupted' },
    { kind: 'host-apply-done', host: 'b', play: 0, changed: 0, status: 'unreachable' },
    { kind: 'host-unreachable', host: 'b', error: new RigError('no answer to keepalives', { host: 'b' }) },
    { kind: 'host-not-run', host: 'a', play: 1, reason: { cause: 'interrupted', message: 'interrupted: a stop was requested before it started' } },
  ]).blocks(false, 24));
  const [one, two] = screen.split(/^rollback play 2/m);
  t.regex(rowOf(one!, 'a'), /■ a\s+interrupted after step 1\/3 \(1 change made\)/);
  t.regex(rowOf(one!, 'b'), /✖ b\s+unreachable at step 1\/1, 0 of 1 steps done: \[\w+\] no answer to keepalives/);
  t.regex(rowOf(one!, 'c'), /– c\s+nothing to change/);
  t.regex(rowOf(one!, 'd'), /– d\s+not run: unreachable before the apply: timeout/);
  t.regex(rowOf(two!, 'a'), /– a\s+not run: interrupted/);
});

test('rows are masked like every output', (t) => {
  const s = secret('hunter2-live-view');
  const screen = text(run([layout([['a']]), { kind: 'host-apply-start', host: 'a', play: 0, steps: 1, changes: 1 }, { kind: 'host-failed', host: 'a', error: new RigError(`bad ${s.reveal()}`, { host: 'a' }) }]).blocks(false, 24));
  t.notRegex(screen, /hunter2-live-view/);
  t.regex(screen, /\*{8}/);
});

test('the terminal writer: final blocks once, the live area redrawn in place, flush writes the final frame', async (t) => {
  const out = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(out, { columns: 60, rows: 20 });
  let written = '';
  out.on('data', (d: Buffer) => { written += d.toString(); });
  const view = new LiveView({ out, color: false });
  for (const e of failedRun.slice(0, 9)) view.onEvent(e);
  await new Promise((r) => setTimeout(r, 120));
  const first = written;
  t.regex(first, /✔ m\s+done: 2 changes\n/);
  t.regex(first, /▸ w1/);
  // A signal's notice while the view draws: written for good above the live area, which is drawn again below it.
  written = '';
  writeNotice('\nSIGINT: stopping after the steps in flight\n');
  t.true(written.startsWith('\x1b[4F\x1b[J\nSIGINT: stopping after the steps in flight\n'), JSON.stringify(written));
  t.regex(written, /SIGINT[^]*▸ w1[^]*· w2/);
  written = '';
  for (const e of failedRun.slice(9)) view.onEvent(e);
  await view.flush();
  // Back up over the live area only (batch 2 and 3: 2 headers + 2 rows), then the final rows.
  t.true(written.startsWith('\x1b[4F\x1b[J'), JSON.stringify(written.slice(0, 20)));
  t.notRegex(written, /✔ m/, 'final blocks are not written again');
  t.regex(written, /✖ w1/);
  t.regex(written, /– w2/);
  for (const line of first.split('\n')) t.true(line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').length <= 59, line);
  // Flushed: notices go straight to stderr again.
  written = '';
  const write = process.stderr.write;
  let direct = '';
  process.stderr.write = ((s: string) => { direct += s; return true; }) as typeof process.stderr.write;
  try { writeNotice('after\n'); } finally { process.stderr.write = write; }
  t.is(direct, 'after\n');
  t.is(written, '');
  await view.flush();
  t.is(written, '', 'a second flush (the command\'s finally) writes nothing');
});

test('truncate counts visible characters only', (t) => {
  t.is(truncate('abcdef', 4), 'abc…\x1b[0m');
  t.is(truncate('\x1b[31mab\x1b[39m', 2), '\x1b[31mab\x1b[39m');
  t.is(truncate('abc', 3), 'abc');
});

test('a batch note (a gate\'s state) shows on its batch header', (t) => {
  const m = run(failedRun.slice(0, 7));
  m.noteBatch(0, 1, 'gate: waiting for /healthz');
  t.regex(text(m.blocks(false, 24)), /^ {2}batch 2\/3 {2}gate: waiting for \/healthz$/m);
});

test('health gates: a gated row stays open after its apply until its gates end; a failed gate shows on the row and the batch', (t) => {
  const gated: RunEvent = {
    kind: 'phase', phase: 'apply', hosts: ['w1', 'w2'],
    plays: [{ play: 0, name: 'rolling', maxFailPercentage: 0, batches: [[{ host: 'w1', steps: 1, changes: 1, gates: 2 }], [{ host: 'w2', steps: 1, changes: 1, gates: 2 }]] }],
  };
  const result = (host: string, batch: number, name: string, passed: boolean) => ({
    gate: name, name, host, play: 0, batch, phase: 'apply' as const, from: 'host' as const, check: 'c', passed, attempts: 3, ms: 2000, startedAt: '2026-01-01T00:00:00.000Z',
    ...(passed ? {} : { detail: 'last request failed' }),
  });
  const events: RunEvent[] = [
    gated,
    { kind: 'batch-start', play: 0, playName: 'rolling', batch: 0, hosts: ['w1'] },
    { kind: 'host-apply-start', host: 'w1', play: 0, steps: 1, changes: 1 },
    { kind: 'step-done', host: 'w1', step: step('0.1', '/etc/a') },
    { kind: 'host-apply-done', host: 'w1', play: 0, changed: 1, status: 'ok' },
  ];
  const m = run(events);
  t.regex(rowOf(text(m.blocks(false, 24)), 'w1'), /▸ w1\s+done: 1 change; gates next$/);
  t.false(m.blocks(false, 24)[1]!.final, 'not final before its gates');
  m.applyEvent({ kind: 'gates-start', play: 0, batch: 0, phase: 'apply', hosts: ['w1'] });
  t.regex(text(m.blocks(false, 24)), /batch 1\/2 {2}checking health gates…\n.*w1\s+done: 1 change; checking gates…$/m);
  m.applyEvent({ kind: 'gates-done', play: 0, batch: 0, phase: 'apply', results: [result('w1', 0, 'kubelet', true), result('w1', 0, 'proxy', true)] });
  t.regex(rowOf(text(m.blocks(false, 24)), 'w1'), /✔ w1\s+done: 1 change; 2 gates passed$/);
  t.true(m.blocks(false, 24)[1]!.final);
  for (const e of [
    { kind: 'batch-start', play: 0, playName: 'rolling', batch: 1, hosts: ['w2'] },
    { kind: 'host-apply-start', host: 'w2', play: 0, steps: 1, changes: 1 },
    { kind: 'host-apply-done', host: 'w2', play: 0, changed: 1, status: 'ok' },
    { kind: 'gates-start', play: 0, batch: 1, phase: 'apply', hosts: ['w2'] },
    { kind: 'gates-done', play: 0, batch: 1, phase: 'apply', results: [result('w2', 1, 'kubelet', false), result('w2', 1, 'proxy', true)] },
    { kind: 'batch-revert', play: 0, batch: 1, hosts: ['w2'], reason: 'r' },
  ] as RunEvent[]) m.applyEvent(e);
  const screen = text(m.blocks(false, 24));
  t.regex(rowOf(screen, 'w2'), /✖ w2\s+done: 1 change; gate "kubelet" failed: last request failed$/);
  t.regex(screen, /batch 2\/2 {2}health gate failed: reverting w2$/m);
});
