import type Forge from 'node-forge';
import { getForge } from './forge.ts';

/**
 * PEM text as rig writes it: lines end with LF. node-forge ends PEM lines with CRLF, which shows as `^M` / `\r` on
 * every line of a diff and differs byte for byte from what openssl and kubeadm write.
 */
export function normalizePemLineEndings(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

/** A certificate as PEM with LF line endings. */
export function certificateToPem(cert: Forge.pki.Certificate): string {
  return normalizePemLineEndings(getForge().pki.certificateToPem(cert));
}
