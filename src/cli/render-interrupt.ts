import { redactText } from '../core/secret.ts';
import type { Plan } from '../engine/plan-types.ts';
import type { ApplyRunResult } from '../engine/run-playbook.ts';
import { describeChange } from './render-plan.ts';

/**
 * What an interrupted run did and did not do, per host, and the two ways out: apply again to finish, or roll the
 * run back to undo it.
 */
export function renderInterrupted(plan: Plan, result: ApplyRunResult, again: string): string {
  const lines = [`INTERRUPTED: run ${result.runId} stopped after the steps in flight; nothing new was started.`];
  const ran: string[] = [];
  const notRun: string[] = [];
  for (const o of result.outcomes) {
    const h = plan.hosts.find((x) => x.host === o.host);
    if (!h) continue;
    const done = new Set(o.done);
    const steps = h.plays.flatMap((p) => p.steps);
    for (const s of steps) (done.has(s.id) ? ran : notRun).push(`  ${o.host}: ${describeChange(s.change)}`);
  }
  lines.push(`ran (${ran.length} step${ran.length === 1 ? '' : 's'}):`, ...(ran.length ? ran : ['  nothing']));
  lines.push(`did not run (${notRun.length} step${notRun.length === 1 ? '' : 's'}):`, ...(notRun.length ? notRun : ['  nothing']));
  lines.push('locks released on every host reached. Two ways out:');
  lines.push(`  finish it:  ${again}`);
  lines.push(`  undo it:    rig rollback ${result.runId}`);
  return redactText(lines.join('\n'));
}
