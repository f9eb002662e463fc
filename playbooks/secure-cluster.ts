/**
 * Harden an old kube-up.sh cluster: bind the apiserver's insecure port to loopback, add client-certificate and
 * basic authentication on the secure port, and move every worker's kubelet and kube-proxy onto the secure port with
 * mutual TLS. Variables (inventory vars or -e): see tasks/cluster-vars.ts — cluster_name, pki_dir, master_address,
 * insecure_bind_address, basic_auth_users, gate_timeout_seconds, ...; and worker_serial: how many workers are moved at a
 * time (a count or a percentage, default 50%), e.g. `-e worker_serial=1` for one worker at a time.
 * Order: the master's secure port first, then the workers in rolling batches, then the insecure port to loopback —
 * so until the last play the old way still works, and a worker batch reverted by its gate reaches the apiserver again.
 * Health gates (tasks/kube-gates.ts): after the master, its secure port answers with client-certificate auth; after
 * each worker batch, its kubelet and kube-proxy reach the secure port; after the last play, the insecure port
 * answers on loopback only. A failed gate reverts that batch from the journal and stops the run (`--no-revert`:
 * stop and leave it).
 *
 *   npm run fleet -- up 4        # once: the local fleet; writes rig.yaml (inventory, ssh_config, state and PKI dirs)
 *   npx rig plan  playbooks/secure-cluster.ts
 *   npx rig apply playbooks/secure-cluster.ts
 *   npx rig rollback
 * (elsewhere: -i INVENTORY --ssh-config FILE, or a rig.yaml of your own; `npx rig config` shows what is used)
 */
import { definePlaybook, fromVar } from 'rig';
import { closeInsecurePortTasks, masterHandlers, secureMasterTasks } from '../tasks/kube-master.ts';
import { secureWorkerTasks, workerHandlers } from '../tasks/kube-worker.ts';
import { insecurePortGates, masterGates, workerGates } from '../tasks/kube-gates.ts';

export default definePlaybook({
  name: 'secure-cluster',
  plays: [
    { name: 'secure the master', hosts: 'masters', tasks: secureMasterTasks(), handlers: masterHandlers(), gates: masterGates() },
    {
      name: 'move workers to TLS', hosts: 'workers', serial: fromVar('worker_serial', '50%'),
      tasks: secureWorkerTasks(), handlers: workerHandlers(), gates: workerGates(),
    },
    // Last: once every worker is on the secure port, the insecure port goes to loopback.
    { name: 'close the insecure port', hosts: 'masters', tasks: closeInsecurePortTasks(), handlers: masterHandlers(), gates: insecurePortGates() },
  ],
});
