/**
 * The Kong host-ports manifest transform: the chart's output (fixture) in, a DaemonSet with the five changes out,
 * every other field and document unchanged (compared as parsed YAML, against a plain-object model of the change),
 * validated against the Kubernetes schema; seeded random extra fields and documents; bad inputs are MANIFEST errors.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { isRigError } from '../../src/errors.ts';
import { HOST_PROXY_LISTEN, transformKongManifest } from '../../src/kube/kong-host-ports.ts';

const FIXTURE = readFileSync(new URL('../fixtures/kong/chart-output.yaml', import.meta.url), 'utf8');
type Obj = Record<string, any>;
const parseAll = (text: string): Obj[] => parseAllDocuments(text as string).map((d) => d.toJS() as Obj).filter((o) => o !== null);
const clone = <T>(x: T): T => structuredClone(x);

/** The transform as the docs describe it, on plain objects: what the output must equal. */
function expectedOf(input: Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const o of input) {
    if (o['kind'] === 'Service' && o['metadata']?.['name'] === 'kong-kong-proxy') continue;
    if (o['kind'] !== 'Deployment') { out.push(o); continue; }
    const d = clone(o);
    d['kind'] = 'DaemonSet';
    const { replicas: _r, progressDeadlineSeconds: _p, paused: _x, strategy, ...spec } = d['spec'];
    const mu = strategy?.rollingUpdate?.maxUnavailable;
    d['spec'] = { ...spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: mu && mu !== '0%' ? mu : 1, maxSurge: 0 } } };
    const pod = d['spec']['template']['spec'];
    pod['hostNetwork'] = true;
    pod['dnsPolicy'] = 'ClusterFirstWithHostNet';
    const proxy = pod['containers'].find((c: Obj) => c['name'] === 'proxy');
    proxy['env'].find((e: Obj) => e['name'] === 'KONG_PROXY_LISTEN')['value'] = HOST_PROXY_LISTEN;
    for (const p of proxy['ports']) p['containerPort'] = ({ 8000: 80, 8443: 443 } as Record<number, number>)[p['containerPort']] ?? p['containerPort'];
    out.push(d);
  }
  return out;
}

