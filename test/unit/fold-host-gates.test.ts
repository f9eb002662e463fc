import test from 'ava';
import { execFileSync } from 'node:child_process';
import { foldHostGates, withGateEpilogue } from '../../src/gates/fold-host-gates.ts';
import type { PlannedGate } from '../../src/gates/gate-types.ts';

const gate = (id: string, argv: string[], from: 'host' | 'controller' = 'host'): PlannedGate => ({
  id, name: `gate ${id}`, from, timeoutSeconds: 1, intervalSeconds: 0.2, check: { kind: 'command', argv }, afterRevert: null,
});

test('host-side gates become the epilogue of the apply script; their lines come back as timed results', (t) => {
  const fold = foldHostGates({ host: 'h1', play: 1, batch: 0, gates: [gate('g1.0', ['true']), gate('g1.1', ['sh', '-c', 'echo nope; exit 3']), gate('g1.2', ['true'], 'controller')] })!;
  const hooks = withGateEpilogue({ epilogue: 'echo before-gates' }, fold)!;
  t.true(hooks.prologue!.includes('RIG_GATE_SINCE='), 'the start time is set before the first change');
  // Run the epilogue for real: the prologue first, as the apply script does.
  const out = execFileSync('sh', ['-c', `${hooks.prologue}\n${hooks.epilogue}\necho 'Z ok'`], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  t.is(lines[0], 'before-gates');
  t.is(lines[1], 'GS');
  t.is(lines[lines.length - 1], 'Z ok');
  lines.forEach(fold.take);
  const results = fold.results();
  t.deepEqual(results.map((r) => [r.gate, r.passed, r.from, r.phase, r.play, r.batch]), [['g1.0', true, 'host', 'apply', 1, 0], ['g1.1', false, 'host', 'apply', 1, 0]],
    'only the host-side gates ride in the script');
  t.is(results[0]!.attempts, 1);
  t.true(results[1]!.attempts >= 2, 'a failing gate is polled until its timeout');
  t.is(results[1]!.detail, 'nope');
  t.true(results.every((r) => typeof r.ms === 'number' && r.ms >= 0 && r.startedAt.length > 0));
});

test('a gate the script never reported on is failed, saying so; a play without host-side gates folds nothing', (t) => {
  const fold = foldHostGates({ host: 'h1', play: 0, batch: 2, gates: [gate('g0.0', ['true'])] })!;
  fold.take('GS');
  const [r] = fold.results();
  t.false(r!.passed);
  t.regex(r!.detail!, /ended before this gate reported/);
  t.is(foldHostGates({ host: 'h1', play: 0, batch: 0, gates: [gate('g0.0', ['true'], 'controller')] }), undefined);
  t.is(withGateEpilogue(undefined, undefined), undefined);
});

test('the run\'s stop marker ends a gate loop at once, as interrupted', (t) => {
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  const fold = foldHostGates({ host: 'h1', play: 0, batch: 0, gates: [{ ...gate('g0.0', ['false']), timeoutSeconds: 60 }] })!;
  const hooks = withGateEpilogue(undefined, fold)!;
  const out = execFileSync('sh', ['-c', `RIG_RUN=${dir}; : > "$RIG_RUN/stop"\n${hooks.prologue}\n${hooks.epilogue}`], { encoding: 'utf8' });
  out.trim().split('\n').forEach(fold.take);
  const [r] = fold.results();
  t.false(r!.passed);
  t.is(r!.detail, 'interrupted: a stop was requested while polling');
  execFileSync('rm', ['-rf', dir]);
});
