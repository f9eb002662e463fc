import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { secret, ValidationError, type Secret, type TaskContext } from 'rig';

/** Variables of the cluster-hardening tasks, with their defaults (override in inventory vars or with -e). */
export interface ClusterVars {
  /** @default 'kubernetes' */
  readonly clusterName: string;
  /** Controller-side PKI directory. @default `pki/<clusterName>` */
  readonly pkiDir: string;
  /** Address workers use to reach the apiserver. @default ansible_host of the first host in group `masters` */
  readonly masterAddress: string;
  /** Inventory name of the master. */
  readonly masterName: string;
  /** @default '127.0.0.1' */
  readonly insecureBindAddress: string;
  /** @default 6443 */
  readonly securePort: number;
  /** @default 'cluster.local' */
  readonly clusterDomain: string;
  /** @default '192.168.3.0/24' */
  readonly serviceClusterIpRange: string;
  /** Directory of the certificates on hosts. @default '/srv/kubernetes' */
  readonly certDir: string;
  /** kubelet's kubeconfig on workers. @default '/root/.kube/config' */
  readonly kubeletKubeconfig: string;
  /** kube-proxy's kubeconfig on workers. @default '/root/.kube/kube-proxy.kubeconfig' */
  readonly proxyKubeconfig: string;
  /** Basic-auth users (`password,user,uid` lines); passwords are secrets. @default one `admin` user, password generated once into `<pkiDir>/basic-auth.csv` */
  readonly basicAuthUsers: readonly { readonly user: string; readonly password: Secret; readonly uid: string }[];
}

const str = (v: unknown, d: string): string => (v === undefined || v === null || v === '' ? d : String(v));

/** Read the cluster variables from the merged vars of a task context (snake_case, like Ansible vars). */
export function readClusterVars(ctx: TaskContext): ClusterVars {
  const v = ctx.vars;
  const clusterName = str(v['cluster_name'], 'kubernetes');
  const pkiDir = resolve(ctx.projectRoot, str(v['pki_dir'], join('pki', clusterName)));
  const masters = ctx.inventory?.groups.get('masters') ? ctx.inventory.selectHosts('masters') : [];
  const master = masters[0];
  const masterAddress = str(v['master_address'], master?.address ?? '');
  if (!masterAddress) {
    throw new ValidationError(['master_address: not set and the inventory has no group `masters`'], { hint: 'add a `masters` group or pass -e master_address=IP' });
  }
  return {
    clusterName, pkiDir, masterAddress, masterName: master?.name ?? masterAddress,
    insecureBindAddress: str(v['insecure_bind_address'], '127.0.0.1'),
    securePort: Number(str(v['secure_port'], '6443')),
    clusterDomain: str(v['cluster_domain'], 'cluster.local'),
    serviceClusterIpRange: str(v['service_cluster_ip_range'], '192.168.3.0/24'),
    certDir: str(v['cert_dir'], '/srv/kubernetes'),
    kubeletKubeconfig: str(v['kubeconfig_path'], '/root/.kube/config'),
    proxyKubeconfig: str(v['proxy_kubeconfig_path'], '/root/.kube/kube-proxy.kubeconfig'),
    basicAuthUsers: readBasicAuthUsers(v['basic_auth_users'], pkiDir),
  };
}

function readBasicAuthUsers(given: unknown, pkiDir: string): ClusterVars['basicAuthUsers'] {
  if (Array.isArray(given) && given.length) {
    return given.map((u: { user?: unknown; password?: unknown; uid?: unknown }, i) => {
      if (!u || typeof u.user !== 'string' || u.password === undefined) {
        throw new ValidationError([`basic_auth_users[${i}]: needs user and password`]);
      }
      const pw = u.password as unknown;
      return { user: u.user, uid: str(u.uid, String(i + 1)), password: typeof pw === 'string' ? secret(pw) : pw as Secret };
    });
  }
  // Default: one admin user whose password is generated once and kept 0600 beside the CA.
  const file = join(pkiDir, 'basic-auth.csv');
  if (!existsSync(file)) {
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(18).toString('base64url')},admin,admin\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const [password = '', user = '', uid = ''] = l.split(',');
    return { user, uid, password: secret(password) };
  });
}

/** The basic-auth CSV content kube-apiserver reads: `password,user,uid` per line. A Secret. */
export function renderBasicAuthCsv(vars: ClusterVars): Secret {
  return secret(vars.basicAuthUsers.map((u) => `${u.password.reveal()},${u.user},${u.uid}`).join('\n') + '\n');
}
