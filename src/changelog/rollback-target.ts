import { JournalError } from '../errors.ts';
import { touchedSteps } from './invert-run.ts';
import type { JournalStore, LoadedRun, RunMeta } from './journal-store.ts';

/**
 * The rollback runs that undid `runId` on `host`: finished there without failing or being unreachable, and not
 * themselves undone on that host by a later rollback (a rollback of the rollback puts the run's changes back).
 */
export function undoneBy(runs: readonly RunMeta[], runId: string, host: string): RunMeta | undefined {
  for (const r of [...runs].reverse()) {
    // An interrupted rollback may have stopped on any host: its hosts are checked again (what is back is left alone).
    if (r.kind !== 'rollback' || r.rollbackOf !== runId || !r.finishedAt || r.status === 'interrupted') continue;
    const recap = r.recap?.[host];
    // A host the rollback never reached (it stopped at a failed batch first) is not undone.
    if (!recap || recap.failed > 0 || recap.unreachable || recap.notRun) continue;
    if (undoneBy(runs, r.id, host)) continue;
    return r;
  }
  return undefined;
}

/** Hosts on which `run` may have changed something (a play's intent journaled, not stopped by drift or the lock). */
export function changedHosts(run: LoadedRun): string[] {
  return run.plan.hosts.map((h) => h.host).filter((h) => touchedSteps(run, h).length > 0);
}

/** Hosts of `run` that still need undoing. */
export function hostsLeftToRollBack(runs: readonly RunMeta[], run: LoadedRun): string[] {
  return changedHosts(run).filter((h) => !undoneBy(runs, run.meta.id, h));
}

/**
 * The run `rig rollback` undoes when no id is given: the newest apply that changed something and is not fully
 * rolled back — never a rollback attempt (a refused or failed one changed nothing worth undoing).
 */
export function pickRollbackTarget(store: JournalStore): LoadedRun {
  const runs = store.listRuns();
  if (!runs.length) {
    throw new JournalError(`no runs recorded in ${store.stateDir}: there is nothing to roll back`, {
      hint: 'run `rig apply` first, or point --state-dir at the directory that holds the runs',
    });
  }
  for (const meta of [...runs].reverse()) {
    if (meta.kind !== 'apply') continue;
    const run = store.load(meta.id);
    if (hostsLeftToRollBack(runs, run).length > 0) return run;
  }
  throw new JournalError(`no apply in ${store.stateDir} is left to roll back (every run that changed something is rolled back)`, {
    hint: 'list runs with `rig log`; to undo a rollback, give its id: rig rollback RUN',
  });
}
