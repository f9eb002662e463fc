import type { PlanStep } from '../engine/plan-types.ts';
import { MAX_CONTENT_BYTES } from '../facts/gather-script.ts';
import { decodeKubeconfigChange, type KubeconfigChange } from '../kube/decode-kubeconfig-change.ts';
import { decodeCertificateChange, type CertificateChange } from '../pki/render-certificate-change.ts';
import { renderDiff } from '../text/render-diff.ts';

/**
 * What `plan` shows of a file's content change, computed once for the terminal and for `--json`: the unified diff
 * (secrets masked, a secret file only as sizes), a certificate or kubeconfig decoded (public parts only), or why the
 * content is not shown. Nothing here holds key material: a secret file is decoded only as a kubeconfig, whose
 * summary names where the key is, never its bytes.
 */
export interface ContentChangeView {
  /** The content is not shown (not read: above the gather's cap; too big; a host-side pre-image): sizes and hashes. */
  readonly notShown?: string;
  /** A new file shown as the diff from another content (a transform's input): that content's label. */
  readonly diffFrom?: string;
  /** Unified diff, masked as on the terminal; absent when nothing differs. */
  readonly diff?: string;
  readonly certificate?: CertificateChange;
  readonly kubeconfig?: KubeconfigChange;
}

const short = (sha: string | undefined): string => `sha256 ${(sha ?? '?').slice(0, 12)}…`;

/**
 * The content view of one step, `before` being the path's content before it (the step's pre-image, or one from the
 * journal); undefined for a step that changes no content. `now` counts certificates' days left.
 */
export function viewContentChange(step: PlanStep, before: Buffer | undefined, o: { readonly color: boolean; readonly now?: Date }): ContentChangeView | undefined {
  const c = step.change;
  if (c.kind === 'restore-preimage') {
    return { notShown: `${c.before.exists ? `${c.before.type} ${c.before.size ?? '?'} bytes, ${short(c.before.sha256)}` : 'absent'} → ${c.after.size ?? '?'} bytes, ${short(c.after.sha256)}` };
  }
  if (c.kind !== 'write-file' && c.kind !== 'remove-path') return undefined;
  if (c.before.exists && c.before.type !== 'file') return undefined;
  const after = c.kind === 'write-file' ? (c.content === '' && c.secret ? undefined : Buffer.from(c.content, 'base64')) : undefined;
  if (c.kind === 'write-file' && !c.before.exists && c.diffFrom && !c.secret && after !== undefined && after.length <= MAX_CONTENT_BYTES) {
    const diff = renderDiff({ path: c.path, before: Buffer.from(c.diffFrom.content, 'base64'), after, color: o.color });
    return { diffFrom: c.diffFrom.label, ...(diff ? { diff } : {}) };
  }
  if ((c.before.exists && before === undefined) || (after?.length ?? 0) > MAX_CONTENT_BYTES) {
    // The current content was not read (above the gather's cap) or is too big to diff: never diff against "empty".
    const now = c.before.exists ? `${c.before.size ?? '?'} bytes, ${short(c.before.sha256)}` : 'absent';
    const next = c.kind === 'write-file' ? `${c.after.size ?? '?'} bytes, ${short(c.after.sha256)}` : 'absent';
    return { notShown: `${now} → ${next}` };
  }
  const old = c.before.exists ? before ?? Buffer.alloc(0) : undefined;
  const diff = renderDiff({ path: c.path, ...(old !== undefined ? { before: old } : {}), ...(after !== undefined ? { after } : {}), secret: c.secret, color: o.color });
  // A certificate is public: decoded unless the file is secret (a key beside it). A kubeconfig is decoded even when
  // secret (embedded key): its summary holds only the public parts.
  // A write whose content is not kept (a journal's copy of a secret file) decodes nothing.
  const known = c.kind === 'remove-path' || after !== undefined;
  const certificate = c.secret || !known ? undefined : decodeCertificateChange(old, after, o.now);
  const kubeconfig = certificate || !known ? undefined : decodeKubeconfigChange(old, after, o.now);
  return { ...(diff ? { diff } : {}), ...(certificate ? { certificate } : {}), ...(kubeconfig ? { kubeconfig } : {}) };
}
