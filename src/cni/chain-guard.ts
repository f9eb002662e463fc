/**
 * The guard before a CNI change (docs/cni-galaxy-repair.md): would this node still create pods with the proposed
 * config? The proposal is a conflist the operator gives, or what Istio CNI's chained mode makes of the node's current
 * config. libcni hands every plugin of a conflist the list's cniVersion, and a plugin refuses a version it does not
 * support, so each of the node's own plugins in the chain must list that version in its VERSION answer. Pure.
 */
import { CniError } from '../errors.ts';
import { ISTIO_PLUGIN_TYPES, parseConflist, type Json, type ParsedConflist } from './galaxy-repair.ts';
import { isCniVersion, requireSupportedVersions, type PluginVersionAnswer } from './plugin-versions.ts';

/** The version Istio CNI's chained mode gives the conflist it makes from a `.conf`. */
export const ISTIO_CHAINED_CNI_VERSION = '0.3.1';
/** The network name Istio CNI gives that conflist. */
export const ISTIO_CHAINED_NAME = 'k8s-pod-network';

/** Istio CNI's plugin entry as its chained mode appends it (the fields that matter here). */
const ISTIO_ENTRY: Json = Object.freeze({ type: 'istio-cni', log_level: 'info', kubernetes: { kubeconfig: '/etc/cni/net.d/ZZZ-istio-cni-kubeconfig' } });

/**
 * What Istio CNI's chained mode writes from a node's config: a `.conf` becomes a conflist with `cniVersion`
 * `istioVersion` holding the conf as its only plugin plus Istio's; a conflist keeps its version and gets Istio's entry
 * appended. `undefined` when the node has neither.
 */
export function proposeIstioChain(current: { readonly conf?: string; readonly confPath: string; readonly conflist?: string; readonly conflistPath: string }, istioVersion = ISTIO_CHAINED_CNI_VERSION): ParsedConflist | undefined {
  if (current.conflist !== undefined) {
    const list = parseConflist(current.conflist, current.conflistPath);
    return { ...list, plugins: [...list.plugins.filter((p) => !ISTIO_PLUGIN_TYPES.includes(String(p['type']))), ISTIO_ENTRY] };
  }
  if (current.conf === undefined) return undefined;
  let conf: unknown;
  try { conf = JSON.parse(current.conf); } catch (e) {
    throw new CniError(`${current.confPath} is not valid JSON: ${(e as Error).message}`, { file: current.confPath });
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf) || typeof (conf as Json)['type'] !== 'string') {
    throw new CniError(`${current.confPath}: not a CNI network config (a JSON object with a "type")`, { file: current.confPath });
  }
  return { name: ISTIO_CHAINED_NAME, cniVersion: istioVersion, plugins: [conf as Json, ISTIO_ENTRY] };
}

/** The node's own plugin types in a chain (Istio's entries are installed with Istio and not asked). */
export const nodePluginTypes = (list: ParsedConflist): string[] => [...new Set(list.plugins.map((p) => String(p['type'])).filter((t) => !ISTIO_PLUGIN_TYPES.includes(t)))];

export type GuardVerdict =
  | { readonly safe: true; readonly reason: string }
  | { readonly safe: false; readonly problems: readonly string[] };

/**
 * Check a proposed chain against the node's plugins: every one must be in `binDir` and list the chain's cniVersion.
 * A plugin that is there but does not answer VERSION is a CniError (the node cannot be judged).
 */
export function checkProposedChain(proposed: ParsedConflist, answers: ReadonlyMap<string, PluginVersionAnswer>, binDir: string): GuardVerdict {
  if (!isCniVersion(proposed.cniVersion)) throw new CniError(`the proposed config's cniVersion ${JSON.stringify(proposed.cniVersion)} is not a CNI version`);
  const problems: string[] = [];
  const ok: string[] = [];
  for (const type of nodePluginTypes(proposed)) {
    if (answers.get(type)?.kind === 'missing') { problems.push(`plugin ${type} is not in ${binDir}`); continue; }
    const supported = requireSupportedVersions(answers, type, binDir);
    if (supported.includes(proposed.cniVersion)) ok.push(type);
    else problems.push(`plugin ${type} supports ${supported.join(', ')}, not ${proposed.cniVersion}: it would refuse every new pod with 'plugin ${type} does not support config version "${proposed.cniVersion}"'`);
  }
  if (problems.length) return { safe: false, problems };
  return { safe: true, reason: `${ok.join(', ')} ${ok.length === 1 ? 'supports' : 'support'} cniVersion ${proposed.cniVersion}: pods keep being created` };
}
