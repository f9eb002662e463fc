/**
 * known_hosts files read the way OpenSSH 9.2 reads them (hostfile.c, match.c, sshkey.c): which lines name a host,
 * plain or hashed, with `*` `?` patterns and `!` negations, `@revoked` / `@cert-authority` markers, and which lines
 * are silently ignored because OpenSSH could not parse them. Pure apart from reading the files.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchPattern, matchPatternList } from './openssh-match.ts';
export { matchPattern };

/** OpenSSH-style fingerprint of a public key blob: `SHA256:<base64 without padding>`. */
export function fingerprintKey(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** OpenSSH's put_host_port(): `name` on port 22 (or 0, "no port"), `[name]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 0 || port === 22 ? host : `[${host}]:${port}`;
}

export type KnownHostsMarker = 'none' | 'revoked' | 'cert-authority';

/** One usable known_hosts line that names the looked-up host. */
export interface KnownHostEntry {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly marker: KnownHostsMarker;
  /** The names field as written (hashed or a pattern list). */
  readonly names: string;
  /** Key type as OpenSSH names it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`…). */
  readonly type: string;
  /** The decoded public key blob. */
  readonly blob: Buffer;
}

/** Lowercase ASCII only (OpenSSH's lowercase()/tolower in the C locale). */
export function lowercaseAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * match.c match_hostname(): comma-separated subpatterns, each maybe `!`-negated, compared in lowercase.
 * -1 = a negated subpattern matched (the line does not name the host, whatever else matches), 1 = a positive match,
 * 0 = no match. A subpattern of 1023 characters or more makes the whole list not match, as in OpenSSH.
 */
