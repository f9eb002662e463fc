import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore, redactPlanForStorage } from '../../src/changelog/journal-store.ts';
import { MASK, redactDeep, redactText, registerSecretText, secret } from '../../src/core/secret.ts';
import { isSecretVarName, registerSecretVars } from '../../src/core/secret-var-name.ts';
import { maskReplacedValues, renderDiff } from '../../src/text/render-diff.ts';
import { PLAN_FORMAT, type Plan } from '../../src/engine/plan-types.ts';

test('a secret ending in a newline is masked with and without it, and the newline stays', (t) => {
  secret('Unit-File-Secret-1\n');
  t.is(redactText('out: Unit-File-Secret-1'), `out: ${MASK}`);
  t.is(redactText('Unit-File-Secret-1\nnext line'), `${MASK}\nnext line`);
  registerSecretText('  \n');
  t.is(redactText('  \n'), '  \n', 'whitespace alone is no secret');
});

test('redactDeep masks inside strings JSON would escape (newline, quote, backslash)', (t) => {
  registerSecretText('We"ird\\pa\nss');
  const v = { a: ['x We"ird\\pa\nss y'], n: 3, s: secret('Deep-Secret-22') };
  t.is(JSON.stringify(redactDeep(v)), JSON.stringify({ a: [`x ${MASK} y`], n: 3, s: MASK }));
  t.false(redactText(JSON.stringify(v)).includes(MASK + ' y'), 'masking the JSON text would have missed it');
});

test('secret-named variables: the rule rig inventory uses; values registered unless public', (t) => {
  for (const n of ['db_password', 'ansible_become_pass', 'api_token', 'client_secret', 'ssh_key', 'vault_x', 'key']) t.true(isSecretVarName(n), n);
  for (const n of ['ansible_ssh_private_key_file', 'db_user', 'keyboard', 'monkey_name']) t.false(isSecretVarName(n), n);
  registerSecretVars({ db_password: 'Var-Secret-333', api_token: 'Public-Token-444', port_key: 123456 }, new Set(['api_token']));
  t.is(redactText('Var-Secret-333 Public-Token-444 123456'), `${MASK} Public-Token-444 ${MASK}`);
});

test('the journal stores no secret: events, run.json, and a file whose content holds one is stored as secret', (t) => {
  registerSecretText('Journal-Secret-555');
  const store = new JournalStore(mkdtempSync(join(tmpdir(), 'rig-unit-journal-')));
  const j = store.create({ id: '20260101T000000Z-abcd', kind: 'apply', playbook: 'p.ts', hosts: ['h'] });
  const content = Buffer.from('password=Journal-Secret-555\n').toString('base64');
  const plan: Plan = {
    format: PLAN_FORMAT, createdAt: '', playbook: { path: 'p.ts', name: 'p', sha256: '' }, inventory: [], plays: [],
    hosts: [{ host: 'h', address: 'h', plays: [{ play: 0, tasks: [], steps: [{ id: 's1', change: {
      kind: 'write-file', path: '/etc/x', content, secret: false, task: 't', reason: 'r',
      before: { exists: false }, after: { exists: true, sha256: 'x', mode: '0600', owner: 'root', group: 'root' },
    } as never }] }] }],
  };
  const stored = redactPlanForStorage(plan).hosts[0]!.plays[0]!.steps[0]!.change as { content: string; secret: boolean };
  t.is(stored.content, '');
  t.true(stored.secret);
  j.begin(plan);
  j.append({ t: 'step', host: 'h', id: 's1', status: 'failed', message: 'validate said Journal-Secret-555' });
  j.writeMeta({ ...j.meta, status: 'failed', recap: { h: { ok: 0, changed: 0, failed: 1, skipped: 0, unreachable: false, error: 'Journal-Secret-555' } } });
  for (const f of ['events.jsonl', 'run.json', 'plan.json']) t.false(readFileSync(join(j.dir, f), 'utf8').includes('Journal-Secret-555'), f);
  t.true(readFileSync(join(j.dir, 'events.jsonl'), 'utf8').includes(MASK));
});

test('a diff masks the old value of a line whose new value is a masked secret', (t) => {
  registerSecretText('New-Db-Pass-666');
  const diff = renderDiff({ path: '/etc/db.conf', before: Buffer.from('user=app\npassword=Old-Db-Pass-555\nport=5432\n'), after: Buffer.from('user=app\npassword=New-Db-Pass-666\nport=5433\n') });
  t.false(diff.includes('Old-Db-Pass-555'), diff);
  t.regex(diff, /^-password=\*{8}$/m);
  t.regex(diff, /^\+password=\*{8}$/m);
  t.regex(diff, /^-port=5432$/m, 'a line without a mask on its new side is shown');
  t.deepEqual(maskReplacedValues(['-a=1', '-b=2', '+a=1x', `+b=${MASK}`]), ['-a=1', `-b=${MASK}`, '+a=1x', `+b=${MASK}`]);
  t.deepEqual(maskReplacedValues(['--- a/x', '+++ b/x', `-k=${MASK}`]), ['--- a/x', '+++ b/x', `-k=${MASK}`]);
});

test('property: a registered secret (hostile characters, surrounding whitespace) never survives masking of text, JSON or a diff', (t) => {
  const hostile = fc.constantFrom('"', "'", '\\', '\n', '\t', '$', '*', '.', '(', '[', '{', 'é', '€', '\u0000', ' ', '%', '/', '=');
  const arbChunk = fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), hostile);
  const arbSecret = fc.tuple(fc.array(arbChunk, { minLength: 2, maxLength: 6 }), fc.constantFrom('', '\n', ' \n', '\r\n'))
    .map(([parts, tail]) => parts.join('') + tail)
    .filter((s) => s.trim().length >= 4 && !MASK.includes(s.trim()));
  fc.assert(fc.property(arbSecret, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (s, pre, post) => {
    registerSecretText(s);
    const core = s.trim();
    const text = `${pre}${s}${post}`;
    if (redactText(text).includes(core)) return false;
    const json = JSON.stringify(redactDeep({ message: text, list: [text, { deep: `${core}${post}` }] }));
    if (json.includes(JSON.stringify(core).slice(1, -1)) || json.includes(core)) return false;
    const diff = renderDiff({ path: '/x', before: Buffer.from(`a=1\n${pre}\n`), after: Buffer.from(`a=1\n${text}\n`) });
    // Line prefixes removed: a multi-line secret must not be readable across the diff's lines either.
    const body = diff.split('\n').map((l) => l.slice(1)).join('\n');
    return !diff.includes(core) && !body.includes(core);
  }), { numRuns: 300, seed: 1406 });
  t.pass();
});
