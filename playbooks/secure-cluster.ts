/**
 * Harden an old kube-up.sh cluster: bind the apiserver's insecure port to loopback, add client-certificate and
 * basic authentication on the secure port, and move every worker's kubelet and kube-proxy onto the secure port with
 * mutual TLS. Variables (inventory vars or -e): see tasks/cluster-vars.ts — cluster_name, pki_dir, master_address,
 * insecure_bind_address, basic_auth_users, worker_serial, ...
 *
 *   npm run fleet -- up 4        # once: the local fleet; writes rig.yaml (inventory, ssh_config, state and PKI dirs)
 *   npx rig plan  playbooks/secure-cluster.ts
 *   npx rig apply playbooks/secure-cluster.ts
 *   npx rig rollback
 * (elsewhere: -i INVENTORY --ssh-config FILE, or a rig.yaml of your own; `npx rig config` shows what is used)
 */
import { definePlaybook } from 'rig';
import { masterHandlers, secureMasterTasks } from '../tasks/kube-master.ts';
import { secureWorkerTasks, workerHandlers } from '../tasks/kube-worker.ts';

const workerSerial = process.env['RIG_WORKER_SERIAL'] ?? '50%';

export default definePlaybook({
  name: 'secure-cluster',
  plays: [
    { name: 'secure the master', hosts: 'masters', tasks: secureMasterTasks(), handlers: masterHandlers() },
    { name: 'move workers to TLS', hosts: 'workers', serial: /^\d+$/.test(workerSerial) ? Number(workerSerial) : workerSerial, tasks: secureWorkerTasks(), handlers: workerHandlers() },
  ],
});
