import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideHostKey, orderHostKeyAlgorithms, type HostKeyContext } from '../../src/connectors/host-key-decision.ts';
import { hostKeyRefusal } from '../../src/connectors/host-key-refusal.ts';
import { findHostEntries, hashHostName, matchHostname, matchNamesField, matchPattern } from '../../src/connectors/known-hosts.ts';

const dir = mkdtempSync(join(tmpdir(), 'rig-known-hosts-'));

/** A fake but well-formed ed25519 public key blob (32 bytes of `fill`). */
function ed25519(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const head = Buffer.alloc(4); head.writeUInt32BE(type.length);
  const len = Buffer.alloc(4); len.writeUInt32BE(32);
  return Buffer.concat([head, type, len, Buffer.alloc(32, fill)]);
}
function rsa(fill: number): Buffer {
  const s = (b: Buffer) => { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return Buffer.concat([l, b]); };
  return Buffer.concat([s(Buffer.from('ssh-rsa')), s(Buffer.from([1, 0, 1])), s(Buffer.alloc(257, fill).fill(0, 0, 1))]);
}
const K1 = ed25519(1); const K2 = ed25519(2); const R1 = rsa(7);
const line = (names: string, k: Buffer, marker = '') => `${marker ? `${marker} ` : ''}${names} ${k.subarray(4, 4 + k.readUInt32BE(0)).toString()} ${k.toString('base64')}\n`;

let n = 0;
function ctx(text: string, over: Partial<HostKeyContext> = {}): HostKeyContext {
  const file = join(dir, `kh${n++}`);
  writeFileSync(file, text);
  return { hostname: '10.0.0.5', port: 2222, address: '10.0.0.5', strict: 'yes', userFiles: [file], globalFiles: [], ...over };
}

test('patterns: * and ? are wildcards, [ ] are literal, comparison in lowercase ASCII', (t) => {
  t.true(matchPattern('[10.0.0.5]:2222', '[10.0.0.5]:2222'));
  t.false(matchPattern('[10.0.0.5]:2222', '[10.0.0.6]:2222'));
  t.false(matchPattern('1', '[0-9]'), 'no character classes');
  t.true(matchPattern('[10.0.0.5]:2222', '[10.0.*]:22?2'));
  t.true(matchPattern('anything', '*'));
  t.true(matchPattern('', '*'));
  t.false(matchPattern('ab', 'a?b'));
  t.true(matchPattern('a.b.c', '*.*'));
  t.is(matchHostname('DB.Example', 'db.*'), 1);
  t.is(matchHostname('db', 'DB'), 1);
});

test('a negated pattern that matches makes the line not name the host, whatever else matches', (t) => {
  t.is(matchHostname('10.0.0.5', '*,!10.0.0.5'), -1);
  t.is(matchHostname('10.0.0.5', '!10.0.0.5,10.0.0.5'), -1);
  t.is(matchHostname('10.0.0.6', '*,!10.0.0.5'), 1);
  t.is(matchHostname('10.0.0.6', '!10.0.0.5'), 0, 'a negation alone matches nothing');
  t.is(matchHostname('x', `${'a'.repeat(1100)},x`), 0, 'a subpattern of 1023+ characters fails the whole list, as in OpenSSH');
});

test('hashed names: ssh-keygen -H output matches the name it hashed and nothing else', (t) => {
  const file = join(dir, 'hashed');
  writeFileSync(file, line('[10.0.0.5]:2222', K1) + line('db.example', R1));
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  t.true(text.startsWith('|1|'));
  t.deepEqual(findHostEntries(text, file, '[10.0.0.5]:2222').map((e) => e.line), [1]);
  t.deepEqual(findHostEntries(text, file, 'DB.example').map((e) => e.line), [], 'hashed names are not lowercased when looked up');
  t.deepEqual(findHostEntries(text, file, 'db.example').map((e) => e.line), [2]);
  t.deepEqual(findHostEntries(text, file, '10.0.0.5').length, 0);
  t.is(matchNamesField('x', '|1|c2hvcnQ=|AAAA'), 'bad', 'a salt that is not 20 bytes makes the line unusable');
  t.false(matchNamesField('x', `${hashHostName('x')},y`), 'a hashed field is one name only');
});

