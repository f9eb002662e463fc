import { redactDeep } from '../core/secret.ts';
import { quoteShell } from '../text/shell-quote.ts';
import { handlerKey, pendingDir, pendingPlayLabel, PENDING_ROOT, type PendingRecord } from './pending-handlers.ts';
import { isChangeStep, type HostPlayPlan, type Plan, type PlanStep, type PlayInfo } from './plan-types.ts';

/**
 * The host-side part of handlers in an apply script (one play on one host): pending records (pending-handlers.ts),
 * and forced handlers (`forceHandlers` / `--force-handlers`). Kept apart from apply-script.ts, which only calls these
 * hooks at fixed points (see ApplyScriptHooks); a hook that runs after a play's handlers (health gates) can sit next
 * to them without touching this file.
 */
export interface ApplyScriptHooks {
  /** Shell defined after the prelude, before the lock (variables, functions). */
  readonly prologue?: string;
  /** Lines run before a step (after its stop check), by step id. */
  readonly beforeStep?: ReadonlyMap<string, string>;
  /** Lines run right after a step's change succeeded and before it is reported done, by step id. */
  readonly afterChange?: ReadonlyMap<string, string>;
  /**
   * Forced handlers: when a step fails, these groups of steps run (each when its shell flag is 1) before the script
   * exits, in this order. Rendered by the apply script as `rig_on_fail`.
   */
  readonly onFailure?: readonly { readonly flag: string; readonly stepIds: readonly string[] }[];
  /** Lines run at the end of `rig_restore`, after a failed validation put this script's files back as they were. */
  readonly afterRestore?: string;
  /** Lines run when every step succeeded, before the lock is released. */
  readonly epilogue?: string;
}

export interface HandlerHookOptions {
  readonly runId: string;
  readonly playbookName: string;
  /** The play as pending records name it (pendingPlayLabel). */
  readonly playName: string;
  readonly hostPlay: HostPlayPlan;
  /** Run notified handlers when a later step fails. @default false */
  readonly forceHandlers?: boolean;
  /** Host root of the pending records. @default PENDING_ROOT */
  readonly root?: string;
}

/** Shell functions of pending records. Constant text; every value arrives as a quoted argument. Needs RIG_PEND. */
export const PENDING_FUNCTIONS = String.raw`
rig_pend_add() {
  [ -e "$RIG_PEND/$1/$RIG_ID" ] && return 0
  mkdir -p -m 0700 -- "$RIG_PEND/$1" && ( umask 077; printf %s "$2" | base64 -d > "$RIG_PEND/$1/.$RIG_ID" ) \
    && mv -f -- "$RIG_PEND/$1/.$RIG_ID" "$RIG_PEND/$1/$RIG_ID" && { sync -- "$RIG_PEND/$1/$RIG_ID" 2>/dev/null || :; } \
    && rig_jlog "handler $1 pending" || rig_jlog "cannot record pending handler $1"
}
rig_pend_drop() {
  if [ -f "$RIG_PEND/$1/$RIG_ID" ]; then rm -f -- "$RIG_PEND/$1/$RIG_ID"; rmdir -- "$RIG_PEND/$1" 2>/dev/null; rig_jlog "handler $1: the changes that notified it were restored, no longer pending"; fi
}
rig_pend_clear() { if [ -d "$RIG_PEND/$1" ]; then rm -rf -- "$RIG_PEND/$1"; rig_jlog "handler $1 ran: no longer pending"; fi; }
`;

/** Contiguous runs of steps of the same handler (a handler flushed twice has two groups). */
function handlerGroups(steps: readonly PlanStep[]): Array<{ handler: string; ids: string[] }> {
  const groups: Array<{ handler: string; ids: string[] }> = [];
  let prev: string | undefined;
  for (const s of steps) {
    if (s.handler === undefined) { prev = undefined; continue; }
    if (s.handler === prev) groups[groups.length - 1]!.ids.push(s.id);
    else groups.push({ handler: s.handler, ids: [s.id] });
    prev = s.handler;
  }
  return groups;
}

/**
 * Hooks for one play on one host of an apply: after each change of a task that notifies handlers, the handler is
 * recorded pending (and its shell flag set); before a handler's steps its flag is cleared; after its last step the
 * record goes. With forceHandlers, a failure runs the last group of every handler whose flag is still set.
 */
