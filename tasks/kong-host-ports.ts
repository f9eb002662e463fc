/**
 * Kong on the nodes' ports 80 and 443, without a NodePort or load balancer in front (docs/kong-host-ports.md).
 *
 * Masters: the operator's rendered Kong chart (`helm template` output) is transformed (src/kube/kong-host-ports.ts:
 * Deployment → hostNetwork DaemonSet listening on 80/443, proxy Service dropped), written to kong_manifest_path and,
 * when kubectl is on the master, applied (handler); rollback re-applies the previous manifest.
 * Nodes that run Kong or OpenResty from a package: cap_net_bind_service on the nginx binary, re-asserted every run
 * (a package upgrade drops file capabilities).
 *
 * Variables (inventory, play vars or -e), with defaults:
 *   kong_manifest (the chart's output as text) or kong_manifest_file (a file on the controller, relative to the
 *   project root) — without either, the manifest tasks are skipped.
 *   kong_manifest_path /etc/kong/kong-host-ports.yaml · kong_chart_copy_path <its directory>/kong-chart.yaml
 *   kong_kubectl kubectl (the command on the master) ·
 *   kong_nginx_path (default: the first of NGINX_CANDIDATES that exists) · kong_nginx_capabilities cap_net_bind_service=ep
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ManifestError, ValidationError, transformKongManifest, capability, directory, file, kubectlApply, type KongHostPortsResult, type Task, type TaskContext } from 'rig';

/** Copies of the chart's output that rollback re-applies (outside what a rollback removes; named by content). */
export const KEEP_DIR = '/var/lib/rig/kong-host-ports';

/** Where Kong's packages and Debian put nginx, in the order they are looked for. */
export const NGINX_CANDIDATES: readonly string[] = Object.freeze([
  '/usr/local/openresty/nginx/sbin/nginx', '/usr/local/kong/nginx/sbin/nginx', '/usr/sbin/nginx',
]);

export interface KongManifestVars {
  /** The chart's rendered output, or undefined when neither kong_manifest nor kong_manifest_file is set. */
  readonly chart?: { readonly text: string; readonly source: string };
  readonly manifestPath: string;
  readonly chartCopyPath: string;
  /** kubectl on the master (kong_kubectl). @default 'kubectl' */
  readonly kubectl?: string;
}

const absolute = (name: string, v: unknown, d: string, problems: string[]): string => {
  const s = v === undefined || v === null || v === '' ? d : String(v);
  if (!s.startsWith('/') || s.includes('\n')) problems.push(`${name}: an absolute path (got ${JSON.stringify(v)})`);
  return s;
};

/** Read and check the manifest variables (errors name the variable). */
export function readKongManifestVars(ctx: TaskContext): KongManifestVars {
  const v = ctx.vars;
  const problems: string[] = [];
  const manifestPath = absolute('kong_manifest_path', v['kong_manifest_path'], '/etc/kong/kong-host-ports.yaml', problems);
  const chartCopyPath = absolute('kong_chart_copy_path', v['kong_chart_copy_path'], `${dirname(manifestPath)}/kong-chart.yaml`, problems);
  if (chartCopyPath === manifestPath) problems.push('kong_chart_copy_path: must differ from kong_manifest_path');
  let chart: KongManifestVars['chart'];
  if (v['kong_manifest'] !== undefined && v['kong_manifest_file'] !== undefined) problems.push('kong_manifest, kong_manifest_file: give one of them');
  else if (v['kong_manifest'] !== undefined) {
    if (typeof v['kong_manifest'] !== 'string') problems.push('kong_manifest: the chart\'s rendered YAML as a string');
    else chart = { text: v['kong_manifest'], source: 'variable kong_manifest' };
  } else if (v['kong_manifest_file'] !== undefined) {
    const path = resolve(ctx.projectRoot, String(v['kong_manifest_file']));
    try {
      chart = { text: readFileSync(path, 'utf8'), source: path };
    } catch (e) {
      throw new ManifestError(`kong_manifest_file: cannot read ${path}: ${(e as Error).message}`, { task: ctx.taskPath, cause: e });
    }
  }
  if (problems.length) throw new ValidationError(problems, { task: ctx.taskPath, hint: 'fix the kong_* variables (inventory, play vars or -e)' });
  const kubectl = v['kong_kubectl'] === undefined ? undefined : String(v['kong_kubectl']);
  return { ...(chart ? { chart } : {}), manifestPath, chartCopyPath, ...(kubectl ? { kubectl } : {}) };
}

