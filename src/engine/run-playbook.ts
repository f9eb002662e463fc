import { hostname } from 'node:os';
import type { Connector } from '../connectors/connector.ts';
import type { HostRecap, JournalStore, RunJournal, RunKind } from '../changelog/journal-store.ts';
import { newRunId } from '../changelog/journal-store.ts';
import { InterruptedError, isRigError, LockedError, RigError } from '../errors.ts';
import { releaseHostLock } from './release-host-lock.ts';
import type { Host } from '../inventory/types.ts';
import { buildReleaseScript, type LockSpec } from './apply-script.ts';
import { applyHostSteps, type HostApplyResult } from './apply-host.ts';
import { HostTasks, planHost, selectPlays, type PlanInput } from './build-plan.ts';
import { checkTaskBecome, hostBecomes, playBecomes } from './become.ts';
import { gatherHostFacts, mapLimit } from './gather-facts.ts';
import { flattenTasks } from '../playbook/load-playbook.ts';
import { countChanges, isChangeStep, PLAN_FORMAT, type HostPlan, type Plan, type PlanStep } from './plan-types.ts';
import type { LayoutPlay, RunEventListener } from './run-events.ts';
import { describeAbort, describeFailedEarlier, INTERRUPTED_REASON, type NotRunReason } from './not-run-reason.ts';
import type { StopSignal } from './stop-signal.ts';
import { describeGateStop, gateBatch, type GateRunRecord } from '../gates/gate-batch.ts';
import { foldHostGates, withGateEpilogue } from '../gates/fold-host-gates.ts';
import type { GateResult } from '../gates/gate-types.ts';
import type { PendingRecord } from './pending-handlers.ts';
import { hostPlayHooks } from './handler-script.ts';

export interface SessionOptions {
  readonly createConnector: (host: Host) => Connector;
  /** Hosts handled in parallel. @default 200 */
  readonly forks?: number;
  readonly onEvent?: RunEventListener;
}

/** Open connections of one run, one per host, reused by every round trip. */
export class Session {
  readonly connectors = new Map<string, Connector>();
  readonly options: SessionOptions;
  constructor(options: SessionOptions) {
    // A progress listener runs inside SSH data handlers: its exception must never pass for a lost connection.
    const listen = options.onEvent;
    this.options = listen ? { ...options, onEvent: (e) => { try { listen(e); } catch { /* a display problem, not the host's */ } } } : options;
  }
  connector(host: Host): Connector {
    let c = this.connectors.get(host.name);
    if (!c) { c = this.options.createConnector(host); this.connectors.set(host.name, c); }
    return c;
  }
  async close(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((c) => c.close().catch(() => undefined)));
  }
  get forks(): number { return this.options.forks ?? 200; }
}

export interface PlanRunOptions {
  readonly runId?: string;
  /** Take each host's lock during gathering (apply). */
  readonly lock?: boolean;
  readonly breakLock?: boolean;
  /** With breakLock: also break a lock whose holder is alive on this controller. @default false */
  readonly force?: boolean;
  /** Aborted on a stop request: gathers in flight are abandoned (their hosts fail as interrupted), none starts. */
  readonly signal?: AbortSignal;
}

export interface PlanRunResult {
  readonly runId: string;
  readonly plan: Plan;
  /** Hosts whose lock this run holds. */
  readonly locked: ReadonlySet<string>;
  /** Hosts in the plan, by name. */
  readonly hosts: ReadonlyMap<string, Host>;
}

/** Main-thread time planning may take while other hosts are still gathering (see planRun). */
const PLAN_WHILE_GATHERING_MS = 1000;

export function lockOwner(runId: string): string {
  return JSON.stringify({ runId, controller: hostname(), pid: process.pid, startedAt: new Date().toISOString() });
}

