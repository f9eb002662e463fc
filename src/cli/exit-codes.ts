import type { Plan } from '../engine/plan-types.ts';
import { planHasChanges } from './json-result.ts';

/**
 * Exit codes of rig (docs/json.md has the table). plan and `rollback --check` follow Terraform's `-detailed-exitcode`
 * and add the partial cases, so a CI job can tell "changes pending, but a host was down" from a broken run.
 */
export const EXIT = {
  /** plan: nothing to change; apply/rollback: every host done. */
  OK: 0,
  /** Bad input, a planning error on a host, a refused host key, a host failed at apply (or unreachable at apply). */
  ERROR: 1,
  /** plan: changes pending, every host planned. */
  CHANGES: 2,
  /** plan: some hosts unreachable (network), every other host planned with nothing to change. */
  UNREACHABLE_NO_CHANGES: 3,
  /** plan: some hosts unreachable (network), changes pending on the others. */
  UNREACHABLE_CHANGES: 4,
  /** Interrupted by SIGINT/SIGTERM. */
  INTERRUPTED: 130,
} as const;

/** Exit code of a plan (`rig plan`, `rig rollback --check`). A refused host key counts as an error, not as unreachable. */
export function planExitCode(plan: Plan): number {
  if (plan.hosts.some((h) => h.error || (h.unreachable && h.unreachableCode !== 'UNREACHABLE'))) return EXIT.ERROR;
  const changes = planHasChanges(plan);
  if (plan.hosts.some((h) => h.unreachable)) return changes ? EXIT.UNREACHABLE_CHANGES : EXIT.UNREACHABLE_NO_CHANGES;
  return changes ? EXIT.CHANGES : EXIT.OK;
}
