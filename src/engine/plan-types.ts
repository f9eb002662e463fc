import type { Change } from '../core/change.ts';
import type { PlannedGate } from '../gates/gate-types.ts';
import type { PendingHandler } from './pending-handlers.ts';

export const PLAN_FORMAT = 'rig-plan/1';

/** What happened (or will happen) to one task on one host. */
export interface TaskOutcome {
  readonly task: string;
  readonly status: 'changed' | 'ok' | 'skipped' | 'failed';
  /** No-op reason, skip reason, or the changes' reasons. */
  readonly reason: string;
  /** Ids of the steps this task produced. */
  readonly steps: readonly string[];
  /** Handlers this task notified. */
  readonly notified?: readonly string[];
  /** A no-op the module marked as a decision worth showing without -v (PlanResult.notable). */
  readonly notable?: boolean;
}

export interface PlanStep {
  /** `<play>.<n>`, unique per host within the run. */
  readonly id: string;
  readonly change: Change;
  /** Handler name when the step comes from a handler. */
  readonly handler?: string;
  /**
   * Content of the path before the change (base64), captured at plan time for the write-ahead journal.
   * Stripped from `--json` output and from journal copies of secret files' plans.
   */
  readonly preImage?: string;
}

export interface HostPlayPlan {
  readonly play: number;
  readonly steps: readonly PlanStep[];
  readonly tasks: readonly TaskOutcome[];
  /** Health gates checked after this host's batch (only when the host has steps in the play). */
  readonly gates?: readonly PlannedGate[];
  /** Handlers earlier runs notified on this host and did not run (src/engine/pending-handlers.ts): run here. */
  readonly pendingHandlers?: readonly PendingHandler[];
}

export interface HostPlan {
  readonly host: string;
  readonly address: string;
  readonly plays: readonly HostPlayPlan[];
  /** sudo for every round trip on this host, whatever the play says (rollback plans: what the undone run used). */
  readonly become?: boolean;
  /** Connection failed while gathering. */
  readonly unreachable?: string;
  /** Error code of the connection failure (`UNREACHABLE`, or `HOST_KEY` for a refused host key). */
  readonly unreachableCode?: string;
  /** Planning failed (error text with code, and the file/line it is about when known). */
  readonly error?: { readonly code: string; readonly message: string; readonly task?: string; readonly hint?: string; readonly file?: string; readonly line?: number };
}

export interface PlayInfo {
  readonly index: number;
  readonly name: string;
  readonly hosts: string;
  /** Host names, in order. */
  readonly hostNames: readonly string[];
  /** Batches of host names (serial). */
  readonly batches: readonly (readonly string[])[];
  readonly maxFailPercentage: number;
  /** Run notified handlers on a host even when a later task fails there (play forceHandlers, or --force-handlers). */
  readonly forceHandlers?: boolean;
  /** The play's `become`, true when any of its tasks or handlers has `become: true` (src/engine/become.ts). */
  readonly become?: boolean;
  /** A rollback plan's play: the plays (index) of the undone run it undoes (src/changelog/rollback-order.ts). */
  readonly undoes?: readonly number[];
}

/** A plan is plain data: what apply will do, host by host. Saved with `rig plan --out`. */
export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  readonly createdAt: string;
  readonly playbook: { readonly path: string; readonly name: string; readonly sha256: string };
  readonly inventory: readonly string[];
  readonly limit?: string;
  /** `--tags` / `--skip-tags` the plan was made with (its steps hold only the selected tasks). */
  readonly tags?: { readonly tags?: readonly string[]; readonly skipTags?: readonly string[] };
  readonly plays: readonly PlayInfo[];
  readonly hosts: readonly HostPlan[];
}

/**
 * The one definition of "a change", used by plan, progress, recap, `--json` and the journal's recap: a
 * state-changing step (a wait is not one).
 */
export function isChangeStep(s: PlanStep): boolean {
  return s.change.kind !== 'wait';
}

/** Number of changes (isChangeStep) in a host plan. */
export function countChanges(h: HostPlan): number {
  let n = 0;
  for (const p of h.plays) for (const s of p.steps) if (isChangeStep(s)) n++;
  return n;
}
