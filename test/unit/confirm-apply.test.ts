import test from 'ava';
import { PassThrough } from 'node:stream';
import { askConfirmation, describeConfirmation, wantsConfirmation } from '../../src/cli/confirm-apply.ts';
import type { Plan } from '../../src/engine/plan-types.ts';

const step = (kind: string) => ({ change: { kind } });
const plan = (...hosts: string[][]): Plan => ({ hosts: hosts.map((kinds, i) => ({ host: `h${i}`, plays: [{ steps: kinds.map(step) }] })) } as unknown as Plan);

test('asked only when stdin and stdout are terminals and --yes is not given', (t) => {
  const tty = { isTTY: true }; const pipe = { isTTY: false }; const none = {};
  t.true(wantsConfirmation({}, tty, tty));
  t.false(wantsConfirmation({ yes: true }, tty, tty));
  t.false(wantsConfirmation({}, pipe, tty));
  t.false(wantsConfirmation({}, tty, pipe));
  t.false(wantsConfirmation({}, none, none));
});

test('the question counts changes (waits are not changes) and the hosts with changes; nothing to change: no question', (t) => {
  t.is(describeConfirmation(plan(['write-file', 'write-file', 'wait'], [], ['run-handler'])), 'Apply these 3 changes on 2 hosts? (yes/no) ');
  t.is(describeConfirmation(plan(['write-file'])), 'Apply this 1 change on 1 host? (yes/no) ');
  t.is(describeConfirmation(plan(['write-file']), 'Roll back'), 'Roll back this 1 change on 1 host? (yes/no) ');
  t.is(describeConfirmation(plan(['wait'], [])), undefined);
});

for (const [typed, expected] of [['yes\n', true], ['no\n', false], ['y\n', false], ['YES\n', false], ['\n', false], ['  yes  \n', true], ['\u0003', false], ['\u0004', false]] as const) {
  test(`answer ${JSON.stringify(typed)} → ${expected}`, async (t) => {
    const input = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (b: boolean) => void };
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d) => { shown += d; });
    const answer = askConfirmation('Apply? (yes/no) ', input, output);
    input.write(typed);
    t.is(await answer, expected);
    t.regex(shown, /Apply\? \(yes\/no\)/);
  });
}

test('stdin closing before an answer is a no', async (t) => {
  const input = new PassThrough();
  const answer = askConfirmation('Apply? ', input, new PassThrough());
  input.end();
  t.false(await answer);
});
