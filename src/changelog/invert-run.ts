import { createHash } from 'node:crypto';
import type { Change } from '../core/change.ts';
import type { FileState } from '../core/file-state.ts';
import { signFileState, parseFileSignature } from '../engine/file-signature.ts';
import type { HostPlan, PlanStep } from '../engine/plan-types.ts';
import type { FactRequest, HostFacts } from '../facts/fact-request.ts';
import type { LoadedRun } from './journal-store.ts';

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

/** What rollback must read on a host: the current state of every path the run touched (no content). */
export function rollbackFactRequests(run: LoadedRun, host: string): FactRequest[] {
  const out: FactRequest[] = [];
  for (const s of touchedSteps(run, host)) {
    if (hasPathBefore(s.change)) out.push({ kind: 'file', path: s.change.path, content: false });
    else if (s.change.kind === 'set-capability') out.push({ kind: 'capability', path: s.change.path });
  }
  return out;
}

function expectedAfter(step: PlanStep, afterSig: string | undefined): string | undefined {
  if (afterSig) return afterSig;
  const c = step.change;
  switch (c.kind) {
    case 'write-file': return signFileState({ ...c.after, exists: true, type: 'file' });
    case 'remove-path': return 'absent';
    case 'set-attributes': case 'ensure-directory': return signFileState({ ...c.before, ...c.after, exists: true });
    case 'symlink': return undefined;
    default: return undefined;
  }
}

export interface InvertResult {
  readonly plan: HostPlan;
  /** Paths refused because they changed since the run (without --force). */
  readonly conflicts: readonly string[];
  /** Paths already as before the run. */
  readonly unchanged: readonly string[];
}

/**
 * Build the inverse of a run for one host from its journal and the host's current state: restore contents, modes
 * and owners, remove what the run created, re-run the service actions the run ran. A path whose current state is
 * neither the run's result nor the original is a conflict (someone changed it since) unless `force`.
 */
export function invertRunForHost(run: LoadedRun, host: string, address: string, facts: HostFacts, force: boolean): InvertResult {
  const steps = touchedSteps(run, host);
  const done = doneSteps(run, host);
  const afterSigs = new Map<string, string>();
  for (const e of run.events) if (e.t === 'step' && e.host === host && e.status === 'done' && e.after) afterSigs.set(e.id, e.after);

  // Collapse per path: the earliest `before` (the original) and the latest expected `after`.
  const first = new Map<string, PlanStep>();
  const last = new Map<string, PlanStep>();
  const order: string[] = [];
  for (const s of steps) {
    if (!hasPathBefore(s.change)) continue;
    const p = s.change.path;
    if (!first.has(p)) { first.set(p, s); order.push(p); }
    last.set(p, s);
  }
  const changes: Change[] = [];
  const conflicts: string[] = [];
  const unchanged: string[] = [];
  const task = `rollback of ${run.meta.id}`;
  for (const path of [...order].reverse()) {
    const orig = first.get(path)!;
    const origChange = orig.change as PathChange;
    const before = origChange.before;
    const now = facts.file(path);
    const nowSig = signFileState(now);
    const lastStep = last.get(path)!;
    const after = expectedAfter(lastStep, afterSigs.get(lastStep.id));
    if (nowSig === signFileState(before)) { unchanged.push(path); continue; }
    if (after !== undefined && nowSig !== after && !force) {
      conflicts.push(`${path} (now ${describe(now)}, the run left ${describe(parseFileSignature(after))})`);
      continue;
    }
    const current: FileState = { ...now };
    const secret = origChange.kind === 'write-file' || origChange.kind === 'remove-path' ? origChange.secret : false;
    if (!before.exists) {
      changes.push({ kind: 'remove-path', path, before: current, secret, task, reason: `created by run ${run.meta.id}` });
    } else if (before.type === 'file') {
      const content = run.preImage(host, orig.id);
      if (!content) { conflicts.push(`${path} (no pre-image in the journal)`); continue; }
      if (now.exists && now.type === 'file' && now.sha256 === before.sha256) {
        changes.push({ kind: 'set-attributes', path, before: current, after: { ...before }, task, reason: 'restore mode/owner' });
      } else {
        changes.push({
          kind: 'write-file', path, before: current, secret, task, reason: `restore content from run ${run.meta.id}`,
          after: { ...before, sha256: createHash('sha256').update(content).digest('hex'), size: content.length },
          content: content.toString('base64'),
        });
      }
    } else if (before.type === 'symlink') {
      changes.push({ kind: 'symlink', path, target: before.target ?? '', before: current, task, reason: 'restore link' });
    } else if (before.type === 'directory') {
      changes.push({ kind: 'set-attributes', path, before: current, after: { ...before }, task, reason: 'restore mode/owner' });
    }
  }
  // Non-path steps, in reverse: capabilities, commands with undo, packages.
  for (const s of [...steps].reverse()) {
    const c = s.change;
    if (c.kind === 'set-capability' && done.has(s.id)) {
      changes.push({ kind: 'set-capability', path: c.path, beforeCaps: facts.capability(c.path), afterCaps: c.beforeCaps, task, reason: 'restore capabilities' });
    } else if (c.kind === 'run-command' && done.has(s.id) && c.undo) {
      changes.push({ kind: 'run-command', argv: c.undo, ...(c.cwd ? { cwd: c.cwd } : {}), task, reason: `undo of: ${c.argv.join(' ')}` });
    } else if (c.kind === 'package' && done.has(s.id)) {
      changes.push({ kind: 'package', manager: c.manager, install: c.remove, remove: c.install, task, reason: 'reverse package changes' });
    }
  }
  // Re-run the service actions the run ran (handlers), once each, after the files are back.
  if (changes.length > 0) {
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
  }
  const planSteps: PlanStep[] = changes.map((change, i) => ({ id: `0.${i}`, change }));
  return {
    plan: {
      host, address,
      plays: [{ play: 0, steps: planSteps, tasks: [{ task, status: planSteps.length ? 'changed' : 'ok', reason: planSteps.length ? `${planSteps.length} steps` : 'nothing to restore', steps: planSteps.map((s) => s.id) }] }],
    },
    conflicts, unchanged,
  };
}

function describe(s: FileState): string {
  if (!s.exists) return 'absent';
  return `${s.type} ${s.mode} ${s.owner}:${s.group}${s.sha256 ? ` sha256 ${s.sha256.slice(0, 12)}…` : ''}`;
}
