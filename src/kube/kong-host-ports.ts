import { CST, Document, isMap, isSeq, LineCounter, parseAllDocuments, Parser, YAMLMap, YAMLSeq } from 'yaml';
import { ManifestError } from '../errors.ts';
import { loadDaemonSetClass } from './load-daemon-set-class.ts';

/** The proxy listeners Kong gets on the node: plain HTTP on 80, TLS on 443. */
export const HOST_PROXY_LISTEN = '0.0.0.0:80,0.0.0.0:443 ssl';
export const HOST_HTTP_PORT = 80;
export const HOST_HTTPS_PORT = 443;

/** Fields of a DaemonSet's spec (apps/v1 DaemonSetSpec); anything else left from the Deployment is refused. */
const DAEMONSET_SPEC_FIELDS = ['minReadySeconds', 'revisionHistoryLimit', 'selector', 'template', 'updateStrategy'];
/** Deployment-only spec fields that have no DaemonSet meaning: dropped (strategy is mapped to updateStrategy). */
const DROPPED_DEPLOYMENT_FIELDS = ['replicas', 'progressDeadlineSeconds', 'paused'];

export interface KongHostPortsOptions {
  /** Where the text came from (a file path or `variable kong_manifest`), for messages. */
  readonly source?: string;
}

export interface KubeObjectRef {
  readonly kind: string;
  readonly name: string;
}

