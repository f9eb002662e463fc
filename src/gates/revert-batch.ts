import { invertRunForHost, rollbackFactRequests } from '../changelog/invert-run.ts';
import { newRunId, type JournalStore } from '../changelog/journal-store.ts';
import { RigError } from '../errors.ts';
import { describeChange } from '../cli/render-plan.ts';
import { hostBecomes } from '../engine/become.ts';
import { gatherHostFacts, mapLimit } from '../engine/gather-facts.ts';
import { PLAN_FORMAT, type HostPlan, type Plan } from '../engine/plan-types.ts';
import type { ApplyRunOptions, ApplyRunResult, Session } from '../engine/run-playbook.ts';
import type { Host } from '../inventory/types.ts';

/** What the automatic revert of a failed batch did, host by host. */
export interface RevertRecord {
  readonly play: number;
  readonly batch: number;
  readonly hosts: readonly string[];
  /** The rollback run that reverted them (journaled like `rig rollback`, rollbackOf the run). */
  readonly rollbackRun?: string;
  /** Per host: what was restored (one line per step), or why it could not be. */
  readonly restored: Readonly<Record<string, readonly string[]>>;
  readonly failed: Readonly<Record<string, string>>;
  /** The gates re-checked after the revert: true all passed, false one failed, undefined none to check. */
  readonly verified?: boolean;
}

export interface RevertBatchOptions {
  readonly runId: string;
  readonly plan: Plan;
  readonly play: number;
  readonly batch: number;
  readonly hosts: readonly string[];
  readonly hostsByName: ReadonlyMap<string, Host>;
  readonly store: JournalStore;
  readonly session: Session;
  readonly lockOwner: (runId: string) => string;
  /** The engine's applyRun (passed in: this file is imported by the engine). */
  readonly applyRun: (plan: Plan, session: Session, o: ApplyRunOptions) => Promise<ApplyRunResult>;
}

/**
 * Roll back the run's changes on the hosts of one batch from the journal, as `rig rollback RUN --limit HOSTS` would:
 * a rollback run of its own (so `rig rollback RUN` later leaves these hosts alone and undoes the earlier batches),
 * files restored byte for byte from the pre-images, the services the run restarted restarted again. A file changed
 * since the run by someone else is not overwritten (no --force): that host is reported not reverted.
 */
export async function revertBatch(o: RevertBatchOptions): Promise<RevertRecord> {
  const run = o.store.load(o.runId);
  const rollbackRun = newRunId();
  const lock = { runId: rollbackRun, spec: { acquire: true, owner: o.lockOwner(rollbackRun) } };
  const locked = new Set<string>();
  const failed: Record<string, string> = {};
  const hostPlans: HostPlan[] = [];
  await mapLimit([...o.hosts], o.session.forks, async (name) => {
    const host = o.hostsByName.get(name)!;
    const become = hostBecomes(run.plan.plays, host, run.plan.hosts.find((h) => h.host === name));
    const g = await gatherHostFacts(o.session.connector(host), rollbackFactRequests(run, name), lock, become);
    if (!g.ok) { failed[name] = `${g.error.code}: ${g.error.message}`; return; }
    locked.add(name);
    const inv = invertRunForHost(run, name, host.address, g.facts, false);
    if (inv.conflicts.length) failed[name] = `changed since the run, not overwritten: ${inv.conflicts.join('; ')}`;
    hostPlans.push({ ...inv.plan, become, ...(inv.conflicts.length ? { error: { code: 'JOURNAL', message: failed[name]! } } : {}) });
  });
  hostPlans.sort((a, b) => o.hosts.indexOf(a.host) - o.hosts.indexOf(b.host));
  const names = hostPlans.map((h) => h.host);
  const plan: Plan = {
    format: PLAN_FORMAT, createdAt: new Date().toISOString(), playbook: run.plan.playbook, inventory: run.plan.inventory,
    plays: [{ index: 0, name: `revert of batch ${o.batch + 1} of run ${o.runId}`, hosts: names.join(','), hostNames: names, batches: [names], maxFailPercentage: 100 }],
    hosts: hostPlans,
  };
  const restored: Record<string, string[]> = {};
  if (names.length) {
    const result = await o.applyRun(plan, o.session, { runId: rollbackRun, kind: 'rollback', store: o.store, locked, hosts: o.hostsByName, rollbackOf: o.runId });
    for (const out of result.outcomes) {
      const hp = hostPlans.find((h) => h.host === out.host)!;
      const done = new Set(out.done);
      restored[out.host] = hp.plays.flatMap((p) => p.steps.filter((s) => done.has(s.id)).map((s) => describeChange(s.change)));
      if ((out.status === 'failed' || out.status === 'unreachable') && !failed[out.host]) failed[out.host] = out.error ? `${out.error.code}: ${out.error.message}` : out.status;
    }
  }
  for (const n of o.hosts) if (!names.includes(n) && !failed[n]) failed[n] = new RigError('not reverted').message;
  return { play: o.play, batch: o.batch, hosts: [...o.hosts], ...(names.length ? { rollbackRun } : {}), restored, failed };
}