test('hashHostName: a name always matches its own hash (property)', (t) => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[^\x21-\x7e]/.test(s)), (name) =>
    matchNamesField(name, hashHostName(name)) === true && matchNamesField(`${name}x`, hashHostName(name)) === false));
  t.pass();
});

test('markers: @revoked and @cert-authority are read; unknown, doubled or tab-then-space markers make the line ignored', (t) => {
  const f = 'f';
  t.is(findHostEntries(line('*', K1, '@revoked'), f, 'h')[0]?.marker, 'revoked');
  t.is(findHostEntries(line('*', K1, '@cert-authority'), f, 'h')[0]?.marker, 'cert-authority');
  t.is(findHostEntries(line('*', K1, '@trusted'), f, 'h').length, 0);
  t.is(findHostEntries(`@revoked @revoked * ssh-ed25519 ${K1.toString('base64')}\n`, f, 'h').length, 0);
  // OpenSSH ends a marker at the first space of the line, else the first tab: "@revoked\t* ssh-ed25519" is bad
  t.is(findHostEntries(`@revoked\t* ssh-ed25519 ${K1.toString('base64')}\n`, f, 'h').length, 0);
  t.is(findHostEntries(`@revoked\t*\tssh-ed25519\t${K1.toString('base64')}\n`, f, 'h').length, 1);
});

test('unusable lines are skipped like OpenSSH: type mismatch, bad base64, truncated; CRLF and comments are fine', (t) => {
  const b = K1.toString('base64');
  t.is(findHostEntries(`h ssh-rsa ${b}\n`, 'f', 'h').length, 0);
  t.is(findHostEntries(`h ssh-ed25519 ${b.slice(0, -4)}\n`, 'f', 'h').length, 0);
  t.is(findHostEntries('h ssh-ed25519\n', 'f', 'h').length, 0);
  t.is(findHostEntries(`h rsa-sha2-256 ${b}\n`, 'f', 'h').length, 0);
  t.is(findHostEntries(`h ssh-ed25519 ${b}\r\n`, 'f', 'h').length, 1);
  t.is(findHostEntries(`# h ssh-ed25519 ${b}\n  \th ssh-ed25519 ${b} my comment\n`, 'f', 'h')[0]?.line, 2);
});

