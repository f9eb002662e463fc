import { JournalError, RigError } from '../errors.ts';
import { buildReleaseScript } from '../engine/apply-script.ts';
import { hostBecomes } from '../engine/become.ts';
import { gatherHostFacts, mapLimit } from '../engine/gather-facts.ts';
import { PLAN_FORMAT, type HostPlan, type Plan } from '../engine/plan-types.ts';
import { applyRun, errorRecord, lockOwner, type ApplyRunResult, type Session } from '../engine/run-playbook.ts';
import type { StopSignal } from '../engine/stop-signal.ts';
import type { Host } from '../inventory/types.ts';
import type { SerialValue } from '../playbook/play-options.ts';
import { invertRunForHost, rollbackFactRequests } from './invert-run.ts';
import { newRunId, type JournalStore, type LoadedRun } from './journal-store.ts';
import { pendingServicePlays, rollbackOrder, rollbackPlays } from './rollback-order.ts';

export interface PrepareRollbackOptions {
  /** The run whose part is undone (`store.load(id)`; a run still in progress is read as journaled so far). */
  readonly run: LoadedRun;
  /** Hosts whose part of the run is undone, by name (each must be in `hosts`). */
  readonly hostNames: readonly string[];
  /** Inventory hosts by name (address, port, become...). */
  readonly hosts: ReadonlyMap<string, Host>;
  readonly session: Session;
  /** Only these plays of the run (their index); the others are left as they are. @default every play */
  readonly plays?: readonly number[];
  /** Restore paths changed since the run too (`rig rollback --force`). @default false */
  readonly force?: boolean;
  /** Batches of this size instead of the run's own (`--serial`). @default the run's batches, last first */
  readonly serial?: SerialValue;
  /** Take each host's lock while gathering (false: `--check`, nothing will be applied). @default true */
  readonly lock?: boolean;
  readonly breakLock?: boolean;
  /** The rollback's run id. @default a new one */
  readonly runId?: string;
  /**
   * Earlier rollbacks of `run` (`store.load` of each run with `rollbackOf: run.meta.id`): where one restored a
   * host's files and stopped before the service actions, those are re-run. @default none
   */
  readonly earlierAttempts?: readonly LoadedRun[];
}

export interface PreparedRollback {
  readonly runId: string;
  /** The rollback as a plan: the run's plays in reverse, each in its batches in reverse, then its waits. */
  readonly plan: Plan;
  /** Hosts whose lock the rollback took (release them if it is not applied). */
  readonly locked: ReadonlySet<string>;
  /** `host: path (...)` changed since the run: applying is refused unless `force`. */
  readonly conflicts: readonly string[];
  /** Set when the run's order is not known (an older journal): everything at once. */
  readonly note?: string;
}

/**
 * Plan the rollback of `hostNames`' part of `run` (one round trip per host: the current state of what it touched,
 * taking the lock). Changes nothing. Used by `rig rollback` and by anything that undoes one batch of a run.
 */
export async function prepareRollback(o: PrepareRollbackOptions): Promise<PreparedRollback> {
  const runId = o.runId ?? newRunId();
  const base = rollbackOrder(o.run);
  const order = o.plays ? narrowOrder(base, o.plays) : base;
  const lock = o.lock === false ? undefined : { runId, spec: { acquire: true, owner: lockOwner(runId), ...(o.breakLock ? { breakStale: true } : {}), ...(o.breakLock && o.force ? { breakLive: true } : {}) } };
  const locked = new Set<string>();
  const conflicts: string[] = [];
  const byHost = new Map<string, HostPlan>();
  const onEvent = o.session.options.onEvent;
  onEvent?.({ kind: 'phase', phase: 'gather', hosts: [...o.hostNames] });
  await mapLimit([...o.hostNames], o.session.forks, async (name) => {
    const host = o.hosts.get(name);
    if (!host) throw new RigError(`rollback: host ${name} is not in the inventory`, { host: name });
    // As the undone run did (its plays' and tasks' become): the gather, the lock, the restores.
    const become = hostBecomes(o.run.plan.plays, host, o.run.plan.hosts.find((h) => h.host === name));
    const g = await gatherHostFacts(o.session.connector(host), rollbackFactRequests(o.run, name), lock, become);
    onEvent?.(g.ok ? { kind: 'host-gathered', host: name, ms: g.ms } : { kind: g.unreachable ? 'host-unreachable' : 'host-failed', host: name, error: g.error });
    if (!g.ok) {
      byHost.set(name, g.unreachable
        ? { host: name, address: host.address, plays: [], become, unreachable: g.error.message, unreachableCode: g.error.code }
        : { host: name, address: host.address, plays: [], become, error: errorRecord(g.error) });
      return;
    }
    if (lock) locked.add(name);
    const pendingServices = pendingServicePlays(o.earlierAttempts ?? [], name);
    const inv = invertRunForHost(o.run, name, host.address, g.facts, o.force === true, { groups: order.groups, waits: order.waits, pendingServices });
    for (const c of inv.conflicts) conflicts.push(`${name}: ${c}`);
    byHost.set(name, { ...inv.plan, become });
  });
  const hostPlans = o.hostNames.map((n) => byHost.get(n)!);
  const plan: Plan = {
    format: PLAN_FORMAT, createdAt: new Date().toISOString(), playbook: o.run.plan.playbook, inventory: o.run.plan.inventory,
    plays: rollbackPlays(o.run, order, hostPlans, o.serial),
    hosts: hostPlans,
  };
  return { runId, plan, locked, conflicts, ...(order.note ? { note: order.note } : {}) };
}