/** The transformed manifest for this host's variables (cached per text: every task of a host asks for it). */
const transformed = new Map<string, KongHostPortsResult>();
export function readKongManifest(ctx: TaskContext): KongHostPortsResult {
  const { chart } = readKongManifestVars(ctx);
  if (!chart) throw new ManifestError('no Kong manifest: set kong_manifest or kong_manifest_file', { task: ctx.taskPath });
  const key = `${chart.source}\0${chart.text}`;
  let r = transformed.get(key);
  if (!r) {
    try {
      r = transformKongManifest(chart.text, { source: chart.source });
    } catch (e) {
      if (e instanceof ManifestError) throw new ManifestError(e.message, { task: ctx.taskPath, ...(e.hint ? { hint: e.hint } : {}), cause: e });
      throw e;
    }
    transformed.set(key, r);
  }
  return r;
}

const hasManifest = (ctx: TaskContext): boolean => readKongManifestVars(ctx).chart !== undefined;

/** Masters: the chart's output kept as given, the transformed manifest next to it, applied when kubectl is there. */
export function kongManifestTasks(): Task[] {
  const vars = readKongManifestVars;
  return [
    directory((ctx) => ({ path: dirname(vars(ctx).manifestPath), mode: '0700' }), { name: 'manifest directory 0700', when: hasManifest }),
    file((ctx) => ({ path: vars(ctx).chartCopyPath, content: vars(ctx).chart!.text, mode: '0600', secret: readKongManifest(ctx).hasSecrets }),
      { name: "the chart's manifest, as given (what rollback re-applies)", when: hasManifest }),
    file((ctx) => {
      const v = vars(ctx);
      const r = readKongManifest(ctx); // a bad manifest fails at plan time, before anything is written
      return { path: v.manifestPath, content: r.manifest, mode: '0600', secret: r.hasSecrets, diffFrom: { label: v.chart!.source, content: v.chart!.text } };
    }, { name: 'Kong as a hostNetwork DaemonSet on ports 80/443', when: hasManifest }),
    kubectlApply((ctx) => {
      const v = vars(ctx);
      const r = readKongManifest(ctx);
      const sha = createHash('sha256').update(v.chart!.text).digest('hex').slice(0, 16);
      return {
        manifest: v.manifestPath, replaces: r.replaced, ...(r.namespace ? { namespace: r.namespace } : {}), ...(v.kubectl ? { kubectl: v.kubectl } : {}),
        fallback: { manifest: v.chartCopyPath, keepAs: `${KEEP_DIR}/kong-chart.${sha}.yaml`, creates: [{ kind: 'DaemonSet', name: r.workload }] },
      };
    }, { name: 'apply the manifest with kubectl (when the master has it)', when: hasManifest }),
  ];
}

/** Nodes running Kong/OpenResty from a package: the nginx binary may bind ports below 1024 as an unprivileged user. */
export function kongNodeTasks(): Task[] {
  return [
    capability((ctx) => {
      const given = ctx.vars['kong_nginx_path'];
      const caps = String(ctx.vars['kong_nginx_capabilities'] ?? 'cap_net_bind_service=ep');
      return given !== undefined ? { path: String(given), capabilities: caps, exact: false } : { candidates: NGINX_CANDIDATES, capabilities: caps, exact: false };
    }, { name: 'nginx may bind ports 80 and 443 (cap_net_bind_service)' }),
  ];
}
