import test from 'ava';
import { DEFAULT_SERVER_ALIVE_COUNT_MAX, DEFAULT_SERVER_ALIVE_INTERVAL, keepaliveConnectOptions, resolveKeepalivePolicy } from '../../src/connectors/keepalive-policy.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConfigResolver } from '../../src/connectors/ssh-config.ts';
import { sshOptionsFromInventory } from '../../src/connectors/ssh-command-line-options.ts';
import type { Host } from '../../src/inventory/types.ts';
import { ScriptWatchdog, scriptTimeLimitSeconds, stepTimeLimitSeconds, WAIT_SLACK_SECONDS } from '../../src/engine/step-time-limit.ts';
import type { Change } from '../../src/core/change.ts';

/** Resolve `host` from ssh_config text (written to a temp file, read like `ssh -F file`). */
function resolveSshConfig(text: string, host: string, options: readonly string[] = []) {
  const file = join(mkdtempSync(join(tmpdir(), 'rig-ka-')), 'ssh_config');
  writeFileSync(file, text);
  return new SshConfigResolver({ configFile: file }).resolve(host, { options });
}

const host = (vars: Record<string, unknown> = {}): Host => ({ name: 'h', address: 'h', groups: ['all'], vars });

test('keepalives are on by default with rig\'s interval and count', (t) => {
  const p = resolveKeepalivePolicy(host(), resolveSshConfig('', 'h'));
  t.deepEqual(p, { intervalSeconds: DEFAULT_SERVER_ALIVE_INTERVAL, countMax: DEFAULT_SERVER_ALIVE_COUNT_MAX, source: 'default' });
  // ssh2 gives up at keepalive countMax+1: count - 1 makes the bound interval × count, like OpenSSH
  t.deepEqual(keepaliveConnectOptions(p), { keepaliveInterval: DEFAULT_SERVER_ALIVE_INTERVAL * 1000, keepaliveCountMax: DEFAULT_SERVER_ALIVE_COUNT_MAX - 1 });
});

test('ssh_config ServerAliveInterval / ServerAliveCountMax override the defaults (first obtained value wins)', (t) => {
  const cfg = resolveSshConfig('Host h\n  ServerAliveInterval 7\n  ServerAliveCountMax 2\nHost *\n  ServerAliveInterval 30\n', 'h');
  t.deepEqual(resolveKeepalivePolicy(host(), cfg), { intervalSeconds: 7, countMax: 2, source: 'ssh_config' });
  const off = resolveSshConfig('Host *\n  ServerAliveInterval 0\n', 'h');
  t.deepEqual(keepaliveConnectOptions(resolveKeepalivePolicy(host(), off)), {}, 'ServerAliveInterval 0 turns them off, as in OpenSSH');
});

test('the inventory\'s ssh args override ssh_config, like -o on the ssh command line (the first -o wins, as in OpenSSH)', (t) => {
  const text = 'Host h\n  ServerAliveInterval 7\n  ServerAliveCountMax 2\n';
  const inv = host({ ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o ServerAliveInterval=3 -oServerAliveCountMax=4' });
  t.deepEqual(resolveKeepalivePolicy(inv, resolveSshConfig(text, 'h', sshOptionsFromInventory(inv))), { intervalSeconds: 3, countMax: 4, source: 'inventory' });
  // Ansible puts the common args before the extra args on ssh's command line; OpenSSH keeps the first value.
  const both = host({ ansible_ssh_common_args: '-o ServerAliveInterval=3', ansible_ssh_extra_args: '-o ServerAliveInterval=9' });
  const p = resolveKeepalivePolicy(both, resolveSshConfig(text, 'h', sshOptionsFromInventory(both)));
  t.is(p.intervalSeconds, 3, 'the first -o wins');
  t.is(p.countMax, 2, 'the rest comes from ssh_config');
  t.is(resolveKeepalivePolicy(host(), resolveSshConfig(text, 'h')).source, 'ssh_config');
});

test('time limits come from the plan: a wait\'s own timeout counts, a script\'s limit is the sum of its steps\'', (t) => {
  const wait = { kind: 'wait', argv: ['true'], timeoutSeconds: 300, intervalSeconds: 2, description: 'x', task: 't', reason: 'r' } as unknown as Change;
  const cmd = { kind: 'run-command', argv: ['true'], task: 't', reason: 'r' } as unknown as Change;
  t.is(stepTimeLimitSeconds(wait), 300 + 2 + WAIT_SLACK_SECONDS);
  t.true(stepTimeLimitSeconds(cmd) > 0);
  t.true(scriptTimeLimitSeconds([wait, cmd]) > stepTimeLimitSeconds(wait) + stepTimeLimitSeconds(cmd));
});

test('the script watchdog gives up on the step in flight when its limit passes, naming it', async (t) => {
  const cmd = { kind: 'run-command', argv: ['sleep', '1000'], task: 't', reason: 'r' } as unknown as Change;
  const write = { kind: 'remove-path', path: '/x', task: 't', reason: 'r' } as unknown as Change;
  const fired = await new Promise<string>((resolve) => {
    // scale: a 600 s command limit becomes 60 ms, the 120 s prologue and gaps 12 ms
    const w = new ScriptWatchdog({ host: 'h', steps: [{ id: '0.0', change: write }, { id: '0.1', change: cmd }], scale: 0.0001, onTimeout: (e) => resolve(`${e.code} ${e.message}`) });
    w.feed(Buffer.from('B 0.0\nD 0.0 -\nB 0.'));
    w.feed(Buffer.from('1\n')); // a record split across chunks
  });
  t.regex(fired, /^TIMEOUT step 0\.1 \(run-command\) did not finish within its limit of 600 s$/);
});