test('chart output in: a DaemonSet with the five changes, the proxy Service dropped, everything else as it was', (t) => {
  const r = transformKongManifest(FIXTURE);
  const input = parseAll(FIXTURE);
  const output = parseAll(r.manifest);
  t.deepEqual(output, expectedOf(input));
  const ds = output.find((o) => o['kind'] === 'DaemonSet')!;
  const pod = ds['spec']['template']['spec'];
  t.true(pod.hostNetwork);
  t.is(pod.dnsPolicy, 'ClusterFirstWithHostNet');
  const proxy = pod.containers.find((c: Obj) => c.name === 'proxy');
  t.is(proxy.env.find((e: Obj) => e.name === 'KONG_PROXY_LISTEN').value, '0.0.0.0:80,0.0.0.0:443 ssl');
  t.deepEqual(proxy.ports.map((p: Obj) => p.containerPort), [80, 443, 8100]);
  t.false(output.some((o) => o['kind'] === 'Service' && o['metadata']['name'] === 'kong-kong-proxy'));
  t.deepEqual(output.filter((o) => o['kind'] === 'Service').map((o) => o['metadata']['name']), ['kong-kong-manager', 'kong-kong-validation-webhook']);
  t.notThrows(() => new DaemonSet(ds as never).validate());
  t.deepEqual(r.replaced, [{ kind: 'Deployment', name: 'kong-kong' }, { kind: 'Service', name: 'kong-kong-proxy' }]);
  t.is(r.namespace, 'kong');
  // comments of untouched documents survive (the written file is still readable next to the chart's)
  t.regex(r.manifest, /# Source: kong\/templates\/custom-server-blocks.yaml/);
  t.regex(r.manifest, /# Prometheus metrics and health-checking server/);
  // every other document is kept byte for byte (the chart's own text, not a re-print)
  const chunks = FIXTURE.split(/^(?=---$)/m).filter((c) => !/kind: Deployment|name: kong-kong-proxy\n/.test(c));
  t.is(chunks.length, 4);
  for (const c of chunks) t.true(r.manifest.includes(c), c.slice(0, 80));
  // the init container keeps its own environment (only the proxy container listens)
  t.regex(r.manifest, /0\.0\.0\.0:8000, \[::\]:8000, 0\.0\.0\.0:8443 http2 ssl/);
});

test('Recreate strategy and a non-zero maxUnavailable map to the DaemonSet update strategy', (t) => {
  const docs = parseAll(FIXTURE);
  const dep = docs.find((o) => o['kind'] === 'Deployment')!;
  dep['spec']['strategy'] = { type: 'Recreate' };
  let out = parseAll(transformKongManifest(docs.map((d) => stringify(d)).join('---\n')).manifest);
  t.deepEqual(out.find((o) => o['kind'] === 'DaemonSet')!['spec']['updateStrategy'], { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  dep['spec']['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
  out = parseAll(transformKongManifest(docs.map((d) => stringify(d)).join('---\n')).manifest);
  t.deepEqual(out.find((o) => o['kind'] === 'DaemonSet')!['spec']['updateStrategy'], { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } });
});

test('a proxy container without the proxy ports gets 80 and 443; a hostPort follows its container port', (t) => {
  const docs = parseAll(FIXTURE);
  const proxy = docs.find((o) => o['kind'] === 'Deployment')!['spec']['template']['spec']['containers'][1];
  delete proxy['ports'];
  let ds = parseAll(transformKongManifest(docs.map((d) => stringify(d)).join('---\n')).manifest).find((o) => o['kind'] === 'DaemonSet')!;
  t.deepEqual(ds['spec']['template']['spec']['containers'][1]['ports'], [{ name: 'proxy', containerPort: 80, protocol: 'TCP' }, { name: 'proxy-tls', containerPort: 443, protocol: 'TCP' }]);
  proxy['ports'] = [{ name: 'proxy', containerPort: 8000, hostPort: 8000 }, { name: 'proxy-tls', containerPort: 8443 }];
  ds = parseAll(transformKongManifest(docs.map((d) => stringify(d)).join('---\n')).manifest).find((o) => o['kind'] === 'DaemonSet')!;
  t.deepEqual(ds['spec']['template']['spec']['containers'][1]['ports'], [{ name: 'proxy', containerPort: 80, hostPort: 80 }, { name: 'proxy-tls', containerPort: 443 }]);
});

/** Values a chart's values.yaml may put anywhere: hostile strings included (YAML-looking, unicode, numbers as text). */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(), fc.constantFrom('yes', 'no', 'on', 'off', '0x1F', '1e3', '~', 'null', '- a', 'a: b', '#x', '---', '…ü€', '"q"', "'s'", '0755'),
  fc.integer(), fc.boolean(), fc.constant(null),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 3 }),
);
const keyArb = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['kind', 'apiVersion', '__proto__'].includes(k));

