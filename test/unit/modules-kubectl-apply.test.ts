/** The kubectl-apply module: skipped without kubectl, applied when the manifest changes or the cluster differs, undo by argv. */
import test from 'ava';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { kubectlApply, type KubectlApplyProps } from '../../src/modules/kubectl-apply.ts';
import type { TaskContext } from '../../src/modules/module.ts';

const ctx: TaskContext = { host: { name: 'm1', address: '10.0.0.1', vars: {} } as unknown as TaskContext['host'], vars: {}, taskPath: 'play 1 › task 4', projectRoot: '/nonexistent' };
const mod = kubectlApply.module;
const M = '/etc/kong/kong-host-ports.yaml';
const props: KubectlApplyProps = {
  manifest: M, namespace: 'kong', replaces: [{ kind: 'Deployment', name: 'kong-kong' }, { kind: 'Service', name: 'kong-kong-proxy' }],
  fallback: { manifest: '/etc/kong/kong-chart.yaml', keepAs: '/var/lib/rig/kong-host-ports/kong-chart.abc.yaml', creates: [{ kind: 'DaemonSet', name: 'kong-kong' }] },
};
const keys = mod.facts(props, ctx).map((r) => (r.kind === 'command' ? r.key : r.kind));
/** The reason of the first change, or the no-op text. */
const reasonOf = (r: ReturnType<typeof mod.plan>): string => ('changes' in r ? r.changes[0]!.reason : `noop: ${r.noop}`);
const facts = (o: { kubectl: boolean; before?: string; planned?: string; diff: number }) => new MemoryHostFacts({
  os: DEBIAN_SYSV_OS,
  files: { [M]: o.planned ? { exists: true, type: 'file', mode: '0600', owner: 'root', group: 'root', sha256: o.planned } : { exists: false } },
  commands: {
    [keys[1]!]: { exitCode: o.kubectl ? 0 : 1, stdout: '', stderr: '' },
    [keys[2]!]: { exitCode: 0, stdout: o.before ? `${o.before}  -\n` : '', stderr: '' },
    [keys[3]!]: { exitCode: o.diff, stdout: '', stderr: o.diff > 1 ? 'error: the server could not be reached\n' : '' },
  },
});

test('without kubectl: nothing planned, and the plan says so', (t) => {
  t.deepEqual(mod.plan(props, facts({ kubectl: false, planned: 'a', diff: 3 }), ctx),
    { noop: `kubectl not found on m1: ${M} is written but not applied (apply it there with \`kubectl apply -f ${M}\`)` });
});

test('applied when the manifest is new or changes; converged when unchanged and kubectl diff agrees', (t) => {
  const fresh = mod.plan(props, facts({ kubectl: true, planned: 'a', diff: 3 }), ctx);
  t.true('changes' in fresh);
  if (!('changes' in fresh)) return;
  const c = fresh.changes[0]!;
  if (c.kind !== 'run-command') return t.fail();
  t.regex(c.reason, /is new: kubectl apply -f \/etc\/kong\/kong-host-ports\.yaml, then delete deployment\/kong-kong service\/kong-kong-proxy$/);
  t.deepEqual(c.argv.slice(3), ['rig-kubectl-apply', 'kubectl', M, '/etc/kong/kong-chart.yaml', '/var/lib/rig/kong-host-ports/kong-chart.abc.yaml', '-n', 'kong', 'deployment/kong-kong', 'service/kong-kong-proxy']);
  t.deepEqual(c.undo!.slice(3), ['rig-kubectl-undo', 'kubectl', M, '/var/lib/rig/kong-host-ports/kong-chart.abc.yaml', '-n', 'kong', 'daemonset/kong-kong']);
  t.regex(reasonOf(mod.plan(props, facts({ kubectl: true, before: 'a', planned: 'b', diff: 0 }), ctx)), /changes in this run/);
  t.deepEqual(mod.plan(props, facts({ kubectl: true, before: 'a', planned: 'a', diff: 0 }), ctx), { noop: `the cluster matches ${M} (kubectl diff)` });
  t.regex(reasonOf(mod.plan(props, facts({ kubectl: true, before: 'a', planned: 'a', diff: 1 }), ctx)), /the cluster differs/);
  t.regex(reasonOf(mod.plan(props, facts({ kubectl: true, before: 'a', planned: 'a', diff: 2 }), ctx)), /kubectl diff failed \(exit 2: error: the server could not be reached\)/);
});

test('props are validated', (t) => {
  t.deepEqual(mod.validate(props), []);
  t.true(mod.validate({ manifest: 'relative.yaml' }).length === 1);
  t.true(mod.validate({ ...props, namespace: 'Bad NS', replaces: [{ kind: 'Deployment', name: 'x; rm -rf /' }] }).length === 2);
});
