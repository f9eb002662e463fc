/** What a certificate must say. */
export interface CertificateSpec {
  /** server: serverAuth + SANs; client: clientAuth; server-client: both. */
  readonly profile: 'server' | 'client' | 'server-client';
  /** Subject CN. */
  readonly commonName: string;
  /** Subject O values (e.g. system:nodes, system:masters). */
  readonly organization?: readonly string[];
  /** DNS subject alternative names. */
  readonly dnsNames?: readonly string[];
  /** IP address subject alternative names. */
  readonly ipAddresses?: readonly string[];
  /** Validity of a newly issued certificate, in days. @default 365 */
  readonly validityDays?: number;
}
