import { parse } from 'yaml';
import { MASK } from '../core/secret.ts';
import { decodeCertificate, parseCertificateFile, summarizeDecoded, type DecodedCertificate } from '../pki/render-certificate-change.ts';

/** Where a kubeconfig takes a certificate or key from: a file on the host, data embedded in it, or nowhere. */
export type KubeconfigSource =
  | { readonly source: 'file'; readonly path: string }
  /** Embedded certificates, decoded (none when the data is not a PEM certificate). */
  | { readonly source: 'embedded'; readonly certificates: readonly DecodedCertificate[] }
  | { readonly source: 'none' };

/** Where the client key is: never its content. */
export type KubeconfigKeySource = { readonly source: 'file'; readonly path: string } | { readonly source: 'embedded' } | { readonly source: 'none' };

/** The public part of a kubeconfig, for its current context (never key material, tokens or passwords). */
export interface KubeconfigSummary {
  readonly currentContext: string | null;
  readonly cluster: string | null;
  /** API server URL (user:password in it masked). */
  readonly server: string | null;
  readonly ca: KubeconfigSource;
  readonly insecureSkipTlsVerify: boolean;
  readonly user: string | null;
  readonly clientCertificate: KubeconfigSource;
  readonly clientKey: KubeconfigKeySource;
  /** Other credentials the user has (names only): token, tokenFile, username, password, exec, auth-provider. */
  readonly otherCredentials: readonly string[];
}

