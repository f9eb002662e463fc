import type { RigError } from '../errors.ts';
import type { GateResult } from '../gates/gate-types.ts';
import type { PlanStep } from './plan-types.ts';

/** Progress events of a run, for reporters (plain lines, listr2, JSON). A formatter must handle every kind. */
export type RunEvent =
  | { readonly kind: 'phase'; readonly phase: 'gather' | 'apply' | 'rollback'; readonly hosts: readonly string[] }
  | { readonly kind: 'host-gathered'; readonly host: string; readonly ms: number }
  | { readonly kind: 'host-unreachable'; readonly host: string; readonly error: RigError }
  | { readonly kind: 'host-failed'; readonly host: string; readonly error: RigError }
  | { readonly kind: 'batch-start'; readonly play: number; readonly playName: string; readonly batch: number; readonly hosts: readonly string[] }
  /** `steps`: every step of the play on the host (waits included); `changes`: those that are changes (isChangeStep). */
  | { readonly kind: 'host-apply-start'; readonly host: string; readonly play: number; readonly steps: number; readonly changes: number }
  | { readonly kind: 'step-done'; readonly host: string; readonly step: PlanStep }
  | { readonly kind: 'host-apply-done'; readonly host: string; readonly play: number; readonly changed: number }
  /** Health gates (src/gates/): polling starts for these hosts; one gate ended; a failed batch is being reverted. */
  | { readonly kind: 'gates-start'; readonly play: number; readonly batch: number; readonly phase: 'apply' | 'revert'; readonly hosts: readonly string[] }
  | { readonly kind: 'gate-done'; readonly result: GateResult }
  | { readonly kind: 'batch-revert'; readonly play: number; readonly batch: number; readonly hosts: readonly string[]; readonly reason: string };

export type RunEventListener = (e: RunEvent) => void;