export function buildHandlerHooks(o: HandlerHookOptions): ApplyScriptHooks {
  const groups = handlerGroups(o.hostPlay.steps);
  const names = [...new Set([...groups.map((g) => g.handler), ...(o.hostPlay.pendingHandlers ?? []).filter((p) => p.known).map((p) => p.handler)])];
  if (!names.length) return {};
  const flag = (h: string): string => `rig_pn_${names.indexOf(h)}`;
  const key = (h: string): string => handlerKey(o.playName, h);
  const at = new Date().toISOString();
  const byId = new Map(o.hostPlay.steps.map((s) => [s.id, s]));
  const afterChange = new Map<string, string>();
  for (const t of o.hostPlay.tasks) {
    const notified = (t.notified ?? []).filter((h) => names.includes(h));
    for (const id of t.steps) {
      const step = byId.get(id);
      // A handler's own notifications are not planned (handlers flush once): only tasks' changes mark.
      if (!step || step.handler !== undefined || !isChangeStep(step) || !notified.length) continue;
      afterChange.set(id, notified.map((h) => {
        const record: PendingRecord = { run: o.runId, playbook: o.playbookName, play: o.playName, handler: h, task: t.task, at };
        const b64 = Buffer.from(JSON.stringify(redactDeep(record))).toString('base64');
        return `${flag(h)}=1; rig_pend_add ${quoteShell(key(h))} ${quoteShell(b64)}`;
      }).join('\n'));
    }
  }
  const beforeStep = new Map<string, string>();
  for (const g of groups) {
    beforeStep.set(g.ids[0]!, `${flag(g.handler)}=0`);
    const last = g.ids[g.ids.length - 1]!;
    afterChange.set(last, [afterChange.get(last), `rig_pend_clear ${quoteShell(key(g.handler))}`].filter(Boolean).join('\n'));
  }
  // Handlers pending from earlier runs count as notified from the start (forced too).
  const seeded = (o.hostPlay.pendingHandlers ?? []).filter((p) => p.known && groups.some((g) => g.handler === p.handler)).map((p) => `${flag(p.handler)}=1`);
  const prologue = [`RIG_PEND=${quoteShell(pendingDir(o.playbookName, o.root ?? PENDING_ROOT))}`, PENDING_FUNCTIONS, names.map((h) => `${flag(h)}=0`).join('; '), ...seeded].join('\n');
  // The last group of each handler, in the order the play lists them: the one still to run after a failure.
  const lastGroups = new Map<string, string[]>();
  for (const g of groups) lastGroups.set(g.handler, g.ids);
  const onFailure = o.forceHandlers ? names.filter((h) => lastGroups.has(h)).map((h) => ({ flag: flag(h), stepIds: lastGroups.get(h)! })) : undefined;
  // A failed validation restores every file this script changed: what this run notified is undone with them (records
  // from earlier runs stay: their changes are still there).
  const afterRestore = names.map((h) => `rig_pend_drop ${quoteShell(key(h))}`).join('\n');
  return { prologue, beforeStep, afterChange, afterRestore, ...(onFailure?.length ? { onFailure } : {}) };
}

/** Rollback of run X (docs/engine.md): X's pending records go once every restore on the host succeeded. */
export function clearRunPendingScript(undoneRun: string, root: string = PENDING_ROOT): string {
  if (!/^\d{8}T\d{6}Z-[0-9a-f]+$/.test(undoneRun)) return '';
  return `for rig_pf in ${root}/*/*/${undoneRun}; do [ -f "$rig_pf" ] || continue; rm -f -- "$rig_pf"; rmdir -- "\${rig_pf%/*}" 2>/dev/null; rig_jlog "pending handler \${rig_pf#${root}/} cleared: its run was rolled back"; done`;
}

export interface HostPlayHookOptions {
  readonly plan: Plan;
  readonly play: PlayInfo;
  readonly hostPlay: HostPlayPlan;
  readonly runId: string;
  readonly kind: 'apply' | 'rollback';
  readonly rollbackOf?: string;
  /** This is the host's last script of the run. */
  readonly last: boolean;
  /** `--force-handlers` (the play's forceHandlers counts too). @default false */
  readonly forceHandlers?: boolean;
}

/** The hooks of one host's script for one play: handler bookkeeping for an apply, clearing the undone run's records for a rollback. */
export function hostPlayHooks(o: HostPlayHookOptions): ApplyScriptHooks | undefined {
  if (o.kind === 'rollback') {
    const clear = o.last && o.rollbackOf ? clearRunPendingScript(o.rollbackOf) : '';
    return clear ? { epilogue: clear } : undefined;
  }
  const hooks = buildHandlerHooks({
    runId: o.runId, playbookName: o.plan.playbook.name, playName: pendingPlayLabel(o.plan.plays, o.play.index), hostPlay: o.hostPlay,
    forceHandlers: o.forceHandlers === true || o.play.forceHandlers === true,
  });
  return Object.keys(hooks).length ? hooks : undefined;
}
