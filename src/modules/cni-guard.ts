import { checkProposedChain, ISTIO_CHAINED_CNI_VERSION, nodePluginTypes, proposeIstioChain } from '../cni/chain-guard.ts';
import { parseConflist, type ParsedConflist } from '../cni/galaxy-repair.ts';
import { isCniVersion, parseVersionFact, versionFactArgv, versionFactKey } from '../cni/plugin-versions.ts';
import { CniGuardError } from '../errors.ts';
import type { HostFacts } from '../facts/fact-request.ts';
import { resolveCniPaths, validateCniPaths, type CniPathProps } from './cni-config-paths.ts';
import { readCniConfigFact } from './cni-repair.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';

export interface CniGuardProps extends CniPathProps {
  /**
   * The conflist the cluster is about to get: its JSON text and where it came from (shown in messages). Without it:
   * what Istio CNI's chained mode would make of the node's current conf (or conflist).
   */
  readonly proposed?: { readonly text: string; readonly source: string };
  /** The version Istio's chained mode writes. @default '0.3.1' */
  readonly istioVersion?: string;
}

const proposedOf = (p: CniGuardProps): ParsedConflist | undefined => (p.proposed ? parseConflist(p.proposed.text, p.proposed.source) : undefined);

/** Fact sources: the operator's plugin types, or the node's config files. */
function sourcesOf(p: CniGuardProps): string[] {
  const c = resolveCniPaths(p);
  const proposed = proposedOf(p);
  return proposed ? nodePluginTypes(proposed).map((t) => `type:${t}`) : [c.confPath, c.conflistPath];
}

/**
 * `cniGuard({ proposed })`: changes nothing; checks, before a CNI change, that each node's plugins accept the proposed
 * chained config (their CNI VERSION answers are gathered with the files). A node whose plugins would refuse it fails
 * its plan with CNI_WOULD_BREAK and the reason (so `rig plan` and `--json` list exactly the nodes where pods would stop
 * being created, and `rig apply` stops those nodes before any later task); a node that keeps working is a noop saying
 * why.
 *
 * @plan No change ever. On each node, without `-v`: `Istio CNI's chained mode (cniVersion 0.3.1): REASON` (or the
 * `proposed` source) when the node keeps working, or that the node has neither config file and is skipped; a node
 * that would break fails with `CNI_WOULD_BREAK` naming the plugins and the versions they support.
 *
 * @rollback Nothing: the guard changes nothing.
 *
 * @example
 * cniGuard({ istioVersion: '0.3.1' })
 */
export const cniGuard = defineModule<CniGuardProps>({
  name: 'cni-guard',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['dir', 'confName', 'conflistName', 'binDir', 'proposed', 'istioVersion']), ...validateCniPaths(p)];
    if (p.istioVersion !== undefined && !isCniVersion(p.istioVersion)) problems.push('istioVersion: a CNI version like "0.3.1"');
    if (p.proposed !== undefined && (typeof p.proposed?.text !== 'string' || typeof p.proposed?.source !== 'string')) problems.push('proposed: { text, source }');
    return problems;
  },
  facts: (p) => {
    const c = resolveCniPaths(p);
    const sources = sourcesOf(p);
    return [
      { kind: 'file', path: c.confPath, content: true },
      { kind: 'file', path: c.conflistPath, content: true },
      { kind: 'command', key: versionFactKey(c.binDir, sources), argv: versionFactArgv(c.binDir, sources) },
    ];
  },
  plan(p: CniGuardProps, facts: HostFacts, ctx: TaskContext): PlanResult {
    const c = resolveCniPaths(p);
    let proposed = proposedOf(p);
    const what = p.proposed ? p.proposed.source : `Istio CNI's chained mode (cniVersion ${p.istioVersion ?? ISTIO_CHAINED_CNI_VERSION})`;
    const conf = readCniConfigFact(facts.file(c.confPath), c.confPath);
    const conflist = readCniConfigFact(facts.file(c.conflistPath), c.conflistPath);
    if (conf === undefined && conflist === undefined) return { noop: `neither ${c.confPath} nor ${c.conflistPath}: not a node with this CNI config, skipped`, notable: true };
    proposed ??= proposeIstioChain({ confPath: c.confPath, conflistPath: c.conflistPath, ...(conf !== undefined ? { conf } : {}), ...(conflist !== undefined ? { conflist } : {}) }, p.istioVersion)!;
    const verdict = checkProposedChain(proposed, parseVersionFact(facts.command(versionFactKey(c.binDir, sourcesOf(p))).stdout), c.binDir);
    if (verdict.safe) return { noop: `${what}: ${verdict.reason}`, notable: true };
    throw new CniGuardError(`pods would stop being created on this node with ${what}: ${verdict.problems.join('; ')}`, {
      task: ctx.taskPath, hint: 'repair first (cni_mode=repair) or run Istio CNI as an interface plugin (docs/cni-galaxy-repair.md)',
    });
  },
});
