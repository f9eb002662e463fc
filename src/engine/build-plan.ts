import type { Change } from '../core/change.ts';
import { accountFactRequests, PlannedAccounts } from './account-names.ts';
import { isRigError, PatternError, PlaybookError, RigError, ValidationError } from '../errors.ts';
import type { FactRequest } from '../facts/fact-request.ts';
import type { MemoryHostFacts } from '../facts/host-facts.ts';
import type { Host, Inventory } from '../inventory/types.ts';
import { FLUSH_HANDLERS } from '../modules/flush-handlers.ts';
import { resolveProps, type Task, type TaskContext } from '../modules/module.ts';
import { describeTask, flattenTasks, notifyList, type LoadedPlaybook } from '../playbook/load-playbook.ts';
import type { PlayDefinition } from '../playbook/types.ts';
import { resolvePlayBecome } from './become.ts';
import { registerSecretVars } from '../core/secret-var-name.ts';
import { overlayChange } from './overlay-facts.ts';
import { planGates } from '../gates/plan-gates.ts';
import { annotatePendingOutcomes, pendingForPlay, pendingPlayLabel, type PendingRecord } from './pending-handlers.ts';
import { resolvePlayOptions, type SerialValue } from '../playbook/play-options.ts';
import type { HostPlan, HostPlayPlan, PlanStep, PlayInfo, TaskOutcome } from './plan-types.ts';

export interface PlanInput {
  readonly inventory: Inventory;
  readonly playbook: LoadedPlaybook;
  /** `--limit` pattern. */
  readonly limit?: string;
  /** `-e` extra vars (highest precedence). */
  readonly extraVars?: Readonly<Record<string, unknown>>;
  readonly projectRoot: string;
}

/** Split a play's hosts into rolling batches as Ansible's `serial` does (the last size repeats). */
export function computeBatches(hostNames: readonly string[], serial: SerialValue | undefined): string[][] {
  if (serial === undefined) return hostNames.length ? [[...hostNames]] : [];
  const sizes = (Array.isArray(serial) ? serial : [serial]).map((s) => {
    if (typeof s === 'number') return s;
    const pct = parseFloat(String(s));
    return Math.max(1, Math.floor((hostNames.length * pct) / 100));
  });
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < hostNames.length) {
    const size = sizes[Math.min(k, sizes.length - 1)]!;
    out.push(hostNames.slice(i, i + size));
    i += size;
    k++;
  }
  return out;
}

/** Resolve each play's hosts (pattern ∩ --limit). A play matching no host is an error naming the hosts that exist. */
export function selectPlays(input: PlanInput): PlayInfo[] {
  const limited = input.limit ? new Set(input.inventory.selectHosts(input.limit).map((h) => h.name)) : undefined;
  return input.playbook.playbook.plays.map((play, index) => {
    let hosts: Host[];
    try {
      hosts = input.inventory.selectHosts(play.hosts);
    } catch (e) {
      if (e instanceof PatternError) throw new PatternError(`play ${index + 1} "${play.name ?? play.hosts}": ${e.message}`, { file: input.playbook.path, hint: e.hint });
      throw e;
    }
    const selected = hosts.filter((h) => !limited || limited.has(h.name));
    const names = selected.map((h) => h.name);
    // serial, maxFailPercentage, forceHandlers, become may come from variables (inventory, -e): one value for the play.
    const contexts = selected.length ? selected.map((host) => ({ host, vars: mergePlayVars(host.vars, input, play) })) : [{ vars: mergePlayVars({}, input, play) }];
    const options = resolvePlayOptions(play, contexts, `plays[${index}] "${play.name ?? play.hosts}"`, input.playbook.path);
    const become = resolvePlayBecome(options.become, [...flattenTasks(play.tasks), ...(play.handlers ?? [])]);
    return {
      index, name: play.name ?? play.hosts, hosts: play.hosts, hostNames: names,
      batches: computeBatches(names, options.serial), maxFailPercentage: options.maxFailPercentage,
      ...(options.forceHandlers ? { forceHandlers: true } : {}),
      ...(become !== undefined ? { become } : {}),
    };
  });
}

/** A host's vars in a play: inventory (merged) < playbook vars < play vars < extra vars (-e). */
export function mergePlayVars(hostVars: Readonly<Record<string, unknown>>, input: PlanInput, play: PlayDefinition): Record<string, unknown> {
  return { ...hostVars, ...(input.playbook.playbook.vars ?? {}), ...(play.vars ?? {}), ...(input.extraVars ?? {}) };
}

