import { UsageError } from '../errors.ts';
import { computeBatches } from '../engine/build-plan.ts';
import type { HostPlan, PlayInfo } from '../engine/plan-types.ts';
import { checkSerial, normalizeSerial, type SerialValue } from '../playbook/play-options.ts';
import type { LoadedRun } from './journal-store.ts';

/**
 * The order in which a rollback undoes a run: its plays in reverse, each in the batches the run went through (from
 * the journal's `batch` events), last batch first, then the waits that followed. A journal written before rig
 * recorded batches has none: then every play and host is undone at once and no wait is re-run (`note` says so).
 */
export interface RollbackOrder {
  /** Forward plays undone by each rollback play, in the order they are undone (see InvertOptions.groups). */
  readonly groups: readonly (readonly number[])[];
  /** Re-run the waits of the undone plays (only when the journal records the run's order). */
  readonly waits: boolean;
  /** Per rollback play: the run's batches of that play, last first (host names as the run used them). */
  readonly batches: readonly (readonly (readonly string[])[])[];
  /** Per rollback play: the undone play's maxFailPercentage (a failed batch stops the rollback like it stopped the apply). */
  readonly maxFailPercentage: readonly number[];
  /** Why the run's order is not followed, when it is not. */
  readonly note?: string;
}

/** The journaled batches of each play of `run`, in the order they started. */
function journaledBatches(run: LoadedRun): Map<number, string[][]> {
  const out = new Map<number, string[][]>();
  for (const e of run.events) {
    if (e.t !== 'batch' || e.phase !== 'start') continue;
    if (!out.has(e.play)) out.set(e.play, []);
    out.get(e.play)!.push([...e.hosts]);
  }
  return out;
}

/** How a rollback of `run` is ordered (pure: from the journal alone). */
export function rollbackOrder(run: LoadedRun): RollbackOrder {
  const recorded = journaledBatches(run);
  const played = run.plan.plays.map((p) => p.index).filter((i) => run.events.some((e) => e.t === 'intent' && e.play === i));
  if (!recorded.size) {
    return {
      groups: [played], waits: false, batches: [[]], maxFailPercentage: [100],
      note: `the journal of run ${run.meta.id} does not record the order of its batches (written by an older rig): every host is rolled back at once and no wait is re-run`,
    };
  }
  const undo = [...played].reverse();
  return {
    groups: undo.map((p) => [p]),
    waits: true,
    batches: undo.map((p) => [...(recorded.get(p) ?? [])].reverse()),
    maxFailPercentage: undo.map((p) => run.plan.plays.find((x) => x.index === p)?.maxFailPercentage ?? 0),
  };
}

/**
 * The plays of a rollback plan: one per group of `order`, with the run's batches (last first) narrowed to the hosts
 * that have something to undo in it, or `serial` batches over those hosts (in the order the run's batches are undone).
 */
export function rollbackPlays(run: LoadedRun, order: RollbackOrder, hostPlans: readonly HostPlan[], serial?: SerialValue): PlayInfo[] {
  return order.groups.map((group, i) => {
    const busy = hostPlans.filter((h) => (h.plays.find((p) => p.play === i)?.steps.length ?? 0) > 0).map((h) => h.host);
    const listed = order.batches[i]!.flat();
    // Hosts of the plan not in a journaled batch (none in a journal that records them) go first, in plan order.
    const hostNames = [...hostPlans.map((h) => h.host).filter((h) => !listed.includes(h)), ...listed.filter((h) => hostPlans.some((x) => x.host === h))];
    const recorded = [[...hostNames.filter((h) => !listed.includes(h))], ...order.batches[i]!.map((b) => [...b])];
    const batches = (serial !== undefined ? computeBatches(hostNames.filter((h) => busy.includes(h)), serial) : recorded.map((b) => b.filter((h) => busy.includes(h))))
      .filter((b) => b.length > 0);
    const names = group.map((p) => run.plan.plays.find((x) => x.index === p)?.name ?? `play ${p + 1}`);
    return {
      index: i,
      name: `rollback of ${group.length === 1 ? `"${names[0]}"` : `run ${run.meta.id}`}`,
      hosts: hostNames.join(','), hostNames, batches,
      maxFailPercentage: order.maxFailPercentage[i] ?? 0, undoes: [...group],
    };
  });
}

/** Parse `--serial` as a play's `serial`: `N`, `N%`, or a comma list of them (the last size repeats). */
export function parseSerialOption(text: string): SerialValue {
  const parts = text.split(',');
  const problems = checkSerial(parts.length === 1 ? parts[0] : parts, `--serial ${JSON.stringify(text)}`);
  if (problems.length) throw new UsageError(problems.join('; '), { hint: 'e.g. --serial 1 (one host at a time), --serial 50%, --serial 1,2,50%' });
  return normalizeSerial(parts.length === 1 ? parts[0] : parts);
}

/**
 * Plays of the undone run whose service actions an earlier rollback attempt on `host` left undone: its restores
 * ran, then it stopped (a failed restart, a host lost) before a service action or wait of that play. Nothing is
 * left to restore there, so without this the next attempt would not restart the services at all. The latest
 * attempt that reached the host in a play decides.
 */
export function pendingServicePlays(attempts: readonly LoadedRun[], host: string): Set<number> {
  const pending = new Set<number>();
  const ordered = [...attempts].sort((a, b) => (a.meta.startedAt < b.meta.startedAt ? -1 : a.meta.startedAt > b.meta.startedAt ? 1 : 0));
  for (const a of ordered) {
    const hp = a.plan.hosts.find((h) => h.host === host);
    const done = new Set(a.events.flatMap((e) => (e.t === 'step' && e.host === host && e.status === 'done' ? [e.id] : [])));
    for (const play of a.plan.plays) {
      if (!play.undoes || !a.events.some((e) => e.t === 'intent' && e.host === host && e.play === play.index)) continue;
      const steps = hp?.plays.find((p) => p.play === play.index)?.steps ?? [];
      const left = steps.some((s) => (s.change.kind === 'service' || s.change.kind === 'wait') && !done.has(s.id));
      for (const f of play.undoes) { if (left) pending.add(f); else pending.delete(f); }
    }
  }
  return pending;
}