/** Gather facts on every targeted host (one round trip each) and plan. No host is changed. */
export async function planRun(input: PlanInput, session: Session, options: PlanRunOptions = {}): Promise<PlanRunResult> {
  const runId = options.runId ?? newRunId();
  const plays = selectPlays(input);
  const names = [...new Set(plays.flatMap((p) => p.hostNames))];
  const hosts = names.map((n) => input.inventory.getHost(n));
  const lockSpec: LockSpec | undefined = options.lock ? { acquire: true, owner: lockOwner(runId), ...(options.breakLock ? { breakStale: true } : {}), ...(options.breakLock && options.force ? { breakLive: true } : {}) } : undefined;
  session.options.onEvent?.({ kind: 'phase', phase: 'gather', hosts: names });
  const locked = new Set<string>();
  // Each host is planned as soon as its facts arrive, and a host with nothing to do lets go of its lock at once (its
  // second and last round trip), while other hosts are still handshaking. Planning is synchronous and can be heavy
  // (issuing a certificate generates a key): with 50 hosts on 2 cores, planning everything while handshakes were in
  // flight starved them into timeouts. So once planning has held the main thread for PLAN_WHILE_GATHERING_MS while
  // other hosts were still gathering, the rest wait for the last gather, as they all did before.
  type GatherOk = Extract<Awaited<ReturnType<typeof gatherHostFacts>>, { ok: true }>;
  type Gathered = HostPlan | { readonly tasks: HostTasks; readonly facts: GatherOk['facts']; readonly pending: readonly PendingRecord[]; readonly finish?: GatherOk['finish'] };
  let gathering = hosts.length;
  let planningMs = 0;
  const releases: Array<Promise<void>> = [];
  const planGathered = (x: Gathered): HostPlan => {
    if (!('tasks' in x)) return x;
    const host = x.tasks.host;
    let hp: HostPlan;
    try {
      hp = planHost(x.tasks, x.facts, x.pending);
    } catch (e) {
      const err = isRigError(e) ? e : new RigError(String(e), { host: host.name });
      session.options.onEvent?.({ kind: 'host-failed', host: host.name, error: err });
      if (x.finish) releases.push(x.finish().then(() => undefined));
      return { host: host.name, address: host.address, plays: [], error: errorRecord(err) };
    }
    // Nothing to do on this host: release its lock now (the apply will not touch it), in the gather's shell when it
    // still waits (x.finish), else in a round trip of its own. A host with steps keeps the lock; its shell exits.
    if (lockSpec && locked.has(host.name) && hp.plays.every((p) => p.steps.length === 0)) {
      const done = x.finish ? x.finish(buildReleaseScript(runId))
        : releaseHostLock(session.connector(host), runId, hostBecomes(plays, host, hp)).then((problem) => problem === undefined);
      releases.push(done.then((ok) => { if (ok) locked.delete(host.name); }, () => { /* unreachable now: the lock stays, as after any lost connection */ }));
    } else if (x.finish) releases.push(x.finish().then(() => undefined));
    return hp;
  };
  const gathered = await mapLimit(hosts, session.forks, async (host): Promise<Gathered> => {
    const g = await gatherHost(host);
    gathering--;
    if (!('tasks' in g) || (planningMs >= PLAN_WHILE_GATHERING_MS && gathering > 0)) return g;
    const t0 = performance.now();
    try { return planGathered(g); } finally { if (gathering > 0) planningMs += performance.now() - t0; }
  });
  async function gatherHost(host: Host): Promise<Gathered> {
    const tasks = new HostTasks(host, input, plays);
    try {
      for (const p of plays) if (p.hostNames.includes(host.name)) checkTaskBecome(p, host, [...flattenTasks(input.playbook.playbook.plays[p.index]!.tasks), ...(input.playbook.playbook.plays[p.index]!.handlers ?? [])]);
    } catch (e) {
      const error = e as RigError;
      session.options.onEvent?.({ kind: 'host-failed', host: host.name, error });
      return { host: host.name, address: host.address, plays: [], error: errorRecord(error) };
    }
    // The gather and the lock run as the host's plays will (play- and task-level become included).
    const g = await gatherHostFacts(session.connector(host), tasks.factRequests(), lockSpec ? { runId, spec: lockSpec } : undefined, hostBecomes(plays, host), input.playbook.playbook.name, lockSpec !== undefined, options.signal ? { signal: options.signal } : {});
    if (!g.ok) {
      if (g.unreachable) {
        session.options.onEvent?.({ kind: 'host-unreachable', host: host.name, error: g.error });
        return { host: host.name, address: host.address, plays: [], unreachable: g.error.message, unreachableCode: g.error.code };
      }
      session.options.onEvent?.({ kind: 'host-failed', host: host.name, error: g.error });
      return { host: host.name, address: host.address, plays: [], error: errorRecord(g.error) };
    }
    if (lockSpec) locked.add(host.name);
    session.options.onEvent?.({ kind: 'host-gathered', host: host.name, ms: g.ms });
    return { tasks, facts: g.facts, pending: g.pending ?? [], ...(g.finish ? { finish: g.finish } : {}) };
  }
  const hostPlans = gathered.map(planGathered);
  await Promise.all(releases);
  const plan: Plan = {
    format: PLAN_FORMAT,
    createdAt: new Date().toISOString(),
    playbook: { path: input.playbook.path, name: input.playbook.playbook.name, sha256: input.playbook.sha256 },
    inventory: [input.inventory.source],
    ...(input.limit ? { limit: input.limit } : {}),
    plays,
    hosts: hostPlans,
  };
  return { runId, plan, locked, hosts: new Map(hosts.map((h) => [h.name, h])) };
}

