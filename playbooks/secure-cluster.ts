/**
 * Harden an old kube-up.sh cluster: bind the apiserver's insecure port to loopback, add client-certificate and
 * basic authentication on the secure port, and move every worker's kubelet and kube-proxy onto the secure port with
 * mutual TLS. Variables (inventory vars or -e): see tasks/cluster-vars.ts — cluster_name, pki_dir, master_address,
 * insecure_bind_address, basic_auth_users, worker_serial, ...
 *
 *   npx rig plan  -i .fleet/inventory.yaml playbooks/secure-cluster.ts
 *   npx rig apply -i .fleet/inventory.yaml playbooks/secure-cluster.ts
 *   npx rig rollback -i .fleet/inventory.yaml
 */
import { definePlaybook } from '../src/playbook/types.ts';
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