/** A kubeconfig file's change: each side's summary (null when the file is absent) and what differs. */
export interface KubeconfigChange {
  readonly before: KubeconfigSummary | null;
  readonly after: KubeconfigSummary | null;
  /**
   * Members of KubeconfigSummary that differ, `clientKey` included when the embedded key data differs (compared
   * here, never shown) and `otherCredentials` when a token or password changed.
   */
  readonly changed: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const named = (list: unknown, name: string | null, member: string): Obj | undefined => {
  if (!Array.isArray(list) || name === null) return undefined;
  const entry = list.find((e) => isObj(e) && e['name'] === name);
  return isObj(entry) && isObj(entry[member]) ? entry[member] : undefined;
};
const OTHER_CREDENTIALS: ReadonlyArray<readonly [string, string]> = [['token', 'token'], ['tokenFile', 'tokenFile'], ['username', 'username'], ['password', 'password'], ['exec', 'exec'], ['auth-provider', 'auth-provider']];

/** Parse a kubeconfig (YAML with `kind: Config`); undefined for anything else. Secret members are only compared. */
function parseKubeconfig(content: Buffer): Obj | undefined {
  const text = content.toString('utf8');
  // Cheap test first: every file a plan writes comes here, and most are not kubeconfigs.
  if (!/\bkind["']?\s*:\s*["']?Config\b/.test(text)) return undefined;
  let doc: unknown;
  try { doc = parse(text); } catch { return undefined; }
  if (!isObj(doc) || doc['kind'] !== 'Config' || !Array.isArray(doc['clusters'])) return undefined;
  return doc;
}

function currentParts(doc: Obj): { context: string | null; cluster: string | null; clusterObj?: Obj; user: string | null; userObj?: Obj } {
  const contexts = Array.isArray(doc['contexts']) ? doc['contexts'] : [];
  const context = str(doc['current-context']) ?? (contexts.length === 1 && isObj(contexts[0]) ? str(contexts[0]['name']) : null);
  const ctx = named(doc['contexts'], context, 'context');
  const clusters = doc['clusters'] as unknown[];
  const cluster = ctx ? str(ctx['cluster']) : clusters.length === 1 && isObj(clusters[0]) ? str(clusters[0]['name']) : null;
  const users = Array.isArray(doc['users']) ? doc['users'] : [];
  const user = ctx ? str(ctx['user']) : users.length === 1 && isObj(users[0]) ? str(users[0]['name']) : null;
  const clusterObj = named(doc['clusters'], cluster, 'cluster');
  const userObj = named(doc['users'], user, 'user');
  return { context, cluster, user, ...(clusterObj ? { clusterObj } : {}), ...(userObj ? { userObj } : {}) };
}

function certificateSource(o: Obj | undefined, dataKey: string, fileKey: string, now: Date): KubeconfigSource {
  const data = str(o?.[dataKey]);
  if (data !== null) return { source: 'embedded', certificates: (parseCertificateFile(Buffer.from(data, 'base64')) ?? []).map((c) => decodeCertificate(c, now)) };
  const path = str(o?.[fileKey]);
  return path !== null ? { source: 'file', path } : { source: 'none' };
}

/** A URL's user:password masked: the rest of the server URL is public. */
const maskUserInfo = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, `$1${MASK}@`);

/** The public part of a kubeconfig's current context, or undefined when the content is not a kubeconfig. */
export function summarizeKubeconfig(content: Buffer, now = new Date()): KubeconfigSummary | undefined {
  const doc = parseKubeconfig(content);
  if (!doc) return undefined;
  const p = currentParts(doc);
  const u = p.userObj;
  const keyPath = str(u?.['client-key']);
  return {
    currentContext: p.context, cluster: p.cluster,
    server: str(p.clusterObj?.['server']) === null ? null : maskUserInfo(str(p.clusterObj?.['server'])!),
    ca: certificateSource(p.clusterObj, 'certificate-authority-data', 'certificate-authority', now),
    insecureSkipTlsVerify: p.clusterObj?.['insecure-skip-tls-verify'] === true,
    user: p.user,
    clientCertificate: certificateSource(u, 'client-certificate-data', 'client-certificate', now),
    clientKey: u?.['client-key-data'] !== undefined ? { source: 'embedded' } : keyPath !== null ? { source: 'file', path: keyPath } : { source: 'none' },
    otherCredentials: OTHER_CREDENTIALS.filter(([k]) => u?.[k] !== undefined).map(([, name]) => name),
  };
}

/** The secret members of the current user, for comparison only (never output). */
function secretMembers(content: Buffer | undefined): { key: string; other: string } {
  const doc = content === undefined ? undefined : parseKubeconfig(content);
  const u = doc ? currentParts(doc).userObj : undefined;
  return { key: JSON.stringify(u?.['client-key-data'] ?? null), other: JSON.stringify(OTHER_CREDENTIALS.map(([k]) => u?.[k] ?? null)) };
}

const SUMMARY_KEYS: readonly (keyof KubeconfigSummary)[] = ['currentContext', 'cluster', 'server', 'ca', 'insecureSkipTlsVerify', 'user', 'clientCertificate', 'clientKey', 'otherCredentials'];

/**
 * A kubeconfig file's change decoded, or undefined when a side is not a kubeconfig (then the caller shows the usual
 * diff). An absent side (new or deleted file) is null. Days left are counted from `now`.
 */
export function decodeKubeconfigChange(before: Buffer | undefined, after: Buffer | undefined, now = new Date()): KubeconfigChange | undefined {
  const a = before === undefined ? null : summarizeKubeconfig(before, now);
  const b = after === undefined ? null : summarizeKubeconfig(after, now);
  if (a === undefined || b === undefined || (a === null && b === null)) return undefined;
  const changed = new Set(SUMMARY_KEYS.filter((k) => JSON.stringify(a?.[k]) !== JSON.stringify(b?.[k])));
  if (a && b) {
    const [x, y] = [secretMembers(before), secretMembers(after)];
    if (x.key !== y.key) changed.add('clientKey');
    if (x.other !== y.other) changed.add('otherCredentials');
  }
  return { before: a, after: b, changed: SUMMARY_KEYS.filter((k) => changed.has(k)) };
}

const certRows = (label: string, s: KubeconfigSource | undefined): Array<[string, string]> => {
  if (s?.source !== 'embedded') return [];
  const c = s.certificates[0] ? summarizeDecoded(s.certificates[0]) : undefined;
  return [[`${label} subject`, c?.subject ?? '(not a certificate)'], [`${label} issuer`, c?.issuer ?? '-'], [`${label} not after`, c?.notAfter ?? '-'], [`${label} serial`, c?.serial ?? '-'], [`${label} SHA-256`, c?.sha256 ?? '-']];
};
const sourceText = (s: KubeconfigSource | KubeconfigKeySource | undefined): string => (!s ? '(none)' : s.source === 'file' ? `file ${s.path}` : s.source === 'embedded' ? 'embedded' : '(none)');

/**
 * A decoded kubeconfig change side by side: context, server, CA, user, client certificate and key (the key only as
 * where it is and whether it changed), `~` marking what differs.
 */
export function renderDecodedKubeconfigChange(change: KubeconfigChange): string {
  const rowsOf = (s: KubeconfigSummary | null): Map<string, string> => {
    const rows: Array<[string, string]> = [
      ['context', s?.currentContext ?? '(none)'], ['cluster', s?.cluster ?? '(none)'], ['server', s?.server ?? '(none)'],
      ['CA', s ? `${sourceText(s.ca)}${s.insecureSkipTlsVerify ? ' (insecure-skip-tls-verify)' : ''}` : '(none)'], ...certRows('CA', s?.ca),
      ['user', s?.user ?? '(none)'], ['client cert', sourceText(s?.clientCertificate)], ...certRows('client cert', s?.clientCertificate),
      ['client key', s?.clientKey.source === 'embedded' ? 'embedded (not shown)' : sourceText(s?.clientKey)],
      ...(s?.otherCredentials.length ? [['credentials', `${s.otherCredentials.join(', ')} (not shown)`] as [string, string]] : []),
    ];
    return new Map(rows);
  };
  const a = rowsOf(change.before);
  const b = rowsOf(change.after);
  const labels = [...new Set([...a.keys(), ...b.keys()])];
  const w = Math.max(6, ...labels.map((l) => (a.get(l) ?? '(none)').length));
  const lw = Math.max(5, ...labels.map((l) => l.length));
  const secretChanged = (l: string): boolean => (l === 'client key' && change.changed.includes('clientKey')) || (l === 'credentials' && change.changed.includes('otherCredentials'));
  const lines = [`  ${'field'.padEnd(lw)}  ${'before'.padEnd(w)}  after`];
  for (const l of labels) {
    const x = a.get(l) ?? '(none)';
    const y = b.get(l) ?? '(none)';
    const differs = x !== y || secretChanged(l);
    lines.push(`${differs ? '~' : ' '} ${l.padEnd(lw)}  ${x.padEnd(w)}  ${!differs ? '=' : x === y ? `${y}, changed` : y}`);
  }
  return lines.join('\n') + '\n';
}
