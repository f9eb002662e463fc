import { createHash } from 'node:crypto';
import type { Change } from '../core/change.ts';
import type { FileState } from '../core/file-state.ts';
import { signFileState, parseFileSignature } from '../engine/file-signature.ts';
import type { HostPlan, PlanStep } from '../engine/plan-types.ts';
import type { FactRequest, HostFacts } from '../facts/fact-request.ts';
import type { LoadedRun } from './journal-store.ts';
import { describeCapabilityChange, normalizeCapabilities } from '../text/file-capabilities.ts';

type PathChange = Extract<Change, { path: string; before: FileState }>;

/** The steps of a run that may have reached a host: every step of every play whose intent was journaled. */
export function touchedSteps(run: LoadedRun, host: string): PlanStep[] {
  const intended = new Set<string>();
  // A play that stopped on drift or on the lock never changed anything: its script exits before the first write.
  const untouched = new Set<number>();
  for (const e of run.events) if (e.t === 'host-end' && e.host === host && (e.status === 'drift' || e.status === 'locked')) untouched.add(e.play);
  for (const e of run.events) if (e.t === 'intent' && e.host === host && !untouched.has(e.play)) for (const id of e.steps) intended.add(id);
  const hp = run.plan.hosts.find((h) => h.host === host);
  if (!hp) return [];
  return hp.plays.flatMap((p) => p.steps.filter((s) => intended.has(s.id)));
}

export function doneSteps(run: LoadedRun, host: string): Set<string> {
  const out = new Set<string>();
  for (const e of run.events) if (e.t === 'step' && e.host === host && e.status === 'done') out.add(e.id);
  return out;
}

function hasPathBefore(c: Change): c is PathChange {
  return 'path' in c && 'before' in c;
}

/**
 * What rollback must read on a host: the current state of every path the run touched, with content (≤ the gather's
 * cap) so that the rollback run journals its own pre-images and can itself be rolled back.
 */
export function rollbackFactRequests(run: LoadedRun, host: string): FactRequest[] {
  const out: FactRequest[] = [];
  for (const s of touchedSteps(run, host)) {
    if (hasPathBefore(s.change)) out.push({ kind: 'file', path: s.change.path, content: true });
    else if (s.change.kind === 'set-capability') out.push({ kind: 'capability', path: s.change.path });
  }
  return out;
}

/**
 * Every state a step may have left its path in: its planned after, the after the host reported, and for attribute
 * changes (chown, then chmod) the state between the two. A run stopped mid-play (controller killed, host lost) may
 * have left any of them, on any of its steps, not only the last one's.
 */
function statesOfStep(step: PlanStep, afterSig: string | undefined): string[] {
  const out: string[] = [];
  if (afterSig) out.push(afterSig);
  const c = step.change;
  switch (c.kind) {
    case 'write-file': out.push(signFileState({ ...c.after, exists: true, type: 'file' })); break;
    case 'restore-preimage': out.push(signFileState({ ...c.after, exists: true, type: 'file' })); break;
    case 'remove-path': out.push('absent'); break;
    case 'set-attributes': case 'ensure-directory': {
      const base = c.kind === 'ensure-directory' && !c.before.exists ? { ...c.after } : { ...c.before, ...c.after };
      out.push(signFileState({ ...base, exists: true }));
      if (c.before.exists) out.push(signFileState({ ...c.before, owner: c.after.owner, group: c.after.group, exists: true }));
      break;
    }
    default: break;
  }
  return out;
}

/** The step of a path whose pre-image (controller or host) holds the original content: the first that replaced it. */
function preImageStep(steps: readonly PlanStep[], original: FileState): PlanStep | undefined {
  for (const s of steps) {
    const c = s.change;
    if (c.kind !== 'write-file' && c.kind !== 'remove-path' && c.kind !== 'restore-preimage') continue;
    return c.before.exists && c.before.type === 'file' && c.before.sha256 === original.sha256 ? s : undefined;
  }
  return undefined;
}