test('property: random extra fields and documents survive unchanged; the five changes hold (seeded)', (t) => {
  const base = parseAll(FIXTURE);
  fc.assert(fc.property(
    fc.dictionary(keyArb, fc.string(), { maxKeys: 4 }), // pod template annotations
    fc.dictionary(keyArb, fc.string(), { maxKeys: 3 }), // node selector
    fc.array(fc.record({ name: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/), value: fc.string() }), { maxLength: 4 }), // extra env
    fc.array(fc.dictionary(keyArb, valueArb, { maxKeys: 4 }), { maxLength: 3 }), // extra ConfigMap data documents
    fc.boolean(),
    (annotations, nodeSelector, env, extraDocs, flowStyle) => {
      const docs = clone(base);
      const dep = docs.find((o) => o['kind'] === 'Deployment')!;
      Object.assign(dep['spec']['template']['metadata']['annotations'], annotations);
      if (Object.keys(nodeSelector).length) dep['spec']['template']['spec']['nodeSelector'] = nodeSelector;
      const proxy = dep['spec']['template']['spec']['containers'].find((c: Obj) => c['name'] === 'proxy');
      proxy['env'].push(...env.filter((e) => e.name !== 'KONG_PROXY_LISTEN'));
      docs.push(...extraDocs.map((data, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `extra-${i}`, namespace: 'kong' }, data: { blob: JSON.stringify(data) }, extra: data })));
      const text = docs.map((d) => stringify(d, flowStyle ? { collectionStyle: 'flow' } : {})).join('---\n');
      const out = parseAll(transformKongManifest(text).manifest);
      t.deepEqual(out, expectedOf(parseAll(text)));
    },
  ), { seed: 1616, numRuns: 60 });
  t.pass();
});

const broken = (f: (docs: Obj[]) => Obj[] | string): string => {
  const r = f(parseAll(FIXTURE));
  return typeof r === 'string' ? r : r.map((d) => stringify(d)).join('---\n');
};

test('bad input is a MANIFEST error naming what is wrong', (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['invalid YAML', FIXTURE.replace('  replicas: 1\n', '  replicas: [1\n'), /not valid YAML \(document 6, line \d+/],
    ['tab-indented YAML', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n', /not valid YAML/],
    ['empty', '', /no Kong workload|empty/],
    ['no Kong workload', broken((d) => d.filter((o) => o['kind'] !== 'Deployment')), /no Kong workload: no Deployment has a container with a KONG_PROXY_LISTEN/],
    ['two Kong workloads', broken((d) => { const dep = clone(d.find((o) => o['kind'] === 'Deployment')!); dep['metadata']['name'] = 'kong-two'; return [...d, dep]; }),
      /2 Kong workloads \(Deployment kong\/kong-kong, Deployment kong\/kong-two\)/],
    ['already transformed', transformKongManifest(FIXTURE).manifest, /DaemonSet kong\/kong-kong already runs Kong/],
    ['listen from valueFrom', broken((d) => {
      const e = d.find((o) => o['kind'] === 'Deployment')!['spec']['template']['spec']['containers'][1]['env'].find((x: Obj) => x['name'] === 'KONG_PROXY_LISTEN');
      delete e['value']; e['valueFrom'] = { configMapKeyRef: { name: 'x', key: 'y' } }; return d;
    }), /KONG_PROXY_LISTEN from valueFrom/],
    ['no ssl listener', FIXTURE.replaceAll('0.0.0.0:8000, [::]:8000, 0.0.0.0:8443 http2 ssl, [::]:8443 http2 ssl', '0.0.0.0:8000'), /needs a plain and an ssl listener/],
    ['mixed Service', broken((d) => { d.find((o) => o['metadata']?.['name'] === 'kong-kong-proxy')!['spec']['ports'].push({ name: 'status', port: 8100, targetPort: 8100 }); return d; }),
      /Service kong\/kong-kong-proxy sends some ports to Kong's proxy and others elsewhere \(status\)/],
    ['a document that is not an object', `${FIXTURE}---\njust a string\n`, /document 7 is not a Kubernetes object/],
    ['schema refuses', broken((d) => { d.find((o) => o['kind'] === 'Deployment')!['spec']['template']['spec']['containers'][0]['ports'][0]['containerPort'] = 'eighty'; return d; }),
      /does not pass the Kubernetes API schema: \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer/],
  ];
  for (const [what, text, re] of cases) {
    const e = t.throws(() => transformKongManifest(text, { source: 'kong.yaml' }), undefined, what);
    t.true(isRigError(e) && e.code === 'MANIFEST', `${what}: ${e?.message}`);
    t.regex(e?.message ?? '', re, what);
  }
});
