/** The certificate check as it was with node-forge (before issue 21): the oracle for test/unit/check-certificate.test.ts. */
import forge from 'node-forge';
import type { CertificateSpec } from '../../src/pki/certificate-spec.ts';
import type { CertificateAuthority } from '../../src/pki/pki-store.ts';

import { CLOCK_SKEW_MS, notYetValid, type CertificateCheck } from '../../src/pki/check-certificate.ts';

/** Is this certificate (and key) what `spec` asks for, signed by `ca`, and valid beyond `renewBeforeDays`? */
export function checkCertificateWithForge(certPem: string | undefined, keyPem: string | undefined, o: { ca: CertificateAuthority; spec: CertificateSpec; renewBeforeDays?: number; now?: Date }): CertificateCheck {
  if (certPem === undefined) return { ok: false, reason: 'file absent' };
  let cert: forge.pki.Certificate;
  try { cert = forge.pki.certificateFromPem(certPem); } catch { return { ok: false, reason: 'certificate does not parse' }; }
  try { if (!o.ca.cert.verify(cert)) return { ok: false, reason: 'signed by another CA' }; } catch { return { ok: false, reason: 'signed by another CA' }; }
  const now = o.now ?? new Date();
  if (cert.validity.notBefore.getTime() > now.getTime() + CLOCK_SKEW_MS) return { ok: false, reason: notYetValid(cert.validity.notBefore) };
  const daysLeft = Math.floor((cert.validity.notAfter.getTime() - now.getTime()) / 86_400_000);
  if (daysLeft < 0) return { ok: false, reason: 'expired' };
  if (daysLeft < (o.renewBeforeDays ?? 30)) return { ok: false, reason: `expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}` };
  const cn = cert.subject.getField('CN')?.value as string | undefined;
  if (cn !== o.spec.commonName) return { ok: false, reason: `subject CN is ${cn ?? '(none)'}, wanted ${o.spec.commonName}` };
  const orgs = cert.subject.attributes.filter((a) => a.shortName === 'O').map((a) => String(a.value)).sort();
  const wantOrgs = [...(o.spec.organization ?? [])].sort();
  if (orgs.join(',') !== wantOrgs.join(',')) return { ok: false, reason: `subject O is ${orgs.join(',') || '(none)'}, wanted ${wantOrgs.join(',') || '(none)'}` };
  const eku = cert.getExtension('extKeyUsage') as { serverAuth?: boolean; clientAuth?: boolean } | null;
  if (o.spec.profile !== 'client' && !eku?.serverAuth) return { ok: false, reason: 'usage serverAuth missing' };
  if (o.spec.profile !== 'server' && !eku?.clientAuth) return { ok: false, reason: 'usage clientAuth missing' };
  const san = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value?: string; ip?: string }> } | null;
  const dns = new Set((san?.altNames ?? []).filter((a) => a.type === 2).map((a) => a.value));
  const ips = new Set((san?.altNames ?? []).filter((a) => a.type === 7).map((a) => a.ip));
  for (const d of o.spec.dnsNames ?? []) if (!dns.has(d)) return { ok: false, reason: `SAN ${d} missing` };
  for (const ip of o.spec.ipAddresses ?? []) if (!ips.has(ip)) return { ok: false, reason: `SAN ${ip} missing` };
  if (keyPem !== undefined) {
    try {
      const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
      if ((cert.publicKey as forge.pki.rsa.PublicKey).n.compareTo(key.n) !== 0) return { ok: false, reason: 'key does not match certificate' };
    } catch { return { ok: false, reason: 'key does not parse' }; }
  } else {
    return { ok: false, reason: 'key file absent' };
  }
  return { ok: true, daysLeft };
}
