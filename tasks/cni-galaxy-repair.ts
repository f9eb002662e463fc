/**
 * Istio CNI on Galaxy (TKE Stack) nodes (docs/cni-galaxy-repair.md): the repair of the broken CNI config, and the
 * guard that reports, before any CNI change, the nodes where pods would stop being created.
 *
 * Variables (inventory, play vars or -e), with defaults:
 *   cni_mode repair (repair | check: check runs only the guard and changes nothing)
 *   cni_conf_dir /etc/cni/net.d · cni_bin_dir /opt/cni/bin · cni_conf_name 00-galaxy.conf · cni_conflist_name 00-galaxy.conflist
 *   cni_original_version (the conf's version before Istio, when the conflist's plugin entry does not keep it)
 *   cni_proposed_conflist (JSON text) or cni_proposed_conflist_file (a file on the controller, relative to the
 *   project root): the config the guard checks; without either, what Istio CNI's chained mode would write
 *   cni_istio_version 0.3.1 (the version Istio's chained mode writes)
 *   masters (repair mode): cni_delete_stuck_pods true · cni_kubectl kubectl · cni_kubeconfig /root/.kube/config
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CniError, ValidationError, cniGuard, cniRepair, cniStuckPods, type CniPathProps, type Task, type TaskContext, type WhenContext } from 'rig';

export type CniMode = 'repair' | 'check';

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

/** The cni_mode variable (errors name it). */
export function readCniMode(ctx: TaskContext): CniMode {
  const m = str(ctx.vars['cni_mode']) ?? 'repair';
  if (m !== 'repair' && m !== 'check') throw new ValidationError([`cni_mode: repair or check (got ${JSON.stringify(m)})`], { task: ctx.taskPath });
  return m;
}

/** The path variables as module props. */
export function readCniPaths(ctx: TaskContext): CniPathProps {
  const v = ctx.vars;
  const pick = (k: string): string | undefined => str(v[k]);
  const out: Record<string, string> = {};
  for (const [prop, name] of [['dir', 'cni_conf_dir'], ['binDir', 'cni_bin_dir'], ['confName', 'cni_conf_name'], ['conflistName', 'cni_conflist_name']] as const) {
    const value = pick(name);
    if (value !== undefined) out[prop] = value;
  }
  return out;
}

/** The operator's proposed conflist, if any. */
export function readProposedConflist(ctx: TaskContext): { text: string; source: string } | undefined {
  const text = ctx.vars['cni_proposed_conflist'];
  const file = str(ctx.vars['cni_proposed_conflist_file']);
  if (text !== undefined && file !== undefined) throw new ValidationError(['cni_proposed_conflist, cni_proposed_conflist_file: give one of them'], { task: ctx.taskPath });
  if (text !== undefined) return { text: typeof text === 'string' ? text : JSON.stringify(text), source: 'variable cni_proposed_conflist' };
  if (file === undefined) return undefined;
  const path = resolve(ctx.projectRoot, file);
  try { return { text: readFileSync(path, 'utf8'), source: path }; } catch (e) {
    throw new CniError(`cni_proposed_conflist_file: cannot read ${path}: ${(e as Error).message}`, { task: ctx.taskPath, cause: e });
  }
}

const inMode = (mode: CniMode) => (ctx: WhenContext): boolean => readCniMode(ctx) === mode;

/** The guard: changes nothing; fails the plan of each node whose plugins would refuse the proposed config. */
export function cniGuardTasks(options: { readonly when?: (ctx: WhenContext) => boolean } = {}): Task[] {
  return [
    cniGuard((ctx) => {
      const proposed = readProposedConflist(ctx);
      const istio = str(ctx.vars['cni_istio_version']);
      return { ...readCniPaths(ctx), ...(proposed ? { proposed } : {}), ...(istio ? { istioVersion: istio } : {}) };
    }, { name: 'CNI guard: would pods still be created with the proposed config?', ...(options.when ? { when: options.when } : {}) }),
  ];
}

/** The repair: the conflist's first plugin back as the conf with a version it supports, the conflist removed. */
export function cniRepairTasks(options: { readonly when?: (ctx: WhenContext) => boolean } = {}): Task[] {
  return [
    cniRepair((ctx) => {
      const original = str(ctx.vars['cni_original_version']);
      return { ...readCniPaths(ctx), ...(original ? { originalVersion: original } : {}) };
    }, { name: 'CNI config the node\'s plugin supports (Istio CNI leftover repaired)', ...(options.when ? { when: options.when } : {}) }),
  ];
}

/** The playbook's node tasks: the guard in check mode, the repair otherwise. */
export function cniNodeTasks(): Task[] {
  return [...cniGuardTasks({ when: inMode('check') }), ...cniRepairTasks({ when: inMode('repair') })];
}

/** Masters, last: delete the pods stuck in ContainerCreating with the CNI error (guarded: kubectl and a kubeconfig). */
export function cniStuckPodTasks(): Task[] {
  return [
    cniStuckPods((ctx) => ({ kubeconfig: str(ctx.vars['cni_kubeconfig']) ?? '/root/.kube/config', ...(str(ctx.vars['cni_kubectl']) ? { kubectl: str(ctx.vars['cni_kubectl'])! } : {}) }), {
      name: 'delete the pods stuck in ContainerCreating with the CNI error',
      when: (ctx) => readCniMode(ctx) === 'repair' && String(ctx.vars['cni_delete_stuck_pods'] ?? 'true') !== 'false',
    }),
  ];
}
