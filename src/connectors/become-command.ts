import { BecomeError } from '../errors.ts';
import type { Host } from '../inventory/types.ts';
import { revealText } from '../core/secret.ts';
import { quoteArgv } from '../text/shell-quote.ts';

/** What sudo prints on stderr when it wants the password (`sudo -S -p PROMPT`): never a secret. */
export const SUDO_PROMPT = '[rig-sudo-password]';
/** Printed on stderr by the become wrapper once sudo has let it run: the script may be sent. */
export const BECOME_MARKER = 'RIG-BECOME-OK';

/** Flags rig sets itself (password mode, prompt, user): dropped from ansible_become_flags (Ansible's default is `-H -S -n`). */
const OWN_FLAGS = new Set(['-S', '-n', '-Sn', '-nS', '--stdin', '--non-interactive']);
const LONG_FLAGS = new Set(['--set-home', '--preserve-env', '--login', '--reset-timestamp']);

export interface BecomeCommand {
  /** The remote command line (no secret in it). */
  readonly command: string;
  /** The password to send on stdin when sudo prompts, else undefined (then sudo runs with -n). */
  readonly password?: string;
}

/**
 * The sudo command line for a become round trip. The password never appears in it: with a password, sudo reads it
 * from stdin (`-S`) after printing SUDO_PROMPT on stderr; without one, `-n` makes sudo fail at once instead of
 * waiting for a password. The wrapper prints BECOME_MARKER on stderr when sudo has let it run.
 */
export function buildBecomeCommand(host: Host, userOverride?: string): BecomeCommand {
  const method = host.becomeMethod ?? 'sudo';
  if (method !== 'sudo') {
    throw new BecomeError(`become method "${method}" is not supported: rig becomes with sudo only`, {
      host: host.name, hint: 'set ansible_become_method: sudo (or remove it) and allow the login user to sudo on the host',
    });
  }
  const flags: string[] = [];
  for (const f of (host.becomeFlags ?? '').split(/\s+/).filter(Boolean)) {
    if (OWN_FLAGS.has(f)) continue;
    if (!/^-[HEik]+$/.test(f) && !LONG_FLAGS.has(f)) {
      throw new BecomeError(`ansible_become_flags: "${f}" is not supported (rig passes -H, -E, -i, -k and their long forms)`, {
        host: host.name, hint: 'use ansible_become_user for the target user; remove the other flags',
      });
    }
    flags.push(f);
  }
  const password = host.becomePassword === undefined ? undefined : revealText(host.becomePassword);
  if (password !== undefined && /[\n\r\0]/.test(password)) {
    throw new BecomeError('the become password contains a line break or NUL byte: sudo reads one line', { host: host.name });
  }
  const mode = password !== undefined ? ['-S', '-p', SUDO_PROMPT] : ['-n'];
  const user = userOverride ?? host.becomeUser ?? 'root';
  return {
    command: quoteArgv(['sudo', ...mode, ...flags, '-u', user, 'sh', '-c', `echo ${BECOME_MARKER} >&2; exec sh -s`]),
    ...(password !== undefined ? { password } : {}),
  };
}

/** The BECOME error for a sudo that did not let the wrapper run, from what it printed. */
export function describeBecomeFailure(host: Host, stderr: string, reason: 'no-password' | 'wrong-password' | 'refused'): BecomeError {
  const user = host.becomeUser ?? 'root';
  const said = stderr.replaceAll(SUDO_PROMPT, '').replaceAll(BECOME_MARKER, '').trim().split('\n').filter(Boolean).slice(-2).join(' / ');
  if (reason === 'wrong-password') {
    return new BecomeError(`sudo on ${host.name} refused the become password (to become ${user})`, {
      host: host.name, hint: 'fix ansible_become_password (inventory or -e), or re-run with --ask-become-pass (-K)',
    });
  }
  if (reason === 'no-password' || /password is required|a terminal is required/i.test(said)) {
    return new BecomeError(`sudo on ${host.name} asks for a password (to become ${user}) and none was given`, {
      host: host.name, hint: 'give it with --ask-become-pass (-K), or ansible_become_password in the inventory or -e; or allow NOPASSWD for this user in sudoers',
    });
  }
  return new BecomeError(`sudo on ${host.name} did not run (to become ${user})${said ? `: ${said}` : ''}`, {
    host: host.name, hint: `check that the login user may run sudo -u ${user} on the host (sudo -l)`,
  });
}