export interface InvertResult {
  readonly plan: HostPlan;
  /** Paths refused because they changed since the run (without --force). */
  readonly conflicts: readonly string[];
  /** Paths already as before the run. */
  readonly unchanged: readonly string[];
}

/** How the inverse of a run is cut into rollback plays (src/changelog/rollback-order.ts decides). */
export interface InvertOptions {
  /**
   * Forward plays undone together, one rollback play per group, in the order given (rollback play i = group i). A
   * path is restored in the group of the last forward play that changed it; each group re-runs the service actions
   * of its own plays. @default one group of every play (the whole run at once)
   */
  readonly groups?: readonly (readonly number[])[];
  /** Re-run, after each group's restores and service actions, the waits its plays planned (WaitChange.rollback). @default false */
  readonly waits?: boolean;
  /**
   * Plays whose service actions (and waits) are re-run even when nothing is left to restore: an earlier rollback
   * attempt restored the files and stopped before them (pendingServicePlays). @default none
   */
  readonly pendingServices?: ReadonlySet<number>;
}

/** The forward play a step of `run` belongs to, by step id, for one host. */
function playOfSteps(run: LoadedRun, host: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of run.plan.hosts.find((h) => h.host === host)?.plays ?? []) for (const s of p.steps) out.set(s.id, p.play);
  return out;
}

/** The wait a rollback runs for a wait of the run: its own `rollback` check, the same check, or none (`false`). */
function rollbackWait(c: Extract<Change, { kind: 'wait' }>, task: string): Change | undefined {
  if (c.rollback === false) return undefined;
  const { rollback, ...same } = c;
  return { ...same, ...(rollback ?? {}), task, reason: `wait after the rollback (the run waited: ${c.description})` };
}

/**
 * Build the inverse of a run for one host from its journal and the host's current state: restore contents, modes
 * and owners, remove what the run created, re-run the service actions the run ran (and, with `waits`, its waits).
 * A path whose current state is neither the run's result nor the original is a conflict (someone changed it since)
 * unless `force`. The plan has one rollback play per group of `options.groups` (empty ones included).
 */
export function invertRunForHost(run: LoadedRun, host: string, address: string, facts: HostFacts, force: boolean, options: InvertOptions = {}): InvertResult {
  const steps = touchedSteps(run, host);
  const playOf = playOfSteps(run, host);
  const groups = options.groups ?? [[...new Set(steps.map((s) => playOf.get(s.id) ?? 0))]];
  const groupOf = (s: PlanStep): number => groups.findIndex((g) => g.includes(playOf.get(s.id) ?? 0));
  const conflicts: string[] = [];
  const unchanged: string[] = [];
  const plays = groups.map((_g, gi) => {
    const rerun = groups[gi]!.some((p) => options.pendingServices?.has(p) === true);
    const planSteps = invertSteps(run, host, steps, facts, force, (s) => groupOf(s) === gi, { waits: options.waits === true, rerun }, gi, conflicts, unchanged);
    return { play: gi, steps: planSteps, tasks: [{ task: `rollback of ${run.meta.id}`, status: planSteps.length ? 'changed' as const : 'ok' as const, reason: planSteps.length ? `${planSteps.length} steps` : 'nothing to restore', steps: planSteps.map((st) => st.id) }] };
  });
  return { plan: { host, address, plays }, conflicts, unchanged };
}

/**
 * The rollback steps of one group: `inGroup` picks the run's steps it undoes; a path belongs to the group of its
 * last step (every step of the path is still looked at for the original state and the states the run left).
 */
