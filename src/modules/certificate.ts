import { checkMode, normalizeMode, type ModeInput } from '../core/file-mode.ts';
import { ValidationError } from '../errors.ts';
import type { Change } from '../core/change.ts';
import { registerSecretText } from '../core/secret.ts';
import type { CertificateSpec } from '../pki/certificate-spec.ts';
import { checkCertificate } from '../pki/check-certificate.ts';
import { issueCertificate } from '../pki/issue-certificate.ts';
import { getIssued, loadOrCreateCa, saveIssued } from '../pki/pki-store.ts';
import { getFileContent } from '../facts/file-content.ts';
import { checkFileAttrs, checkUnknownProps, planFileWrite } from './file-write.ts';
import { defineModule, type PlanResult } from './module.ts';

export interface CertificateProps {
  /** Absolute path of the certificate (PEM) on the host. */
  readonly certPath: string;
  /** Absolute path of the private key (PEM) on the host; written as a secret. */
  readonly keyPath: string;
  /** Controller-side PKI directory holding ca.crt/ca.key (created when empty) and issued/<name>.*. */
  readonly pkiDir: string;
  /** Name in the PKI store, e.g. `kubelet-worker1`. */
  readonly name: string;
  /** What the certificate must say: profile, common name, SANs, organization, validity. */
  readonly spec: CertificateSpec;
  /** Replace a certificate that expires within this many days. @default 30 */
  readonly renewBeforeDays?: number;
  /** Mode of the certificate file. @default '0644' */
  readonly certMode?: ModeInput;
  /** Mode of the key file; one that lets group or others read it is refused. @default '0600' */
  readonly keyMode?: ModeInput;
  /** Owner of both files. @default existing owner, else 'root' */
  readonly owner?: string;
  /** Group of both files. @default existing group, else 'root' */
  readonly group?: string;
}

/**
 * `certificate({ certPath, keyPath, pkiDir, name, spec })`: a certificate and key on the host, signed by the
 * controller's CA. The host's certificate is kept when it is signed by the CA, says what `spec` says and does not
 * expire within renewBeforeDays; otherwise one from the PKI store is installed (issuing a new one there when the
 * stored one does not pass either). The plan says why.
 *
 * @plan `create CERT_PATH` / `update CERT_PATH` with the reason (`file absent`, `expires in 12 days`, `signed by
 * another CA`, `SAN 10.0.0.5 missing`…) and the old and new certificates decoded side by side (subject, SANs, validity,
 * issuer), then the key as a secret change (never shown). A valid certificate whose files only have the wrong modes
 * plans `attributes …`; otherwise a no-op `certificate valid, expires in N days`. Planning may issue a certificate into
 * the controller's PKI directory (and create the CA there when it is empty).
 *
 * @rollback Puts the previous certificate and key back on the host (from the journal's pre-images; the key stays
 * secret), or removes them when the run created them. What planning issued into the PKI directory stays there.
 *
 * @example
 * certificate({ certPath: '/etc/kubernetes/pki/apiserver.crt', keyPath: '/etc/kubernetes/pki/apiserver.key',
 *   pkiDir: 'pki', name: 'apiserver-master1',
 *   spec: { profile: 'server', commonName: 'kube-apiserver', dnsNames: ['kubernetes.default'], ipAddresses: ['10.0.0.1'] } })
 */
export const certificate = defineModule<CertificateProps>({
  name: 'certificate',
  validate: (p) => {
    const problems = [
      ...checkUnknownProps(p, ['certPath', 'keyPath', 'pkiDir', 'name', 'spec', 'renewBeforeDays', 'certMode', 'keyMode', 'owner', 'group']),
      ...checkFileAttrs({ path: p.certPath, mode: p.certMode, owner: p.owner, group: p.group }).map((x) => x.replace(/^path/, 'certPath')),
      ...checkFileAttrs({ path: p.keyPath, mode: p.keyMode }).map((x) => x.replace(/^path/, 'keyPath')),
    ];
    if (typeof p.pkiDir !== 'string' || !p.pkiDir) problems.push('pkiDir: required');
    if (typeof p.name !== 'string' || !/^[\w.:@-]+$/.test(p.name ?? '')) problems.push('name: a store name such as kubelet-worker1');
    if (!p.spec || !['server', 'client', 'server-client'].includes(p.spec.profile)) problems.push("spec.profile: 'server', 'client' or 'server-client'");
    if (!p.spec?.commonName) problems.push('spec.commonName: required');
    if (p.keyMode !== undefined && checkMode(p.keyMode) === undefined && !/00$/.test(normalizeMode(p.keyMode))) problems.push(`keyMode: ${normalizeMode(p.keyMode)} lets others read a private key; use 0600 or stricter`);
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.certPath }, { kind: 'file', path: p.keyPath }],
  plan: (p, facts, ctx): PlanResult => {
    const ca = loadOrCreateCa(p.pkiDir);
    const certFact = facts.file(p.certPath);
    const keyFact = facts.file(p.keyPath);
    const hostCert = certFact.exists && certFact.type === 'file' ? getFileContent(certFact, p.certPath).toString() : undefined;
    const hostKey = keyFact.exists && keyFact.type === 'file' ? getFileContent(keyFact, p.keyPath).toString() : undefined;
    if (hostKey) registerSecretText(hostKey);
    const opts = { ca, spec: p.spec, renewBeforeDays: p.renewBeforeDays ?? 30 };
    const onHost = checkCertificate(hostCert, hostKey, opts);
    const attrs = { owner: p.owner, group: p.group };
    if (onHost.ok) {
      // Still converge modes/owners.
      const changes: Change[] = [];
      for (const r of [planFileWrite({ path: p.certPath, fact: certFact, content: Buffer.from(hostCert!), mode: p.certMode ?? '0644', ...attrs, ctx }),
        planFileWrite({ path: p.keyPath, fact: keyFact, content: Buffer.from(hostKey!), mode: p.keyMode ?? '0600', ...attrs, secret: true, ctx })]) {
        if ('changes' in r) changes.push(...r.changes);
      }
      return changes.length ? { changes } : { noop: `certificate valid, expires in ${onHost.daysLeft} days` };
    }
    let pair = getIssued(p.pkiDir, p.name);
    if (!pair || !checkCertificate(pair.certPem, pair.keyPem, opts).ok) {
      pair = issueCertificate(ca, p.spec);
      saveIssued(p.pkiDir, p.name, pair);
    }
    registerSecretText(pair.keyPem);
    const changes: Change[] = [];
    for (const r of [planFileWrite({ path: p.certPath, fact: certFact, content: Buffer.from(pair.certPem), mode: p.certMode ?? '0644', ...attrs, ctx }),
      planFileWrite({ path: p.keyPath, fact: keyFact, content: Buffer.from(pair.keyPem), mode: p.keyMode ?? '0600', ...attrs, secret: true, ctx })]) {
      if ('changes' in r) changes.push(...r.changes.map((c) => ({ ...c, reason: onHost.reason })));
    }
    if (!changes.length) throw new ValidationError([`${p.certPath}: certificate rejected (${onHost.reason}) but the store holds the same one`], { task: ctx.taskPath });
    return { changes };
  },
});
