/**
 * The scaling line's job (bench/bench.ts --scaling): what rig does per host in a converged run of secure-cluster —
 * read a dozen files in one gather, plan nothing — without the stand-in daemons secure-cluster manages, so a fleet
 * of 1,000 hosts seeded with `--seed files` (no daemons started) can run it on one machine. Same tasks on every host.
 */
import { directory, file, flags, line } from '../src/modules/index.ts';
import { definePlaybook } from '../src/playbook/types.ts';

const DIR = '/etc/rig-bench';

export default definePlaybook({
  name: 'bench-scaling',
  plays: [{
    name: 'every host',
    hosts: 'all',
    tasks: [
      directory({ path: DIR, mode: '0755' }),
      ...Array.from({ length: 8 }, (_, i) => file({ path: `${DIR}/part-${i}.conf`, content: `# part ${i}\n${'key=value\n'.repeat(20 + i)}`, mode: '0644' })),
      line({ path: '/etc/default/kubelet', regexp: '^# managed-by=', line: '# managed-by=rig' }),
      flags({ path: '/etc/default/kube-proxy', variable: 'KUBE_PROXY_OPTS', set: { 'v': '2' } }),
    ],
  }],
});
