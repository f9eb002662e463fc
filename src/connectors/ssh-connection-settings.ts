/**
 * The ssh_config keywords that change how a connection is made, beyond host/port/user/identity/host keys: each one
 * rig reads is honoured through ssh2 (algorithms, address family, bind address, connection attempts), or refused
 * with an error, or reported with a warning naming the keyword and the host. None is silently dropped (docs/ssh.md).
 */
import { createRequire } from 'node:module';
import type { Algorithms } from 'ssh2';
import { SshConfigError } from '../errors.ts';
import { matchPatternList } from './ssh-config-lexer.ts';
import type { SshHostConfig } from './ssh-config.ts';

/** The algorithms ssh2 implements (its protocol constants; the module has no type declarations). */
type SupportedTables = Readonly<Record<'SUPPORTED_CIPHER' | 'SUPPORTED_KEX' | 'SUPPORTED_MAC' | 'SUPPORTED_SERVER_HOST_KEY', readonly string[]>>;
let supported: SupportedTables | undefined;
/** ssh2's algorithm tables, loaded when first needed (ssh2's CommonJS files are not part of `rig --version`). */
const getSupported = (): SupportedTables => supported ??= createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as SupportedTables;

export interface ConnectionSettings {
  readonly algorithms?: Algorithms;
  readonly forceIPv4?: boolean;
  readonly forceIPv6?: boolean;
  readonly localAddress?: string;
  /** Things rig does not do although the config asks for them (one sentence each, naming keyword and host). */
  readonly warnings: readonly string[];
}

const ALGORITHM_KEYWORDS = [
  ['ciphers', 'Ciphers', 'cipher', 'SUPPORTED_CIPHER'],
  ['kexalgorithms', 'KexAlgorithms', 'kex', 'SUPPORTED_KEX'],
  ['macs', 'MACs', 'hmac', 'SUPPORTED_MAC'],
  ['hostkeyalgorithms', 'HostKeyAlgorithms', 'serverHostKey', 'SUPPORTED_SERVER_HOST_KEY'],
] as const;

/** The keywords below as ssh_config(5) writes them, for messages. */
const DISPLAY: Readonly<Record<string, string>> = {
  pubkeyauthentication: 'PubkeyAuthentication', knownhostscommand: 'KnownHostsCommand', revokedhostkeys: 'RevokedHostKeys',
  controlmaster: 'ControlMaster', controlpersist: 'ControlPersist', forwardagent: 'ForwardAgent', forwardx11: 'ForwardX11',
  localforward: 'LocalForward', remoteforward: 'RemoteForward', dynamicforward: 'DynamicForward', tunnel: 'Tunnel',
  bindinterface: 'BindInterface', remotecommand: 'RemoteCommand', setenv: 'SetEnv', certificatefile: 'CertificateFile',
  pkcs11provider: 'PKCS11Provider', securitykeyprovider: 'SecurityKeyProvider', verifyhostkeydns: 'VerifyHostKeyDNS',
};

/** Keywords rig cannot honour and will not connect without: an error. */
const REFUSED: Readonly<Record<string, (v: string) => string | undefined>> = {
  pubkeyauthentication: (v) => (/^(no|false)$/i.test(v) ? 'rig authenticates with keys only' : undefined),
  knownhostscommand: (v) => (v.toLowerCase() !== 'none' ? 'rig checks host keys against known_hosts files only' : undefined),
  revokedhostkeys: (v) => (v.toLowerCase() !== 'none' ? 'rig cannot check a revoked-keys file or KRL; list revoked keys as @revoked in known_hosts' : undefined),
};

