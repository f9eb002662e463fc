/**
 * The scaling line's job (bench/bench.ts --scaling): what rig does per host in a converged run of secure-cluster —
 * read a dozen files in one gather, plan nothing — without the stand-in daemons secure-cluster manages, so a fleet
 * of 1,000 hosts seeded with `--seed files` (no daemons started) can run it on one machine. Same tasks on every host.
 */
import { definePlaybook, directory, file, flags, fromVar, line } from 'rig';

const DIR = '/etc/rig-bench';

export default definePlaybook({
  name: 'bench-scaling',
  plays: [{
    name: 'every host',
    hosts: 'all',
    // The bench's untimed changing run moves 25 hosts at a time from 100 hosts on (-e worker_serial=25): 1,000 hosts
    // applying at once on 2 cores ran their scripts past the 120 s step limit. The timed converged runs: one batch.
    serial: fromVar('worker_serial', '100%'),
    tasks: [
      directory({ path: DIR, mode: '0755' }),
      ...Array.from({ length: 8 }, (_, i) => file({ path: `${DIR}/part-${i}.conf`, content: `# part ${i}\n${'key=value\n'.repeat(20 + i)}`, mode: '0644' })),
      line({ path: '/etc/default/kubelet', regexp: '^# managed-by=', line: '# managed-by=rig' }),
      flags({ path: '/etc/default/kube-proxy', variable: 'KUBE_PROXY_OPTS', set: { 'v': '2' } }),
    ],
  }],
});
