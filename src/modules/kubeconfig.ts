import type { ModeInput } from '../core/file-mode.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { registerSecretText } from '../core/secret.ts';
import { checkFileAttrs, checkUnknownProps, planFileWrite } from './file-write.ts';
import { defineModule } from './module.ts';

export interface KubeconfigProps {
  /** Absolute path of the kubeconfig on the host. */
  readonly path: string;
  /** API server URL, e.g. https://10.0.0.1:6443 */
  readonly server: string;
  /** Name of the cluster entry. @default 'kubernetes' */
  readonly clusterName?: string;
  /** Name of the user entry. @default 'user' */
  readonly userName?: string;
  /** Name of the context, which becomes the current context. @default `${userName}@${clusterName}` */
  readonly contextName?: string;
  /** CA by path on the host, or embedded from a controller PKI directory. */
  readonly ca: { readonly path: string } | { readonly embedFrom: string };
  /** Client credentials by path on the host, or embedded PEMs (the file becomes secret). */
  readonly client: { readonly certPath: string; readonly keyPath: string } | { readonly embed: { readonly certPem: string; readonly keyPem: string } };
  /** File mode. @default '0600' */
  readonly mode?: ModeInput;
}

/** Standard kubeconfig YAML, deterministic for the same input. */
export function renderKubeconfig(p: KubeconfigProps): string {
  const cluster = p.clusterName ?? 'kubernetes';
  const user = p.userName ?? 'user';
  const context = p.contextName ?? `${user}@${cluster}`;
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const caField = 'path' in p.ca ? { 'certificate-authority': p.ca.path } : { 'certificate-authority-data': b64(readFileSync(join(p.ca.embedFrom, 'ca.crt'), 'utf8')) };
  const userField = 'embed' in p.client
    ? { 'client-certificate-data': b64(p.client.embed.certPem), 'client-key-data': b64(p.client.embed.keyPem) }
    : { 'client-certificate': p.client.certPath, 'client-key': p.client.keyPath };
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: p.server, ...caField } }],
    users: [{ name: user, user: userField }],
    contexts: [{ name: context, context: { cluster, user } }],
    'current-context': context,
    preferences: {},
  }, { lineWidth: 0 });
}

/**
 * `kubeconfig({ path, server, ca, client })`: write a kubeconfig for a component or a user. It holds one cluster,
 * one user and one context (the current one), rendered deterministically; the file is owned by root unless it exists
 * with another owner.
 *
 * @plan `create PATH` / `update PATH` and the YAML diff; with embedded client PEMs the whole file is secret (masked).
 *
 * @rollback Puts the previous file back (from the journal's pre-image), or removes it when the run created it.
 *
 * @example
 * kubeconfig({ path: '/etc/kubernetes/kubelet.conf', server: 'https://10.0.0.1:6443', userName: 'kubelet',
 *   ca: { path: '/etc/kubernetes/pki/ca.crt' },
 *   client: { certPath: '/var/lib/kubelet/pki/kubelet.crt', keyPath: '/var/lib/kubelet/pki/kubelet.key' } })
 */
export const kubeconfig = defineModule<KubeconfigProps>({
  name: 'kubeconfig',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['path', 'server', 'clusterName', 'userName', 'contextName', 'ca', 'client', 'mode']), ...checkFileAttrs(p)];
    if (typeof p.server !== 'string' || !/^https?:\/\//.test(p.server)) problems.push('server: an http(s) URL');
    if (!p.ca || (!('path' in p.ca) && !('embedFrom' in p.ca))) problems.push('ca: { path } or { embedFrom: pkiDir }');
    if (!p.client || (!('embed' in p.client) && !('certPath' in p.client))) problems.push('client: { certPath, keyPath } or { embed: { certPem, keyPem } }');
    return problems;
  },
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts, ctx) => {
    const secret = 'embed' in p.client;
    const text = renderKubeconfig(p);
    if (secret) registerSecretText(text);
    return planFileWrite({ path: p.path, fact: facts.file(p.path), content: Buffer.from(text), mode: p.mode ?? '0600', secret, ctx });
  },
});