interface ResolvedTask {
  readonly task: Task;
  readonly path: string;
  readonly ctx: TaskContext;
  readonly props?: unknown;
  /** Error while resolving props (reported when planning). */
  readonly error?: unknown;
}

/** Per host: every task of every play it is in, props resolved once for facts and plan. */
export class HostTasks {
  readonly resolved = new Map<string, ResolvedTask>();

  constructor(readonly host: Host, readonly input: PlanInput, readonly plays: readonly PlayInfo[]) {}

  varsFor(play: PlayDefinition): Record<string, unknown> {
    const vars = mergePlayVars(this.host.vars, this.input, play);
    // Values of secret-named variables are masked wherever they are rendered, unless the playbook says public.
    registerSecretVars(vars, new Set([...(this.input.playbook.playbook.publicVars ?? []), ...(play.publicVars ?? [])]));
    return vars;
  }

  resolve(playIndex: number, key: string, task: Task, path: string, vars: Record<string, unknown>): ResolvedTask {
    const hit = this.resolved.get(`${playIndex}/${key}`);
    if (hit) return hit;
    const ctx: TaskContext = { host: this.host, vars, taskPath: path, projectRoot: this.input.projectRoot, inventory: this.input.inventory };
    let r: ResolvedTask;
    try {
      const props = resolveProps(task.props, ctx);
      if (typeof task.props === 'function' && task.module.name !== FLUSH_HANDLERS) {
        const problems = task.module.validate(props);
        if (problems.length) throw new ValidationError(problems.map((p) => `${path}: ${p}`), { host: this.host.name, task: path });
      }
      r = { task, path, ctx, props };
    } catch (error) {
      r = { task, path, ctx, error };
    }
    this.resolved.set(`${playIndex}/${key}`, r);
    return r;
  }

  *eachTask(): Generator<{ playIndex: number; play: PlayDefinition; key: string; task: Task; path: string; handler: boolean }> {
    const pb = this.input.playbook.playbook;
    for (const info of this.plays) {
      if (!info.hostNames.includes(this.host.name)) continue;
      const play = pb.plays[info.index]!;
      const tasks = flattenTasks(play.tasks);
      for (let i = 0; i < tasks.length; i++) {
        yield { playIndex: info.index, play, key: `t${i}`, task: tasks[i]!, path: describeTask(info.index, play, i, tasks[i]!), handler: false };
      }
      for (const [i, h] of (play.handlers ?? []).entries()) {
        yield { playIndex: info.index, play, key: `h${i}`, task: h, path: describeTask(info.index, play, i, h, true), handler: true };
      }
    }
  }

  /** Every fact this host's tasks need, for the one gather round trip. */
  factRequests(): FactRequest[] {
    const out: FactRequest[] = [];
    for (const t of this.eachTask()) {
      const r = this.resolve(t.playIndex, t.key, t.task, t.path, this.varsFor(t.play));
      if (r.error !== undefined || t.task.module.name === FLUSH_HANDLERS) continue;
      try {
        out.push(...t.task.module.facts(r.props, r.ctx), ...accountFactRequests(t.task.module.name, r.props));
      } catch {
        // reported at plan time
      }
    }
    return out;
  }
}

function annotate(e: unknown, host: string, task: string): RigError {
  if (isRigError(e)) {
    if (!e.where.host || !e.where.task) Object.assign(e, { where: { ...e.where, host: e.where.host ?? host, task: e.where.task ?? task } });
    return e;
  }
  // A plain exception thrown by playbook code (a props function, a `when`, a module bug): a PLAYBOOK error naming it.
  return new PlaybookError(`the task threw ${(e as Error)?.name ?? 'an error'}: ${(e as Error)?.message ?? String(e)}`, {
    host, task, cause: e, hint: 'fix the props function or `when` of this task (a props function runs only where `when` is true)',
  });
}

/**
 * Plan one host: pure over its gathered facts. Facts are updated as each change is planned (overlay), so later
 * tasks and plays see the state earlier ones leave. Throws (annotated with host and task) on the first task error.
 */
