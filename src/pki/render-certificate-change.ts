import { X509Certificate } from 'node:crypto';

/** A certificate decoded (never key material: certificates are public). The `--json` plan's shape (docs/json.md). */
export interface DecodedCertificate {
  readonly subject: string;
  readonly issuer: string;
  /** Subject alternative names as OpenSSL prints them (`DNS:x`, `IP Address:10.0.0.1`). */
  readonly sans: readonly string[];
  /** Public key algorithm in capitals: RSA, EC, ED25519. */
  readonly keyType: string;
  /** RSA modulus length. */
  readonly keyBits?: number;
  /** EC named curve. */
  readonly keyCurve?: string;
  /** ISO 8601, whole seconds. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days from the plan's time to notAfter; negative once expired. */
  readonly daysLeft: number;
  /** Hex, as OpenSSL prints it. */
  readonly serial: string;
  /** SHA-256 fingerprint of the DER, colon-separated hex. */
  readonly sha256: string;
}

/** What an operator compares between two certificates, as text rows. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly sans: string;
  readonly key: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly serial: string;
  readonly sha256: string;
}

/** A certificate file's change decoded: each side's certificates (a chain in order; none for an absent file). */
export interface CertificateChange {
  readonly before: readonly DecodedCertificate[];
  readonly after: readonly DecodedCertificate[];
  /** Fields (of DecodedCertificate) that differ between the two sides, over the whole chain. */
  readonly changed: readonly string[];
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The PEM certificates of a file that holds nothing else (a certificate or a chain), or undefined when it holds
 * anything else (a key, a kubeconfig, text) or a block that does not parse.
 */
export function parseCertificateFile(content: Buffer): X509Certificate[] | undefined {
  const text = content.toString('utf8');
  const blocks = text.match(CERT_BLOCK);
  if (!blocks || text.replace(CERT_BLOCK, '').trim() !== '') return undefined;
  try { return blocks.map((b) => new X509Certificate(b)); } catch { return undefined; }
}

const oneLine = (dn: string): string => dn.split('\n').filter(Boolean).join(', ');
const day = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** The decoded fields of a certificate; `daysLeft` counted from `now`. */
export function decodeCertificate(cert: X509Certificate, now: Date): DecodedCertificate {
  const notAfter = new Date(cert.validTo);
  const k = cert.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    sans: cert.subjectAltName ? cert.subjectAltName.split(', ') : [],
    keyType: (k.asymmetricKeyType ?? 'unknown').toUpperCase(),
    ...(d.modulusLength ? { keyBits: d.modulusLength } : {}),
    ...(d.namedCurve ? { keyCurve: d.namedCurve } : {}),
    notBefore: day(new Date(cert.validFrom)),
    notAfter: day(notAfter),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
    serial: cert.serialNumber,
    sha256: cert.fingerprint256,
  };
}

/** The decoded fields of a certificate as text; validity with the days left from `now`. */
export function summarizeCertificate(cert: X509Certificate, now: Date): CertificateSummary {
  return summarizeDecoded(decodeCertificate(cert, now));
}

/** Text rows of a decoded certificate. */
export function summarizeDecoded(c: DecodedCertificate): CertificateSummary {
  const left = c.daysLeft;
  return {
    subject: c.subject,
    issuer: c.issuer,
    sans: c.sans.length ? c.sans.join(', ') : '(none)',
    key: c.keyBits ? `${c.keyType} ${c.keyBits} bits` : c.keyCurve ? `${c.keyType} ${c.keyCurve}` : c.keyType,
    notBefore: c.notBefore,
    notAfter: `${c.notAfter} (${left < 0 ? `expired ${-left} day${left === -1 ? '' : 's'} ago` : `${left} day${left === 1 ? '' : 's'} left`})`,
    serial: c.serial,
    sha256: c.sha256,
  };
}

/**
 * A certificate file's change decoded, or undefined when either side is not a certificate file (a key, a kubeconfig,
 * text: the caller shows the usual diff). An absent side (new or deleted file) has no certificates.
 */
export function decodeCertificateChange(before: Buffer | undefined, after: Buffer | undefined, now = new Date()): CertificateChange | undefined {
  const old = before === undefined ? [] : parseCertificateFile(before);
  const next = after === undefined ? [] : parseCertificateFile(after);
  if (!old || !next || (old.length === 0 && next.length === 0)) return undefined;
  const a = old.map((c) => decodeCertificate(c, now));
  const b = next.map((c) => decodeCertificate(c, now));
  const changed = new Set<string>();
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    for (const k of DECODED_KEYS) if (JSON.stringify(a[i]?.[k]) !== JSON.stringify(b[i]?.[k])) changed.add(k);
  }
  return { before: a, after: b, changed: DECODED_KEYS.filter((k) => changed.has(k)) };
}

const DECODED_KEYS: readonly (keyof DecodedCertificate)[] = ['subject', 'issuer', 'sans', 'keyType', 'keyBits', 'keyCurve', 'notBefore', 'notAfter', 'daysLeft', 'serial', 'sha256'];

const FIELDS: ReadonlyArray<readonly [keyof CertificateSummary, string]> = [
  ['subject', 'subject'], ['issuer', 'issuer'], ['sans', 'SANs'], ['key', 'key'], ['notBefore', 'not before'],
  ['notAfter', 'not after'], ['serial', 'serial'], ['sha256', 'SHA-256'],
];

/**
 * A decoded certificate change side by side: one row per field, `~` marking the fields that differ; a chain is
 * compared certificate by certificate. An absent side shows as `(none)`.
 */
export function renderDecodedCertificateChange(change: CertificateChange): string {
  const lines: string[] = [];
  const count = Math.max(change.before.length, change.after.length);
  for (let i = 0; i < count; i++) {
    const a = change.before[i] ? summarizeDecoded(change.before[i]!) : undefined;
    const b = change.after[i] ? summarizeDecoded(change.after[i]!) : undefined;
    if (count > 1) lines.push(`certificate ${i + 1} of ${count}:`);
    const w = Math.max(6, ...FIELDS.map(([k]) => (a?.[k] ?? '(none)').length));
    lines.push(`  ${'field'.padEnd(10)}  ${'before'.padEnd(w)}  after`);
    for (const [k, label] of FIELDS) {
      const x = a?.[k] ?? '(none)';
      const y = b?.[k] ?? '(none)';
      lines.push(`${x === y ? ' ' : '~'} ${label.padEnd(10)}  ${x.padEnd(w)}  ${x === y ? '=' : y}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * A certificate change decoded side by side (renderDecodedCertificateChange), or undefined when either side is not a
 * certificate file (then the caller shows the usual diff).
 */
export function renderCertificateChange(before: Buffer | undefined, after: Buffer | undefined, now = new Date()): string | undefined {
  const change = decodeCertificateChange(before, after, now);
  return change ? renderDecodedCertificateChange(change) : undefined;
}
