/**
 * Harden an old kube-up.sh cluster: bind the apiserver's insecure port to loopback, add client-certificate and
 * basic authentication on the secure port, and move every worker's kubelet and kube-proxy onto the secure port with
 * mutual TLS. Variables (inventory vars or -e): see tasks/cluster-vars.ts — cluster_name, pki_dir, master_address,
 * insecure_bind_address, basic_auth_users, ...; and worker_serial: how many workers are moved at a time (a count or a
 * percentage, default 50%), e.g. `-e worker_serial=1` for one worker at a time.
 *
 *   npm run fleet -- up 4        # once: the local fleet; writes rig.yaml (inventory, ssh_config, state and PKI dirs)
 *   npx rig plan  playbooks/secure-cluster.ts
 *   npx rig apply playbooks/secure-cluster.ts
 *   npx rig rollback
 * (elsewhere: -i INVENTORY --ssh-config FILE, or a rig.yaml of your own; `npx rig config` shows what is used)
 */
import { definePlaybook, fromVar } from 'rig';
import { masterHandlers, secureMasterTasks } from '../tasks/kube-master.ts';
import { secureWorkerTasks, workerHandlers } from '../tasks/kube-worker.ts';

export default definePlaybook({
  name: 'secure-cluster',
  plays: [
    { name: 'secure the master', hosts: 'masters', tasks: secureMasterTasks(), handlers: masterHandlers() },
    { name: 'move workers to TLS', hosts: 'workers', serial: fromVar('worker_serial', '50%'), tasks: secureWorkerTasks(), handlers: workerHandlers() },
  ],
});
