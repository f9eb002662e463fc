import { redactText } from '../core/secret.ts';
import { isChangeStep, type HostPlayPlan, type Plan } from '../engine/plan-types.ts';
import type { ApplyRunResult } from '../engine/run-playbook.ts';

/**
 * Handlers of one host's play that an applied change notified (or that were pending before the run) and whose steps
 * did not all run: they stay pending on the host (src/engine/pending-handlers.ts).
 */
export function handlersLeftPending(hostPlay: HostPlayPlan, done: ReadonlySet<string>): string[] {
  const byId = new Map(hostPlay.steps.map((s) => [s.id, s]));
  const notified = new Set((hostPlay.pendingHandlers ?? []).filter((p) => p.known).map((p) => p.handler));
  for (const t of hostPlay.tasks) {
    if (t.steps.some((id) => { const s = byId.get(id); return s !== undefined && s.handler === undefined && isChangeStep(s) && done.has(id); })) {
      for (const h of t.notified ?? []) notified.add(h);
    }
  }
  // The last steps of each handler (its last flush) decide whether it ran.
  const last = new Map<string, string[]>();
  let prev: string | undefined;
  for (const s of hostPlay.steps) {
    if (s.handler !== undefined && s.handler !== prev) last.set(s.handler, []);
    if (s.handler !== undefined) last.get(s.handler)!.push(s.id);
    prev = s.handler;
  }
  return [...notified].filter((h) => last.has(h) && !last.get(h)!.every((id) => done.has(id)));
}

/** After an apply that did not finish everywhere: which handlers were left pending, per host ('' when none). */
export function renderPendingLeft(plan: Plan, result: ApplyRunResult): string {
  const lines: string[] = [];
  for (const o of result.outcomes) {
    const h = plan.hosts.find((x) => x.host === o.host);
    if (!h) continue;
    const done = new Set(o.done);
    const left = [...new Set(h.plays.flatMap((p) => handlersLeftPending(p, done)))];
    if (left.length) lines.push(`  ${o.host}: ${left.join(', ')}${o.status === 'unreachable' ? ' (unless its script ran them after the host was cut off)' : ''}`);
  }
  if (!lines.length) return '';
  return redactText([`handlers left pending (notified, not run; the next \`rig apply\` of this playbook runs them, \`--force-handlers\` runs them despite a failure):`, ...lines].join('\n'));
}
