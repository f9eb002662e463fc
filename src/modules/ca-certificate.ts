import type { ModeInput } from '../core/file-mode.ts';
import { loadOrCreateCa } from '../pki/pki-store.ts';
import { checkFileAttrs, checkUnknownProps, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CaCertificateProps {
  /** Where the CA certificate goes on the host. */
  readonly path: string;
  readonly pkiDir: string;
  /** @default '0644' */
  readonly mode?: ModeInput;
}

/** `caCertificate({ path, pkiDir })`: install the CA certificate (never its key). */
export const caCertificate = defineModule<CaCertificateProps>({
  name: 'ca-certificate',
  validate: (p) => [...checkUnknownProps(p, ['path', 'pkiDir', 'mode']), ...checkFileAttrs(p), ...(typeof p.pkiDir === 'string' && p.pkiDir ? [] : ['pkiDir: required'])],
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const ca = loadOrCreateCa(p.pkiDir);
    return planFileWrite({ path: p.path, fact: facts.file(p.path), content: Buffer.from(ca.certPem), mode: p.mode ?? '0644', ctx, noop: 'CA certificate installed' });
  },
});
