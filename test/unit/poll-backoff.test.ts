import test from 'ava';
import { execFileSync } from 'node:child_process';
import { PAUSE_FUNCTION, pollPauseList, pollPauses } from '../../src/engine/poll-backoff.ts';

test('pauses start at 0.1 s and double up to the interval, which the last one keeps', (t) => {
  t.is(pollPauses(1), '0.1 0.2 0.4 0.8 1');
  t.is(pollPauses(2), '0.1 0.2 0.4 0.8 1.6 2');
  t.is(pollPauses(0.5), '0.1 0.2 0.4 0.5');
  t.is(pollPauses(0.1), '0.1');
  t.is(pollPauses(0), '0.1', 'never below the first pause');
  t.deepEqual(pollPauseList(1), [0.1, 0.2, 0.4, 0.8, 1]);
});

test('rig_pause sleeps the pauses in turn, then keeps the last (sh)', (t) => {
  // `sleep` replaced by a function that prints its argument: the sequence the loop would sleep.
  const script = `${PAUSE_FUNCTION}\nsleep() { printf '%s\\n' "$1"; }\nrig_pz="$1"\nfor i in 1 2 3 4 5 6 7; do rig_pause; done`;
  const out = execFileSync('sh', ['-c', script, 'sh', pollPauses(1)], { encoding: 'utf8' });
  t.deepEqual(out.trim().split('\n'), ['0.1', '0.2', '0.4', '0.8', '1', '1', '1']);
});