export interface KongHostPortsResult {
  /** The transformed multi-document manifest (every other document as it was, comments kept). */
  readonly manifest: string;
  /** Namespace of the Kong workload, when the manifest names one. */
  readonly namespace?: string;
  /** The Kong workload: a Deployment in the input, a DaemonSet of the same name in the output. */
  readonly workload: string;
  /** Objects of the input the output no longer has (the Deployment and the proxy Services), for `kubectl delete`. */
  readonly replaced: readonly KubeObjectRef[];
  /** The manifest holds a Secret (the chart's webhook key pair, a license): show it masked, never in a diff. */
  readonly hasSecrets: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface Listen { readonly port: number; readonly ssl: boolean }

/** `0.0.0.0:8000, [::]:8000, 0.0.0.0:8443 http2 ssl` → its listeners; 'off' → none. */
function parseProxyListen(value: string): Listen[] {
  if (value.trim() === 'off') return [];
  return value.split(',').map((e) => e.trim()).filter(Boolean).map((e) => {
    const [addr, ...flags] = e.split(/\s+/);
    const m = /:(\d+)$/.exec(addr!) ?? /^(\d+)$/.exec(addr!);
    return { port: m ? Number(m[1]) : NaN, ssl: flags.includes('ssl') };
  });
}

/** Containers (not init containers) of a pod template that set KONG_PROXY_LISTEN. */
function kongContainers(workload: Obj): Obj[] {
  const spec = (workload['spec'] as Obj | undefined)?.['template'] as Obj | undefined;
  const containers = asArray((spec?.['spec'] as Obj | undefined)?.['containers']);
  return containers.filter(isObj).filter((c) => asArray(c['env']).some((e) => isObj(e) && e['name'] === 'KONG_PROXY_LISTEN'));
}

const refOf = (o: Obj): string => {
  const md = isObj(o['metadata']) ? o['metadata'] : {};
  return `${String(o['kind'])} ${md['namespace'] ? `${String(md['namespace'])}/` : ''}${String(md['name'] ?? '(no name)')}`;
};

/**
 * Turn the Kong chart's rendered manifest into one that runs Kong on the nodes' ports 80 and 443: the Kong
 * Deployment becomes a DaemonSet with `hostNetwork: true`, `dnsPolicy: ClusterFirstWithHostNet`,
 * KONG_PROXY_LISTEN=0.0.0.0:80,0.0.0.0:443 ssl and container ports 80/443 instead of the proxy's (8000/8443); the
 * proxy Service (every port aimed at the proxy's ports) is dropped. Every other field and document is kept, comments
 * included. Deployment-only fields: `replicas`, `progressDeadlineSeconds`, `paused` are dropped; `strategy` becomes
 * `updateStrategy` RollingUpdate with maxSurge 0 (two pods cannot bind one node's port 80) and the Deployment's
 * maxUnavailable when it is not 0, else 1. The DaemonSet is validated against the Kubernetes API schema
 * (kubernetes-models). Pure; throws ManifestError naming what is wrong.
 */
export function transformKongManifest(text: string, options: KongHostPortsOptions = {}): KongHostPortsResult {
  const source = options.source ?? 'the Kong manifest';
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  if (!Array.isArray(docs)) throw new ManifestError(`${source} is empty: no YAML documents`);
  for (const [i, d] of docs.entries()) {
    const err = d.errors[0];
    if (err) {
      const at = lineCounter.linePos(err.pos[0]);
      throw new ManifestError(`${source} is not valid YAML (document ${i + 1}, line ${at.line}, column ${at.col}): ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, {
        hint: 'render the chart again (helm template …) and pass its output unchanged',
      });
    }
  }
  const objs = docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
  objs.forEach((o, i) => {
    if (o !== null && o !== undefined && !(isObj(o) && typeof o['kind'] === 'string' && typeof o['apiVersion'] === 'string')) {
      throw new ManifestError(`${source}: document ${i + 1} is not a Kubernetes object (no kind and apiVersion)`);
    }
  });
  const candidates = objs.map((o, i) => ({ o, i })).filter(({ o }) => isObj(o) && o['kind'] === 'Deployment' && kongContainers(o).length > 0);
  if (candidates.length === 0) {
    const ds = objs.find((o) => isObj(o) && o['kind'] === 'DaemonSet' && kongContainers(o).length > 0) as Obj | undefined;
    throw new ManifestError(ds
      ? `${source} has no Kong Deployment: ${refOf(ds)} already runs Kong (is this manifest already transformed?)`
      : `${source} has no Kong workload: no Deployment has a container with a KONG_PROXY_LISTEN environment variable`, {
      hint: 'give the output of `helm template` of the kong chart (Deployment, Services, ConfigMaps)',
    });
  }
  if (candidates.length > 1) {
    throw new ManifestError(`${source} has ${candidates.length} Kong workloads (${candidates.map(({ o }) => refOf(o as Obj)).join(', ')}): cannot tell which one to move to the host ports`, {
      hint: 'pass the manifest of one Kong release',
    });
  }
  const { o: deployment, i: di } = candidates[0] as { o: Obj; i: number };
  const name = String((deployment['metadata'] as Obj | undefined)?.['name'] ?? '');
  const namespace = (deployment['metadata'] as Obj | undefined)?.['namespace'] as string | undefined;
  const proxies = kongContainers(deployment);
  if (proxies.length > 1) {
    throw new ManifestError(`${refOf(deployment)} has ${proxies.length} containers with KONG_PROXY_LISTEN (${proxies.map((c) => String(c['name'])).join(', ')}): cannot tell which is the proxy`);
  }
  const proxy = proxies[0]!;
  const listenEnv = asArray(proxy['env']).find((e) => isObj(e) && e['name'] === 'KONG_PROXY_LISTEN') as Obj;
  if (typeof listenEnv['value'] !== 'string') {
    throw new ManifestError(`${refOf(deployment)}: container ${String(proxy['name'])} takes KONG_PROXY_LISTEN from ${listenEnv['valueFrom'] ? 'valueFrom' : 'nowhere'}, not a value: cannot rewrite it`);
  }
  const listens = parseProxyListen(listenEnv['value']);
  const plain = listens.find((l) => !l.ssl);
  const tls = listens.find((l) => l.ssl);
  if (!plain || !tls || listens.some((l) => !Number.isInteger(l.port))) {
    throw new ManifestError(`${refOf(deployment)}: KONG_PROXY_LISTEN ${JSON.stringify(listenEnv['value'])} needs a plain and an ssl listener with ports (like 0.0.0.0:8000, 0.0.0.0:8443 ssl)`);
  }
  const oldPorts = new Map([[plain.port, HOST_HTTP_PORT], [tls.port, HOST_HTTPS_PORT]]);
  const proxyPortNames = new Set(asArray(proxy['ports']).filter(isObj).filter((p) => oldPorts.has(Number(p['containerPort']))).map((p) => String(p['name'])));

  // The proxy Services: every port aimed at the proxy's ports, selecting the Kong pods.
  const podLabels = (((deployment['spec'] as Obj)['template'] as Obj | undefined)?.['metadata'] as Obj | undefined)?.['labels'] as Obj | undefined ?? {};
  const dropped: number[] = [];
  objs.forEach((o, i) => {
    if (!isObj(o) || o['kind'] !== 'Service') return;
    const md = (o['metadata'] ?? {}) as Obj;
    if ((md['namespace'] as string | undefined) !== namespace) return;
    const spec = (o['spec'] ?? {}) as Obj;
    const selector = isObj(spec['selector']) ? spec['selector'] : {};
    if (!Object.keys(selector).length || !Object.entries(selector).every(([k, v]) => podLabels[k] === v)) return;
    const ports = asArray(spec['ports']).filter(isObj);
    const toProxy = ports.filter((p) => {
      const t = p['targetPort'] ?? p['port'];
      return typeof t === 'number' ? oldPorts.has(t) : /^\d+$/.test(String(t)) ? oldPorts.has(Number(t)) : proxyPortNames.has(String(t));
    });
    if (toProxy.length === 0) return;
    if (toProxy.length < ports.length) {
      throw new ManifestError(`${refOf(o)} sends some ports to Kong's proxy and others elsewhere (${ports.filter((p) => !toProxy.includes(p)).map((p) => String(p['name'] ?? p['port'])).join(', ')}): cannot drop it without losing them`, {
        hint: 'split the Service, or render the chart with proxy ports in their own Service',
      });
    }
    dropped.push(i);
  });

  // Edit the Deployment's document in place, so that comments, quoting and key order survive.
  const doc = docs[di]!;
  doc.set('kind', 'DaemonSet');
  const spec = deployment['spec'] as Obj;
  const strategy = isObj(spec['strategy']) ? spec['strategy'] : undefined;
  const rolling = strategy && strategy['type'] !== 'Recreate' && isObj(strategy['rollingUpdate']) ? strategy['rollingUpdate'] : undefined;
  const maxUnavailable = rolling && rolling['maxUnavailable'] !== undefined && rolling['maxUnavailable'] !== 0 && rolling['maxUnavailable'] !== '0%' ? rolling['maxUnavailable'] : 1;
  for (const k of DROPPED_DEPLOYMENT_FIELDS) if (spec[k] !== undefined) doc.deleteIn(['spec', k]);
  replaceKey(doc, ['spec'], 'strategy', 'updateStrategy', doc.createNode({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge: 0 } }));
  doc.setIn(['spec', 'template', 'spec', 'hostNetwork'], true);
  doc.setIn(['spec', 'template', 'spec', 'dnsPolicy'], 'ClusterFirstWithHostNet');
  const containers = doc.getIn(['spec', 'template', 'spec', 'containers']) as YAMLSeq;
  const ci = asArray((spec['template'] as Obj)['spec'] && ((spec['template'] as Obj)['spec'] as Obj)['containers']).indexOf(proxy);
  const env = (containers.get(ci) as YAMLMap).get('env') as YAMLSeq;
  const ei = asArray(proxy['env']).indexOf(listenEnv);
  (env.get(ei) as YAMLMap).set('value', HOST_PROXY_LISTEN);
  const portsNode = (containers.get(ci) as YAMLMap).get('ports');
  const have = new Set<number>();
  if (isSeq(portsNode)) {
    asArray(proxy['ports']).forEach((p, pi) => {
      if (!isObj(p)) return;
      const to = oldPorts.get(Number(p['containerPort']));
      if (to === undefined) return;
      const node = portsNode.get(pi) as YAMLMap;
      node.set('containerPort', to);
      if (p['hostPort'] !== undefined) node.set('hostPort', to);
      have.add(to);
    });
  }
  for (const [to, portName] of [[HOST_HTTP_PORT, 'proxy'], [HOST_HTTPS_PORT, 'proxy-tls']] as const) {
    if (have.has(to)) continue;
    const entry = doc.createNode({ name: portName, containerPort: to, protocol: 'TCP' });
    const ports = (containers.get(ci) as YAMLMap).get('ports');
    if (isSeq(ports)) ports.add(entry); else (containers.get(ci) as YAMLMap).set('ports', doc.createNode([entry]));
  }

  // Validate the DaemonSet against the Kubernetes API schema, and what the schema lets through (extra spec fields).
  const daemonSet = doc.toJS() as Obj;
  const extra = Object.keys(daemonSet['spec'] as Obj).filter((k) => !DAEMONSET_SPEC_FIELDS.includes(k));
  if (extra.length) throw new ManifestError(`${refOf(daemonSet)}: spec.${extra.join(', spec.')} has no meaning in a DaemonSet`);
  try {
    new (loadDaemonSetClass())(daemonSet as never).validate();
  } catch (e) {
    const errors = (e as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
    const what = errors?.length ? errors.map((x) => `${x.instancePath || '/'} ${x.message ?? ''}`.trim()).join('; ') : (e as Error).message;
    throw new ManifestError(`${refOf(daemonSet)} does not pass the Kubernetes API schema: ${what}`, { cause: e });
  }
  // Every other document keeps its source text byte for byte; the edited one is printed in the chart's style.
  const sources = documentSources(text, docs.length);
  sources[di] = doc.toString({ indentSeq: false, lineWidth: 0 });
  return {
    manifest: sources.filter((_s, i) => !dropped.includes(i)).join(''),
    ...(namespace !== undefined ? { namespace } : {}),
    workload: name,
    replaced: [{ kind: 'Deployment', name }, ...dropped.map((i) => ({ kind: 'Service', name: String(((objs[i] as Obj)['metadata'] as Obj)['name']) }))],
    hasSecrets: objs.some((o) => isObj(o) && o['kind'] === 'Secret'),
  };
}

