import { checkUnknownProps } from './file-write.ts';
import { defineModule } from './module.ts';

/** A Kubernetes object by kind and name (in the task's namespace). */
export interface KubeObjectName {
  /** e.g. Deployment, Service, DaemonSet. */
  readonly kind: string;
  /** The object's metadata.name. */
  readonly name: string;
}

export interface KubectlApplyProps {
  /** Manifest on the host (written by an earlier task of the play), applied with `kubectl apply -f`. */
  readonly manifest: string;
  /** Namespace of `replaces` and `fallback.creates`. @default kubectl's current namespace */
  readonly namespace?: string;
  /** Objects the manifest replaces: deleted (`--ignore-not-found`) after the apply succeeded. */
  readonly replaces?: readonly KubeObjectName[];
  /**
   * What rollback re-applies when the run created `manifest` (rollback removes it first): the manifest the cluster
   * ran before, e.g. the chart's own output. Its file is copied to `keepAs` by the apply itself (a path rollback does
   * not remove; name it by content so that it never changes), and rollback deletes `creates` before applying it.
   * Without it, rollback re-applies `manifest` when it was put back, and does nothing else.
   */
  readonly fallback?: { readonly manifest: string; readonly keepAs: string; readonly creates: readonly KubeObjectName[] };
  /** kubectl on the host: a name looked up in PATH, or a path. @default 'kubectl' */
  readonly kubectl?: string;
}

/** Constant scripts; every value reaches them as a positional argument. */
const APPLY_SCRIPT = 'set -e; k=$1 m=$2 f=$3 keep=$4; shift 4; if [ -n "$keep" ] && [ ! -e "$keep" ]; then mkdir -p -m 0700 -- "${keep%/*}"; cp -- "$f" "$keep"; fi; "$k" apply -f "$m"; if [ $# -gt 0 ]; then "$k" delete --ignore-not-found "$@"; fi';
const UNDO_SCRIPT = 'k=$1 m=$2 keep=$3; shift 3; if [ -f "$m" ]; then exec "$k" apply -f "$m"; fi; [ -n "$keep" ] || exit 0; if [ $# -gt 0 ]; then "$k" delete --ignore-not-found "$@" || exit; fi; exec "$k" apply -f "$keep"';
const FIND_SCRIPT = 'command -v "$1"';
/** The manifest as it is before the run, and whether the cluster matches it: `kubectl diff` exits 0 same, 1 differs, >1 error. */
const STATE_SCRIPT = '[ -f "$2" ] || exit 3; command -v "$1" >/dev/null || exit 4; exec "$1" diff -f "$2"';

const deleteArgs = (namespace: string | undefined, objects: readonly KubeObjectName[]): string[] =>
  objects.length ? [...(namespace ? ['-n', namespace] : []), ...objects.map((o) => `${o.kind.toLowerCase()}/${o.name}`)] : [];
const findKey = (p: KubectlApplyProps): string => `kubectl-present:${p.kubectl ?? 'kubectl'}`;
const hashKey = (p: KubectlApplyProps): string => `kubectl-manifest-sha256:${p.manifest}`;
const diffKey = (p: KubectlApplyProps): string => `kubectl-diff:${p.kubectl ?? 'kubectl'}:${p.manifest}`;
const isName = (o: unknown): boolean => typeof o === 'object' && o !== null && /^[A-Za-z]+$/.test(String((o as KubeObjectName).kind)) && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(String((o as KubeObjectName).name));

/**
 * `kubectlApply({ manifest, replaces, fallback })`: on a host that has kubectl (a master), apply a manifest that an
 * earlier task writes, then delete the objects it replaces; undone by re-applying the previous manifest. Planned when
 * the manifest changes in this run, or when `kubectl diff` says the cluster differs from it (an earlier apply failed,
 * someone edited the objects); a converged cluster plans nothing. Without kubectl on the host it plans nothing and
 * says so (not a failure).
 *
 * @plan `run sh -c … kubectl apply -f MANIFEST` with the reason: `MANIFEST is new`, `MANIFEST changes in this run`,
 * `the cluster differs from MANIFEST (kubectl diff)`, then the objects it deletes (`then delete deployment/old`). The
 * no-op says the cluster matches the manifest, or that kubectl is not on the host.
 *
 * @rollback Re-applies the manifest the host had before the run (put back by the rollback of the task that wrote it);
 * when the run created the manifest and `fallback` is given, deletes `fallback.creates` and applies the copy kept at
 * `fallback.keepAs`. Objects deleted through `replaces` are recreated only by those manifests.
 *
 * @example
 * kubectlApply({ manifest: '/etc/kubernetes/addons/kong.yaml', namespace: 'kong',
 *   replaces: [{ kind: 'DaemonSet', name: 'kong-old' }] })
 */
