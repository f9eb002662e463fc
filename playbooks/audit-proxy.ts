/**
 * Put an nginx audit proxy in front of kube-apiserver (after secure-cluster: the proxy presents a client
 * certificate issued by the cluster's CA). Clients use https://<proxy>:6444 (the kubeconfig written to
 * audit_kubeconfig does); every request is logged as one JSON line, with bearer tokens and Secret data redacted.
 * Variables: see tasks/audit-proxy.ts (audit_proxy_port, audit_clusters, audit_body_cap, audit_rotate_*, …) and
 * tasks/cluster-vars.ts (pki_dir, master_address). The proxy runs on the masters; set RIG_AUDIT_PROXY_HOSTS to a host
 * pattern to put it elsewhere.
 *
 *   npm run fleet -- up 4        # once: the local fleet; writes rig.yaml (inventory, ssh_config, state and PKI dirs)
 *   npx rig plan  playbooks/audit-proxy.ts
 *   npx rig apply playbooks/audit-proxy.ts
 *   npx rig rollback
 * (elsewhere: -i INVENTORY --ssh-config FILE, or a rig.yaml of your own; `npx rig config` shows what is used)
 */
import { definePlaybook } from 'rig';
import { auditProxyHandlers, auditProxyTasks } from '../tasks/audit-proxy.ts';

export default definePlaybook({
  name: 'audit-proxy',
  plays: [
    { name: 'audit proxy', hosts: process.env['RIG_AUDIT_PROXY_HOSTS'] ?? 'masters', tasks: auditProxyTasks(), handlers: auditProxyHandlers() },
  ],
});
