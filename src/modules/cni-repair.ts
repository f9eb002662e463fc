import type { Change } from '../core/change.ts';
import { planGalaxyRepair } from '../cni/galaxy-repair.ts';
import { isCniVersion, parseVersionFact, versionFactArgv, versionFactKey } from '../cni/plugin-versions.ts';
import { CniError } from '../errors.ts';
import type { FileFact, HostFacts } from '../facts/fact-request.ts';
import { getFileContent } from '../facts/file-content.ts';
import { resolveCniPaths, validateCniPaths, type CniPathProps } from './cni-config-paths.ts';
import { checkUnknownProps } from './file-write.ts';
import { planTextWrite } from './flags.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';

export interface CniRepairProps extends CniPathProps {
  /** The conf's cniVersion before Istio, when known and the conflist's plugin entry does not keep it. */
  readonly originalVersion?: string;
}

/** The text of a gathered config file (a regular UTF-8 file), or a CniError naming it. */
export function readCniConfigFact(fact: FileFact, path: string): string | undefined {
  if (!fact.exists) return undefined;
  if (fact.type !== 'file') throw new CniError(`${path} is a ${fact.type}, not a regular file`, { file: path, hint: 'look at the node by hand; nothing was changed' });
  try { return new TextDecoder('utf-8', { fatal: true }).decode(getFileContent(fact, path)); } catch (e) {
    if (e instanceof TypeError) throw new CniError(`${path} is not UTF-8 text`, { file: path, cause: e });
    throw e;
  }
}

/**
 * `cniRepair({ dir, confName, conflistName, binDir })`: undo what Istio CNI's chained mode left on a node whose
 * plugin cannot run it (the Galaxy repair, docs/cni-galaxy-repair.md). The conflist's first plugin is written back
 * as the `.conf`, with the highest cniVersion the plugin supports (asked with CNI's VERSION command, gathered with the
 * files) not above the original one, and the conflist is removed.
 *
 * @plan `create CONF` or `update CONF` (with the conflist's mode and owner) with the reason (`plugin galaxy supports
 * 0.1.0, 0.2.0, not 0.3.1: plugins[0] as a .conf with cniVersion 0.2.0; Istio's entry dropped`) and the diff, then
 * `remove CONFLIST`. A node left alone says why without `-v`: the plugin supports the conflist's version, there is
 * no conflist, or neither file exists. A malformed conflist or a plugin that does not answer VERSION is an error.
 *
 * @rollback Puts the `.conf` back as it was (or removes it when the run created it) and restores the conflist from
 * the journal's pre-image.
 *
 * @example
 * cniRepair({ originalVersion: '0.2.0' })
 */
export const cniRepair = defineModule<CniRepairProps>({
  name: 'cni-repair',
  validate: (p) => {
    const problems = [...checkUnknownProps(p, ['dir', 'confName', 'conflistName', 'binDir', 'originalVersion']), ...validateCniPaths(p)];
    if (p.originalVersion !== undefined && !isCniVersion(p.originalVersion)) problems.push('originalVersion: a CNI version like "0.2.0"');
    return problems;
  },
  facts: (p) => {
    const c = resolveCniPaths(p);
    return [
      { kind: 'file', path: c.conflistPath, content: true },
      { kind: 'file', path: c.confPath, content: true },
      { kind: 'command', key: versionFactKey(c.binDir, [c.conflistPath]), argv: versionFactArgv(c.binDir, [c.conflistPath]) },
    ];
  },
  plan(p: CniRepairProps, facts: HostFacts, ctx: TaskContext): PlanResult {
    const c = resolveCniPaths(p);
    const listFact = facts.file(c.conflistPath);
    const confFact = facts.file(c.confPath);
    const conflist = readCniConfigFact(listFact, c.conflistPath);
    const decision = planGalaxyRepair({
      conflistPath: c.conflistPath, confPath: c.confPath, binDir: c.binDir, ...(conflist !== undefined ? { conflist } : {}), confExists: confFact.exists,
      answers: parseVersionFact(facts.command(versionFactKey(c.binDir, [c.conflistPath])).stdout), ...(p.originalVersion ? { originalVersion: p.originalVersion } : {}),
    });
    // Left alone or skipped, with the reason: shown in `rig plan` without -v (the operator decides node by node).
    if (decision.action === 'none') return { noop: decision.reason, notable: true };
    const write = planTextWrite({
      path: c.confPath, fact: confFact, text: decision.conf, reason: decision.reason, noop: 'conf already as wanted',
      mode: listFact.mode, owner: listFact.owner, group: listFact.group, ctx,
    });
    const { content: _c, ...before } = listFact;
    const remove: Change = { kind: 'remove-path', path: c.conflistPath, before, secret: false, task: ctx.taskPath, reason: `the chained config Istio CNI left; replaced by ${c.confPath}` };
    return { changes: [...('changes' in write ? write.changes : []), remove] };
  },
});
