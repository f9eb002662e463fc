import type { Plan } from '../engine/plan-types.ts';

/**
 * The order a rollback plan runs in, one line per play (the undone run's plays in reverse), its batches in turn:
 * `rollback of "workers": worker3 → worker2 → worker1`, `[a, b] → [c]` for batches of several hosts. Plays with
 * nothing to undo are left out.
 */
export function renderRollbackOrder(plan: Plan, note?: string): string {
  const plays = plan.plays.filter((p) => p.batches.length > 0);
  const batch = (b: readonly string[]): string => (b.length === 1 ? b[0]! : `[${b.join(', ')}]`);
  const lines = [note ? 'Order: every host at once (see the note):' : "Order (play by play, batch by batch; each host's waits after its restarts):"];
  plays.forEach((p, i) => lines.push(`  ${i + 1}. ${p.name}: ${p.batches.map(batch).join(' → ')}`));
  return lines.join('\n');
}
