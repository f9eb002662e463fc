import { MASK } from '../core/secret.ts';
import type { HostPlan, Plan, PlanStep, PlayInfo } from '../engine/plan-types.ts';
import { countChanges, isChangeStep } from '../engine/plan-types.ts';
import { viewContentChange } from './content-change-view.ts';

export interface PlanJsonOptions {
  /** Pre-images by host/step for steps that carry none (a journaled plan: `rig show`). */
  readonly before?: (host: string, step: PlanStep) => Buffer | undefined;
  /** Counts certificates' days left. @default now */
  readonly now?: Date;
}

/** What a host does in one batch of a play, as apply would run it (docs/json.md, `schedule`). */
export interface ScheduledHost {
  readonly host: string;
  /** `apply`: has steps in this play; `none`: nothing to do; `failed`/`unreachable`: planning failed, never run. */
  readonly action: 'apply' | 'none' | 'failed' | 'unreachable';
  readonly changes: number;
  readonly waits: number;
}

/** A play's batches (its `serial`) in run order, each with its hosts and what apply does on them. */
export function schedulePlay(plan: Plan, play: PlayInfo): Array<{ readonly batch: number; readonly hosts: readonly ScheduledHost[] }> {
  const hosts = new Map(plan.hosts.map((h) => [h.host, h]));
  const entry = (name: string): ScheduledHost => {
    const h: HostPlan | undefined = hosts.get(name);
    const steps = h?.plays.find((p) => p.play === play.index)?.steps ?? [];
    const changes = steps.filter(isChangeStep).length;
    const action = h?.unreachable ? 'unreachable' : h?.error ? 'failed' : steps.length ? 'apply' : 'none';
    return { host: name, action, changes, waits: steps.length - changes };
  };
  return play.batches.map((batch, i) => ({ batch: i + 1, hosts: batch.map(entry) }));
}

/** A step for `--json`: contents replaced by their size (a secret's by the mask), plus its diff and decoded views. */
function stepToJson(host: string, step: PlanStep, o: PlanJsonOptions, now: Date): unknown {
  const { preImage, ...s } = step;
  const before = preImage !== undefined ? Buffer.from(preImage, 'base64') : o.before?.(host, step);
  const view = viewContentChange(step, before, { color: false, now });
  const c = s.change;
  const change = c.kind === 'write-file'
    ? { ...c, content: c.secret ? MASK : `(${Buffer.from(c.content, 'base64').length} bytes)`, ...(c.diffFrom ? { diffFrom: { label: c.diffFrom.label, content: `(${Buffer.from(c.diffFrom.content, 'base64').length} bytes)` } } : {}) }
    : c;
  return {
    ...s, change,
    ...(view?.diff ? { diff: view.diff } : {}),
    ...(view?.notShown ? { contentNotShown: view.notShown } : {}),
    ...(view?.certificate ? { certificate: view.certificate } : {}),
    ...(view?.kubeconfig ? { kubeconfig: view.kubeconfig } : {}),
  };
}

/**
 * A plan as `--json` prints it (docs/json-schema/rig-result.v1.json, `$defs/plan`): no contents or pre-images, each
 * content change with its unified diff (masked as on the terminal) and its certificate or kubeconfig decoded, each
 * play with its `schedule` (batches → hosts). `full`: the plan as saved by `--out`, contents included.
 */
export function planToJson(plan: Plan, full: boolean, o: PlanJsonOptions = {}): unknown {
  if (full) return plan;
  const now = o.now ?? new Date();
  return {
    ...plan,
    plays: plan.plays.map((p) => ({ ...p, schedule: schedulePlay(plan, p) })),
    hosts: plan.hosts.map((h) => ({
      ...h,
      changes: countChanges(h),
      plays: h.plays.map((p) => ({ ...p, steps: p.steps.map((s) => stepToJson(h.host, s, o, now)) })),
    })),
  };
}
