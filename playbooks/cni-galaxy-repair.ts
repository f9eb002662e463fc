/**
 * Istio CNI on Galaxy (TKE Stack) clusters (docs/cni-galaxy-repair.md), reversible with `rig rollback`.
 * cni_mode=repair (default): on every node whose conflist's cniVersion its first plugin does not support, the plugin
 * back as 00-galaxy.conf with a version it supports, the conflist removed. cni_mode=check: the guard only — fails the
 * plan of every node where pods would stop being created with the proposed config, changes nothing.
 * Nodes: group `all`, or the pattern in RIG_CNI_NODE_HOSTS. Last (repair mode, masters or RIG_CNI_MASTER_HOSTS):
 * where kubectl and a kubeconfig are, the pods stuck in ContainerCreating with the CNI error are deleted. Variables: tasks/cni-galaxy-repair.ts.
 *
 *   npx rig plan  -i inventory.yaml playbooks/cni-galaxy-repair.ts
 *   npx rig apply -i inventory.yaml playbooks/cni-galaxy-repair.ts
 *   npx rig plan  -i inventory.yaml -e cni_mode=check -e cni_proposed_conflist_file=istio.conflist playbooks/cni-galaxy-repair.ts
 */
import { definePlaybook } from 'rig';
import { cniNodeTasks, cniStuckPodTasks } from '../tasks/cni-galaxy-repair.ts';

export default definePlaybook({
  name: 'cni-galaxy-repair',
  plays: [
    { name: 'CNI config on the nodes', hosts: process.env['RIG_CNI_NODE_HOSTS'] ?? 'all', tasks: cniNodeTasks() },
    { name: 'pods stuck in creation', hosts: process.env['RIG_CNI_MASTER_HOSTS'] ?? 'masters', tasks: cniStuckPodTasks() },
  ],
});