function invertSteps(
  run: LoadedRun, host: string, allSteps: readonly PlanStep[], facts: HostFacts, force: boolean,
  inGroup: (s: PlanStep) => boolean, after: { readonly waits: boolean; readonly rerun: boolean }, playIndex: number, conflicts: string[], unchanged: string[],
): PlanStep[] {
  const steps = allSteps.filter(inGroup);
  const done = doneSteps(run, host);
  const afterSigs = new Map<string, string>();
  for (const e of run.events) if (e.t === 'step' && e.host === host && e.status === 'done' && e.after) afterSigs.set(e.id, e.after);

  // Collapse per path: the earliest `before` (the original) and the latest expected `after`.
  const byPath = new Map<string, PlanStep[]>();
  const order: string[] = [];
  for (const s of allSteps) {
    if (!hasPathBefore(s.change)) continue;
    const p = s.change.path;
    if (!byPath.has(p)) { byPath.set(p, []); order.push(p); }
    byPath.get(p)!.push(s);
  }
  const changes: Change[] = [];
  /** Pre-images of the rollback's own steps, by change index. */
  const preImages = new Map<number, { preImage: string }>();
  const task = `rollback of ${run.meta.id}`;
  for (const path of [...order].reverse()) {
    if (!inGroup(byPath.get(path)!.at(-1)!)) continue;
    const pathSteps = byPath.get(path)!;
    const orig = pathSteps[0]!;
    const origChange = orig.change as PathChange;
    const before = origChange.before;
    const now = facts.file(path);
    const nowSig = signFileState(now);
    if (nowSig === signFileState(before)) { unchanged.push(path); continue; }
    const own = pathSteps.flatMap((s) => statesOfStep(s, afterSigs.get(s.id)));
    // A symlink's owner depends on the host: any link to a target the run set is the run's own.
    const ownLink = pathSteps.some((s) => s.change.kind === 'symlink' && now.type === 'symlink' && now.target === s.change.target);
    if (!own.includes(nowSig) && !ownLink && !force) {
      const lastStep = pathSteps[pathSteps.length - 1]!;
      const left = afterSigs.get(lastStep.id) ?? statesOfStep(lastStep, undefined)[0];
      conflicts.push(`${path} (now ${describe(now)}, the run left ${left ? describe(parseFileSignature(left)) : 'something else'})`);
      continue;
    }
    const { content: nowContent, contentOmitted: _o, ...current } = now;
    const secret = pathSteps.some((s) => (s.change.kind === 'write-file' || s.change.kind === 'remove-path' || s.change.kind === 'restore-preimage') && s.change.secret);
    // The rollback's own pre-image, so that the rollback can be rolled back too (above the cap: the host keeps it).
    const ownPre = now.exists && now.type === 'file' && nowContent !== undefined ? { preImage: nowContent.toString('base64') } : undefined;
    if (!before.exists) {
      changes.push({ kind: 'remove-path', path, before: current, secret, task, reason: `created by run ${run.meta.id}` });
      if (ownPre) preImages.set(changes.length - 1, ownPre);
    } else if (before.type === 'file') {
      if (now.exists && now.type === 'file' && now.sha256 === before.sha256) {
        changes.push({ kind: 'set-attributes', path, before: current, after: { ...before }, task, reason: 'restore mode/owner' });
        continue;
      }
      const source = preImageStep(pathSteps, before);
      const content = source ? run.preImage(host, source.id) : undefined;
      if (content && createHash('sha256').update(content).digest('hex') === before.sha256) {
        changes.push({
          kind: 'write-file', path, before: current, secret, task, reason: `restore content from run ${run.meta.id}`,
          after: { ...before, size: content.length }, content: content.toString('base64'),
        });
      } else if (source && before.sha256) {
        // No copy on the controller (above the gather's content cap): the host's own pre-image, checked by hash there.
        changes.push({
          kind: 'restore-preimage', path, before: current, after: { ...before }, fromRun: run.meta.id, fromStep: source.id, secret, task,
          reason: `restore content from the host's pre-image of run ${run.meta.id}`,
        });
      } else {
        conflicts.push(`${path} (no pre-image of its content in the journal)`);
        continue;
      }
      if (ownPre) preImages.set(changes.length - 1, ownPre);
    } else if (before.type === 'symlink') {
      changes.push({ kind: 'symlink', path, target: before.target ?? '', before: current, task, reason: 'restore link' });
    } else if (before.type === 'directory') {
      if (now.exists && now.type === 'directory') changes.push({ kind: 'set-attributes', path, before: current, after: { ...before }, task, reason: 'restore mode/owner' });
      else if (now.exists) { conflicts.push(`${path} (now ${describe(now)}, was a directory)`); continue; }
      else changes.push({ kind: 'ensure-directory', path, before: current, after: { ...before }, task, reason: `recreate directory removed by run ${run.meta.id}` });
    }
  }
  // Non-path steps, in reverse: capabilities, commands with undo, packages.
  const seenCaps = new Set<string>();
  for (const s of [...steps].reverse()) {
    const c = s.change;
    if (c.kind === 'set-capability' && done.has(s.id)) {
      if (seenCaps.has(c.path)) continue;
      seenCaps.add(c.path);
      // The earliest step's before is the original; any step's after is the run's own (capabilities of a path
      // are compared in their canonical form, src/text/file-capabilities.ts).
      // A path's capabilities are restored in the group of the last step that set them.
      const ofPath = allSteps.filter((x) => x.change.kind === 'set-capability' && x.change.path === c.path);
      if (!inGroup(ofPath.at(-1)!)) continue;
      const original = ofPath[0]!.change as typeof c;
      const now = normalizeCapabilities(facts.capability(c.path));
      if (now === original.beforeCaps) { unchanged.push(c.path); continue; }
      const own = ofPath.some((x) => x.change.kind === 'set-capability' && x.change.path === c.path && x.change.afterCaps === now);
      if (!own && !force) { conflicts.push(`${c.path} (capabilities now ${now || 'none'}, the run left ${c.afterCaps || 'none'})`); continue; }
      changes.push({
        kind: 'set-capability', path: c.path, beforeCaps: now, afterCaps: original.beforeCaps, task,
        reason: `restore capabilities: ${describeCapabilityChange(now, original.beforeCaps)}`,
      });
    } else if (c.kind === 'run-command' && done.has(s.id) && c.undo) {
      changes.push({ kind: 'run-command', argv: c.undo, ...(c.cwd ? { cwd: c.cwd } : {}), task, reason: `undo of: ${c.argv.join(' ')}` });
    } else if (c.kind === 'package' && done.has(s.id)) {
      changes.push({ kind: 'package', manager: c.manager, install: c.remove, remove: c.install, task, reason: 'reverse package changes' });
    }
  }
  // Re-run the service actions the run ran (handlers), once each, after the files are back (or when an earlier
  // rollback attempt put them back and stopped before these).
  if (changes.length > 0 || after.rerun) {
    const seen = new Set<string>();
    for (const s of steps) {
      const c = s.change;
      if (c.kind !== 'service' || !done.has(s.id)) continue;
      const action = c.action === 'start' && c.wasRunning === false ? 'stop' : c.action === 'stop' && c.wasRunning ? 'start' : c.action;
      const key = `${c.service}/${action}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const { validate: _v, ...rest } = c;
      changes.push({ ...rest, action, task, reason: `re-run ${c.action} ${c.service} (the run ran it)` });
    }
    // Then the waits that followed the undone steps, like the apply waited (a restarted apiserver is waited for).
    if (after.waits) {
      for (const s of steps) {
        if (s.change.kind !== 'wait') continue;
        const w = rollbackWait(s.change, task);
        if (w) changes.push(w);
      }
    }
  }
  return changes.map((change, i) => ({ id: `${playIndex}.${i}`, change, ...(preImages.get(i) ?? {}) }));
}

function describe(s: FileState): string {
  if (!s.exists) return 'absent';
  return `${s.type} ${s.mode} ${s.owner}:${s.group}${s.sha256 ? ` sha256 ${s.sha256.slice(0, 12)}…` : ''}`;
}
