import { rollbackBatch } from '../changelog/rollback-batch.ts';
import type { JournalStore } from '../changelog/journal-store.ts';
import { isRigError } from '../errors.ts';
import { describeChange } from '../cli/render-plan.ts';
import type { Session } from '../engine/run-playbook.ts';
import type { Host } from '../inventory/types.ts';

/** What the automatic revert of a failed batch did, host by host. */
export interface RevertRecord {
  readonly play: number;
  readonly batch: number;
  readonly hosts: readonly string[];
  /** The rollback run that reverted them (journaled like `rig rollback`, rollbackOf the run). */
  readonly rollbackRun?: string;
  /** Per host: what was restored (one line per step that ran). */
  readonly restored: Readonly<Record<string, readonly string[]>>;
  /** Per host: why it was not (fully) reverted. */
  readonly failed: Readonly<Record<string, string>>;
  /** The gates re-checked after the revert: true all passed, false one failed, undefined none to check. */
  readonly verified?: boolean;
}

export interface RevertBatchOptions {
  readonly runId: string;
  readonly play: number;
  readonly batch: number;
  readonly hosts: readonly string[];
  readonly hostsByName: ReadonlyMap<string, Host>;
  readonly store: JournalStore;
  readonly session: Session;
}

/**
 * Roll back the run's part on the hosts of one batch from the journal (src/changelog/rollback-batch.ts, as
 * `rig rollback RUN` would there): a rollback run of its own (so `rig rollback RUN` later leaves these hosts alone
 * and undoes the earlier batches), files restored byte for byte, the run's service actions re-run, then its waits. A
 * file changed since the run by someone else is not overwritten: the revert is refused and the hosts reported so.
 * The hosts' locks must be free (the caller releases the run's own).
 */
export async function revertBatch(o: RevertBatchOptions): Promise<RevertRecord> {
  const base = { play: o.play, batch: o.batch, hosts: [...o.hosts] };
  let done;
  try {
    done = await rollbackBatch({ run: o.store.load(o.runId), hostNames: o.hosts, hosts: o.hostsByName, session: o.session, store: o.store });
  } catch (e) {
    const why = isRigError(e) ? `${e.code}: ${e.message}` : String(e);
    return { ...base, restored: {}, failed: Object.fromEntries(o.hosts.map((h) => [h, why])) };
  }
  const { prepared, result } = done;
  const restored: Record<string, string[]> = {};
  const failed: Record<string, string> = {};
  for (const out of result.outcomes) {
    const ids = new Set(out.done);
    restored[out.host] = (prepared.plan.hosts.find((h) => h.host === out.host)?.plays ?? []).flatMap((p) => p.steps.filter((s) => ids.has(s.id)).map((s) => describeChange(s.change)));
    if (out.status !== 'ok' && out.status !== 'changed') failed[out.host] = out.error ? `${out.error.code}: ${out.error.message}` : out.status;
  }
  for (const h of o.hosts) if (!restored[h] && !failed[h]) failed[h] = 'not in the rollback';
  return { ...base, rollbackRun: prepared.runId, restored, failed };
}