export function planHost(tasks: HostTasks, facts: MemoryHostFacts, pendingRecords: readonly PendingRecord[] = []): HostPlan {
  const host = tasks.host;
  const pb = tasks.input.playbook.playbook;
  const plays: HostPlayPlan[] = [];
  const accounts = new PlannedAccounts();
  for (const info of tasks.plays) {
    if (!info.hostNames.includes(host.name)) continue;
    const play = pb.plays[info.index]!;
    const vars = tasks.varsFor(play);
    const steps: PlanStep[] = [];
    const outcomes: TaskOutcome[] = [];
    const notified: string[] = [];
    // Handlers an earlier run notified here and did not run: notified again from the start of the play.
    const handlerNames = (play.handlers ?? []).flatMap((h) => (h.name ? [h.name] : []));
    const { notify: pendingNotify, pending } = pendingForPlay(pendingRecords, pendingPlayLabel(tasks.plays, info.index), handlerNames);
    notified.push(...pendingNotify);
    let n = 0;
    const push = (change: Change, handler?: string): string => {
      const id = `${info.index}.${n++}`;
      const pre = (change.kind === 'write-file' || change.kind === 'remove-path') ? facts.files.get(change.path)?.content : undefined;
      steps.push({ id, change, ...(handler ? { handler } : {}), ...(pre ? { preImage: pre.toString('base64') } : {}) });
      overlayChange(facts, change);
      return id;
    };
    const runTask = (task: Task, key: string, path: string, handler?: string): void => {
      const r = tasks.resolve(info.index, key, task, path, vars);
      // `when` first, as in Ansible: a task skipped here may have props that only make sense where it runs.
      if (task.when) {
        let ok: boolean;
        try { ok = task.when({ ...r.ctx, facts: { os: facts.os } }); } catch (e) { throw annotate(e, host.name, path); }
        if (!ok) { outcomes.push({ task: path, status: 'skipped', reason: 'when condition is false', steps: [] }); return; }
      }
      if (r.error !== undefined) throw annotate(r.error, host.name, path);
      let result;
      try {
        result = task.module.plan(r.props, facts, r.ctx);
        accounts.noteTask(task.module.name, r.props);
        if ('changes' in result) accounts.checkChanges(result.changes, facts, host.name);
      } catch (e) { throw annotate(e, host.name, path); }
      if ('noop' in result || result.changes.length === 0) {
        outcomes.push({ task: path, status: 'ok', reason: 'noop' in result ? result.noop : 'nothing to change', steps: [], ...('noop' in result && result.notable ? { notable: true } : {}) });
        return;
      }
      const ids = result.changes.map((c) => push({ ...c, task: path }, handler));
      const stateChanged = result.changes.some((c) => c.kind !== 'wait');
      const notify = stateChanged ? notifyList(task) : [];
      for (const h of notify) if (!notified.includes(h)) notified.push(h);
      outcomes.push({
        task: path, status: stateChanged ? 'changed' : 'ok', reason: [...new Set(result.changes.map((c) => c.reason))].join('; '), steps: ids,
        ...(notify.length ? { notified: notify } : {}),
      });
    };
    const flush = (): void => {
      const handlers = play.handlers ?? [];
      handlers.forEach((h, i) => {
        if (!h.name || !notified.includes(h.name)) return;
        runTask(h, `h${i}`, describeTask(info.index, play, i, h, true), h.name);
      });
      notified.length = 0;
    };
    flattenTasks(play.tasks).forEach((task, i) => {
      const path = describeTask(info.index, play, i, task);
      if (task.module.name === FLUSH_HANDLERS) { flush(); return; }
      runTask(task, `t${i}`, path);
    });
    flush();
    annotatePendingOutcomes(outcomes, pending, (name) => {
      const i = (play.handlers ?? []).findIndex((h) => h.name === name);
      return i < 0 ? undefined : describeTask(info.index, play, i, play.handlers![i]!, true);
    }, `play ${info.index + 1} "${info.name}"`);
    // A wait only makes sense after something changed on this host in this play.
    const changed = steps.some((s) => s.change.kind !== 'wait');
    // Gates likewise: a host with nothing to change in the play evaluates none.
    const gates = changed ? planGates(info.index, play, { host, vars, projectRoot: tasks.input.projectRoot, inventory: tasks.input.inventory }) : [];
    plays.push({ play: info.index, steps: changed ? steps : [], tasks: outcomes, ...(pending.length ? { pendingHandlers: pending } : {}), ...(gates.length ? { gates } : {}) });
  }
  return { host: host.name, address: host.address, plays };
}
