/**
 * Accept or refuse a server's host key exactly as OpenSSH 9.2's check_host_key() (sshconnect.c) decides in batch
 * mode, for plain (non-certificate) host keys: the same names looked up (`[host]:port`, HostKeyAlias, the address
 * with CheckHostIP, the port-less retry), the same statuses (OK, NEW, CHANGED, REVOKED) and the same lines appended
 * for accept-new / no. Also the host-key algorithm order OpenSSH proposes (sshconnect2.c order_hostkeyalgs()), which
 * decides which of a server's keys is offered. Pure apart from reading the known_hosts files.
 */
import { isIP } from 'node:net';
import {
  formatKnownHostsLine, keyTypeOf, knownHostsName, loadHostEntries, lowercaseAscii, type KnownHostEntry,
} from './known-hosts.ts';

export type StrictHostKeyChecking = 'yes' | 'accept-new' | 'no' | 'ask';

export interface HostKeyContext {
  /** The host name ssh connects to (HostName, or the address): lowercased unless it is an address. */
  readonly hostname: string;
  readonly port: number;
  /** The address really connected to, for CheckHostIP; undefined through a jump host / proxy (as OpenSSH). */
  readonly address?: string;
  readonly hostKeyAlias?: string;
  /** @default false (OpenSSH 9.2's default) */
  readonly checkHostIp?: boolean;
  /** `ask` behaves as in BatchMode: anything that would ask is refused. @default 'ask' */
  readonly strict?: StrictHostKeyChecking;
  /** @default false */
  readonly hashKnownHosts?: boolean;
  /** UserKnownHostsFile: the first one is where new keys are appended. */
  readonly userFiles: readonly string[];
  /** GlobalKnownHostsFile: read only. */
  readonly globalFiles: readonly string[];
}

export type HostKeyStatus = 'ok' | 'new' | 'changed' | 'revoked';

export type HostKeyDecision =
  | { readonly verdict: 'accept'; readonly append?: { readonly file: string; readonly text: string };
      /** Accepted although known_hosts disagrees (StrictHostKeyChecking no): changed or revoked. */
      readonly insecure?: 'changed' | 'revoked' | 'ip-changed' }
  | { readonly verdict: 'refuse-unknown'; readonly name: string; readonly why: 'strict' | 'ask' | 'readonly' | 'cert-authority-only';
      readonly otherTypes: readonly KnownHostEntry[]; readonly certAuthorities: readonly KnownHostEntry[] }
  | { readonly verdict: 'refuse-changed'; readonly name: string; readonly offending: readonly KnownHostEntry[] }
  | { readonly verdict: 'refuse-revoked'; readonly name: string; readonly revoked: readonly KnownHostEntry[] }
  | { readonly verdict: 'refuse-ip-changed'; readonly name: string; readonly ip: string; readonly offending: KnownHostEntry;
      /** OpenSSH records a new host key before it checks the address, and keeps it when it then refuses. */
      readonly append?: { readonly file: string; readonly text: string } };

interface Lookup { readonly status: HostKeyStatus; readonly found?: KnownHostEntry }

/** hostfile.c check_key_in_hostkeys() for a plain key: first equal key → OK, else the last other key → CHANGED. */
export function lookupHostKey(entries: readonly KnownHostEntry[], key: Buffer): Lookup {
  let result: Lookup = { status: 'new' };
  for (const e of entries) {
    if (e.marker !== 'none') continue;
    if (e.blob.equals(key)) { result = { status: 'ok', found: e }; break; }
    result = { status: 'changed', found: e };
  }
  if (entries.some((e) => e.marker === 'revoked' && e.blob.equals(key))) return { status: 'revoked' };
  return result;
}

/** The plain host-key algorithms OpenSSH 9.2 proposes by default that ssh2 can use, in OpenSSH's order. */
export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256',
];

function keyTypeForAlgorithm(alg: string): string {
  return alg.startsWith('rsa-sha2-') ? 'ssh-rsa' : alg;
}

/** The name known_hosts is searched under: HostKeyAlias (lowercased, as ssh does), else `[hostname]:port` (bare on
 *  port 22/0). */
export function hostKeyLookupName(ctx: HostKeyContext, port = ctx.port): string {
  return ctx.hostKeyAlias !== undefined ? lowercaseAscii(ctx.hostKeyAlias) : knownHostsName(ctx.hostname, port);
}

/**
 * order_hostkeyalgs(): if a usable plain key of the first preferred type (ed25519) is known, the default order;
 * otherwise the algorithms whose key type is known first, the rest after, each group in the default order.
 */
export function orderHostKeyAlgorithms(ctx: HostKeyContext): string[] {
  const entries = loadHostEntries([...ctx.userFiles, ...ctx.globalFiles], hostKeyLookupName(ctx));
  const known = (type: string): boolean => {
    const first = entries.find((e) => e.marker === 'none' && e.type === type);
    return first !== undefined && !entries.some((e) => e.marker === 'revoked' && e.blob.equals(first.blob));
  };
  if (known(keyTypeForAlgorithm(DEFAULT_HOST_KEY_ALGORITHMS[0]!))) return [...DEFAULT_HOST_KEY_ALGORITHMS];
  const first = DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => known(keyTypeForAlgorithm(a)));
  return [...first, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1';
}

