import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** OpenSSH-style fingerprint of a public key blob: `SHA256:<base64 without padding>`. */
export function fingerprintKey(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** How known_hosts names a host: `name` on port 22, `[name]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matchesName(field: string, names: readonly string[]): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const s = Buffer.from(salt, 'base64');
    return names.some((n) => createHmac('sha1', s).update(n).digest('base64') === hash);
  }
  let hit = false;
  for (const p of field.split(',')) {
    const neg = p.startsWith('!');
    const re = new RegExp(`^${(neg ? p.slice(1) : p).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (names.some((n) => re.test(n))) { if (neg) return false; hit = true; }
  }
  return hit;
}

export type HostKeyVerdict =
  | { readonly status: 'match' }
  | { readonly status: 'unknown' }
  | { readonly status: 'changed'; readonly expected: readonly string[]; readonly file: string; readonly line: number }
  | { readonly status: 'revoked'; readonly file: string; readonly line: number };

/**
 * Check a host key against known_hosts files, by every name the host goes by (alias, address; `[x]:port` form on
 * other ports). A host listed with other keys of the same type (or only other keys) is `changed`.
 */
export function verifyHostKey(files: readonly string[], names: readonly string[], port: number, keyBlob: Buffer): HostKeyVerdict {
  const lookups = [...new Set(names.map((n) => knownHostsName(n, port)))];
  const keyB64 = keyBlob.toString('base64');
  let changed: HostKeyVerdict | undefined;
  for (const file of files) {
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const [i, raw] of lines.entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      let parts = line.split(/\s+/);
      let marker: string | undefined;
      if (parts[0]!.startsWith('@')) { marker = parts[0]; parts = parts.slice(1); }
      const [names_, type, b64] = parts;
      if (!names_ || !type || !b64 || !matchesName(names_, lookups)) continue;
      if (marker === '@cert-authority') continue;
      if (marker === '@revoked') { if (b64 === keyB64) return { status: 'revoked', file, line: i + 1 }; continue; }
      if (b64 === keyB64) return { status: 'match' };
      if (!changed) {
        changed = { status: 'changed', expected: [fingerprintKey(Buffer.from(b64, 'base64'))], file, line: i + 1 };
      }
    }
  }
  return changed ?? { status: 'unknown' };
}

/** Record a host key (accept-new). */
export function appendKnownHost(file: string, names: readonly string[], port: number, keyBlob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const type = keyBlob.subarray(4, 4 + keyBlob.readUInt32BE(0)).toString();
  appendFileSync(file, `${[...new Set(names.map((n) => knownHostsName(n, port)))].join(',')} ${type} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
}