/** Put `value` under `to` where `from` was (key order kept), or at the end of the map when `from` is absent. */
function replaceKey(doc: Document, path: readonly string[], from: string, to: string, value: unknown): void {
  const map = doc.getIn(path);
  if (!isMap(map)) return;
  const at = map.items.findIndex((p) => String((p.key as { value?: unknown })?.value ?? p.key) === from);
  if (at < 0) { map.set(to, value); return; }
  map.items.splice(at, 1, doc.createPair(to, value) as never);
}

/**
 * The source text of each document, byte for byte: its `---`, comments and content, with what stands between two
 * documents (comments, `...`) going to the next one and what follows the last one to it. Joined, they are the text.
 */
function documentSources(text: string, count: number): string[] {
  const out: string[] = [];
  let pending = '';
  for (const token of new Parser().parse(text)) {
    pending += CST.stringify(token);
    if (token.type === 'document') { out.push(pending); pending = ''; }
  }
  if (out.length !== count) throw new ManifestError(`the YAML parser saw ${out.length} documents, the composer ${count}: cannot keep the other documents as they were`);
  if (pending && out.length) out[out.length - 1] += pending;
  // A document text must end with a newline so that the next one's `---` starts a line.
  return out.map((s, i) => (i < out.length - 1 && !s.endsWith('\n') ? `${s}\n` : s));
}