test('decision: [host]:port matches; a different key of the same type is CHANGED with the offending file:line', (t) => {
  t.is(decideHostKey(ctx(line('[10.0.0.5]:2222', K1)), K1).verdict, 'accept');
  const c = ctx(line('10.0.0.5', K1) + line('[10.0.0.5]:2222', K2));
  const d = decideHostKey(c, K1);
  t.is(d.verdict, 'refuse-changed');
  if (d.verdict !== 'refuse-changed') return;
  t.deepEqual(d.offending.map((e) => e.line), [2]);
  const err = hostKeyRefusal(d, c, K1, 'h', 'h');
  t.is(err.code, 'HOST_KEY');
  t.regex(err.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  t.true(err.message.includes(`Offending ED25519 key in ${c.userFiles[0]}:2`));
  t.true(err.hint!.includes(`ssh-keygen -R '[10.0.0.5]:2222' -f ${c.userFiles[0]}`));
});

test('decision: a key of another type only (the server has none of that type) is CHANGED too', (t) => {
  t.is(decideHostKey(ctx(line('[10.0.0.5]:2222', R1)), K1).verdict, 'refuse-changed');
});

test('decision: @revoked wins over a line that accepts, unless StrictHostKeyChecking no', (t) => {
  const text = line('[10.0.0.5]:2222', K1) + line('*', K1, '@revoked');
  t.is(decideHostKey(ctx(text), K1).verdict, 'refuse-revoked');
  t.is(decideHostKey(ctx(text, { strict: 'accept-new' }), K1).verdict, 'refuse-revoked');
  t.is(decideHostKey(ctx(text, { strict: 'no' }), K1).verdict, 'accept');
});

test('decision: the port-less retry accepts a plain `host` line with the same key on another port', (t) => {
  t.is(decideHostKey(ctx(line('10.0.0.5', K1)), K1).verdict, 'accept');
  const other = decideHostKey(ctx(line('10.0.0.5', K2), { strict: 'accept-new' }), K1);
  t.true(other.verdict === 'accept' && other.append?.text === line('[10.0.0.5]:2222', K1), 'a port-less mismatch is just unknown');
  t.is(decideHostKey(ctx(line('10.0.0.5', K1), { hostKeyAlias: 'db' }), K1).verdict, 'refuse-unknown', 'not with HostKeyAlias');
});

test('accept-new: appends OpenSSH\'s line once, never accepts a changed key; ask refuses', (t) => {
  const c = ctx('', { strict: 'accept-new' });
  const d = decideHostKey(c, K1);
  t.true(d.verdict === 'accept' && d.append?.file === c.userFiles[0] && d.append?.text === line('[10.0.0.5]:2222', K1));
  if (d.verdict === 'accept' && d.append) writeFileSync(d.append.file, d.append.text, { flag: 'a' });
  const again = decideHostKey(c, K1);
  t.true(again.verdict === 'accept' && again.append === undefined);
  t.is(decideHostKey(c, K2).verdict, 'refuse-changed');
  t.is(decideHostKey(ctx('', { strict: 'ask' }), K1).verdict, 'refuse-unknown');
  const port22 = decideHostKey(ctx('', { strict: 'accept-new', port: 22 }), K1);
  t.true(port22.verdict === 'accept' && port22.append?.text === line('10.0.0.5', K1));
  const hashed = decideHostKey(ctx('', { strict: 'accept-new', hashKnownHosts: true, hostKeyAlias: 'DB' }), K1);
  t.true(hashed.verdict === 'accept' && matchNamesField('db', hashed.append!.text.split(' ')[0]!) === true, 'alias lowercased, then hashed');
  t.is(decideHostKey(ctx(line(hashHostName('db'), K1), { hostKeyAlias: 'DB' }), K1).verdict, 'accept', 'HostKeyAlias is looked up in lowercase');
});

test('CheckHostIP: the address is recorded with the name; a different key for the address is refused', (t) => {
  const d = decideHostKey(ctx('', { strict: 'accept-new', hostKeyAlias: 'db', checkHostIp: true }), K1);
  t.true(d.verdict === 'accept' && d.append?.text === line('db,[10.0.0.5]:2222', K1));
  t.is(decideHostKey(ctx(line('db', K1) + line('[10.0.0.5]:2222', K2), { hostKeyAlias: 'db', checkHostIp: true }), K1).verdict, 'refuse-ip-changed');
  t.is(decideHostKey(ctx(line('db', K1) + line('[10.0.0.5]:2222', K2), { hostKeyAlias: 'db' }), K1).verdict, 'accept', 'off by default');
});

test('@cert-authority only: refused with a message saying host certificates are not supported, even with accept-new', (t) => {
  const c = ctx(line('*', K2, '@cert-authority'), { strict: 'accept-new' });
  const d = decideHostKey(c, K1);
  t.true(d.verdict === 'refuse-unknown' && d.why === 'cert-authority-only');
  if (d.verdict === 'refuse-unknown') t.regex(hostKeyRefusal(d, c, K1, 'h', 'h').message, /does not support host certificates yet/);
});

test('algorithm order: key types known for the host first, the default order when ed25519 is known', (t) => {
  t.deepEqual(orderHostKeyAlgorithms(ctx(line('[10.0.0.5]:2222', R1))).slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-ed25519']);
  t.is(orderHostKeyAlgorithms(ctx(line('[10.0.0.5]:2222', K1) + line('[10.0.0.5]:2222', R1)))[1], 'ecdsa-sha2-nistp256');
  t.is(orderHostKeyAlgorithms(ctx(line('10.0.0.5', R1)))[0], 'ssh-ed25519', 'the port-less name does not count');
});
