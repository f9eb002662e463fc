/**
 * An nginx (Debian nginx + libnginx-mod-http-lua) audit proxy in front of kube-apiserver: one server block per
 * cluster on one port, chosen by server_name; every request logged as a JSON line by templates/nginx/kube_audit.lua
 * with tokens and Secret data redacted; a logrotate rule; validated with `nginx -t` before the reload (a failing
 * config is put back and nginx keeps serving the old one).
 *
 * Variables (inventory, play vars or -e), with defaults:
 *   audit_proxy_port 6444 · audit_log /var/log/nginx/kube-audit.log · audit_body_cap 65536 (bytes per body)
 *   audit_rotate_size 100M · audit_rotate_count 7 · audit_kubeconfig /root/.kube/audit-proxy.kubeconfig
 *   audit_clusters: [{ name, server_name, upstream (host:port), upstream_name (a DNS SAN of the apiserver cert,
 *   default kubernetes), pki_dir (the cluster's PKI, default pki_dir) }] — default: this cluster, server_name =
 *   the proxy host's name, upstream = master_address:6443.
 * The proxy's server certificate and each cluster's client certificate (CN kube-audit-proxy, O system:masters) are
 * issued by rig's PKI (tasks/cluster-vars.ts: pki_dir).
 */
import { resolve } from 'node:path';
import { ValidationError, caCertificate, certificate, command, directory, file, kubeconfig, link, packages, service, template, type Task, type TaskContext } from 'rig';
import { readClusterVars } from './cluster-vars.ts';
import { readFileSync } from 'node:fs';

export interface AuditCluster {
  readonly name: string;
  readonly serverName: string;
  readonly upstream: string;
  readonly upstreamName: string;
  readonly pkiDir: string;
}

export interface AuditProxyVars {
  readonly port: number;
  readonly auditLog: string;
  readonly bodyCap: number;
  readonly rotateSize: string;
  readonly rotateCount: number;
  readonly kubeconfigPath: string;
  readonly certDir: string;
  readonly luaDir: string;
  readonly siteName: string;
  readonly clusters: readonly AuditCluster[];
}

const CERT_DIR = '/etc/nginx/kube-audit';
const LUA_DIR = '/etc/nginx/lua';
const SITE = 'kube-audit-proxy';
/** Clusters one proxy can front (one server block each). */
const MAX_CLUSTERS = 8;

