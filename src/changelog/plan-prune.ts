import { compareRunStart, type RunMeta } from './journal-store.ts';

/** What `rig prune` removes: runs beyond the `keep` newest and/or started more than `olderThanMs` ago (both when both). */
export interface PruneOptions {
  readonly keep?: number;
  readonly olderThanMs?: number;
  /** Shown in reasons, e.g. `30d`. */
  readonly olderThanText?: string;
  readonly now: number;
  /** Remove applies that are not fully rolled back too (never the last run of a host, never a live run). */
  readonly force: boolean;
}

/** One recorded run as the pruner sees it. */
export interface PruneRunView {
  readonly meta: RunMeta;
  /** An apply's hosts where it changed something that is not rolled back (src/changelog/rollback-target.ts). */
  readonly leftToRollBack: readonly string[];
  /** Its controller process is alive: never removed. */
  readonly running: boolean;
}

export interface PruneDecision {
  readonly meta: RunMeta;
  readonly remove: boolean;
  /** Why it is removed or kept, for the plan-like listing. */
  readonly reason: string;
}

/**
 * Decide, oldest first, which runs to remove. Kept whatever the options: the newest run of each host, a live run,
 * a rollback whose undone run is kept (removing it alone would make that run look not rolled back, so `rig rollback`
 * would pick it again). Kept unless `force`: an apply not fully rolled back (its journal is what undoes it).
 * Pure: the caller loads the runs and acts on the decisions.
 */
export function planPrune(runs: readonly PruneRunView[], o: PruneOptions): PruneDecision[] {
  // By start, not by id alone: two runs often start within one second (an apply and its rollback from a script).
  const sorted = [...runs].sort((a, b) => compareRunStart(a.meta, b.meta));
  const lastOf = new Map<string, string>();
  for (const r of sorted) for (const h of r.meta.hosts) lastOf.set(h, r.meta.id);
  const ids = new Set(sorted.map((r) => r.meta.id));
  const removed = new Set<string>();
  const out: PruneDecision[] = [];
  sorted.forEach((r, i) => {
    const keep = (reason: string): void => { out.push({ meta: r.meta, remove: false, reason }); };
    const m = r.meta;
    if (o.keep !== undefined && i >= sorted.length - o.keep) return keep(`one of the ${o.keep} newest runs`);
    if (o.olderThanMs !== undefined && !(Date.parse(m.startedAt) < o.now - o.olderThanMs)) return keep(`newer than ${o.olderThanText ?? `${o.olderThanMs} ms`}`);
    if (r.running) return keep('still running');
    const lastHosts = m.hosts.filter((h) => lastOf.get(h) === m.id);
    if (lastHosts.length) return keep(`the last run of ${lastHosts.join(', ')}`);
    if (m.kind === 'apply' && r.leftToRollBack.length && !o.force) return keep(`not fully rolled back on ${r.leftToRollBack.join(', ')} (--force removes it, and with it the way to undo it)`);
    if (m.kind === 'rollback' && m.rollbackOf && ids.has(m.rollbackOf) && !removed.has(m.rollbackOf)) {
      return keep(`rollback of ${m.rollbackOf}, which is kept (removed with it, never alone)`);
    }
    removed.add(m.id);
    const why = m.kind === 'rollback' ? `rollback of ${m.rollbackOf ?? '?'}${m.rollbackOf && ids.has(m.rollbackOf) ? ', removed with it' : ''}`
      : r.leftToRollBack.length ? `--force: not fully rolled back on ${r.leftToRollBack.join(', ')}` : 'nothing of it is left to roll back';
    out.push({ meta: m, remove: true, reason: why });
  });
  return out;
}
