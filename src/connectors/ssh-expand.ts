/**
 * OpenSSH's expansions of ssh_config values: `~` / `~user` (misc.c tilde_expand: the password database, not $HOME),
 * `%x` tokens and `${ENV}` (misc.c percent_dollar_expand), and the `%C` connection hash.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SshConfigError } from '../errors.ts';

/** Who and where rig runs: what OpenSSH reads from getpwuid(), gethostname() and the environment. */
export interface LocalIdentity {
  readonly userName: string;
  readonly uid: number;
  /** pw_dir of the user (not $HOME: OpenSSH's `~` and `%d` come from the password database). */
  readonly homeDir: string;
  /** gethostname(): `%l`; `%L` is the part before the first dot. */
  readonly hostName: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** pw_dir of a named user from /etc/passwd, or undefined. */
export function lookupUserHome(name: string, passwdFile = '/etc/passwd'): string | undefined {
  let text = '';
  try { text = readFileSync(passwdFile, 'utf8'); } catch { return undefined; }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) return f[5];
  }
  return undefined;
}

/** misc.c tilde_expand: `~`, `~/x`, `~user/x`; anything else unchanged. Throws for an unknown user. */
export function expandTilde(path: string, local: LocalIdentity): string {
  if (!path.startsWith('~')) return path;
  const body = path.slice(1);
  let user: string | undefined;
  let rest: string | undefined;
  if (body === '') rest = undefined;
  else if (body.startsWith('/')) { const r = body.replace(/^\/+/, ''); rest = r === '' ? undefined : r; }
  else {
    const slash = body.indexOf('/');
    user = slash < 0 ? body : body.slice(0, slash);
    if (slash >= 0) { const r = body.slice(slash + 1).replace(/^\/+/, ''); rest = r === '' ? undefined : r; }
  }
  const home = user === undefined ? local.homeDir : lookupUserHome(user);
  if (home === undefined) throw new SshConfigError(`${path}: no such user ${user}`, { hint: 'fix the ~user path in ssh_config' });
  const slash = home === '' || !home.endsWith('/');
  return `${home}${slash ? '/' : ''}${rest ?? ''}`;
}

/**
 * misc.c percent_dollar_expand: `%%` and the given one-letter tokens; `${VAR}` from the environment when `dollar`.
 * An unknown token, a lone `%` at the end, or an unset/unclosed variable is an error, as in OpenSSH.
 */
export function expandPercent(value: string, tokens: Readonly<Record<string, string>> | null, env?: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (env && c === '$' && value[i + 1] === '{') {
      const end = value.indexOf('}', i + 2);
      if (end < 0) throw new SshConfigError(`${value}: environment variable missing closing '}'`);
      const name = value.slice(i + 2, end);
      if (name === '') throw new SshConfigError(`${value}: zero-length environment variable`);
      const v = env[name];
      if (v === undefined) throw new SshConfigError(`${value}: environment variable \${${name}} has no value`);
      out += v;
      i = end;
      continue;
    }
    if (c !== '%' || tokens === null) { out += c; continue; }
    const t = value[++i];
    if (t === '%') { out += '%'; continue; }
    if (t === undefined) throw new SshConfigError(`${value}: invalid format (a lone % at the end)`, { hint: 'write %% for a literal %' });
    const r = tokens[t];
    if (r === undefined) throw new SshConfigError(`${value}: unknown token %${t}`, { hint: 'write %% for a literal %' });
    out += r;
  }
  return out;
}

/** readconf.c ssh_connection_hash: SHA-1 hex of local host name + host + port + user (`%C`). */
export function connectionHash(thisHost: string, host: string, port: string, user: string): string {
  return createHash('sha1').update(thisHost).update(host).update(port).update(user).digest('hex');
}

/** The tokens OpenSSH expands in most client keywords (sshconnect.h DEFAULT_CLIENT_PERCENT_EXPAND_ARGS). */
export function clientTokens(o: { readonly hostArg: string; readonly host: string; readonly port: number; readonly user: string; readonly keyAlias?: string | undefined }, local: LocalIdentity): Record<string, string> {
  const port = String(o.port);
  return {
    C: connectionHash(local.hostName, o.host, port, o.user), L: local.hostName.split('.')[0]!, i: String(local.uid),
    k: o.keyAlias ?? o.hostArg, l: local.hostName, n: o.hostArg, p: port, d: local.homeDir, h: o.host, r: o.user, u: local.userName,
  };
}

/** tilde, then tokens and ${ENV}: how OpenSSH expands IdentityFile, UserKnownHostsFile, IdentityAgent. */
export function expandClientPath(value: string, tokens: Readonly<Record<string, string>>, local: LocalIdentity): string {
  return expandPercent(expandTilde(value, local), tokens, local.env);
}
