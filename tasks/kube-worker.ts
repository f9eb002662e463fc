import { flushHandlers, caCertificate, certificate, directory, flags, kubeconfig, service, wait, type Task } from 'rig';
import { readClusterVars } from './cluster-vars.ts';
import { dirname } from 'node:path';

/** Move a worker's kubelet and kube-proxy onto the secure port with their own client certificates. */
export function secureWorkerTasks(): Task[] {
  return [
    directory((ctx) => ({ path: readClusterVars(ctx).certDir, mode: '0700' }), { name: 'certificate directory 0700' }),
    caCertificate((ctx) => { const v = readClusterVars(ctx); return { path: `${v.certDir}/ca.crt`, pkiDir: v.pkiDir }; }, { name: 'install the cluster CA' }),
    certificate((ctx) => {
      const v = readClusterVars(ctx);
      return {
        certPath: `${v.certDir}/kubelet.crt`, keyPath: `${v.certDir}/kubelet.key`, pkiDir: v.pkiDir, name: `kubelet-${ctx.host.name}`,
        spec: { profile: 'client', commonName: `system:node:${ctx.host.name}`, organization: ['system:nodes'] },
      };
    }, { name: 'kubelet client certificate', notify: 'restart kubelet' }),
    certificate((ctx) => {
      const v = readClusterVars(ctx);
      return {
        certPath: `${v.certDir}/kube-proxy.crt`, keyPath: `${v.certDir}/kube-proxy.key`, pkiDir: v.pkiDir, name: 'kube-proxy',
        spec: { profile: 'client', commonName: 'system:kube-proxy' },
      };
    }, { name: 'kube-proxy client certificate', notify: 'restart kube-proxy' }),
    directory((ctx) => ({ path: dirname(readClusterVars(ctx).kubeletKubeconfig), mode: '0700' }), { name: 'kubeconfig directory' }),
    kubeconfig((ctx) => {
      const v = readClusterVars(ctx);
      return {
        path: v.kubeletKubeconfig, server: `https://${v.masterAddress}:${v.securePort}`, clusterName: v.clusterName,
        userName: `system:node:${ctx.host.name}`, ca: { path: `${v.certDir}/ca.crt` },
        client: { certPath: `${v.certDir}/kubelet.crt`, keyPath: `${v.certDir}/kubelet.key` },
      };
    }, { name: 'kubelet kubeconfig', notify: 'restart kubelet' }),
    kubeconfig((ctx) => {
      const v = readClusterVars(ctx);
      return {
        path: v.proxyKubeconfig, server: `https://${v.masterAddress}:${v.securePort}`, clusterName: v.clusterName,
        userName: 'system:kube-proxy', ca: { path: `${v.certDir}/ca.crt` },
        client: { certPath: `${v.certDir}/kube-proxy.crt`, keyPath: `${v.certDir}/kube-proxy.key` },
      };
    }, { name: 'kube-proxy kubeconfig', notify: 'restart kube-proxy' }),
    flags((ctx) => {
      const v = readClusterVars(ctx);
      return { path: '/etc/default/kubelet', variable: 'KUBELET_OPTS', set: { '--api-servers': `https://${v.masterAddress}:${v.securePort}`, '--kubeconfig': v.kubeletKubeconfig } };
    }, { name: 'kubelet flags', notify: 'restart kubelet' }),
    flags((ctx) => {
      const v = readClusterVars(ctx);
      return { path: '/etc/default/kube-proxy', variable: 'KUBE_PROXY_OPTS', set: { '--master': `https://${v.masterAddress}:${v.securePort}`, '--kubeconfig': v.proxyKubeconfig } };
    }, { name: 'kube-proxy flags', notify: 'restart kube-proxy' }),
    flushHandlers(),
    wait((ctx) => {
      const v = readClusterVars(ctx);
      return {
        url: `https://${v.masterAddress}:${v.securePort}/version`, caFile: `${v.certDir}/ca.crt`,
        clientCert: `${v.certDir}/kubelet.crt`, clientKey: `${v.certDir}/kubelet.key`, timeoutSeconds: 60,
        // After `rig rollback` (workers first, the master last, so the master's insecure port is not open to them
        // yet): both agents run again on their old flags.
        rollback: { argv: ['sh', '-c', 'service kubelet status && service kube-proxy status'], timeoutSeconds: 60 },
      };
    }, { name: "wait until the node's credentials reach the apiserver over TLS" }),
  ];
}

export function workerHandlers(): Task[] {
  return [
    service({ name: 'kubelet', state: 'restarted' }, { name: 'restart kubelet' }),
    service({ name: 'kube-proxy', state: 'restarted' }, { name: 'restart kube-proxy' }),
  ];
}