export const kubectlApply = defineModule<KubectlApplyProps>({
  name: 'kubectl-apply',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['manifest', 'namespace', 'replaces', 'fallback', 'kubectl']);
    if (typeof p.manifest !== 'string' || !p.manifest.startsWith('/')) problems.push('manifest: an absolute path');
    if (p.namespace !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(String(p.namespace))) problems.push('namespace: a Kubernetes namespace name');
    if (p.replaces !== undefined && !(Array.isArray(p.replaces) && p.replaces.every(isName))) problems.push('replaces: a list of { kind, name }');
    if (p.fallback !== undefined) {
      const f = p.fallback;
      if (typeof f.manifest !== 'string' || !f.manifest.startsWith('/')) problems.push('fallback.manifest: an absolute path');
      if (typeof f.keepAs !== 'string' || !f.keepAs.startsWith('/')) problems.push('fallback.keepAs: an absolute path');
      if (!(Array.isArray(f.creates) && f.creates.every(isName))) problems.push('fallback.creates: a list of { kind, name }');
    }
    if (p.kubectl !== undefined && (typeof p.kubectl !== 'string' || p.kubectl === '')) problems.push('kubectl: a command name or path');
    return problems;
  },
  facts: (p) => [
    { kind: 'file', path: p.manifest },
    { kind: 'command', key: findKey(p), argv: ['sh', '-c', FIND_SCRIPT, 'rig-find-kubectl', p.kubectl ?? 'kubectl'] },
    { kind: 'command', key: hashKey(p), argv: ['sh', '-c', '[ ! -f "$1" ] || sha256sum < "$1"', 'rig-manifest-sha256', p.manifest] },
    { kind: 'command', key: diffKey(p), argv: ['sh', '-c', STATE_SCRIPT, 'rig-kubectl-diff', p.kubectl ?? 'kubectl', p.manifest] },
  ],
  plan: (p, facts, ctx) => {
    const kubectl = p.kubectl ?? 'kubectl';
    if (facts.command(findKey(p)).exitCode !== 0) {
      return { noop: `${kubectl} not found on ${ctx.host.name}: ${p.manifest} is written but not applied (apply it there with \`kubectl apply -f ${p.manifest}\`)` };
    }
    // The manifest as the run leaves it (earlier tasks' writes are overlaid) against the one the host had.
    const now = facts.file(p.manifest);
    const planned = now.exists ? now.sha256 : undefined;
    const before = facts.command(hashKey(p)).stdout.split(/\s/)[0] || undefined;
    const diff = facts.command(diffKey(p));
    let why: string;
    if (planned !== before) why = before ? `${p.manifest} changes in this run` : `${p.manifest} is new`;
    else if (diff.exitCode === 0) return { noop: `the cluster matches ${p.manifest} (kubectl diff)` };
    else if (diff.exitCode === 1) why = `the cluster differs from ${p.manifest} (kubectl diff)`;
    else why = `kubectl diff failed (exit ${diff.exitCode}: ${(diff.stderr.trim().split('\n').pop() ?? '').slice(0, 200)}), so apply again`;
    const f = p.fallback;
    return {
      changes: [{
        kind: 'run-command', task: ctx.taskPath,
        argv: ['sh', '-c', APPLY_SCRIPT, 'rig-kubectl-apply', kubectl, p.manifest, f?.manifest ?? '', f?.keepAs ?? '', ...deleteArgs(p.namespace, p.replaces ?? [])],
        undo: ['sh', '-c', UNDO_SCRIPT, 'rig-kubectl-undo', kubectl, p.manifest, f?.keepAs ?? '', ...deleteArgs(p.namespace, f?.creates ?? [])],
        reason: `${why}: kubectl apply -f ${p.manifest}${p.replaces?.length ? `, then delete ${p.replaces.map((o) => `${o.kind.toLowerCase()}/${o.name}`).join(' ')}` : ''}`,
      }],
    };
  },
});
