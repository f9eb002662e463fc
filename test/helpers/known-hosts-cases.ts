/**
 * Generated known_hosts setups for the host-key differential test (test/e2e/host-keys.test.ts): a seeded PRNG picks
 * a target server, StrictHostKeyChecking, HostKeyAlias, CheckHostIP, HashKnownHosts and the lines of one to three
 * known_hosts files, biased towards names and keys that concern the target so that every branch is reached.
 */
import { hashHostName } from '../../src/connectors/known-hosts.ts';
import type { StrictHostKeyChecking } from '../../src/connectors/host-key-decision.ts';
import { seededRandom } from './seeded-random.ts';
export { seededRandom };


export interface PublicKey { readonly type: string; readonly b64: string }

export interface Server {
  readonly ip: string;
  readonly port: number;
  /** The server's host keys (plain). */
  readonly keys: readonly PublicKey[];
  /** Serves a host certificate signed by the test CA. */
  readonly cert?: boolean;
}

export interface HostKeyCase {
  readonly id: string;
  readonly server: Server;
  readonly strict: StrictHostKeyChecking;
  readonly alias?: string;
  readonly checkHostIp: boolean;
  readonly hash: boolean;
  /** Contents of the UserKnownHostsFile files (the first gets new keys) and of the GlobalKnownHostsFile files. */
  readonly userFiles: readonly string[];
  readonly globalFiles: readonly string[];
}

export interface CasePools {
  readonly servers: readonly Server[];
  /** Keys no server has. */
  readonly strangers: readonly PublicKey[];
  /** The CA that signed the certificate server's host certificate. */
  readonly ca: PublicKey;
  readonly otherIps: readonly string[];
}

const ALIASES = ['db', 'db.example.org', 'web-1', 'Mixed.Case'];
const STRICT: readonly StrictHostKeyChecking[] = ['yes', 'accept-new', 'no', 'ask'];

export function generateCase(rnd: () => number, n: number, pools: CasePools): HostKeyCase {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const server = pick(pools.servers);
  const checkHostIp = chance(0.3);
  // CheckHostIP only differs from the name check under an alias (the fleet is addressed by IP): pair them often
  const alias = chance(checkHostIp ? 0.6 : 0.2) ? pick(ALIASES) : undefined;
  const { ip, port } = server;
  const otherPort = pick([22, 2222, 2200, 2022, 2223].filter((p) => p !== port));
  const octets = ip.split('.');
  const names = (): string => {
    const forms = [
      ip, `[${ip}]:${port}`, `[${ip}]:${otherPort}`, port === 22 ? `[${ip}]:22` : ip,
      `${octets.slice(0, 3).join('.')}.*`, `[${octets.slice(0, 3).join('.')}.*]:${port}`, `[${ip}]:*`, '*', `${octets.slice(0, 3).join('.')}.?`,
      `${octets.slice(0, 3).join('.')}.1?`, `[${ip}]:${String(port).slice(0, -1)}?`,
      `!${ip}`, `![${ip}]:${port}`, `!*`, pick(pools.otherIps), `[${pick(pools.otherIps)}]:${port}`,
      ...(alias ? [alias, alias.toUpperCase(), `${alias.slice(0, 2)}*`, `!${alias}`] : ['db', 'Mixed.Case']),
    ];
    if (chance(0.2)) {
      const plain = pick([ip, `[${ip}]:${port}`, ...(alias ? [alias.toLowerCase(), alias] : []), `[${ip}]:${otherPort}`]);
      return hashHostName(plain);
    }
    const count = 1 + Math.floor(rnd() * 3);
    return Array.from({ length: count }, () => pick(forms)).join(',');
  };
  const key = (marker: string): PublicKey => {
    if (marker === '@cert-authority' && chance(0.7)) return pools.ca;
    const r = rnd();
    if (r < 0.55) return pick(server.keys);
    if (r < 0.8) return pick(pick(pools.servers).keys);
    return pick(pools.strangers);
  };
  const line = (): string => {
    const r = rnd();
    if (r < 0.04) return '# a comment';
    if (r < 0.06) return '';
    const marker = chance(0.1) ? '@revoked' : chance(0.08) ? '@cert-authority' : '';
    const k = key(marker);
    const text = `${marker ? `${marker} ` : ''}${names()} ${k.type} ${k.b64}`;
    if (r < 0.08) return `${text} a trailing comment`;
    if (r < 0.09) return `  ${text}`;
    return text;
  };
  const file = (): string => {
    const count = Math.floor(rnd() * 6);
    return Array.from({ length: count }, line).map((l) => `${l}\n`).join('');
  };
  const userFiles = chance(0.25) ? [file(), file()] : [file()];
  const globalFiles = chance(0.3) ? [file()] : [];
  return {
    id: `gen-${n}`, server, strict: pick(STRICT), ...(alias ? { alias } : {}),
    checkHostIp, hash: chance(0.3), userFiles, globalFiles,
  };
}
