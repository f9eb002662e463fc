import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { certificateToPem, normalizePemLineEndings } from './certificate-pem.ts';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type Forge from 'node-forge';
import { getForge } from './forge.ts';
import { registerSecretText } from '../core/secret.ts';
import { PkiError } from '../errors.ts';

export interface CertificateAuthority {
  /** node-forge's certificate and key: parsed on first use (issuing); checks use `certPem` with node:crypto. */
  readonly cert: Forge.pki.Certificate;
  readonly key: Forge.pki.rsa.PrivateKey;
  readonly certPem: string;
}

export interface IssuedPair { readonly certPem: string; readonly keyPem: string }

/** RSA key from Node's native generator (forge's pure-JS keygen is far too slow). */
export function generateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  registerSecretText(privateKey);
  return privateKey;
}

export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** Write atomically with `mode` from the start (keys are never world-readable, not even briefly). */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try { writeSync(fd, Buffer.from(data)); fsyncSync(fd); } finally { closeSync(fd); }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** A private key file's PEM, refused when its mode is looser than 0600 or it is no RSA key (checked natively). */
function readKeyPem(file: string): string {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new PkiError(`private key ${file} has mode ${mode.toString(8).padStart(4, '0')}, looser than 0600`, { file, hint: `chmod 600 ${file}` });
  }
  const pem = readFileSync(file, 'utf8');
  registerSecretText(pem);
  let type: string | undefined;
  try { type = createPrivateKey(pem).asymmetricKeyType; } catch { type = undefined; }
  if (type !== 'rsa') throw new PkiError(`private key ${file} does not parse (RSA PEM expected)`, { file });
  return pem;
}

export function parseCertificate(pem: string, file?: string): Forge.pki.Certificate {
  try { return getForge().pki.certificateFromPem(pem); } catch (e) {
    throw new PkiError(`certificate ${file ? `${file} ` : ''}does not parse: ${(e as Error).message}`, { ...(file ? { file } : {}), hint: 'replace it with a PEM certificate' });
  }
}

const loadedCas = new Map<string, { readonly stamp: string; readonly ca: CertificateAuthority }>();

/** Load the CA of a PKI directory, creating it (key 0600, dir 0700) when the directory has none. */
export function loadOrCreateCa(dir: string, options: { commonName?: string; validityDays?: number } = {}): CertificateAuthority {
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  if (existsSync(certFile)) {
    if (!existsSync(keyFile)) throw new PkiError(`CA certificate ${certFile} has no key beside it (ca.key): cannot issue certificates`, { file: certFile, hint: 'put the CA key in ca.key (0600), or use an empty PKI directory to create a new CA' });
    // A plan loads the CA once per host and task: parse it with forge (pure JS, slow) only when its files changed.
    // The key's mode is part of the stamp, so a key made group/world-readable since is still refused.
    const stamp = [certFile, keyFile].map((f) => { const st = statSync(f); return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`; }).join('|');
    const cached = loadedCas.get(dir);
    if (cached?.stamp === stamp) return cached.ca;
    // Checked with node:crypto; node-forge (~40 ms to load and parse, pure JS) only when a certificate is issued.
    const certPem = normalizePemLineEndings(readFileSync(certFile, 'utf8'));
    let native: X509Certificate;
    try { native = new X509Certificate(certPem); } catch (e) {
      throw new PkiError(`certificate ${certFile} does not parse: ${(e as Error).message}`, { file: certFile, hint: 'replace it with a PEM certificate' });
    }
    const keyPem = readKeyPem(keyFile);
    if (!native.checkPrivateKey(createPrivateKey(keyPem))) throw new PkiError(`CA key ${keyFile} does not match ${certFile}`, { file: keyFile });
    let forged: { cert: Forge.pki.Certificate; key: Forge.pki.rsa.PrivateKey } | undefined;
    const forge = (): { cert: Forge.pki.Certificate; key: Forge.pki.rsa.PrivateKey } => forged ??= {
      cert: parseCertificate(certPem, certFile), key: getForge().pki.privateKeyFromPem(keyPem) as Forge.pki.rsa.PrivateKey,
    };
    const ca: CertificateAuthority = { get cert() { return forge().cert; }, get key() { return forge().key; }, certPem };
    loadedCas.set(dir, { stamp, ca });
    return ca;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const keyPem = generateKeyPem();
  const key = getForge().pki.privateKeyFromPem(keyPem) as Forge.pki.rsa.PrivateKey;
  const cert = getForge().pki.createCertificate();
  cert.publicKey = getForge().pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + (options.validityDays ?? 3650) * 86_400_000);
  const attrs = [{ name: 'commonName', value: options.commonName ?? 'rig-ca' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, getForge().md.sha256.create());
  const certPem = certificateToPem(cert);
  writeFileAtomic(keyFile, keyPem, 0o600);
  writeFileAtomic(certFile, certPem, 0o644);
  return { cert, key, certPem };
}

export function getIssued(dir: string, name: string): IssuedPair | undefined {
  const c = join(dir, 'issued', `${name}.crt`);
  const k = join(dir, 'issued', `${name}.key`);
  if (!existsSync(c) || !existsSync(k)) return undefined;
  const keyPem = readKeyPem(k);
  return { certPem: normalizePemLineEndings(readFileSync(c, 'utf8')), keyPem };
}

export function saveIssued(dir: string, name: string, pair: IssuedPair): void {
  const d = join(dir, 'issued');
  mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(d, `${name}.key`), pair.keyPem, 0o600);
  writeFileAtomic(join(d, `${name}.crt`), pair.certPem, 0o644);
}
