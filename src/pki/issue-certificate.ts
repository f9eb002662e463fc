import type Forge from 'node-forge';
import { getForge } from './forge.ts';
import type { CertificateSpec } from './certificate-spec.ts';
import { certificateToPem } from './certificate-pem.ts';
import { generateKeyPem, randomSerial, type CertificateAuthority, type IssuedPair } from './pki-store.ts';

/** Issue a server or client certificate signed by the CA (new RSA key). */
export function issueCertificate(ca: CertificateAuthority, spec: CertificateSpec, now = new Date()): IssuedPair {
  const keyPem = generateKeyPem();
  const key = getForge().pki.privateKeyFromPem(keyPem) as Forge.pki.rsa.PrivateKey;
  const cert = getForge().pki.createCertificate();
  cert.publicKey = getForge().pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (spec.validityDays ?? 365) * 86_400_000);
  cert.setSubject([
    ...(spec.organization ?? []).map((o) => ({ name: 'organizationName', value: o })),
    { name: 'commonName', value: spec.commonName },
  ]);
  cert.setIssuer(ca.cert.subject.attributes);
  const server = spec.profile !== 'client';
  const client = spec.profile !== 'server';
  const altNames = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(spec.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: server, clientAuth: client },
    ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, getForge().md.sha256.create());
  return { certPem: certificateToPem(cert), keyPem };
}
