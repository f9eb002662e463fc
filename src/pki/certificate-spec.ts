/** What a certificate must say. */
export interface CertificateSpec {
  /** server: serverAuth + SANs; client: clientAuth; server-client: both. */
  readonly profile: 'server' | 'client' | 'server-client';
  readonly commonName: string;
  /** Subject O values (e.g. system:nodes, system:masters). */
  readonly organization?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** @default 365 */
  readonly validityDays?: number;
}
