import { styleText } from 'node:util';
import type { Change } from '../core/change.ts';
import { redactText } from '../core/secret.ts';
import type { HostPlan, Plan, PlanStep } from '../engine/plan-types.ts';
import { countChanges } from '../engine/plan-types.ts';
import { renderDecodedCertificateChange } from '../pki/render-certificate-change.ts';
import { renderDecodedKubeconfigChange } from '../kube/decode-kubeconfig-change.ts';
import { viewContentChange } from './content-change-view.ts';
import { renderPlanGates } from './render-gates.ts';

export interface RenderOptions {
  readonly color: boolean;
  /** Pre-images by host/step id for diffs (from gathered facts or the journal). */
  readonly before?: (host: string, step: PlanStep) => Buffer | undefined;
  /** Show ok/skipped tasks too. @default false */
  readonly verbose?: boolean;
}

const paint = (color: boolean, style: Parameters<typeof styleText>[0], text: string): string => (color ? styleText(style, text, { validateStream: false }) : text);

/** One line describing a change, secrets masked. */
export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'write-file': return `${c.before.exists ? 'update' : 'create'} ${c.path} (${c.after.mode} ${c.after.owner}:${c.after.group})${c.secret ? ' [secret]' : ''}`;
    case 'set-attributes': return `attributes ${c.path}: ${c.before.mode} ${c.before.owner}:${c.before.group} → ${c.after.mode} ${c.after.owner}:${c.after.group}`;
    case 'ensure-directory': return `${c.before.exists ? 'adjust' : 'create'} directory ${c.path} (${c.after.mode} ${c.after.owner}:${c.after.group})`;
    case 'remove-path': return `remove ${c.before.type === 'directory' ? 'directory ' : ''}${c.path}`;
    case 'restore-preimage': return `restore ${c.path} (${c.after.mode} ${c.after.owner}:${c.after.group}, ${c.after.size ?? '?'} bytes) from the host's pre-image of run ${c.fromRun}${c.secret ? ' [secret]' : ''}`;
    case 'symlink': return `link ${c.path} → ${c.target}`;
    case 'set-capability': return `capabilities ${c.path}: ${c.beforeCaps || 'none'} → ${c.afterCaps || 'none'}`;
    case 'run-command': return `run ${c.argv.join(' ')}`;
    case 'service': return `${c.action} service ${c.service} (${c.init})`;
    case 'package': return `packages${c.install.length ? ` install ${c.install.join(' ')}` : ''}${c.remove.length ? ` remove ${c.remove.join(' ')}` : ''}`;
    case 'wait': return `wait: ${c.description} (timeout ${c.timeoutSeconds}s)`;
  }
}

function diffOf(host: string, step: PlanStep, o: RenderOptions): string {
  const before = step.preImage !== undefined ? Buffer.from(step.preImage, 'base64') : o.before?.(host, step);
  const v = viewContentChange(step, before, { color: o.color });
  if (!v) return '';
  if (v.notShown) return `(content not shown: ${v.notShown})\n`;
  if (v.diffFrom) return `new file, shown as the diff from ${v.diffFrom}:\n${v.diff ?? ''}`;
  // A certificate (public) or a kubeconfig is shown decoded side by side; its raw diff only with -v.
  const decoded = v.certificate ? ['certificate', renderDecodedCertificateChange(v.certificate)] : v.kubeconfig ? ['kubeconfig', renderDecodedKubeconfigChange(v.kubeconfig)] : undefined;
  if (decoded) return `${decoded[0]}, decoded${o.verbose ? '' : ` (the ${decoded[0] === 'certificate' ? 'base64 ' : ''}diff with -v)`}:\n${decoded[1]}${o.verbose ? v.diff ?? '' : ''}`;
  return v.diff ?? '';
}

/** Human rendering of a plan: per host, per task, each change with its unified diff; then a summary. */
export function renderPlan(plan: Plan, o: RenderOptions): string {
  const out: string[] = [];
  for (const h of plan.hosts) out.push(renderHostPlan(plan, h, o));
  out.push(renderPlanGates(plan, o.color));
  out.push(renderSummary(plan, o.color));
  return redactText(out.filter(Boolean).join('\n'));
}

function renderHostPlan(plan: Plan, h: HostPlan, o: RenderOptions): string {
  const lines: string[] = [];
  const head = paint(o.color, 'bold', `── ${h.host} (${h.address})`);
  if (h.unreachable) {
    const code = h.unreachableCode && h.unreachableCode !== 'UNREACHABLE' ? ` [${h.unreachableCode}]` : '';
    return `${head}\n  ${paint(o.color, 'red', `UNREACHABLE${code}: ${h.unreachable}`)}\n`;
  }
  if (h.error) {
    const e = h.error;
    const at = e.file && !e.message.includes(e.file) ? `\n  in: ${e.line ? `${e.file}:${e.line}` : e.file}` : '';
    return `${head}\n  ${paint(o.color, 'red', `FAILED [${e.code}]${e.task ? ` ${e.task}` : ''}: ${e.message}`)}${at}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`;
  }
  const n = countChanges(h);
  lines.push(`${head} ${n ? paint(o.color, 'yellow', `${n} change${n === 1 ? '' : 's'}`) : paint(o.color, 'green', 'no changes')}`);
  for (const p of h.plays) {
    const byId = new Map(p.steps.map((s) => [s.id, s]));
    for (const t of p.tasks) {
      if (t.status !== 'changed' && !(o.verbose || t.steps.length || t.notable)) continue;
      const mark = t.status === 'changed' ? paint(o.color, 'yellow', '~') : t.status === 'skipped' ? paint(o.color, 'dim', '-') : paint(o.color, 'green', '=');
      lines.push(`  ${mark} ${t.task}: ${t.reason}${t.notified?.length ? ` (notifies ${t.notified.join(', ')})` : ''}`);
      for (const id of t.steps) {
        const s = byId.get(id);
        if (!s) continue;
        lines.push(`      ${describeChange(s.change)}`);
        const d = diffOf(h.host, s, o);
        if (d) lines.push(d.replace(/^/gm, '      ').trimEnd());
      }
    }
  }
  void plan;
  return lines.join('\n') + '\n';
}

export function renderSummary(plan: Plan, color: boolean): string {
  let changes = 0; let hostsChanging = 0; let failed = 0; let unreachable = 0;
  for (const h of plan.hosts) {
    if (h.unreachable) unreachable++;
    else if (h.error) failed++;
    const n = countChanges(h);
    changes += n;
    if (n) hostsChanging++;
  }
  const parts = [`${changes} change${changes === 1 ? '' : 's'} on ${hostsChanging} of ${plan.hosts.length} host${plan.hosts.length === 1 ? '' : 's'}`];
  if (failed) parts.push(paint(color, 'red', `${failed} failed`));
  if (unreachable) parts.push(paint(color, 'red', `${unreachable} unreachable`));
  return `Plan: ${parts.join(', ')}.`;
}

export { planToJson } from './plan-json.ts';
