/**
 * ssh_config keywords that change the connection: honoured through ssh2, refused, or warned about (never silently
 * dropped); ProxyJump chains parsed hop by hop; Match exec run through the user's shell like OpenSSH.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConfigError } from '../../src/errors.ts';
import { parseJumpChain } from '../../src/connectors/proxy-jump.ts';
import { sshOptionsFromInventory } from '../../src/connectors/ssh-command-line-options.ts';
import { SshConfigResolver } from '../../src/connectors/ssh-config.ts';
import { resolveConnectionSettings } from '../../src/connectors/ssh-connection-settings.ts';

function resolve(text: string, host = 'h', exec?: (c: string) => number) {
  const file = join(mkdtempSync(join(tmpdir(), 'rig-sshset-')), 'config');
  writeFileSync(file, text);
  return new SshConfigResolver({ configFile: file, ...(exec ? { exec } : {}) }).resolve(host);
}

test('algorithm lists map to ssh2 with OpenSSH prefixes; names ssh2 lacks are warned about; none supported is an error', (t) => {
  const s = resolveConnectionSettings(resolve('Ciphers aes256-ctr,aes128-gcm@openssh.com,blowfish-cbc\nKexAlgorithms +diffie-hellman-group1-sha1\nMACs -hmac-sha1*\nHostKeyAlgorithms ^ssh-ed25519\n'), 'h');
  t.deepEqual(s.algorithms?.cipher, ['aes256-ctr', 'aes128-gcm@openssh.com']);
  t.deepEqual(s.algorithms?.kex, { append: ['diffie-hellman-group1-sha1'] } as never);
  t.deepEqual(s.algorithms?.hmac, { remove: ['hmac-sha1-etm@openssh.com', 'hmac-sha1', 'hmac-sha1-96'] } as never);
  t.deepEqual(s.algorithms?.serverHostKey, { prepend: ['ssh-ed25519'] } as never);
  t.true(s.warnings.some((w) => /^Ciphers blowfish-cbc for h: not offered/.test(w)));
  const e = t.throws(() => resolveConnectionSettings(resolve('Ciphers sntrup-only@example.com\n'), 'h'), { instanceOf: SshConfigError });
  t.regex(e!.message, /Ciphers .* for h: ssh2, which rig uses, supports none/);
});

test('ProxyCommand, PubkeyAuthentication no, RevokedHostKeys are refused naming keyword and host; ControlMaster, ForwardAgent, LocalForward warned', (t) => {
  t.throws(() => resolveConnectionSettings(resolve('ProxyCommand nc %h %p\n'), 'web1'), { instanceOf: SshConfigError, message: /ProxyCommand for web1 is not supported/ });
  t.throws(() => resolveConnectionSettings(resolve('PubkeyAuthentication no\n'), 'web1'), { message: /PubkeyAuthentication no for web1/ });
  t.throws(() => resolveConnectionSettings(resolve('RevokedHostKeys /etc/ssh/krl\n'), 'web1'), { message: /RevokedHostKeys .* for web1/ });
  const s = resolveConnectionSettings(resolve('ControlMaster auto\nForwardAgent yes\nLocalForward 8080 localhost:80\nAddressFamily inet\nBindAddress 10.0.0.1\nSendEnv LANG\n'), 'web1');
  t.deepEqual(s.warnings.map((w) => w.split(' ')[0]), ['ControlMaster', 'ForwardAgent', 'LocalForward']);
  t.true(s.forceIPv4);
  t.is(s.localAddress, '10.0.0.1');
  // ProxyJump first: a later ProxyCommand does not apply (and is not refused)
  t.notThrows(() => resolveConnectionSettings(resolve('ProxyJump b\nProxyCommand nc %h %p\n'), 'web1'));
});

test('ProxyJump chains: every hop, first contacted first; syntax errors refused', (t) => {
  t.deepEqual(parseJumpChain('a,ops@b:2200,ssh://root@c.example:2022'), [{ host: 'a' }, { user: 'ops', host: 'b', port: 2200 }, { user: 'root', host: 'c.example', port: 2022 }]);
  t.deepEqual(parseJumpChain('[10.0.0.1]:22'), [{ host: '10.0.0.1', port: 22 }]);
  t.is(parseJumpChain('a,bad/host'), undefined);
  const c = resolve('Host t\n  ProxyJump j1,j2\n', 't');
  t.is(c.proxyJump, 'j1,j2');
  t.deepEqual(c.jump?.last, { host: 'j2' });
  t.is(c.jump?.extra, 'j1');
});

test('Match exec runs the command (tokens expanded) only when the criteria before it matched', (t) => {
  const ran: string[] = [];
  const exec = (cmd: string) => { ran.push(cmd); return cmd.includes('yes') ? 0 : 1; };
  const c = resolve('Match host web* exec "probe yes %h %n %p"\n  User viaexec\nMatch host db* exec "probe no %h"\n  User never\n', 'Web1', exec);
  t.is(c.user, 'viaexec');
  // %h in Match exec is the name as given (OpenSSH lowercases it only after reading the config)
  t.deepEqual(ran, ['probe yes Web1 Web1 22'], 'the second exec is skipped: its host criterion failed');
  // the default runs it through $SHELL -c, like OpenSSH
  t.is(resolve('Match exec "exit 3"\n  User no\nMatch exec "test -d /"\n  User shellran\n').user, 'shellran');
});

test('-o options of the inventory\'s ssh arguments come before ssh_config, common args before extra args', (t) => {
  const host = { name: 'h', address: 'h', groups: ['all'], vars: {
    ansible_ssh_common_args: `-o StrictHostKeyChecking=no -oUser=fromargs -o 'ProxyJump=a,b' -C`,
    ansible_ssh_extra_args: '-o User=fromextra -o "ConnectTimeout 7"',
  } };
  const options = sshOptionsFromInventory(host);
  t.deepEqual(options, ['StrictHostKeyChecking=no', 'User=fromargs', 'ProxyJump=a,b', 'User=fromextra', 'ConnectTimeout 7']);
  const file = join(mkdtempSync(join(tmpdir(), 'rig-sshopt-')), 'config');
  writeFileSync(file, 'Host h\n  User fromconfig\n  StrictHostKeyChecking yes\n  ConnectTimeout 3\n');
  const c = new SshConfigResolver({ configFile: file }).resolve('h', { options });
  t.is(c.user, 'fromargs');
  t.is(c.strictHostKeyChecking, 'no');
  t.is(c.connectTimeout, 7);
  t.is(c.proxyJump, 'a,b');
  t.throws(() => new SshConfigResolver({ configFile: file }).resolve('h', { options: ['Host=x'] }), { message: /not supported as a command-line option/ });
  t.throws(() => sshOptionsFromInventory({ ...host, vars: { ansible_ssh_common_args: '-o "unterminated' } }), { instanceOf: SshConfigError });
});
