/**
 * The certificate check on the plan's hot path, native (node:crypto X509Certificate: parse, checkIssued + verify,
 * validTo, checkPrivateKey) instead of node-forge's pure-JS RSA. node-forge remains only for issuing (pki-store.ts,
 * issue-certificate.ts): Node has no API to build and sign an X.509 certificate.
 * DNS SANs are compared exactly as the spec lists them (not with checkHost, which matches wildcards and ignores case:
 * a certificate for *.example.com is not one for a.example.com as far as the spec is concerned); IP SANs with checkIP
 * (address bytes, so ::1 and 0:0:0:0:0:0:0:1 are one address, as they were with forge).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { CertificateSpec } from './certificate-spec.ts';
import type { CertificateAuthority } from './pki-store.ts';

export type CertificateCheck = { readonly ok: true; readonly daysLeft: number } | { readonly ok: false; readonly reason: string };

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * A certificate whose notBefore lies further ahead than this is "not yet valid": TLS peers refuse it, so it is
 * reissued (with this machine's clock). Five minutes of clock skew between hosts is tolerated.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The reason given for a certificate that is not valid yet. */
export function notYetValid(notBefore: Date): string {
  return `not valid before ${notBefore.toISOString().replace(/\.000Z$/, 'Z')} (a clock is off?)`;
}

/** Parsed CA certificates by PEM (a run checks many certificates against the same CA). */
const caByPem = new Map<string, X509Certificate>();

function nativeCa(ca: CertificateAuthority): X509Certificate {
  let x = caByPem.get(ca.certPem);
  if (!x) { x = new X509Certificate(ca.certPem); caByPem.set(ca.certPem, x); }
  return x;
}

/**
 * Split X509Certificate#subjectAltName ("DNS:a, IP Address:10.0.0.1"; an entry holding a special character is
 * written as a JSON string, `DNS:"a,b"`) into [type, value] pairs.
 */
export function parseSubjectAltNames(text: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (text !== undefined && i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      end += 1;
    } else {
      end = text.indexOf(', ', colon + 1);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    out.push([type, value]);
    i = end + 2;
  }
  return out;
}

function checkIp(cert: X509Certificate, ip: string): boolean {
  try { return cert.checkIP(ip) !== undefined; } catch { return false; }
}

function subjectValues(subject: Record<string, string | string[]> | undefined, key: string): string[] {
  const v = subject?.[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Is this certificate (and key) what `spec` asks for, signed by `ca`, and valid beyond `renewBeforeDays`? */
export function checkCertificate(certPem: string | undefined, keyPem: string | undefined, o: { ca: CertificateAuthority; spec: CertificateSpec; renewBeforeDays?: number; now?: Date }): CertificateCheck {
  if (certPem === undefined) return { ok: false, reason: 'file absent' };
  let cert: X509Certificate;
  try { cert = new X509Certificate(certPem); } catch { return { ok: false, reason: 'certificate does not parse' }; }
  try {
    const ca = nativeCa(o.ca);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return { ok: false, reason: 'signed by another CA' };
  } catch { return { ok: false, reason: 'signed by another CA' }; }
  const now = o.now ?? new Date();
  const notBefore = new Date(cert.validFrom);
  if (notBefore.getTime() > now.getTime() + CLOCK_SKEW_MS) return { ok: false, reason: notYetValid(notBefore) };
  const daysLeft = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000);
  if (daysLeft < 0) return { ok: false, reason: 'expired' };
  if (daysLeft < (o.renewBeforeDays ?? 30)) return { ok: false, reason: `expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}` };
  const subject = cert.toLegacyObject().subject as unknown as Record<string, string | string[]> | undefined;
  const cn = subjectValues(subject, 'CN')[0];
  if (cn !== o.spec.commonName) return { ok: false, reason: `subject CN is ${cn ?? '(none)'}, wanted ${o.spec.commonName}` };
  const orgs = subjectValues(subject, 'O').sort();
  const wantOrgs = [...(o.spec.organization ?? [])].sort();
  if (orgs.join(',') !== wantOrgs.join(',')) return { ok: false, reason: `subject O is ${orgs.join(',') || '(none)'}, wanted ${wantOrgs.join(',') || '(none)'}` };
  const eku = cert.keyUsage ?? [];
  if (o.spec.profile !== 'client' && !eku.includes(SERVER_AUTH)) return { ok: false, reason: 'usage serverAuth missing' };
  if (o.spec.profile !== 'server' && !eku.includes(CLIENT_AUTH)) return { ok: false, reason: 'usage clientAuth missing' };
  const san = parseSubjectAltNames(cert.subjectAltName);
  const dns = new Set(san.filter(([t]) => t === 'DNS').map(([, v]) => v));
  for (const d of o.spec.dnsNames ?? []) if (!dns.has(d)) return { ok: false, reason: `SAN ${d} missing` };
  for (const ip of o.spec.ipAddresses ?? []) if (!checkIp(cert, ip)) return { ok: false, reason: `SAN ${ip} missing` };
  if (keyPem === undefined) return { ok: false, reason: 'key file absent' };
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return { ok: false, reason: 'key does not match certificate' };
  } catch { return { ok: false, reason: 'key does not parse' }; }
  return { ok: true, daysLeft };
}