export function errorRecord(e: RigError): NonNullable<HostPlan['error']> {
  return {
    code: e.code, message: e.message, ...(e.where.task ? { task: e.where.task } : {}), ...(e.hint ? { hint: e.hint } : {}),
    ...(e.where.file ? { file: e.where.file } : {}), ...(e.where.line ? { line: e.where.line } : {}),
  };
}

export interface HostOutcome {
  readonly host: string;
  /**
   * `interrupted`: a stop was requested before every step of the host ran. `not-run`: some of its plays never
   * started because the run was aborted (a batch failed beyond maxFailPercentage); `notRun` says which and why.
   */
  readonly status: 'ok' | 'changed' | 'failed' | 'unreachable' | 'interrupted' | 'not-run';
  readonly recap: HostRecap;
  readonly error?: RigError | { readonly code: string; readonly message: string };
  readonly done: readonly string[];
  /** Plays of the host that never started (0-based), and why. */
  readonly notRun?: { readonly plays: readonly number[]; readonly reason: NotRunReason };
}

export interface ApplyRunResult {
  readonly runId: string;
  readonly outcomes: readonly HostOutcome[];
  /** True when any host failed or was unreachable. */
  readonly failed: boolean;
  /** True when a stop was requested (SIGINT/SIGTERM) during the run. */
  readonly interrupted: boolean;
  /** Gate results (with timings) and the automatic revert of a batch whose gate failed (src/gates/). */
  readonly gates?: GateRunRecord;
  /** The batch whose failures (beyond maxFailPercentage) stopped the run: later batches and plays did not run. */
  readonly stoppedAt?: { readonly play: number; readonly playName: string; readonly batch: number; readonly failed: readonly string[] };
}

export interface ApplyRunOptions {
  readonly runId: string;
  readonly kind: RunKind;
  readonly store: JournalStore;
  /** Hosts whose lock was taken at gather time (else the first apply script takes it). */
  readonly locked: ReadonlySet<string>;
  readonly hosts: ReadonlyMap<string, Host>;
  readonly rollbackOf?: string;
  /** Graceful stop: start nothing new, let each host finish its step in flight; a forced stop journals at once. */
  readonly stop?: StopSignal;
  /** Revert a batch whose gate failed (false: `--no-revert`, stop and leave it as is). @default true */
  readonly revert?: boolean;
  /** `--force-handlers`: run notified handlers on a host even when a later task fails there (src/engine/handler-script.ts). */
  readonly forceHandlers?: boolean;
}

