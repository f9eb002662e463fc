import { X509Certificate } from 'node:crypto';

/** What an operator compares between two certificates, decoded (never key material: certificates are public). */
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

function describeKey(cert: X509Certificate): string {
  const k = cert.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  const type = (k.asymmetricKeyType ?? 'unknown').toUpperCase();
  if (d.modulusLength) return `${type} ${d.modulusLength} bits`;
  if (d.namedCurve) return `${type} ${d.namedCurve}`;
  return type;
}

/** The decoded fields of a certificate; validity with the days left from `now`. */
export function summarizeCertificate(cert: X509Certificate, now: Date): CertificateSummary {
  const notAfter = new Date(cert.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    sans: cert.subjectAltName ?? '(none)',
    key: describeKey(cert),
    notBefore: day(new Date(cert.validFrom)),
    notAfter: `${day(notAfter)} (${daysLeft < 0 ? `expired ${-daysLeft} day${daysLeft === -1 ? '' : 's'} ago` : `${daysLeft} day${daysLeft === 1 ? '' : 's'} left`})`,
    serial: cert.serialNumber,
    sha256: cert.fingerprint256,
  };
}

const FIELDS: ReadonlyArray<readonly [keyof CertificateSummary, string]> = [
  ['subject', 'subject'], ['issuer', 'issuer'], ['sans', 'SANs'], ['key', 'key'], ['notBefore', 'not before'],
  ['notAfter', 'not after'], ['serial', 'serial'], ['sha256', 'SHA-256'],
];

/**
 * A certificate change decoded side by side: one row per field, `~` marking the fields that differ; a chain is
 * compared certificate by certificate. undefined when either side is not a certificate file (then the caller shows
 * the usual diff). An absent side (new or deleted file) shows as `(none)`.
 */
export function renderCertificateChange(before: Buffer | undefined, after: Buffer | undefined, now = new Date()): string | undefined {
  const old = before === undefined ? [] : parseCertificateFile(before);
  const next = after === undefined ? [] : parseCertificateFile(after);
  if (!old || !next || (old.length === 0 && next.length === 0)) return undefined;
  const lines: string[] = [];
  const count = Math.max(old.length, next.length);
  for (let i = 0; i < count; i++) {
    const a = old[i] ? summarizeCertificate(old[i]!, now) : undefined;
    const b = next[i] ? summarizeCertificate(next[i]!, now) : undefined;
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