/** Keywords rig does not act on although they ask for something: a warning. */
const WARNED: Readonly<Record<string, (v: string) => string | undefined>> = {
  controlmaster: (v) => (/^(no|false)$/i.test(v) ? undefined : 'rig keeps one connection per host for the run and does not use control masters'),
  controlpersist: (v) => (/^(no|false)$/i.test(v) ? undefined : 'rig does not leave connections open after the run'),
  forwardagent: (v) => (/^(no|false)$/i.test(v) ? undefined : 'the agent is not forwarded to the host'),
  forwardx11: (v) => (/^(no|false)$/i.test(v) ? undefined : 'X11 is not forwarded'),
  localforward: () => 'ports are not forwarded',
  remoteforward: () => 'ports are not forwarded',
  dynamicforward: () => 'no SOCKS proxy is opened',
  tunnel: (v) => (/^(no|false)$/i.test(v) ? undefined : 'no tun device is forwarded'),
  bindinterface: () => 'the source interface is not bound (BindAddress is honoured)',
  remotecommand: (v) => (v.toLowerCase() === 'none' ? undefined : 'rig runs its own scripts, not the RemoteCommand'),
  setenv: () => 'the variables are not sent',
  certificatefile: () => 'certificates are not offered; plain keys are',
  pkcs11provider: (v) => (v.toLowerCase() === 'none' ? undefined : 'PKCS#11 keys are not used (use ssh-agent)'),
  securitykeyprovider: (v) => (v === 'internal' ? undefined : 'security keys are not used (use ssh-agent)'),
  verifyhostkeydns: (v) => (/^(no|false)$/i.test(v) ? undefined : 'SSHFP records are not consulted; known_hosts is'),
};

function algorithmList(keyword: string, value: string, supported: readonly string[], host: string, warnings: string[]): Algorithms[keyof Algorithms] {
  const prefix = /^[-+^]/.test(value) ? value[0] : '';
  const list = prefix ? value.slice(1) : value;
  if (prefix === '-') return { remove: supported.filter((a) => matchPatternList(a, list, false) === 1) } as never;
  const names = list.split(',').filter(Boolean);
  const known: string[] = [];
  const missing: string[] = [];
  for (const n of names) {
    const hits = /[*?]/.test(n) ? supported.filter((a) => matchPatternList(a, n, false) === 1) : supported.includes(n) ? [n] : [];
    if (hits.length) for (const h of hits) { if (!known.includes(h)) known.push(h); } else missing.push(n);
  }
  if (missing.length) warnings.push(`${keyword} ${missing.join(',')} for ${host}: not offered (ssh2, which rig uses, lacks ${missing.length > 1 ? 'them' : 'it'})`);
  if (prefix === '+') return { append: known } as never;
  if (prefix === '^') return { prepend: known } as never;
  if (known.length === 0) {
    throw new SshConfigError(`${keyword} ${value} for ${host}: ssh2, which rig uses, supports none of these`, {
      host, hint: `supported: ${supported.join(',')}` });
  }
  return known as never;
}

/** ssh2 settings for the keywords above; throws SshConfigError for a keyword rig must refuse. */
export function resolveConnectionSettings(config: SshHostConfig, host: string): ConnectionSettings {
  const warnings: string[] = [];
  if (config.proxyCommand !== undefined) {
    throw new SshConfigError(`ProxyCommand for ${host} is not supported by rig: ${config.proxyCommand}`, {
      host, hint: 'use ProxyJump (rig connects through each jump host itself), or ProxyCommand none for the hosts rig manages' });
  }
  for (const [k, f] of Object.entries(REFUSED)) {
    const v = config.other.get(k);
    const why = v === undefined ? undefined : f(v);
    if (why) throw new SshConfigError(`${DISPLAY[k] ?? k} ${v} for ${host}: ${why}`, { host, hint: 'set it only for hosts rig does not manage' });
  }
  for (const [k, f] of Object.entries(WARNED)) {
    const v = config.other.get(k);
    const why = v === undefined ? undefined : f(v);
    if (why) warnings.push(`${DISPLAY[k] ?? k} ${v} for ${host}: ${why}`);
  }
  const algorithms: Record<string, unknown> = {};
  for (const [k, name, ssh2Key, table] of ALGORITHM_KEYWORDS) {
    const v = config.other.get(k);
    if (v !== undefined) algorithms[ssh2Key] = algorithmList(name, v, getSupported()[table], host, warnings);
  }
  const family = config.other.get('addressfamily')?.toLowerCase();
  const bind = config.other.get('bindaddress');
  return {
    ...(Object.keys(algorithms).length ? { algorithms: algorithms as Algorithms } : {}),
    ...(family === 'inet' ? { forceIPv4: true } : family === 'inet6' ? { forceIPv6: true } : {}),
    ...(bind !== undefined ? { localAddress: bind } : {}),
    warnings,
  };
}
