/**
 * Kong on the nodes' ports 80 and 443 without a proxy hop (docs/kong-host-ports.md), reversible with `rig rollback`.
 * Play 1 (masters): the Kong chart's rendered manifest (-e kong_manifest_file=… or kong_manifest) becomes a hostNetwork
 * DaemonSet on 80/443, written to kong_manifest_path and applied when kubectl is there. Play 2 (group kong_nodes, or
 * the pattern in RIG_KONG_NODE_HOSTS): cap_net_bind_service on the nginx of Kong/OpenResty installed from packages.
 * Set RIG_KONG_MANIFEST_HOSTS to put the manifest elsewhere than the masters. Variables: tasks/kong-host-ports.ts.
 *
 *   npx rig plan  -i inventory.yaml -e kong_manifest_file=kong.yaml playbooks/kong-host-ports.ts
 *   npx rig apply -i inventory.yaml -e kong_manifest_file=kong.yaml playbooks/kong-host-ports.ts
 */
import { definePlaybook } from 'rig';
import { kongManifestTasks, kongNodeTasks } from '../tasks/kong-host-ports.ts';

export default definePlaybook({
  name: 'kong-host-ports',
  plays: [
    { name: 'Kong manifest', hosts: process.env['RIG_KONG_MANIFEST_HOSTS'] ?? 'masters', tasks: kongManifestTasks() },
    { name: 'Kong nodes', hosts: process.env['RIG_KONG_NODE_HOSTS'] ?? 'kong_nodes', tasks: kongNodeTasks() },
  ],
});
