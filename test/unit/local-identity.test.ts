/**
 * rig run by a uid the password database has no name for (a container's `--user 1234`): a clear SSH_CONFIG error,
 * as `ssh` itself refuses ("No user exists for uid"), not an internal crash. The real CLI under a real uid.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuiltCli } from '../helpers/ensure-built-cli.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

test.before(ensureBuiltCli);

test('a uid without a passwd entry gets error[SSH_CONFIG] naming the uid and the fix; OpenSSH agrees', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-nameless-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, 'all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1}\n', { mode: 0o644 });
  const asNameless = (argv: string[]) => spawnSync('setpriv', ['--reuid=54329', '--regid=54329', '--clear-groups', 'env', 'HOME=/nonexistent', ...argv], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  const ssh = asNameless(['ssh', '-G', 'h1']);
  t.not(ssh.status, 0);
  t.regex(ssh.stderr, /No user exists for uid 54329/, 'the oracle refuses too');
  const r = asNameless([process.execPath, join(PROJECT_ROOT, 'bin', 'rig.js'), 'plan', '-i', inventory, 'playbooks/example.ts']);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /^error\[SSH_CONFIG\]: no user exists for uid 54329/m);
  t.regex(r.stderr, /hint: run rig as a user listed in \/etc\/passwd/);
  t.notRegex(r.stderr, /INTERNAL|uv_os_get_passwd/);
});