/** Read and check the audit-proxy variables (errors name the variable). */
export function readAuditProxyVars(ctx: TaskContext): AuditProxyVars {
  const v = ctx.vars;
  const c = readClusterVars(ctx);
  const problems: string[] = [];
  const num = (name: string, d: number): number => {
    const x = v[name] === undefined ? d : Number(v[name]);
    if (!Number.isInteger(x) || x <= 0) problems.push(`${name}: a positive integer (got ${JSON.stringify(v[name])})`);
    return x;
  };
  const port = num('audit_proxy_port', 6444);
  const bodyCap = num('audit_body_cap', 65536);
  const rotateCount = num('audit_rotate_count', 7);
  const rotateSize = String(v['audit_rotate_size'] ?? '100M');
  if (!/^\d+[kMG]?$/.test(rotateSize)) problems.push(`audit_rotate_size: like 100M (got ${rotateSize})`);
  const auditLog = String(v['audit_log'] ?? '/var/log/nginx/kube-audit.log');
  if (!auditLog.startsWith('/') || /[\s";{}]/.test(auditLog)) problems.push('audit_log: an absolute path without spaces, quotes or braces');
  const raw = v['audit_clusters'] ?? [{ name: c.clusterName, server_name: ctx.host.name, upstream: `${c.masterAddress}:${c.securePort}` }];
  const clusters: AuditCluster[] = [];
  if (!Array.isArray(raw) || !raw.length) problems.push('audit_clusters: a non-empty list of { name, server_name, upstream }');
  else {
    for (const [i, x] of (raw as Array<Record<string, unknown>>).entries()) {
      const name = String(x?.['name'] ?? '');
      const serverName = String(x?.['server_name'] ?? '');
      const upstream = String(x?.['upstream'] ?? '');
      const upstreamName = String(x?.['upstream_name'] ?? 'kubernetes');
      if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) problems.push(`audit_clusters[${i}].name: letters, digits, . _ - (got ${JSON.stringify(name)})`);
      if (!/^[a-z0-9*][a-z0-9.*-]*$/i.test(serverName)) problems.push(`audit_clusters[${i}].server_name: a host name (got ${JSON.stringify(serverName)})`);
      if (!/^[a-z0-9.-]+:\d+$/i.test(upstream)) problems.push(`audit_clusters[${i}].upstream: host:port (got ${JSON.stringify(upstream)})`);
      if (!/^[a-z0-9.-]+$/i.test(upstreamName)) problems.push(`audit_clusters[${i}].upstream_name: a DNS name (got ${JSON.stringify(upstreamName)})`);
      clusters.push({ name, serverName, upstream, upstreamName, pkiDir: x?.['pki_dir'] ? resolve(ctx.projectRoot, String(x['pki_dir'])) : c.pkiDir });
    }
    const names = clusters.map((x) => x.name);
    if (new Set(names).size !== names.length) problems.push('audit_clusters: names must be unique');
  }
  if (clusters.length > MAX_CLUSTERS) problems.push(`audit_clusters: at most ${MAX_CLUSTERS} clusters per proxy`);
  if (problems.length) throw new ValidationError(problems, { task: ctx.taskPath, hint: 'fix the audit_* variables (inventory, play vars or -e)' });
  return {
    port, auditLog, bodyCap, rotateSize, rotateCount, clusters, certDir: CERT_DIR, luaDir: LUA_DIR, siteName: SITE,
    kubeconfigPath: String(v['audit_kubeconfig'] ?? '/root/.kube/audit-proxy.kubeconfig'),
  };
}

/** Names and addresses the proxy's own certificate must carry. */
function proxySans(ctx: TaskContext, a: AuditProxyVars): { dnsNames: string[]; ipAddresses: string[] } {
  const isIp = (s: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(s);
  const names = [ctx.host.name, ctx.host.address, ...a.clusters.map((c) => c.serverName)];
  return { dnsNames: [...new Set(names.filter((n) => !isIp(n)))], ipAddresses: [...new Set([...names.filter(isIp), '127.0.0.1'])] };
}

/** The tasks: packages, certificates, Lua module, audit log, site + link, logrotate, kubeconfig, nginx running. */
export function auditProxyTasks(): Task[] {
  const vars = readAuditProxyVars;
  const clusterAt = (ctx: TaskContext, i: number): AuditCluster | undefined => vars(ctx).clusters[i];
  // The clusters come from vars (per host), tasks are fixed: one pair of tasks per slot, skipped past the list.
  const clusterTasks: Task[] = [];
  for (let i = 0; i < MAX_CLUSTERS; i++) {
    const when = (ctx: TaskContext): boolean => clusterAt(ctx, i) !== undefined;
    clusterTasks.push(
      caCertificate((ctx) => ({ path: `${CERT_DIR}/${clusterAt(ctx, i)!.name}-ca.crt`, pkiDir: clusterAt(ctx, i)!.pkiDir }),
        { name: `upstream CA of cluster ${i + 1}`, when, notify: 'reload nginx' }),
      certificate((ctx) => {
        const c = clusterAt(ctx, i)!;
        return {
          certPath: `${CERT_DIR}/${c.name}-client.crt`, keyPath: `${CERT_DIR}/${c.name}-client.key`, pkiDir: c.pkiDir, name: `audit-proxy-client-${ctx.host.name}`,
          spec: { profile: 'client', commonName: 'kube-audit-proxy', organization: ['system:masters'] },
        };
      }, { name: `client certificate for cluster ${i + 1}`, when, notify: 'reload nginx' }),
    );
  }
  return [
    packages({ names: ['nginx', 'libnginx-mod-http-lua'] }, { name: 'nginx with the Lua module' }),
    directory({ path: CERT_DIR, mode: '0700' }, { name: 'certificate directory 0700' }),
    caCertificate((ctx) => ({ path: `${CERT_DIR}/proxy-ca.crt`, pkiDir: readClusterVars(ctx).pkiDir }), { name: "the proxy's CA (for clients)" }),
    certificate((ctx) => ({
      certPath: `${CERT_DIR}/proxy.crt`, keyPath: `${CERT_DIR}/proxy.key`, pkiDir: readClusterVars(ctx).pkiDir, name: `audit-proxy-${ctx.host.name}`,
      spec: { profile: 'server', commonName: `kube-audit-proxy ${ctx.host.name}`, ...proxySans(ctx, vars(ctx)) },
    }), { name: "the proxy's server certificate", notify: 'reload nginx' }),
    ...clusterTasks,
    directory({ path: LUA_DIR, mode: '0755' }, { name: 'Lua directory' }),
    file({ path: `${LUA_DIR}/kube_audit.lua`, content: readFileSync(new URL('../templates/nginx/kube_audit.lua', import.meta.url), 'utf8'), mode: '0644' },
      { name: 'the audit logger (Lua)', notify: 'reload nginx' }),
    command((ctx) => {
      const log = vars(ctx).auditLog;
      return { argv: ['install', '-o', 'www-data', '-g', 'adm', '-m', '0640', '/dev/null', log], creates: log, undo: ['rm', '-f', '--', log] };
    }, { name: 'the audit log, writable by the nginx workers' }),
    template((ctx) => {
      const a = vars(ctx);
      return {
        src: 'nginx/kube-audit-proxy.conf.hbs', path: `/etc/nginx/sites-available/${SITE}`, mode: '0644',
        vars: { port: a.port, auditLog: a.auditLog, bodyCap: a.bodyCap, maxBodySize: '16m', certDir: CERT_DIR, luaDir: LUA_DIR, clusters: a.clusters },
      };
    }, { name: 'the proxy site', notify: 'reload nginx' }),
    link({ path: `/etc/nginx/sites-enabled/${SITE}`, target: `/etc/nginx/sites-available/${SITE}` }, { name: 'enable the site', notify: 'reload nginx' }),
    template((ctx) => {
      const a = vars(ctx);
      return { src: 'nginx/kube-audit.logrotate.hbs', path: '/etc/logrotate.d/kube-audit', mode: '0644', vars: { auditLog: a.auditLog, rotateSize: a.rotateSize, rotateCount: a.rotateCount } };
    }, { name: 'logrotate rule for the audit log' }),
    directory((ctx) => ({ path: vars(ctx).kubeconfigPath.replace(/\/[^/]+$/, '') || '/', mode: '0700' }), { name: 'kubeconfig directory' }),
    kubeconfig((ctx) => {
      const a = vars(ctx);
      const first = a.clusters[0]!;
      return {
        path: a.kubeconfigPath, server: `https://${first.serverName}:${a.port}`, clusterName: `${first.name}-via-audit-proxy`, userName: 'admin',
        ca: { path: `${CERT_DIR}/proxy-ca.crt` }, client: { certPath: `${CERT_DIR}/${first.name}-client.crt`, keyPath: `${CERT_DIR}/${first.name}-client.key` },
      };
    }, { name: 'a kubeconfig that goes through the proxy' }),
    service({ name: 'nginx', state: 'started', validate: ['nginx', '-t'] }, { name: 'nginx running' }),
  ];
}

export function auditProxyHandlers(): Task[] {
  return [service({ name: 'nginx', state: 'reloaded', validate: ['nginx', '-t'] }, { name: 'reload nginx' })];
}
