import type { JournalStore, RunJournal } from '../changelog/journal-store.ts';
import { GateFailedError, type RigError } from '../errors.ts';
import { buildReleaseScript } from '../engine/apply-script.ts';
import { hostBecomes, playBecomes } from '../engine/become.ts';
import { mapLimit } from '../engine/gather-facts.ts';
import type { Plan } from '../engine/plan-types.ts';
import type { Session } from '../engine/run-playbook.ts';
import type { Host } from '../inventory/types.ts';
import type { StopSignal } from '../engine/stop-signal.ts';
import type { NotRunReason } from '../engine/not-run-reason.ts';
import { checkGates, type GateTarget } from './check-gates.ts';
import type { GateResult } from './gate-types.ts';
import { revertBatch, type RevertRecord } from './revert-batch.ts';

/** Gates of a run: every result with its timing, the reverts, and the gate that stopped the run. */
export interface GateRunRecord {
  readonly results: GateResult[];
  readonly reverts: RevertRecord[];
  /** The gate that stopped the run: where, and whether its batch was reverted. */
  stoppedBy?: { readonly play: number; readonly batch: number; readonly host: string; readonly gate: string; readonly reverted: boolean };
}

export interface GateBatchContext {
  readonly plan: Plan;
  readonly play: number;
  readonly batch: number;
  /** Hosts of the batch whose play script finished ok. */
  readonly applied: readonly string[];
  readonly runId: string;
  readonly journal: RunJournal;
  readonly store: JournalStore;
  readonly session: Session;
  readonly hostsByName: ReadonlyMap<string, Host>;
  /** Hosts whose lock the run holds (updated: a reverted host's lock is released for the revert run). */
  readonly lockedNow: Set<string>;
  /** Hosts that failed (updated with the gate failures). */
  readonly dead: Map<string, { status: 'failed' | 'unreachable'; error: RigError | { code: string; message: string } }>;
  readonly revert: boolean;
  /** Host-side gate results returned by the hosts' apply scripts (fold-host-gates.ts): those gates are not polled again. */
  readonly hostGateResults?: ReadonlyMap<string, readonly GateResult[]>;
  readonly stopped: () => boolean;
  readonly stop?: StopSignal;
}

