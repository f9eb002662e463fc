/**
 * The error for a refused host key, worded like OpenSSH's (REMOTE HOST IDENTIFICATION HAS CHANGED, the offending
 * file:line) with a hint whose commands really fix it (`ssh-keygen -R NAME -f FILE` removes every plain line that
 * names NAME in FILE, hashed or not; the added line uses the very name rig looks up).
 */
import { HostKeyError } from '../errors.ts';
import { quoteArgv } from '../text/shell-quote.ts';
import type { HostKeyContext, HostKeyDecision } from './host-key-decision.ts';
import { fingerprintKey, keyTypeLabel, keyTypeOf, lowercaseAscii, type KnownHostEntry } from './known-hosts.ts';

const at = (e: KnownHostEntry): string => `${e.file}:${e.line}`;
const describe = (e: KnownHostEntry): string => `${keyTypeLabel(e.type)} ${fingerprintKey(e.blob)} (${at(e)})`;

/** A line naming more than the one host (a pattern, a negation, several names): `ssh-keygen -R` drops it whole. */
function isShared(e: KnownHostEntry): boolean {
  return !e.names.startsWith('|') && /[*?!,]/.test(e.names);
}

/** How to add the offered key under the name rig looks up. */
function addHint(ctx: HostKeyContext, name: string, key: Buffer, file: string | undefined): string {
  if (!file) return 'no UserKnownHostsFile is configured to record it in (UserKnownHostsFile none)';
  const fp = fingerprintKey(key);
  const keyscanName = ctx.address ?? ctx.hostname;
  const keyscan = ctx.hostKeyAlias === undefined && name === (ctx.port === 22 ? keyscanName : `[${keyscanName}]:${ctx.port}`);
  const add = keyscan
    ? `${quoteArgv(['ssh-keyscan', '-p', String(ctx.port), '-t', keyTypeOf(key), keyscanName])} >> ${quoteArgv([file])}`
    : `${quoteArgv(['printf', '%s\\n', `${lowercaseAscii(name)} ${keyTypeOf(key)} ${key.toString('base64')}`])} >> ${quoteArgv([file])}`;
  return `check that ${fp} is really the host's key (out of band), then: ${add} — or re-run with --accept-new-host-keys`;
}

/** The HostKeyError for a refusal. `label` names the host for the user (inventory name and endpoint). */
export function hostKeyRefusal(d: Exclude<HostKeyDecision, { verdict: 'accept' }>, ctx: HostKeyContext, key: Buffer, label: string, host: string): HostKeyError {
  const type = keyTypeLabel(keyTypeOf(key));
  const fp = fingerprintKey(key);
  const userFile = ctx.userFiles[0];
  switch (d.verdict) {
    case 'refuse-changed': {
      const files = [...new Set(d.offending.map((e) => e.file))];
      const last = d.offending[d.offending.length - 1]!;
      const shared = d.offending.filter(isShared);
      const remove = files.map((f) => quoteArgv(['ssh-keygen', '-R', d.name, '-f', f])).join(' && ');
      return new HostKeyError([
        `host key of ${label} has CHANGED: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!`,
        `  The ${type} host key for ${d.name} offered by the server is ${fp};`,
        `  known_hosts has for ${d.name}: ${d.offending.map(describe).join(', ')}.`,
        '  Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key has just been changed.',
        `  Offending ${keyTypeLabel(last.type)} key in ${at(last)}`,
      ].join('\n'), {
        host, file: last.file, line: last.line,
        hint: `only if the host really has a new key (check ${fp} out of band): ${remove}`
          + (shared.length ? ` (this drops ${shared.map(at).join(', ')} whole, with the other names or patterns on ${shared.length === 1 ? 'it' : 'them'}: edit by hand instead to keep those)` : '')
          + `, then re-run with --accept-new-host-keys`,
      });
    }
    case 'refuse-revoked':
      return new HostKeyError([
        `host key of ${label} is REVOKED: WARNING: REVOKED HOST KEY DETECTED!`,
        `  The ${type} host key for ${d.name} (${fp}) is marked as revoked in ${d.revoked.map(at).join(', ')}.`,
        '  This could mean that a stolen key is being used to impersonate this host.',
      ].join('\n'), {
        host, ...(d.revoked[0] ? { file: d.revoked[0].file, line: d.revoked[0].line } : {}),
        hint: 'do not connect to this host until it has a new host key; then add that key to known_hosts',
      });
    case 'refuse-ip-changed':
      return new HostKeyError([
        `host key of ${label} differs from the key known for its address ${d.ip} (CheckHostIP yes):`,
        `  the ${type} host key for ${d.name} is ${fp}; offending key for IP in ${at(d.offending)} (${describe(d.offending)}).`,
      ].join('\n'), {
        host, file: d.offending.file, line: d.offending.line,
        hint: `if the address really moved to this host (check ${fp} out of band): ${quoteArgv(['ssh-keygen', '-R', d.ip, '-f', d.offending.file])}`,
      });
    case 'refuse-unknown': {
      const other = d.otherTypes.length ? ` (known_hosts has keys of other types for it: ${d.otherTypes.map(describe).join(', ')})` : '';
      if (d.why === 'cert-authority-only') {
        return new HostKeyError(
          `host key of ${label} is not known: ${fp} (${type}), and the only known_hosts entries for ${d.name} are @cert-authority lines `
          + `(${d.certAuthorities.map(at).join(', ')}): rig does not support host certificates yet, so it cannot check this host`,
          { host, file: d.certAuthorities[0]!.file, line: d.certAuthorities[0]!.line, hint: `add the host's plain key: ${addHint(ctx, d.name, key, userFile)}` },
        );
      }
      const why = d.why === 'strict' ? 'StrictHostKeyChecking yes'
        : d.why === 'ask' ? 'StrictHostKeyChecking ask, and rig never asks'
          : userFile ? `the name ${JSON.stringify(ctx.hostname)} cannot be recorded in known_hosts` : 'no UserKnownHostsFile to record it in';
      return new HostKeyError(`host key of ${label} is not known: ${fp} (no ${type} host key is known for ${d.name}; ${why})${other}`, {
        host, hint: d.why === 'readonly' && userFile ? `add it under a HostKeyAlias: ${addHint(ctx, d.name, key, userFile)}` : addHint(ctx, d.name, key, userFile),
      });
    }
  }
}
