import type { RigError } from '../errors.ts';
import type { GateResult } from '../gates/gate-types.ts';
import type { PlanStep } from './plan-types.ts';
import type { NotRunReason } from './not-run-reason.ts';

/** One host's place in an apply: its batch of a play, and how many steps (and changes) it has there. */
export interface LayoutHost {
  readonly host: string;
  readonly steps: number;
  readonly changes: number;
  /** Why the host will not run at all (unreachable or failed while gathering and planning). */
  readonly skip?: string;
  /** Health gates checked on the host after its batch (src/gates/): its row stays open until they end. */
  readonly gates?: number;
}

/** A play as the apply will run it: its batches in order (every host the play targets, steps or not). */
export interface LayoutPlay {
  readonly play: number;
  readonly name: string;
  readonly maxFailPercentage: number;
  readonly batches: readonly (readonly LayoutHost[])[];
}

/** Progress events of a run, for reporters (plain lines, the live view, JSON). A formatter must handle every kind. */
export type RunEvent =
  /** `plays`: for apply and rollback, the batch structure the run follows (the live view draws it). */
  | { readonly kind: 'phase'; readonly phase: 'gather' | 'apply' | 'rollback'; readonly hosts: readonly string[]; readonly plays?: readonly LayoutPlay[] }
  | { readonly kind: 'host-gathered'; readonly host: string; readonly ms: number }
  | { readonly kind: 'host-unreachable'; readonly host: string; readonly error: RigError }
  | { readonly kind: 'host-failed'; readonly host: string; readonly error: RigError }
  | { readonly kind: 'batch-start'; readonly play: number; readonly playName: string; readonly batch: number; readonly hosts: readonly string[] }
  /** `steps`: every step of the play on the host (waits included); `changes`: those that are changes (isChangeStep). */
  | { readonly kind: 'host-apply-start'; readonly host: string; readonly play: number; readonly steps: number; readonly changes: number }
  | { readonly kind: 'step-done'; readonly host: string; readonly step: PlanStep }
  /** `status`: how the host's script for the play ended; a failure is followed by `host-failed`/`host-unreachable` with the error. */
  | { readonly kind: 'host-apply-done'; readonly host: string; readonly play: number; readonly changed: number; readonly status: 'ok' | 'failed' | 'drift' | 'unreachable' | 'locked' | 'interrupted' }
  /** A host whose steps in a play never started, and why (the run was aborted or interrupted, or the host failed earlier). */
  | { readonly kind: 'host-not-run'; readonly host: string; readonly play: number; readonly reason: NotRunReason }
  /** Health gates (src/gates/): polling starts for these hosts; one gate ended; a failed batch is being reverted. */
  | { readonly kind: 'gates-start'; readonly play: number; readonly batch: number; readonly phase: 'apply' | 'revert'; readonly hosts: readonly string[] }
  | { readonly kind: 'gate-done'; readonly result: GateResult }
  | { readonly kind: 'gates-done'; readonly play: number; readonly batch: number; readonly phase: 'apply' | 'revert'; readonly results: readonly GateResult[] }
  | { readonly kind: 'batch-revert'; readonly play: number; readonly batch: number; readonly hosts: readonly string[]; readonly reason: string };

export type RunEventListener = (e: RunEvent) => void;