/** Why the hosts after a batch whose gate failed did not run (the live view, the recap, --json notRun). */
export function describeGateStop(play: { readonly index: number; readonly name: string }, batch: number, rec: GateRunRecord): NotRunReason {
  const by = rec.stoppedBy;
  return { cause: 'aborted', message: `aborted: a health gate failed after batch ${batch + 1} of play ${play.index + 1} "${play.name}"${by ? ` ("${by.gate}" on ${by.host})` : ''}` };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function describeFailure(r: GateResult): string {
  return `gate "${r.name}" failed on ${r.host} after ${secs(r.ms)} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'})${r.detail ? `: ${r.detail}` : ''}`;
}

/**
 * After a batch: check its gates (only hosts that changed and have gates: a converged batch evaluates none). All
 * pass → 'go'. One fails → the batch's hosts are reverted from the journal (unless --no-revert), the revert is
 * verified by the gates' afterRevert checks, the hosts are marked failed with the gate named, and 'stop'.
 */
export async function gateBatch(rec: GateRunRecord, c: GateBatchContext): Promise<'go' | 'stop'> {
  const playInfo = c.plan.plays.find((p) => p.index === c.play)!;
  const hostPlan = (n: string) => c.plan.hosts.find((h) => h.host === n);
  const targetsFor = (names: readonly string[]): GateTarget[] => names.flatMap((n) => {
    const gates = hostPlan(n)?.plays.find((p) => p.play === c.play)?.gates ?? [];
    if (!gates.length) return [];
    const host = c.hostsByName.get(n)!;
    return [{ host: n, connector: c.session.connector(host), become: playBecomes(playInfo, host, hostPlan(n)), gates }];
  });
  const targets = targetsFor(c.applied);
  if (!targets.length) return 'go';
  const record = (r: GateResult): void => {
    rec.results.push(r);
    c.journal.append({ t: 'gate', ...r });
    c.session.options.onEvent?.({ kind: 'gate-done', result: r });
  };
  c.session.options.onEvent?.({ kind: 'gates-start', play: c.play, batch: c.batch, phase: 'apply', hosts: targets.map((t) => t.host) });
  // Host-side gates already polled by the host's apply script: their results, in the play's gate order; the rest here.
  const carried = targets.flatMap((t) => c.hostGateResults?.get(t.host) ?? []);
  carried.forEach(record);
  const remaining = targets.map((t) => (c.hostGateResults?.has(t.host) ? { ...t, gates: t.gates.filter((g) => g.from !== 'host') } : t)).filter((t) => t.gates.length);
  const results = [...carried, ...await checkGates(remaining, { play: c.play, batch: c.batch, phase: 'apply', forks: c.session.forks, onResult: record, ...(c.stop ? { stop: c.stop } : {}) })];
  c.session.options.onEvent?.({ kind: 'gates-done', play: c.play, batch: c.batch, phase: 'apply', results });
  const failures = results.filter((r) => !r.passed);
  if (!failures.length) return 'go';
  // Interrupted while polling: the batch stays applied, unverified, and nothing is reverted (`rig apply` again, or
  // `rig rollback RUN`, as for any interrupted run).
  if (c.stopped()) return 'stop';

  const first = failures[0]!;
  const batchHosts = c.applied;
  let revert: RevertRecord | undefined;
  if (c.revert) {
    c.session.options.onEvent?.({ kind: 'batch-revert', play: c.play, batch: c.batch, hosts: batchHosts, reason: describeFailure(first) });
    // The run's own lock (held when the host has later plays) gives way to the revert run's.
    const held = batchHosts.filter((n) => c.lockedNow.has(n));
    await mapLimit(held, c.session.forks, async (n) => {
      const host = c.hostsByName.get(n)!;
      try { await c.session.connector(host).runScript(buildReleaseScript(c.runId), { become: hostBecomes(c.plan.plays, host, hostPlan(n)) }); } catch { /* the revert's gather reports it */ }
      c.lockedNow.delete(n);
    });
    const r = await revertBatch({ runId: c.runId, play: c.play, batch: c.batch, hosts: batchHosts, hostsByName: c.hostsByName, store: c.store, session: c.session });
    const reverted = batchHosts.filter((n) => !r.failed[n]);
    const recheck = targetsFor(reverted).filter((t) => t.gates.some((g) => g.afterRevert));
    let verified: boolean | undefined;
    if (recheck.length) {
      c.session.options.onEvent?.({ kind: 'gates-start', play: c.play, batch: c.batch, phase: 'revert', hosts: recheck.map((t) => t.host) });
      const again = await checkGates(recheck, { play: c.play, batch: c.batch, phase: 'revert', forks: c.session.forks, onResult: record });
      c.session.options.onEvent?.({ kind: 'gates-done', play: c.play, batch: c.batch, phase: 'revert', results: again });
      verified = again.every((x) => x.passed);
    }
    revert = { ...r, ...(verified !== undefined ? { verified } : {}) };
    rec.reverts.push(revert);
    c.journal.append({ t: 'revert', play: c.play, batch: c.batch, hosts: batchHosts, ...(r.rollbackRun ? { rollbackRun: r.rollbackRun } : {}), failed: r.failed, ...(verified !== undefined ? { verified } : {}) });
  }
  rec.stoppedBy = { play: c.play, batch: c.batch, host: first.host, gate: first.name, reverted: revert !== undefined };
  // Hosts the run changed before this batch: earlier plays, earlier batches of this play.
  const hasSteps = (n: string, play: number): boolean => (hostPlan(n)?.plays.find((p) => p.play === play)?.steps.length ?? 0) > 0;
  const earlier = [...new Set(c.plan.plays.flatMap((p) => (p.index < c.play ? p.hostNames : p.index === c.play ? p.batches.slice(0, c.batch).flat() : [])
    .filter((n) => hasSteps(n, p.index) && !batchHosts.includes(n))))];
  for (const n of batchHosts) {
    const mine = failures.find((f) => f.host === n);
    const what = mine ? describeFailure(mine) : `reverted with its batch: ${describeFailure(first)}`;
    const reverted = revert && !revert.failed[n];
    const state = !revert ? 'left as it is (--no-revert)'
      : reverted ? `reverted by rollback run ${revert.rollbackRun}: ${revert.restored[n]?.length ?? 0} step${revert.restored[n]?.length === 1 ? '' : 's'}${revert.verified === true ? ', gates pass again' : revert.verified === false ? ', BUT a gate still fails after the revert' : ''}`
        : `NOT reverted: ${revert.failed[n]}`;
    c.dead.set(n, {
      status: 'failed',
      error: new GateFailedError(`${what}; ${state}`, {
        host: n, task: `play ${c.play + 1} "${playInfo.name}" › gate "${(mine ?? first).name}"`,
        hint: `fix the cause and \`rig apply\` again, or undo ${revert ? (earlier.length ? `the earlier batches (${earlier.join(', ')})` : 'what is left of the run') : 'the run'} with \`rig rollback ${c.runId}\``,
      }),
    });
  }
  return 'stop';
}
