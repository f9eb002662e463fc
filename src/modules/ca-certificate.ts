import type { ModeInput } from '../core/file-mode.ts';
import { loadOrCreateCa } from '../pki/pki-store.ts';
import { checkFileAttrs, checkUnknownProps, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CaCertificateProps {
  /** Where the CA certificate goes on the host. */
  readonly path: string;
  /** Controller-side PKI directory holding ca.crt/ca.key (a new CA is created there when it is empty). */
  readonly pkiDir: string;
  /** Mode of the certificate file. @default '0644' */
  readonly mode?: ModeInput;
}

/**
 * `caCertificate({ path, pkiDir })`: install the CA certificate of the controller's PKI directory on the host (never
 * its key). The file is owned by root unless it exists with another owner.
 *
 * @plan `create PATH` / `update PATH` with the certificates decoded side by side; the no-op is `CA certificate
 * installed`. Planning creates the CA in `pkiDir` when it is empty.
 *
 * @rollback Puts the previous file back (from the journal's pre-image), or removes it when the run created it.
 *
 * @example
 * caCertificate({ path: '/usr/local/share/ca-certificates/rig-ca.crt', pkiDir: 'pki' })
 */
export const caCertificate = defineModule<CaCertificateProps>({
  name: 'ca-certificate',
  validate: (p) => [...checkUnknownProps(p, ['path', 'pkiDir', 'mode']), ...checkFileAttrs(p), ...(typeof p.pkiDir === 'string' && p.pkiDir ? [] : ['pkiDir: required'])],
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const ca = loadOrCreateCa(p.pkiDir);
    return planFileWrite({ path: p.path, fact: facts.file(p.path), content: Buffer.from(ca.certPem), mode: p.mode ?? '0644', ctx, noop: 'CA certificate installed' });
  },
});
