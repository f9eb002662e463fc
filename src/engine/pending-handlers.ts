import { createHash } from 'node:crypto';
import type { TaskOutcome } from './plan-types.ts';
import { HOST_STATE_DIR } from './apply-script.ts';

/**
 * Handlers are never lost (issue 20). A handler notified by a change that was applied stays *pending* on the host
 * until it has run: the apply script records it in the host's state directory right after the notifying change (before
 * it reports the step done, so a dropped connection cannot lose it), and removes the record when the handler's last
 * step is done. A run that stops in between (a later task failed, Ctrl-C, the host became unreachable, the
 * controller died) leaves the record; the next gather of the same playbook on the host reads it (same round trip),
 * and the next plan notifies the handler again ("pending from run X") so the apply runs it.
 *
 * Layout on the host (root only, like the rest of /var/lib/rig):
 *   /var/lib/rig/handlers/<sha256(playbook name)[:16]>/<sha256(play name \n handler name)[:16]>/<run id>
 * one file per run that notified it, holding a JSON PendingRecord. Names are hashes and run ids, never user text.
 */

/** What the host keeps for one handler that a run notified and did not run. */
export interface PendingRecord {
  readonly run: string;
  readonly playbook: string;
  /** The play, by name (pendingPlayLabel): plays are matched by name, so reordering plays keeps them. */
  readonly play: string;
  readonly handler: string;
  /** Task path of the change that notified it. */
  readonly task: string;
  readonly at: string;
}

/** A pending handler as a plan shows it (HostPlayPlan.pendingHandlers): notified by earlier runs, not yet run. */
export interface PendingHandler {
  readonly handler: string;
  /** Runs that notified it, oldest first. */
  readonly fromRuns: readonly string[];
  /** Tasks whose change notified it. */
  readonly notifiedBy: readonly string[];
  /** False when the play has no handler of that name any more: shown, not run, left pending. */
  readonly known: boolean;
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]+$/;
const hash16 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

export const PENDING_ROOT = `${HOST_STATE_DIR}/handlers`;

/** Host directory of one playbook's pending handlers. */
export function pendingDir(playbookName: string, root: string = PENDING_ROOT): string {
  return `${root}/${hash16(playbookName)}`;
}

/**
 * How pending records name a play: its name (its `name`, else its hosts pattern), so that reordering plays keeps
 * them; `name #index` when several plays of the playbook share that name (each keeps its own records).
 */
export function pendingPlayLabel(plays: readonly { readonly index: number; readonly name: string }[], index: number): string {
  const name = plays.find((p) => p.index === index)?.name ?? `#${index}`;
  return plays.filter((p) => p.name === name).length > 1 ? `${name} #${index}` : name;
}

/** Directory name of one handler of one play (under pendingDir). */
export function handlerKey(playName: string, handlerName: string): string {
  return hash16(`${playName}\n${handlerName}`);
}

/** Gather epilogue: prints `Q - <record-b64>` for every pending record of the playbook (nothing when unreadable). */
export function pendingGatherScript(playbookName: string, root: string = PENDING_ROOT): string {
  const dir = pendingDir(playbookName, root);
  // The directory is a hash: no quoting concerns; the glob skips the dot-named temp files of an unfinished write.
  return `for rig_pf in ${dir}/*/*; do [ -f "$rig_pf" ] && [ ! -L "$rig_pf" ] && printf 'Q - %s\\n' "$(rig_b64 < "$rig_pf")"; done`;
}

/** The pending records in a gather's output (malformed ones are ignored: they are rig's own files). */
export function parsePendingRecords(stdout: string): PendingRecord[] {
  const out: PendingRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('Q - ')) continue;
    try {
      const r = JSON.parse(Buffer.from(line.slice(4), 'base64').toString('utf8')) as PendingRecord;
      if (typeof r.run === 'string' && RUN_ID.test(r.run) && typeof r.play === 'string' && typeof r.handler === 'string') out.push(r);
    } catch { /* not a record */ }
  }
  return out.sort((a, b) => (a.run < b.run ? -1 : a.run > b.run ? 1 : 0));
}

/**
 * The pending handlers of one play on one host: which to notify at the start of the play (they run at its first
 * flush point, as if a task had notified them), and how the plan shows them.
 */
export function pendingForPlay(records: readonly PendingRecord[], playName: string, handlerNames: readonly string[]): { notify: string[]; pending: PendingHandler[] } {
  const byHandler = new Map<string, PendingRecord[]>();
  for (const r of records) {
    if (r.play !== playName) continue;
    byHandler.set(r.handler, [...(byHandler.get(r.handler) ?? []), r]);
  }
  const pending: PendingHandler[] = [];
  for (const [handler, rs] of byHandler) {
    pending.push({
      handler, fromRuns: [...new Set(rs.map((r) => r.run))], notifiedBy: [...new Set(rs.map((r) => r.task))], known: handlerNames.includes(handler),
    });
  }
  // In the play's handler order (the order they would run in), unknown ones last.
  const rank = (p: PendingHandler): number => (p.known ? handlerNames.indexOf(p.handler) : handlerNames.length);
  pending.sort((a, b) => rank(a) - rank(b));
  return { notify: pending.filter((p) => p.known).map((p) => p.handler), pending };
}

/** "pending from run X" (or runs X, Y), for plan lines. */
export function describePending(p: PendingHandler): string {
  return `pending from run${p.fromRuns.length === 1 ? '' : 's'} ${p.fromRuns.join(', ')}`;
}

/**
 * The plan's handler outcomes say which were pending (reason + ": pending from run X"), and a pending handler that is
 * no longer in the play is listed as a notable no-op (it cannot run; its record stays until the playbook has it again
 * or the run is rolled back).
 */
export function annotatePendingOutcomes(outcomes: TaskOutcome[], pending: readonly PendingHandler[], handlerPath: (name: string) => string | undefined, playLabel: string): void {
  for (const p of pending) {
    const path = p.known ? handlerPath(p.handler) : undefined;
    const i = path === undefined ? -1 : outcomes.findIndex((o) => o.task === path);
    if (i >= 0) {
      const o = outcomes[i]!;
      outcomes[i] = { ...o, reason: `${describePending(p)}; ${o.reason}` };
    } else if (!p.known) {
      outcomes.push({ task: `${playLabel} › handler "${p.handler}"`, status: 'ok', reason: `${describePending(p)}, but the play has no handler of that name any more: not run`, steps: [], notable: true });
    }
  }
}