function recapOf(h: HostPlan, done: ReadonlySet<string>, failed: boolean, unreachable: boolean, error?: string, notRun?: NotRunReason): HostRecap {
  let ok = 0; let skipped = 0;
  for (const p of h.plays) {
    for (const t of p.tasks) {
      if (t.status === 'skipped') skipped++;
      else if (t.status === 'ok') ok++;
    }
  }
  // Changes made: the plan's definition (isChangeStep), counted over the steps that ran, not tasks.
  let changed = 0;
  for (const p of h.plays) for (const st of p.steps) if (isChangeStep(st) && done.has(st.id)) changed++;
  return { ok, changed, failed: failed ? 1 : 0, skipped, unreachable, ...(error ? { error } : {}), ...(notRun ? { notRun: notRun.message } : {}) };
}

/**
 * Apply a plan play by play, batch by batch (serial), hosts of a batch in parallel: one round trip per host and
 * play (changes, handlers and waits in order). Journals everything; stops a play when a batch fails beyond
 * maxFailPercentage. Hosts that fail stop there; the others go on.
 */
export async function applyRun(plan: Plan, session: Session, o: ApplyRunOptions): Promise<ApplyRunResult> {
  const journal: RunJournal = o.store.create({
    id: o.runId, kind: o.kind, playbook: plan.playbook.path, hosts: plan.hosts.map((h) => h.host),
    ...(o.rollbackOf ? { rollbackOf: o.rollbackOf } : {}),
  });
  journal.begin(plan);
  const hostPlans = new Map(plan.hosts.map((h) => [h.host, h]));
  const dead = new Map<string, { status: 'failed' | 'unreachable'; error: RigError | { code: string; message: string } }>();
  const done = new Map<string, Set<string>>();
  const lockedNow = new Set(o.locked);
  for (const h of plan.hosts) {
    done.set(h.host, new Set());
    if (h.unreachable) dead.set(h.host, { status: 'unreachable', error: { code: h.unreachableCode ?? 'UNREACHABLE', message: h.unreachable } });
    else if (h.error) dead.set(h.host, { status: 'failed', error: h.error });
  }
  const stepsIn = (name: string, play: number): readonly PlanStep[] => hostPlans.get(name)?.plays.find((p) => p.play === play)?.steps ?? [];
  const layout: LayoutPlay[] = plan.plays.map((p) => ({
    play: p.index, name: p.name, maxFailPercentage: p.maxFailPercentage,
    batches: p.batches.map((b) => b.map((host) => {
      const death = dead.get(host);
      const gateCount = hostPlans.get(host)?.plays.find((x) => x.play === p.index)?.gates?.length ?? 0;
      return {
        host, steps: stepsIn(host, p.index).length, changes: stepsIn(host, p.index).filter(isChangeStep).length, ...(gateCount ? { gates: gateCount } : {}),
        ...(death ? { skip: `${death.status === 'unreachable' ? 'unreachable' : 'failed'} before the apply: ${death.error.message}` } : {}),
      };
    })),
  }));
  session.options.onEvent?.({ kind: 'phase', phase: o.kind === 'rollback' ? 'rollback' : 'apply', hosts: plan.hosts.filter((h) => countChanges(h) > 0 && !h.error && !h.unreachable).map((h) => h.host), plays: layout });
  /** Plays each host's script started in; the play a host died in. */
  const started = new Map<string, Set<number>>();
  const diedIn = new Map<string, number>();
  let abortReason: NotRunReason | undefined;
  // The last play in which each host has steps releases its lock at the end of that script.
  const lastPlay = new Map<string, number>();
  for (const h of plan.hosts) for (const p of h.plays) if (p.steps.length) lastPlay.set(h.host, p.play);
  let aborted = false;
  const gates: GateRunRecord = { results: [], reverts: [] };
  let stoppedAt: ApplyRunResult['stoppedAt'];
  const stopped = (): boolean => o.stop?.requested === true;
  // A forced stop (second signal): journal the run as interrupted now, synchronously; the process exits next.
  const unForce = o.stop?.onForce(() => {
    journal.writeMeta({ ...journal.meta, status: 'interrupted', finishedAt: new Date().toISOString(), forced: true });
  });
  for (const play of plan.plays) {
    if (aborted || stopped()) break;
    for (const [bi, batch] of play.batches.entries()) {
      if (stopped()) break;
      const todo = batch.filter((n) => !dead.has(n) && stepsIn(n, play.index).length > 0);
      if (!todo.length) continue;
      session.options.onEvent?.({ kind: 'batch-start', play: play.index, playName: play.name, batch: bi, hosts: todo });
      journal.append({ t: 'batch', phase: 'start', play: play.index, batch: bi, hosts: todo, at: new Date().toISOString() });
      // Host-side gates ride in each host's apply script (src/gates/fold-host-gates.ts); gateBatch checks the rest.
      const hostGateResults = new Map<string, readonly GateResult[]>();
      const results: Array<HostApplyResult | undefined> = await mapLimit(todo, session.forks, async (name) => {
        if (stopped()) return undefined; // start nothing new
        const host = o.hosts.get(name)!;
        const hostPlay = hostPlans.get(name)!.plays.find((p) => p.play === play.index)!;
        const steps = hostPlay.steps;
        const fold = o.kind === 'apply' ? foldHostGates({ host: name, play: play.index, batch: bi, gates: hostPlay.gates ?? [] }) : undefined;
        started.set(name, (started.get(name) ?? new Set()).add(play.index));
        session.options.onEvent?.({ kind: 'host-apply-start', host: name, play: play.index, steps: steps.length, changes: steps.filter(isChangeStep).length });
        const r = await applyHostSteps({
          connector: session.connector(host), runId: o.runId, play: play.index, steps, journal,
          lock: { acquire: !lockedNow.has(name), release: lastPlay.get(name) === play.index, owner: lockOwner(o.runId) },
          hooks: withGateEpilogue(hostPlayHooks({ plan, play, hostPlay, runId: o.runId, kind: o.kind, last: lastPlay.get(name) === play.index, ...(o.rollbackOf ? { rollbackOf: o.rollbackOf } : {}), ...(o.forceHandlers ? { forceHandlers: true } : {}) }), fold),
          ...(fold ? { onLine: fold.take, gateSeconds: fold.seconds } : {}),
          ...(session.options.onEvent ? { onEvent: session.options.onEvent } : {}),
          become: playBecomes(play, host, hostPlans.get(name)),
          ...(o.stop ? { stop: o.stop } : {}),
        });
        if (fold && r.status === 'ok') hostGateResults.set(name, fold.results());
        if (r.status === 'ok') {
          lockedNow.add(name);
          if (lastPlay.get(name) === play.index) lockedNow.delete(name);
        } else {
          lockedNow.delete(name);
        }
        for (const id of r.done) done.get(name)!.add(id);
        const doneIds = new Set(r.done);
        session.options.onEvent?.({ kind: 'host-apply-done', host: name, play: play.index, changed: steps.filter((st) => isChangeStep(st) && doneIds.has(st.id)).length, status: r.status });
        return r;
      });
      let failedInBatch = 0;
      for (const r of results) {
        if (!r || r.status === 'ok' || r.status === 'interrupted') continue;
        failedInBatch++;
        const error = r.error ?? new RigError('failed', { host: r.host });
        dead.set(r.host, { status: r.status === 'unreachable' ? 'unreachable' : 'failed', error });
        diedIn.set(r.host, play.index);
        session.options.onEvent?.(r.status === 'unreachable' ? { kind: 'host-unreachable', host: r.host, error } : { kind: 'host-failed', host: r.host, error });
      }
      journal.append({ t: 'batch', phase: 'end', play: play.index, batch: bi, hosts: todo, at: new Date().toISOString() });
      if (failedInBatch > 0 && (failedInBatch * 100) / batch.length > play.maxFailPercentage) {
        aborted = true;
        abortReason = describeAbort(play, bi, failedInBatch, batch.length);
        stoppedAt = { play: play.index, playName: play.name, batch: bi, failed: results.filter((r) => r && r.status !== 'ok' && r.status !== 'interrupted').map((r) => r!.host) };
        break;
      }
      // Health gates of the batch's hosts that changed; a failure reverts the batch (src/gates/gate-batch.ts).
      const gated = await gateBatch(gates, {
        plan, play: play.index, batch: bi, applied: results.filter((r): r is HostApplyResult => r?.status === 'ok').map((r) => r.host),
        runId: o.runId, journal, store: o.store, session, hostsByName: o.hosts, lockedNow, dead, revert: o.revert !== false, hostGateResults,
        stopped, ...(o.stop ? { stop: o.stop } : {}),
      });
      if (gated === 'stop') {
        for (const n of batch) if (dead.has(n) && !diedIn.has(n)) diedIn.set(n, play.index);
        aborted = true;
        abortReason = describeGateStop(play, bi, gates);
        break;
      }
    }
  }
  // Release locks still held (hosts with nothing to apply, or after an abort): the second round trip of a converged run.
  // A host whose release fails keeps this run's lock: it did not finish cleanly (the next run there needs
  // --break-lock), so it is failed, never "ok" — unless it failed or was unreachable already, which says more.
  await mapLimit([...lockedNow], session.forks, async (name) => {
    const host = o.hosts.get(name);
    if (!host) return;
    const problem = await releaseHostLock(session.connector(host), o.runId, hostBecomes(plan.plays, host, hostPlans.get(name)));
    if (problem === undefined || dead.has(name)) return;
    const error = new LockedError(`this run's lock could not be released: ${problem}`, {
      host: name, hint: 'the host keeps the lock of this run: the next run there reports it stale, and --break-lock clears it',
    });
    dead.set(name, { status: 'failed', error });
    session.options.onEvent?.({ kind: 'host-failed', host: name, error });
  });
  unForce?.();
  const interrupted = stopped();
  // Every host with steps in a play whose script never started there: the view and the recap say why.
  const notRun = new Map<string, { plays: number[]; reason: NotRunReason }>();
  for (const play of plan.plays) {
    for (const name of play.batches.flat()) {
      if (!stepsIn(name, play.index).length || started.get(name)?.has(play.index)) continue;
      const death = dead.get(name);
      const reason = death ? describeFailedEarlier(diedIn.get(name) ?? -1, death.status)
        : interrupted ? INTERRUPTED_REASON : abortReason ?? { cause: 'aborted' as const, message: 'not started' };
      const entry = notRun.get(name) ?? { plays: [], reason };
      entry.plays.push(play.index);
      notRun.set(name, entry);
      session.options.onEvent?.({ kind: 'host-not-run', host: name, play: play.index, reason });
    }
  }
  const outcomes: HostOutcome[] = plan.hosts.map((h) => {
    const d = done.get(h.host)!;
    const death = dead.get(h.host);
    const skippedPlays = death ? undefined : notRun.get(h.host);
    const recap = recapOf(h, d, death?.status === 'failed', death?.status === 'unreachable', death?.error.message, skippedPlays?.reason);
    const left = interrupted && !death && h.plays.some((p) => p.steps.some((st) => !d.has(st.id)));
    if (left) {
      if (!h.plays.some((p) => p.steps.some((st) => d.has(st.id)))) journal.append({ t: 'host-end', host: h.host, play: -1, status: 'interrupted', message: 'not started' });
      const error = new InterruptedError('interrupted: some steps did not run', { host: h.host, hint: '`rig apply` again to finish, or `rig rollback` the run to undo it' });
      return { host: h.host, status: 'interrupted', recap, done: [...d], error, ...(skippedPlays ? { notRun: skippedPlays } : {}) };
    }
    const status: HostOutcome['status'] = death ? death.status : skippedPlays ? 'not-run' : recap.changed > 0 ? 'changed' : 'ok';
    return { host: h.host, status, recap, done: [...d], ...(death ? { error: death.error } : {}), ...(skippedPlays ? { notRun: skippedPlays } : {}) };
  });
  const failed = outcomes.some((x) => x.status === 'failed' || x.status === 'unreachable') || aborted;
  journal.writeMeta({
    ...journal.meta, status: interrupted ? 'interrupted' : failed ? 'failed' : 'ok', finishedAt: new Date().toISOString(),
    recap: Object.fromEntries(outcomes.map((x) => [x.host, x.recap])),
  });
  return { runId: o.runId, outcomes, failed, interrupted, ...(stoppedAt ? { stoppedAt } : {}), ...(gates.results.length ? { gates } : {}) };
}