function narrowOrder(order: ReturnType<typeof rollbackOrder>, plays: readonly number[]): ReturnType<typeof rollbackOrder> {
  const keep = order.groups.map((g) => g.some((p) => plays.includes(p)));
  const pick = <T>(xs: readonly T[]): T[] => xs.filter((_x, i) => keep[i]);
  return { ...order, groups: pick(order.groups).map((g) => g.filter((p) => plays.includes(p))), batches: pick(order.batches), maxFailPercentage: pick(order.maxFailPercentage) };
}

export interface RollbackBatchOptions extends PrepareRollbackOptions {
  readonly store: JournalStore;
  /** Graceful stop (SIGINT/SIGTERM), as for apply. */
  readonly stop?: StopSignal;
}

export interface RollbackBatchResult {
  readonly prepared: PreparedRollback;
  readonly result: ApplyRunResult;
}

/**
 * Roll back `hostNames`' part of `run` (e.g. the hosts of one batch whose health gate failed) as a rollback run of
 * its own, journaled in `store` with `rollbackOf: run.meta.id` (so `rig rollback` later leaves those hosts alone and
 * the rollback can itself be rolled back): restore what the run changed there, re-run the service actions it ran
 * (its handlers) and then its waits (WaitChange.rollback), plays in reverse order, in the run's batches (last first)
 * narrowed to `hostNames`, stopping at a failed batch like apply does.
 *
 * The hosts' locks must be free or stale: a caller whose own run still holds them releases them first
 * (`buildReleaseScript(runId)` over `session.connector(host)`). A path changed since the run refuses the whole
 * rollback (JournalError naming them, nothing changed, locks released) unless `force`.
 */
export async function rollbackBatch(o: RollbackBatchOptions): Promise<RollbackBatchResult> {
  const prepared = await prepareRollback(o);
  if (prepared.conflicts.length) {
    await releaseRollbackLocks(o.session, o.hosts, prepared);
    throw rollbackConflictError(o.run.meta.id, prepared.conflicts);
  }
  const result = await applyRun(prepared.plan, o.session, {
    runId: prepared.runId, kind: 'rollback', store: o.store, locked: prepared.locked, hosts: o.hosts, rollbackOf: o.run.meta.id,
    ...(o.stop ? { stop: o.stop } : {}),
  });
  return { prepared, result };
}

/** The refusal of a rollback whose paths changed since the run. */
export function rollbackConflictError(runId: string, conflicts: readonly string[]): JournalError {
  return new JournalError(`rollback refused: ${conflicts.length} file${conflicts.length === 1 ? '' : 's'} changed since run ${runId}:\n  ${conflicts.join('\n  ')}`, {
    hint: 'inspect them; re-run with --force to overwrite them with the state before the run',
  });
}

/** Release the locks a prepared rollback took (when it is not applied). */
export async function releaseRollbackLocks(session: Session, hosts: ReadonlyMap<string, Host>, prepared: PreparedRollback): Promise<void> {
  await mapLimit([...prepared.locked], session.forks, async (name) => {
    const host = hosts.get(name);
    if (!host) return;
    const become = prepared.plan.hosts.find((h) => h.host === name)?.become ?? false;
    try { await session.connector(host).runScript(buildReleaseScript(prepared.runId), { become }); } catch { /* unreachable */ }
  });
}
