import { flushHandlers, caCertificate, certificate, directory, file, flags, service, wait, type Task, type TaskContext } from 'rig';
import { readClusterVars, renderBasicAuthCsv } from './cluster-vars.ts';

/** First IP of a CIDR range (the `kubernetes` service IP), e.g. 192.168.3.0/24 → 192.168.3.1. */
export function firstServiceIp(cidr: string): string {
  const [ip = ''] = cidr.split('/');
  const o = ip.split('.').map(Number);
  const n = (((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]! + 1) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** SANs of the apiserver certificate: master IPs and names, the in-cluster names, the first service IP. */
export function apiserverSans(ctx: TaskContext): { dnsNames: string[]; ipAddresses: string[] } {
  const v = readClusterVars(ctx);
  const isIp = (s: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(s);
  const names = [ctx.host.name, ctx.host.address, v.masterAddress];
  return {
    dnsNames: [...new Set([...names.filter((n) => !isIp(n)), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${v.clusterDomain}`])],
    ipAddresses: [...new Set([...names.filter(isIp), '127.0.0.1', firstServiceIp(v.serviceClusterIpRange)])],
  };
}

/**
 * Open the master's secure port: new CA + server cert, client-certificate and basic auth, restart, wait for TLS. The
 * insecure port stays where it is until every worker is on TLS (closeInsecurePortTasks), so a worker batch that
 * fails its gate can be reverted to the old way and still reach the apiserver.
 */
export function secureMasterTasks(): Task[] {
  return [
    directory((ctx) => ({ path: readClusterVars(ctx).certDir, mode: '0700' }), { name: 'certificate directory 0700' }),
    caCertificate((ctx) => { const v = readClusterVars(ctx); return { path: `${v.certDir}/ca.crt`, pkiDir: v.pkiDir }; },
      { name: 'install the cluster CA', notify: 'restart kube-apiserver' }),
    certificate((ctx) => {
      const v = readClusterVars(ctx);
      return {
        certPath: `${v.certDir}/server.cert`, keyPath: `${v.certDir}/server.key`, pkiDir: v.pkiDir, name: `apiserver-${ctx.host.name}`,
        spec: { profile: 'server', commonName: 'kube-apiserver', ...apiserverSans(ctx) },
      };
    }, { name: 'apiserver server certificate', notify: 'restart kube-apiserver' }),
    certificate((ctx) => {
      const v = readClusterVars(ctx);
      return {
        certPath: `${v.certDir}/admin.crt`, keyPath: `${v.certDir}/admin.key`, pkiDir: v.pkiDir, name: 'admin',
        spec: { profile: 'client', commonName: 'admin', organization: ['system:masters'] },
      };
    }, { name: 'admin client certificate' }),
    file((ctx) => { const v = readClusterVars(ctx); return { path: `${v.certDir}/basic_auth.csv`, content: renderBasicAuthCsv(v), mode: '0600', secret: true }; },
      { name: 'basic-auth users', notify: 'restart kube-apiserver' }),
    flags((ctx) => {
      const v = readClusterVars(ctx);
      return {
        path: '/etc/default/kube-apiserver', variable: 'KUBE_APISERVER_OPTS',
        set: {
          '--secure-port': String(v.securePort),
          '--tls-cert-file': `${v.certDir}/server.cert`,
          '--tls-private-key-file': `${v.certDir}/server.key`,
          '--client-ca-file': `${v.certDir}/ca.crt`,
          '--basic-auth-file': `${v.certDir}/basic_auth.csv`,
        },
      };
    }, { name: 'apiserver flags', notify: 'restart kube-apiserver' }),
    // The master's own node agents stay on the insecure port, now reachable over loopback only.
    flags((ctx) => ({ path: '/etc/default/kubelet', variable: 'KUBELET_OPTS', set: { '--api-servers': `http://${readClusterVars(ctx).insecureBindAddress}:8080` } }),
      { name: 'master kubelet over loopback', notify: 'restart kubelet' }),
    flags((ctx) => ({ path: '/etc/default/kube-proxy', variable: 'KUBE_PROXY_OPTS', set: { '--master': `http://${readClusterVars(ctx).insecureBindAddress}:8080` } }),
      { name: 'master kube-proxy over loopback', notify: 'restart kube-proxy' }),
    flushHandlers(),
    waitForSecurePort(),
  ];
}

/** Wait until the secure port answers the admin client certificate on loopback. */
function waitForSecurePort(): Task {
  return wait((ctx) => {
    const v = readClusterVars(ctx);
    return {
      url: `https://127.0.0.1:${v.securePort}/version`, caFile: `${v.certDir}/ca.crt`,
      clientCert: `${v.certDir}/admin.crt`, clientKey: `${v.certDir}/admin.key`, timeoutSeconds: 60,
      // After `rig rollback` the apiserver is back on its insecure port (the certificates above are gone).
      rollback: { url: 'http://127.0.0.1:8080/version', timeoutSeconds: 60 },
    };
  }, { name: 'wait for the secure port' });
}

/** Bind the insecure port to loopback (after the workers moved to the secure port), restart, wait. */
export function closeInsecurePortTasks(): Task[] {
  return [
    flags((ctx) => ({ path: '/etc/default/kube-apiserver', variable: 'KUBE_APISERVER_OPTS', set: { '--insecure-bind-address': readClusterVars(ctx).insecureBindAddress } }),
      { name: 'insecure port on loopback only', notify: 'restart kube-apiserver' }),
    flushHandlers(),
    waitForSecurePort(),
  ];
}

export function masterHandlers(): Task[] {
  return [
    service({ name: 'kube-apiserver', state: 'restarted' }, { name: 'restart kube-apiserver' }),
    service({ name: 'kubelet', state: 'restarted' }, { name: 'restart kubelet' }),
    service({ name: 'kube-proxy', state: 'restarted' }, { name: 'restart kube-proxy' }),
  ];
}