export function matchHostname(host: string, patternList: string): -1 | 0 | 1 {
  return matchPatternList(lowercaseAscii(host), patternList, true);
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** OpenSSH's b64_pton(): whitespace (\r, \v, \f) skipped, whole groups of 4 only, zero padding bits. */
function decodeBase64Strict(raw: string): Buffer | undefined {
  const s = raw.replace(/[\r\n\v\f]/g, '');
  if (!B64.test(s) || s.length % 4 !== 0) return undefined;
  const b = Buffer.from(s, 'base64');
  // non-canonical trailing bits or stray padding: OpenSSH's b64_pton rejects what does not round-trip
  return b.toString('base64').replace(/=+$/, '') === s.replace(/=+$/, '') ? b : undefined;
}

/** The salt and hash of a `|1|salt|hash` field, or undefined when OpenSSH would call it a bad host hash. */
function parseHashed(names: string): Buffer | undefined {
  if (!names.startsWith('|1|')) return undefined;
  const rest = names.slice(3);
  const bar = rest.indexOf('|');
  if (bar <= 0 || bar > 1024) return undefined;
  const salt = decodeBase64Strict(rest.slice(0, bar));
  return salt && salt.length === 20 ? salt : undefined;
}

/** hostfile.c host_hash(): `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`. A new random salt without one. */
export function hashHostName(host: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(host, 'latin1').digest('base64')}`;
}

/** hostfile.c match_maybe_hashed(): true/false, or 'bad' for an unusable hash (the line is then ignored). */
export function matchNamesField(host: string, names: string): boolean | 'bad' {
  if (names.startsWith('|')) {
    const salt = parseHashed(names);
    if (!salt) return 'bad';
    return hashHostName(host, salt) === names;
  }
  return matchHostname(host, names) === 1;
}

class BlobReader {
  #off = 0;
  constructor(private readonly b: Buffer) {}
  string(): Buffer | undefined {
    if (this.#off + 4 > this.b.length) return undefined;
    const n = this.b.readUInt32BE(this.#off);
    if (this.#off + 4 + n > this.b.length) return undefined;
    const s = this.b.subarray(this.#off + 4, this.#off + 4 + n);
    this.#off += 4 + n;
    return s;
  }
  get done(): boolean { return this.#off === this.b.length; }
}

const CURVES: Readonly<Record<string, string>> = {
  'ecdsa-sha2-nistp256': 'nistp256', 'ecdsa-sha2-nistp384': 'nistp384', 'ecdsa-sha2-nistp521': 'nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'nistp256',
};

/**
 * sshkey_read() of a plain public key: the blob's type must be the line's type, with the right parts and nothing
 * after them. Certificates as known_hosts keys are not understood (the line is ignored); RSA modulus size and EC
 * point validity are not checked (OpenSSH would ignore such lines too, but no real file has them).
 */
export function parsePublicKeyBlob(type: string, blob: Buffer): boolean {
  const r = new BlobReader(blob);
  if (r.string()?.toString('latin1') !== type) return false;
  const parts = (n: number): boolean => { for (let i = 0; i < n; i++) if (!r.string()) return false; return true; };
  switch (type) {
    case 'ssh-ed25519': { const pk = r.string(); return pk?.length === 32 && r.done; }
    case 'sk-ssh-ed25519@openssh.com': { const pk = r.string(); return pk?.length === 32 && parts(1) && r.done; }
    case 'ssh-rsa': return parts(2) && r.done;
    case 'ssh-dss': return parts(4) && r.done;
    case 'ecdsa-sha2-nistp256': case 'ecdsa-sha2-nistp384': case 'ecdsa-sha2-nistp521':
      return r.string()?.toString('latin1') === CURVES[type] && parts(1) && r.done;
    case 'sk-ecdsa-sha2-nistp256@openssh.com':
      return r.string()?.toString('latin1') === CURVES[type] && parts(2) && r.done;
    default: return false;
  }
}

/** The key type named inside a blob (`ssh-ed25519`…). */
export function keyTypeOf(blob: Buffer): string {
  return blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : '';
}

/** OpenSSH's short type name for messages (sshkey_type()): ED25519, ECDSA, RSA, DSA… */
export function keyTypeLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type === 'sk-ssh-ed25519@openssh.com') return 'ED25519-SK';
  if (type.startsWith('ecdsa-')) return 'ECDSA';
  if (type.startsWith('sk-ecdsa-')) return 'ECDSA-SK';
  if (type === 'ssh-rsa') return 'RSA';
  if (type === 'ssh-dss') return 'DSA';
  return type;
}

function isSpace(c: string | undefined): boolean { return c === ' ' || c === '\t'; }

/** hostfile.c check_markers(): the marker and where the names start, or 'error' (the line is ignored). */
function readMarker(line: string, at: number): { marker: KnownHostsMarker; at: number } | 'error' {
  let marker: KnownHostsMarker = 'none';
  let cp = at;
  while (line[cp] === '@') {
    if (marker !== 'none') return 'error';
    // terminated by the first space anywhere after it, or failing that the first tab (OpenSSH's strchr order)
    let sp = line.indexOf(' ', cp);
    if (sp < 0) sp = line.indexOf('\t', cp);
    if (sp < 0 || sp <= cp + 1 || sp >= cp + 32) return 'error';
    const word = line.slice(cp, sp);
    if (word === '@cert-authority') marker = 'cert-authority';
    else if (word === '@revoked') marker = 'revoked';
    else return 'error';
    cp = sp;
    while (isSpace(line[cp])) cp++;
  }
  return { marker, at: cp };
}

/** The lines of known_hosts text as OpenSSH's getline loop sees them (split on \n only; a NUL ends a line). */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => { const z = l.indexOf('\0'); return z >= 0 ? l.slice(0, z) : l; });
}

/** Every usable line of known_hosts `text` (read as bytes) whose names match `host` (hostfile.c load_hostkeys). */
export function findHostEntries(text: string, file: string, host: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const [i, line] of splitLines(text).entries()) {
    let cp = 0;
    while (isSpace(line[cp])) cp++;
    if (cp >= line.length || line[cp] === '#') continue;
    const m = readMarker(line, cp);
    if (m === 'error') continue;
    cp = m.at;
    let end = cp;
    while (end < line.length && !isSpace(line[end])) end++;
    const names = line.slice(cp, end);
    if (matchNamesField(host, names) !== true) continue;
    cp = end;
    while (isSpace(line[cp])) cp++;
    // key type, whitespace, base64 blob, then anything (a comment)
    let te = cp;
    while (te < line.length && !isSpace(line[te])) te++;
    if (te >= line.length) continue;
    const type = line.slice(cp, te);
    let bs = te;
    while (isSpace(line[bs])) bs++;
    if (bs >= line.length) continue;
    let be = bs;
    while (be < line.length && !isSpace(line[be])) be++;
    const blob = decodeBase64Strict(line.slice(bs, be));
    if (!blob || !parsePublicKeyBlob(type, blob)) continue;
    out.push({ file, line: i + 1, marker: m.marker, names, type, blob });
  }
  return out;
}

/** Read one known_hosts file (missing or unreadable → no entries, as OpenSSH) and find `host`'s entries. */
export function loadHostEntries(files: readonly string[], host: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try { text = readFileSync(file, 'latin1'); } catch { continue; }
    out.push(...findHostEntries(text, file, host));
  }
  return out;
}

/** hostfile.c write_host_entry(): the line OpenSSH appends for `name` (lowercased; hashed with HashKnownHosts). */
export function formatKnownHostsLine(name: string, blob: Buffer, hash: boolean): string {
  const n = lowercaseAscii(name);
  return `${hash ? hashHostName(n) : n} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
}

/** Append accepted lines (OpenSSH's add_host_to_hostfile). Like ssh, a file that cannot be written does not stop the
 *  connection: false is returned and the caller says so. */
export function appendKnownHostsText(file: string, text: string): boolean {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    appendFileSync(file, text, { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}
