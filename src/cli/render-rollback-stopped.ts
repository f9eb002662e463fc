import { redactText } from '../core/secret.ts';
import type { Plan } from '../engine/plan-types.ts';
import type { ApplyRunResult } from '../engine/run-playbook.ts';

/**
 * A rollback stopped by a failed batch (like apply stops): which batch failed, which hosts were rolled back, which
 * have plays not started yet, and how to go on: fix the failed host and run the same rollback again (hosts it finished are
 * left alone, src/changelog/rollback-target.ts), or undo what it did.
 */
export function renderRollbackStopped(plan: Plan, result: ApplyRunResult, undoneRun: string): string {
  const at = result.stoppedAt;
  if (!at) return '';
  const failed = result.outcomes.filter((o) => o.status === 'failed' || o.status === 'unreachable');
  const notRun = result.outcomes.filter((o) => o.recap.notRun).map((o) => o.host);
  const back = result.outcomes.filter((o) => !o.recap.notRun && o.status !== 'failed' && o.status !== 'unreachable' && o.status !== 'interrupted').map((o) => o.host);
  const play = plan.plays.find((p) => p.index === at.play);
  const lines = [
    `ROLLBACK STOPPED: batch ${at.batch + 1}/${play?.batches.length ?? '?'} of ${at.playName} failed on ${at.failed.join(', ')}; later batches and plays were not started.`,
    ...failed.map((o) => `  ${o.host}: ${o.status}${o.error ? `: ${o.error.message}` : ''}`),
    `rolled back: ${back.length ? back.join(', ') : 'none'}`,
    `still to roll back: ${notRun.length ? notRun.join(', ') : 'none'}`,
    'To go on:',
    `  fix ${at.failed.join(', ')}, then finish:  rig rollback ${undoneRun}   (hosts already rolled back are left alone; --serial to change the batches)`,
    `  or undo this rollback:          rig rollback ${result.runId}`,
  ];
  return redactText(lines.join('\n'));
}
