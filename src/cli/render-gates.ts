import { styleText } from 'node:util';
import { redactText } from '../core/secret.ts';
import type { Plan } from '../engine/plan-types.ts';
import type { GateRunRecord } from '../gates/gate-batch.ts';
import { describeGateCheck, type GateResult } from '../gates/gate-types.ts';
import type { JournalEvent } from '../changelog/journal-store.ts';

const paint = (color: boolean, style: Parameters<typeof styleText>[0], text: string): string => (color ? styleText(style, text, { validateStream: false }) : text);

/**
 * The gates of a plan, per play and batch: which gate is checked on which host after that batch (hosts with
 * nothing to change have none). Empty when no gate will be evaluated.
 */
export function renderPlanGates(plan: Plan, color = false): string {
  const lines: string[] = [];
  for (const play of plan.plays) {
    play.batches.forEach((batch, bi) => {
      const perHost = batch.flatMap((n) => {
        const gates = plan.hosts.find((h) => h.host === n)?.plays.find((p) => p.play === play.index)?.gates ?? [];
        return gates.length ? [{ n, gates }] : [];
      });
      if (!perHost.length) return;
      lines.push(`  play ${play.index + 1} "${play.name}", batch ${bi + 1} (${batch.join(', ')}):`);
      for (const { n, gates } of perHost) {
        for (const g of gates) {
          lines.push(`    ${paint(color, 'cyan', '?')} ${n}: "${g.name}": ${describeGateCheck(g.check)} [from ${g.from === 'host' ? n : 'the controller'}, timeout ${g.timeoutSeconds}s]`);
        }
      }
    });
  }
  return lines.length ? redactText(`Gates (checked after each batch; a failure reverts the batch and stops the run):\n${lines.join('\n')}`) : '';
}

/** One line per gate result. */
function renderGateResults(results: readonly GateResult[], color: boolean): string[] {
  return results.map((r) => {
    const mark = r.passed ? paint(color, 'green', 'pass') : paint(color, 'red', 'FAIL');
    return `  ${mark} ${r.host}: "${r.name}"${r.phase === 'revert' ? ` after the revert (${r.check})` : ''} in ${(r.ms / 1000).toFixed(1)} s, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${r.passed ? '' : `: ${r.detail ?? ''}`}`;
  });
}

/** `rig show`: the gates a run evaluated and the batches it reverted, from its journal. */
export function renderJournalGates(events: readonly JournalEvent[], color = false): string {
  const lines: string[] = [];
  const results = events.flatMap((e) => (e.t === 'gate' ? [e] : []));
  if (results.length) lines.push('gates:', ...renderGateResults(results, color));
  for (const e of events) {
    if (e.t !== 'revert') continue;
    const notReverted = Object.entries(e.failed);
    lines.push(`reverted batch ${e.batch + 1} of play ${e.play + 1} (${e.hosts.join(', ')})${e.rollbackRun ? ` by rollback run ${e.rollbackRun}` : ''}${e.verified === false ? ', a gate still failed after the revert' : ''}`);
    for (const [h, why] of notReverted) lines.push(`  ${h}: NOT reverted: ${why}`);
  }
  return redactText(lines.join('\n'));
}

/** After a run: every gate result with its timing, and what a revert did and how to continue. */
export function renderGateSummary(rec: GateRunRecord | undefined, runId: string, color = false): string {
  if (!rec || !rec.results.length) return '';
  const lines = ['GATES', ...renderGateResults(rec.results, color)];
  for (const v of rec.reverts) {
    lines.push(`REVERTED batch ${v.batch + 1} of play ${v.play + 1}${v.rollbackRun ? ` (rollback run ${v.rollbackRun})` : ''}:`);
    for (const h of v.hosts) {
      if (v.failed[h]) { lines.push(`  ${paint(color, 'red', h)}: NOT reverted: ${v.failed[h]}`); continue; }
      const steps = v.restored[h] ?? [];
      lines.push(`  ${h}: ${steps.length} step${steps.length === 1 ? '' : 's'}${v.verified === true ? ', gates pass again' : v.verified === false ? paint(color, 'red', ', a gate still fails after the revert') : ''}`);
      for (const s of steps) lines.push(`      ${s}`);
    }
  }
  const stop = rec.stoppedBy;
  if (stop) {
    lines.push(`STOPPED at batch ${stop.batch + 1} of play ${stop.play + 1}: gate "${stop.gate}" failed on ${stop.host}; ${stop.reverted ? 'that batch was reverted' : 'that batch was left as it is (--no-revert)'}, the next batches did not start, earlier batches stay applied.`);
    lines.push(`  Fix the cause and \`rig apply\` again, or undo ${stop.reverted ? 'the earlier batches' : 'the run'} with: rig rollback ${runId}`);
  }
  return redactText(lines.join('\n'));
}