type Readonly_ = 'rdrw' | 'rdonly' | 'roquiet';

/** OpenSSH mutates options.check_host_ip while deciding (the port-less retry can switch it off for good). */
interface State { checkHostIp: boolean }

/**
 * check_host_key(): the decision for `key` (a plain public key blob as the server offered it).
 * Nothing is written: an accepted new key comes back as `append` for the caller to write.
 */
export function decideHostKey(ctx: HostKeyContext, key: Buffer): HostKeyDecision {
  const strict = ctx.strict ?? 'ask';
  const state: State = { checkHostIp: ctx.checkHostIp === true };
  return check(ctx, strict, state, key, ctx.port, 'rdrw', false);
}

function check(ctx: HostKeyContext, strict: StrictHostKeyChecking, state: State, key: Buffer, port: number, ro: Readonly_, clobberPort: boolean): HostKeyDecision {
  const files = [...ctx.userFiles, ...ctx.globalFiles];
  let readonly = ro;
  // never write a name that known_hosts would read as a pattern or a hash
  if (/[@?*#[\]|'"\\]/.test(ctx.hostname)) readonly = 'rdonly';
  const effPort = clobberPort ? 0 : port;
  const host = hostKeyLookupName(ctx, effPort);
  const ip = ctx.address === undefined ? '<no hostip for proxy command>' : knownHostsName(ctx.address, effPort);
  if (state.checkHostIp && (isLoopback(ctx.address) || ctx.hostname === ip || ctx.address === undefined)) state.checkHostIp = false;

  const hostEntries = loadHostEntries(files, host);
  const ipEntries = state.checkHostIp ? loadHostEntries(files, ip) : undefined;
  const hostLookup = lookupHostKey(hostEntries, key);
  if (readonly === 'rdrw' && ctx.userFiles.length === 0) readonly = 'rdonly';
  let ipLookup: Lookup = hostLookup;
  if (ipEntries) ipLookup = lookupHostKey(ipEntries, key);

  let accepted: HostKeyDecision = { verdict: 'accept' };
  switch (hostLookup.status) {
    case 'ok':
      if (state.checkHostIp && ipLookup.status === 'new' && readonly === 'rdrw') {
        accepted = { verdict: 'accept', append: { file: ctx.userFiles[0]!, text: formatKnownHostsLine(ip, key, ctx.hashKnownHosts === true) } };
      }
      break;
    case 'new': {
      if (ctx.hostKeyAlias === undefined && port !== 0 && port !== 22 && !clobberPort) {
        const portless = check(ctx, strict, state, key, 0, 'roquiet', true);
        if (portless.verdict === 'accept') { accepted = portless; break; }
        // deliberately stricter than OpenSSH, which only prints the warning and goes on to treat the key as new:
        // a key revoked under the port-less name is refused
        if (portless.verdict === 'refuse-revoked') return portless;
      }
      const refuseNew = (why: 'strict' | 'ask' | 'readonly' | 'cert-authority-only'): HostKeyDecision => ({
        verdict: 'refuse-unknown', name: host, why,
        otherTypes: hostEntries.filter((e) => e.marker === 'none' && e.type !== keyTypeOf(key)),
        certAuthorities: hostEntries.filter((e) => e.marker === 'cert-authority'),
      });
      // rig cannot negotiate host certificates (ssh2): a host vouched for only by a CA is never accepted
      if (hostEntries.some((e) => e.marker === 'cert-authority')) return refuseNew('cert-authority-only');
      if (readonly !== 'rdrw') return refuseNew('readonly');
      if (strict === 'yes') return refuseNew('strict');
      if (strict === 'ask') return refuseNew('ask');
      const hash = ctx.hashKnownHosts === true;
      let text: string;
      if (state.checkHostIp && ipLookup.status === 'new') {
        text = hash ? formatKnownHostsLine(host, key, true) + formatKnownHostsLine(ip, key, true) : formatKnownHostsLine(`${host},${ip}`, key, false);
      } else {
        text = formatKnownHostsLine(host, key, hash);
      }
      accepted = { verdict: 'accept', append: { file: ctx.userFiles[0]!, text } };
      break;
    }
    case 'revoked':
      if (strict !== 'no') {
        return { verdict: 'refuse-revoked', name: host, revoked: hostEntries.filter((e) => e.marker === 'revoked' && e.blob.equals(key)) };
      }
      accepted = { verdict: 'accept', insecure: 'revoked' };
      break;
    case 'changed':
      if (readonly === 'roquiet' || strict !== 'no') {
        return {
          verdict: 'refuse-changed', name: host,
          offending: [...hostEntries.filter((e) => e.marker === 'none' && e !== hostLookup.found), hostLookup.found!],
        };
      }
      accepted = { verdict: 'accept', insecure: 'changed' };
      break;
  }
  if (state.checkHostIp && hostLookup.status !== 'changed' && ipLookup.status === 'changed') {
    if (strict !== 'no') {
      const append = accepted.verdict === 'accept' ? accepted.append : undefined;
      return { verdict: 'refuse-ip-changed', name: host, ip, offending: ipLookup.found!, ...(append ? { append } : {}) };
    }
    return { ...accepted, insecure: 'ip-changed' } as HostKeyDecision;
  }
  return accepted;
}
