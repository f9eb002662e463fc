import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isRigError } from '../../src/errors.ts';
import { applyManifestFlagEdits, editManifestFlags, readManifestFlags } from '../../src/text/kubeadm-manifest-flags.ts';
import { applyDropinFlagEdits, editDropinFlags, readDropinFlags } from '../../src/text/systemd-dropin-flags.ts';
import { parse } from 'yaml';

const DROPIN = '# kubeadm drop-in\n[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf"\nEnvironment="KUBELET_EXTRA_ARGS=--node-ip=10.0.0.2  --v=2"\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_EXTRA_ARGS\n';
const V = { variable: 'KUBELET_EXTRA_ARGS' };

test('drop-in: set, add, remove inside the quoted Environment word; other lines kept', (t) => {
  const r = applyDropinFlagEdits(DROPIN, [{ set: '--v', value: '4' }, { set: '--max-pods', value: '50%' }, { remove: 'node-ip' }], V);
  t.is(r.text, DROPIN.replace('--node-ip=10.0.0.2  --v=2', '--v=4  --max-pods=50%%'));
  t.deepEqual(r.notes, ['set --v=4 (was 2)', 'add --max-pods=50%', 'remove --node-ip=10.0.0.2']);
  t.deepEqual([...readDropinFlags(r.text, 'KUBELET_EXTRA_ARGS')], [['--v', '4'], ['--max-pods', '50%']]);
  t.is(editDropinFlags(r.text, [{ set: '--v', value: '4' }], V), r.text);
});

test('drop-in: escapes, specifiers, quotes mid-word, continuations', (t) => {
  const text = '[Service]\nEnvironment=KUBELET_EXTRA_ARGS="--a=\\x41\\"b --host=%H \\\n  --c"\n';
  t.deepEqual([...readDropinFlags(text, 'KUBELET_EXTRA_ARGS')], [['--a', 'A"b'], ['--host', '%H'], ['--c', true]]);
  const out = editDropinFlags(text, [{ set: '--d', value: 'q"\'\\%' }, { set: '--host', value: 'n1' }], V);
  t.is(out, '[Service]\nEnvironment=KUBELET_EXTRA_ARGS="--a=\\x41\\"b --host=n1 \\\n  --c \\\n  --d=q\\"\'\\\\%%"\n');
  t.deepEqual(readDropinFlags(out, 'KUBELET_EXTRA_ARGS').get('--d'), 'q"\'\\%');
});

test('drop-in: unquoted assignment is quoted; absent variable gets a line; missing section is added', (t) => {
  t.is(editDropinFlags('[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--a\n', [{ set: 'b', value: '1' }], V), '[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--a --b=1"\n');
  t.is(editDropinFlags('[Service]\nEnvironment="A=1"\nExecStart=x\n', [{ set: 'b', value: '1' }], V), '[Service]\nEnvironment="A=1"\nEnvironment="KUBELET_EXTRA_ARGS=--b=1"\nExecStart=x\n');
  t.is(editDropinFlags('[Unit]\nAfter=x\n', [{ set: 'b', value: true }], V), '[Unit]\nAfter=x\n\n[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--b"\n');
  // Only [Service] sections count.
  t.deepEqual([...readDropinFlags('[Unit]\nEnvironment="KUBELET_EXTRA_ARGS=--a"\n', 'KUBELET_EXTRA_ARGS')], []);
});

test('drop-in: broken quoting is a ParseError quoting the line; whitespace values refused', (t) => {
  const e = t.throws(() => editDropinFlags('[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--a\n', [{ set: 'b', value: '1' }], { ...V, file: '/d.conf' }));
  t.true(isRigError(e) && e.code === 'PARSE' && e.where.line === 2 && e.message.includes('Environment="KUBELET_EXTRA_ARGS=--a'), String(e));
  const v = t.throws(() => editDropinFlags(DROPIN, [{ set: 'b', value: 'x y' }], V));
  t.true(isRigError(v) && v.code === 'VALIDATION');
});

const MANIFEST = readFileSync(new URL('../fixtures/text/kube-apiserver.yaml', import.meta.url), 'utf8');

test('manifest: untouched file prints back identically; edits splice only the items', (t) => {
  t.is(editManifestFlags(MANIFEST, [{ set: '--secure-port', value: '6443' }]), MANIFEST);
  const r = applyManifestFlagEdits(MANIFEST, [
    { set: '--insecure-port', value: '8080' }, { remove: '--allow-privileged' }, { set: '--audit-log-path', value: "/var/log/a b's.log" }, { set: '--x', value: 'a: b #c' },
  ]);
  const want = MANIFEST.replace('- "--insecure-port=0"', '- "--insecure-port=8080"').replace('    - --allow-privileged=true   # needed by CNI daemonsets\n', '')
    .replace('    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key\n', '    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key\n    - "--audit-log-path=/var/log/a b\'s.log"\n    - "--x=a: b #c"\n');
  t.is(r.text, want);
  const doc = parse(r.text) as { spec: { containers: { command: string[] }[] } };
  t.true(doc.spec.containers[0]!.command.includes("--audit-log-path=/var/log/a b's.log"));
  t.is(readManifestFlags(r.text).get('--x'), 'a: b #c');
});

test('manifest: keepOldCommented, space form, errors', (t) => {
  const text = 'spec:\n  containers:\n  - name: a\n    command:\n    - kube-apiserver\n    - --v\n    - "2"\n';
  t.is(editManifestFlags(text, [{ set: 'v', value: '3' }], { keepOldCommented: true }), 'spec:\n  containers:\n  - name: a\n    command:\n    - kube-apiserver\n    - --v\n    # - "2"\n    - "3"\n');
  const bad = t.throws(() => readManifestFlags('spec:\n  containers:\n  - command: [a, b\n', { file: '/m.yaml' }));
  t.true(isRigError(bad) && bad.code === 'PARSE' && bad.where.file === '/m.yaml', String(bad));
  const flow = t.throws(() => readManifestFlags('spec:\n  containers:\n  - command: [a, b]\n'));
  t.true(isRigError(flow) && /flow-style/.test(flow.message));
  const none = t.throws(() => readManifestFlags('kind: Pod\n'));
  t.true(isRigError(none) && /no spec.containers/.test(none.message));
});

test('property: random edits of the manifest keep valid YAML, read back as wanted, and leave the rest of the document equal', (t) => {
  const base = parse(MANIFEST) as { spec: { containers: Record<string, unknown>[] } };
  const arbEdit = fc.oneof(
    fc.record({ set: fc.constantFrom('--v', '--secure-port', '--new-flag', 'allow-privileged'), value: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s)), fc.constant(true as const)) }),
    fc.record({ remove: fc.constantFrom('--v', '--secure-port', '--etcd-servers', '--tls-cert-file') }),
  );
  fc.assert(fc.property(fc.uniqueArray(arbEdit, { maxLength: 4, selector: (e) => ('set' in e ? e.set : e.remove).replace(/^-+/, '') }), fc.boolean(), (edits, keep) => {
    const out = editManifestFlags(MANIFEST, edits, { keepOldCommented: keep });
    const doc = parse(out) as typeof base;
    const flags = new Map([...readManifestFlags(out)].map(([k, v]) => [k.replace(/^-+/, ''), v]));
    for (const e of edits) t.is(flags.get(('set' in e ? e.set : e.remove).replace(/^-+/, '')), 'set' in e ? e.value : undefined);
    const { command: _a, ...restOut } = doc.spec.containers[0]!;
    const { command: _b, ...restBase } = base.spec.containers[0]!;
    t.deepEqual(restOut, restBase);
  }), { numRuns: 200, seed: 11 });
});
