import type { Change } from '../core/change.ts';
import { selectStuckPods } from '../cni/stuck-pods.ts';
import { CniError } from '../errors.ts';
import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

export interface CniStuckPodsProps {
  /** kubectl on the master (a name looked up in PATH, or a path). @default 'kubectl' */
  readonly kubectl?: string;
  /** Absolute path of the kubeconfig on the host kubectl uses, e.g. `/root/.kube/config`. */
  readonly kubeconfig: string;
}

/** One read-only script: exit 127 when kubectl is not there, else its output for `get <what> -A -o json`. */
const GET_SCRIPT = 'command -v -- "$1" >/dev/null 2>&1 || exit 127; exec "$1" --kubeconfig "$2" get "$3" -A -o json';
const getArgv = (p: CniStuckPodsProps, what: string): string[] => ['sh', '-c', GET_SCRIPT, 'rig-cni-pods', p.kubectl ?? 'kubectl', p.kubeconfig, what];
const key = (p: CniStuckPodsProps, what: string): string => `cni-stuck:${p.kubectl ?? 'kubectl'}:${p.kubeconfig}:${what}`;

/**
 * `cniStuckPods({ kubectl, kubeconfig })`: delete the pods stuck in ContainerCreating with the CNI error
 * (src/cni/stuck-pods.ts), one `kubectl delete pod` per pod; their controllers recreate them. Skipped with its reason
 * where kubectl or the kubeconfig is missing. Pods and events are read at gather time with `kubectl get -A`.
 *
 * @plan One `run kubectl --kubeconfig K delete pod -n NS NAME --wait=false` per stuck pod, its reason quoting the
 * pod's CNI error; the no-op says no pod is stuck. Without kubectl or the kubeconfig on the host the plan says so
 * (without `-v`) and deletes nothing; a failing `kubectl get` is an error.
 *
 * @rollback Nothing: a deleted pod is recreated by its controller, not restored.
 *
 * @example
 * cniStuckPods({ kubeconfig: '/root/.kube/config' })
 */
export const cniStuckPods = defineModule<CniStuckPodsProps>({
  name: 'cni-stuck-pods',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['kubectl', 'kubeconfig']);
    if (typeof p.kubeconfig !== 'string' || !p.kubeconfig.startsWith('/')) problems.push('kubeconfig: an absolute path');
    if (p.kubectl !== undefined && (typeof p.kubectl !== 'string' || p.kubectl === '' || p.kubectl.startsWith('-'))) problems.push('kubectl: a command name or path');
    return problems;
  },
  facts: (p) => [
    { kind: 'file', path: p.kubeconfig, content: false },
    { kind: 'command', key: key(p, 'pods'), argv: getArgv(p, 'pods') },
    { kind: 'command', key: key(p, 'events'), argv: getArgv(p, 'events') },
  ],
  plan: (p, facts, ctx) => {
    const kubectl = p.kubectl ?? 'kubectl';
    if (!facts.file(p.kubeconfig).exists) return { noop: `no kubeconfig ${p.kubeconfig} on this host: stuck pods not looked for`, notable: true };
    const pods = facts.command(key(p, 'pods'));
    if (pods.exitCode === 127) return { noop: `${kubectl} is not on this host: stuck pods not looked for`, notable: true };
    const events = facts.command(key(p, 'events'));
    for (const [what, r] of [['pods', pods], ['events', events]] as const) {
      if (r.exitCode !== 0) throw new CniError(`${kubectl} get ${what} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 300)}`, { task: ctx.taskPath, hint: 'check the kubeconfig and the API server, or set cni_delete_stuck_pods=false' });
    }
    const stuck = selectStuckPods(pods.stdout, events.stdout);
    if (!stuck.length) return { noop: 'no pod is stuck in ContainerCreating with the CNI error' };
    const changes: Change[] = stuck.map((s) => ({
      kind: 'run-command', argv: [kubectl, '--kubeconfig', p.kubeconfig, 'delete', 'pod', '-n', s.namespace, s.name, '--wait=false'],
      task: ctx.taskPath, reason: `${s.namespace}/${s.name} stuck in ContainerCreating: ${s.message}`,
    }));
    return { changes };
  },
});
