import { styleText } from 'node:util';
import { redactText } from '../core/secret.ts';
import type { RunEvent } from '../engine/run-events.ts';
import type { ApplyRunResult } from '../engine/run-playbook.ts';
import type { Session } from '../engine/run-playbook.ts';
import { describeChange } from './render-plan.ts';

/** Plain progress lines on stderr (non-TTY, CI logs). Every event kind has a line. */
export function formatEvent(e: RunEvent): string | undefined {
  switch (e.kind) {
    case 'phase': return `[${e.phase}] ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}`;
    case 'host-gathered': return `  ${e.host}: facts gathered (${e.ms} ms)`;
    case 'host-unreachable': return `  ${e.host}: UNREACHABLE${e.error.code === 'UNREACHABLE' ? '' : ` [${e.error.code}]`}: ${e.error.message}${e.error.hint ? ` (hint: ${e.error.hint})` : ''}`;
    case 'host-failed': return `  ${e.host}: FAILED [${e.error.code}]${e.error.where.task ? ` ${e.error.where.task}` : ''}: ${e.error.message}${e.error.hint ? ` (hint: ${e.error.hint})` : ''}`;
    case 'batch-start': return `play ${e.play + 1} "${e.playName}", batch ${e.batch + 1}: ${e.hosts.join(', ')}`;
    case 'host-apply-start': return `  ${e.host}: applying ${describeApplyCount(e.changes, e.steps)}`;
    case 'step-done': return `  ${e.host}: ✓ ${describeChange(e.step.change)}`;
    case 'host-apply-done': return undefined;
    case 'gates-start': return `  gates${e.phase === 'revert' ? ' after the revert' : ''} (play ${e.play + 1}, batch ${e.batch + 1}): ${e.hosts.join(', ')}`;
    case 'gate-done': return `  ${e.result.host}: gate "${e.result.name}" ${e.result.passed ? 'passed' : 'FAILED'} in ${(e.result.ms / 1000).toFixed(1)} s (${e.result.attempts} attempt${e.result.attempts === 1 ? '' : 's'}${e.result.from === 'controller' ? ', from the controller' : ''})${e.result.passed ? '' : `: ${e.result.detail ?? ''}`}`;
    case 'gates-done': return undefined;
    case 'batch-revert': return `reverting batch ${e.batch + 1} of play ${e.play + 1} (${e.hosts.join(', ')}): ${e.reason}`;
    case 'host-not-run': return `  ${e.host}: NOT RUN (play ${e.play + 1}): ${e.reason.message}`;
    default: {
      const unknown: never = e;
      return unknown;
    }
  }
}

/** `N changes` (the plan's count), plus the waits when there are any: `3 changes, 1 wait`. */
export function describeApplyCount(changes: number, steps: number): string {
  const waits = steps - changes;
  return `${changes} change${changes === 1 ? '' : 's'}${waits ? `, ${waits} wait${waits === 1 ? '' : 's'}` : ''}`;
}

export interface Reporter {
  readonly onEvent: (e: RunEvent) => void;
  /** Finish any live display before printing. */
  flush(): Promise<void>;
}

export function createPlainReporter(write: (s: string) => void): Reporter {
  return {
    onEvent: (e) => {
      const line = formatEvent(e);
      if (line !== undefined) write(redactText(line) + '\n');
    },
    flush: async () => undefined,
  };
}

/** PLAY RECAP-style lines, one per host. */
export function renderRecap(result: ApplyRunResult, color: boolean): string {
  const c = (s: Parameters<typeof styleText>[0], t: string): string => (color ? styleText(s, t, { validateStream: false }) : t);
  const w = Math.max(4, ...result.outcomes.map((o) => o.host.length));
  const lines = ['RECAP'];
  for (const o of result.outcomes) {
    const r = o.recap;
    const name = o.status === 'failed' || o.status === 'unreachable' ? c('red', o.host.padEnd(w))
      : o.notRun ? c('magenta', o.host.padEnd(w)) : o.recap.changed ? c('yellow', o.host.padEnd(w)) : c('green', o.host.padEnd(w));
    // A host that never started is `not run` with the reason, never a row of zeros that reads as "fine".
    if (o.notRun && o.done.length === 0) {
      lines.push(`${name} : ${c('magenta', `not run (${o.notRun.reason.message})`)}`);
      continue;
    }
    lines.push(`${name} : ok=${r.ok} changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable ? 1 : 0} skipped=${r.skipped}`);
    if (o.notRun) lines.push(`${' '.repeat(w)}   ${c('magenta', `not run: play ${o.notRun.plays.map((p) => p + 1).join(', ')} (${o.notRun.reason.message})`)}`);
    else if (o.error) lines.push(`${' '.repeat(w)}   ${c('red', `${o.error.code}: ${o.error.message}`)}`);
  }
  return redactText(lines.join('\n'));
}

export interface HostStats { readonly host: string; readonly roundTrips: number; readonly bytesSent: number; readonly bytesReceived: number; readonly connectMs: number }

export function collectStats(session: Session): HostStats[] {
  return [...session.connectors.values()].map((c) => ({ host: c.host.name, ...c.stats }));
}

export function renderStats(stats: readonly HostStats[], totalMs: number): string {
  const w = Math.max(4, ...stats.map((s) => s.host.length));
  const lines = [`STATS (total ${totalMs} ms)`, `${'host'.padEnd(w)}  round-trips  sent      received  connect-ms`];
  for (const s of stats) {
    lines.push(`${s.host.padEnd(w)}  ${String(s.roundTrips).padStart(11)}  ${String(s.bytesSent).padStart(8)}  ${String(s.bytesReceived).padStart(8)}  ${String(s.connectMs).padStart(10)}`);
  }
  return lines.join('\n');
}
