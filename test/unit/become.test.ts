import test from 'ava';
import { BECOME_MARKER, buildBecomeCommand, SUDO_PROMPT } from '../../src/connectors/become-command.ts';
import { BecomeGate } from '../../src/connectors/become-gate.ts';
import { secret } from '../../src/core/secret.ts';
import { BecomeError } from '../../src/errors.ts';
import { checkTaskBecome, hostBecomes, playBecomes, resolvePlayBecome } from '../../src/engine/become.ts';
import type { PlayInfo } from '../../src/engine/plan-types.ts';
import type { Host } from '../../src/inventory/types.ts';
import { file } from '../../src/modules/index.ts';
import { flattenTasks, validatePlaybook } from '../../src/playbook/load-playbook.ts';
import { definePlaybook, type PlayDefinition } from '../../src/playbook/types.ts';

const host = (o: Partial<Host> = {}): Host => ({ name: 'h1', address: 'h1', groups: ['all'], vars: {}, ...o });
const play = (index: number, become?: boolean, hostNames = ['h1']): PlayInfo => ({
  index, name: `p${index}`, hosts: 'all', hostNames, batches: [hostNames], maxFailPercentage: 0, ...(become !== undefined ? { become } : {}),
});

test('sudo command: -n without a password, -S with a fixed prompt with one; the password is never in it', (t) => {
  const none = buildBecomeCommand(host());
  t.is(none.command, `sudo -n -u root sh -c 'echo ${BECOME_MARKER} >&2; exec sh -s'`);
  t.is(none.password, undefined);
  const pw = buildBecomeCommand(host({ becomePassword: secret('hunter2-pw'), becomeUser: 'app', becomeFlags: '-H -S -n' }));
  t.is(pw.command, `sudo -S -p '${SUDO_PROMPT}' -H -u app sh -c 'echo ${BECOME_MARKER} >&2; exec sh -s'`);
  t.is(pw.password, 'hunter2-pw');
  t.false(pw.command.includes('hunter2'));
});

test('sudo command: other methods, flags with arguments and multi-line passwords are BECOME errors', (t) => {
  t.throws(() => buildBecomeCommand(host({ becomeMethod: 'su' })), { instanceOf: BecomeError, message: /"su" is not supported/ });
  t.throws(() => buildBecomeCommand(host({ becomeFlags: '-u other' })), { instanceOf: BecomeError, message: /"-u" is not supported/ });
  t.throws(() => buildBecomeCommand(host({ becomeFlags: '-H; rm -rf /' })), { instanceOf: BecomeError });
  t.throws(() => buildBecomeCommand(host({ becomePassword: secret('two\nlines') })), { instanceOf: BecomeError, message: /line break/ });
});

test('gate: the password once on the prompt, the script on the marker, a second prompt is a refusal', (t) => {
  const g = new BecomeGate('pw-1234');
  t.deepEqual(g.feed(''), { kind: 'none' });
  t.deepEqual(g.feed(`[sudo lecture]\n${SUDO_PROMPT}`), { kind: 'password', password: 'pw-1234' });
  t.deepEqual(g.feed(`[sudo lecture]\n${SUDO_PROMPT}`), { kind: 'none' });
  t.deepEqual(g.feed(`[sudo lecture]\n${SUDO_PROMPT}${BECOME_MARKER}\n`), { kind: 'run' });
  t.true(g.ran);
  // After the marker, the script's own stderr may say anything.
  t.deepEqual(g.feed(`${SUDO_PROMPT}${BECOME_MARKER}\n${SUDO_PROMPT}`), { kind: 'none' });
  t.is(g.strip(`${SUDO_PROMPT}${BECOME_MARKER}\nwarning\n`), 'warning\n');

  const wrong = new BecomeGate('bad');
  t.is(wrong.feed(SUDO_PROMPT).kind, 'password');
  t.is(wrong.feed(`${SUDO_PROMPT}\nSorry, try again.\n${SUDO_PROMPT}`).kind, 'refused');
  t.false(wrong.ran);
  // A prompt split across chunks is seen once whole.
  const split = new BecomeGate('x1234');
  t.is(split.feed(SUDO_PROMPT.slice(0, 5)).kind, 'none');
  t.is(split.feed(SUDO_PROMPT).kind, 'password');
  // sudoers' passprompt_override: sudo's own prompt is answered too.
  const own = new BecomeGate('own-1234');
  t.is(own.feed('[sudo] password for alice: ').kind, 'password');
  t.is(own.feed('[sudo] password for alice: \nSorry, try again.\n[sudo] password for alice: ').kind, 'refused');
  // NOPASSWD / cached: the marker comes first, the password is never written.
  const nopw = new BecomeGate('never-sent');
  t.deepEqual(nopw.feed(`${BECOME_MARKER}\n`), { kind: 'run' });
});

test('become per play and host: play, then task (via resolvePlayBecome), then the host; gather/lock if any play becomes', (t) => {
  t.is(resolvePlayBecome(undefined, [{}, { become: true }]), true);
  t.is(resolvePlayBecome(false, [{ become: true }]), true);
  t.is(resolvePlayBecome(undefined, [{}]), undefined);
  t.false(playBecomes(play(0), host()));
  t.true(playBecomes(play(0), host({ become: true })));
  t.false(playBecomes(play(0, false), host({ become: true })));
  t.true(playBecomes(play(0, false), host(), { become: true }), 'a rollback plan\'s per-host decision wins');
  t.true(hostBecomes([play(0), play(1, true)], host()));
  t.false(hostBecomes([play(0), play(1, true, ['other'])], host()), 'only the plays of this host count');
  t.true(hostBecomes([], host({ become: true })));
  t.throws(() => checkTaskBecome(play(0), host({ become: true }), [{ become: false, name: 'as me' }]), { message: /"as me" sets become: false, but the play runs with sudo on h1/ });
  t.notThrows(() => checkTaskBecome(play(0), host(), [{ become: false }]));
});

test('playbook validation: become: false on a task in a play that becomes is refused; task-level true lifts the play', (t) => {
  const f = (become?: boolean) => file({ path: '/tmp/x', content: 'x\n' }, { ...(become !== undefined ? { become } : {}) });
  const pb = (play: Partial<PlayDefinition>) => definePlaybook({ name: 'p', plays: [{ hosts: 'all', tasks: [], ...play }] });
  t.throws(() => validatePlaybook(pb({ become: true, tasks: [f(false)] }), 'p.ts'), { message: /a task sets become: false but the play runs with sudo/ });
  t.throws(() => validatePlaybook(pb({ tasks: [f(true), f(false)] }), 'p.ts'), { message: /become: false/ });
  t.notThrows(() => validatePlaybook(pb({ tasks: [f(false), f()] }), 'p.ts'));
  t.is(resolvePlayBecome(undefined, flattenTasks([f(), [f(true)]])), true);
});
