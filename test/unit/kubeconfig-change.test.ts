/**
 * Kubeconfig changes decoded like certificates (issue 20): which server, CA, user and client certificate change,
 * the client key only as where it is and whether it changed — never key material, in text or in `--json`.
 */
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { loadOrCreateCa } from '../../src/pki/pki-store.ts';
import { renderKubeconfig, type KubeconfigProps } from '../../src/modules/kubeconfig.ts';
import { decodeKubeconfigChange, renderDecodedKubeconfigChange, summarizeKubeconfig } from '../../src/kube/decode-kubeconfig-change.ts';
import { registerSecretText } from '../../src/core/secret.ts';
import { renderPlan } from '../../src/cli/render-plan.ts';
import { planToJson } from '../../src/cli/plan-json.ts';
import { PLAN_FORMAT, type Plan } from '../../src/engine/plan-types.ts';

const pki = mkdtempSync(join(tmpdir(), 'rig-kubeconfig-change-'));
const ca = loadOrCreateCa(pki, { commonName: 'kc-test-ca' });
const now = new Date();
const client1 = issueCertificate(ca, { profile: 'client', commonName: 'admin', validityDays: 30 }, now);
const client2 = issueCertificate(ca, { profile: 'client', commonName: 'admin', validityDays: 365 }, now);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

const base: KubeconfigProps = { path: '/root/.kube/config', server: 'https://10.0.0.1:6443', clusterName: 'k', userName: 'admin', ca: { path: '/etc/k/ca.crt' }, client: { certPath: '/etc/k/admin.crt', keyPath: '/etc/k/admin.key' } };
const byPath = Buffer.from(renderKubeconfig(base));
const embedded = (client: { certPem: string; keyPem: string }, server = base.server): Buffer => Buffer.from(renderKubeconfig({ ...base, server, ca: { embedFrom: pki }, client: { embed: client } }));

/** Every piece of key material of these tests: the PEMs, their base64 lines, their base64 as embedded. */
const keyMaterial = (): string[] => [client1, client2].flatMap((c) => [c.keyPem, b64(c.keyPem), ...c.keyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))]);

test('a kubeconfig is summarised: context, server, CA, user, client certificate decoded, key only where it is', (t) => {
  const s = summarizeKubeconfig(embedded(client1), now)!;
  t.is(s.currentContext, 'admin@k');
  t.is(s.server, 'https://10.0.0.1:6443');
  t.is(s.user, 'admin');
  t.is(s.ca.source, 'embedded');
  t.regex(s.ca.source === 'embedded' ? s.ca.certificates[0]!.subject : '', /CN=kc-test-ca/);
  t.is(s.clientCertificate.source === 'embedded' ? s.clientCertificate.certificates[0]!.subject : '', 'CN=admin');
  t.deepEqual(s.clientKey, { source: 'embedded' });
  t.deepEqual(summarizeKubeconfig(byPath, now)!.clientKey, { source: 'file', path: '/etc/k/admin.key' });
  t.is(summarizeKubeconfig(Buffer.from('a: 1\n')), undefined, 'not a kubeconfig');
  t.is(summarizeKubeconfig(Buffer.from(JSON.stringify(parse(byPath.toString()))), now)!.server, 'https://10.0.0.1:6443', 'a kubeconfig in JSON');
  t.is(summarizeKubeconfig(Buffer.from(client1.certPem)), undefined, 'a certificate is not a kubeconfig');
  t.is(summarizeKubeconfig(Buffer.from(renderKubeconfig({ ...base, server: 'https://bob:hunter22@10.0.0.1:6443' })))!.server, 'https://********@10.0.0.1:6443', 'user:password in the URL masked');
});

test('what changed: server, CA source, client certificate; a key change alone is marked without showing the key', (t) => {
  const moved = decodeKubeconfigChange(byPath, embedded(client1, 'https://10.0.0.2:6443'), now)!;
  t.deepEqual(moved.changed, ['server', 'ca', 'clientCertificate', 'clientKey']);
  const text = renderDecodedKubeconfigChange(moved);
  t.regex(text, /^~ server\s+https:\/\/10\.0\.0\.1:6443\s+https:\/\/10\.0\.0\.2:6443$/m);
  t.regex(text, /^~ CA\s+file \/etc\/k\/ca\.crt\s+embedded$/m);
  t.regex(text, /^~ client cert subject\s+\(none\)\s+CN=admin$/m);
  t.regex(text, /^~ client key\s+file \/etc\/k\/admin\.key\s+embedded \(not shown\)$/m);
  t.regex(text, /^  user\s+admin\s+=$/m);

  const rotated = decodeKubeconfigChange(embedded(client1), embedded(client2), now)!;
  t.deepEqual(rotated.changed, ['clientCertificate', 'clientKey']);
  const rtext = renderDecodedKubeconfigChange(rotated);
  t.regex(rtext, /^~ client cert SHA-256 /m);
  t.regex(rtext, /^  CA SHA-256 .*=$/m, 'same CA');
  t.regex(rtext, /^~ client key\s+embedded \(not shown\)\s+embedded \(not shown\), changed$/m);

  const keyOnly = decodeKubeconfigChange(embedded(client1), embedded({ certPem: client1.certPem, keyPem: client2.keyPem }), now)!;
  t.deepEqual(keyOnly.changed, ['clientKey'], 'the key differs: said, not shown');
  t.is(decodeKubeconfigChange(byPath, Buffer.from('a: 1\n'), now), undefined);
  for (const out of [text, rtext, renderDecodedKubeconfigChange(keyOnly), JSON.stringify([moved, rotated, keyOnly])]) {
    for (const k of keyMaterial()) t.false(out.includes(k), 'no key material');
  }
});

function planOf(steps: Array<{ path: string; before?: Buffer; after: Buffer; secret: boolean }>): Plan {
  const state = (b: Buffer) => ({ exists: true, type: 'file' as const, mode: '0600', owner: 'root', group: 'root', size: b.length });
  return {
    format: PLAN_FORMAT, createdAt: now.toISOString(), playbook: { path: 'p.ts', name: 'p', sha256: '0'.repeat(64) }, inventory: [],
    plays: [{ index: 0, name: 'p', hosts: 'all', hostNames: ['h1', 'h2', 'h3'], batches: [['h1'], ['h2', 'h3']], maxFailPercentage: 0 }],
    hosts: [{
      host: 'h1', address: '10.0.0.1',
      plays: [{
        play: 0,
        steps: steps.map((s, i) => ({ id: `0.${i}`, ...(s.before ? { preImage: s.before.toString('base64') } : {}), change: { kind: 'write-file', path: s.path, before: s.before ? state(s.before) : { exists: false }, after: state(s.after), content: s.after.toString('base64'), secret: s.secret, reason: 'content differs', task: 't' } })),
        tasks: [{ task: 'kubeconfig', status: 'changed', reason: 'content differs', steps: steps.map((_s, i) => `0.${i}`) }],
      }],
    }, { host: 'h2', address: '10.0.0.2', plays: [{ play: 0, steps: [], tasks: [] }] }, { host: 'h3', address: '10.0.0.3', plays: [], unreachable: 'connection refused' }],
  };
}

test('the plan shows a secret kubeconfig decoded, in text and in --json, with no key material', (t) => {
  const before = embedded(client1);
  const after = embedded(client2);
  registerSecretText(before.toString()); registerSecretText(after.toString()); // as the module does
  const plan = planOf([{ path: '/root/.kube/config', before, after, secret: true }, { path: '/etc/k/admin.crt', before: Buffer.from(client1.certPem), after: Buffer.from(client2.certPem), secret: false }]);
  const text = renderPlan(plan, { color: false });
  t.regex(text, /kubeconfig, decoded \(the diff with -v\):/);
  t.regex(text, /~ client cert serial /);
  t.regex(text, /certificate, decoded/);
  const json = planToJson(plan, false, { now }) as { plays: Array<{ schedule: unknown }>; hosts: Array<{ plays: Array<{ steps: Array<Record<string, unknown>> }> }> };
  const [kc, crt] = json.hosts[0]!.plays[0]!.steps;
  t.regex(String(kc!['diff']), /secret content masked/);
  t.deepEqual((kc!['kubeconfig'] as { changed: string[] }).changed, ['clientCertificate', 'clientKey']);
  t.is((kc!['change'] as { content: string }).content, '********');
  t.regex(String(crt!['diff']), /^-MII/m, 'the public certificate\'s diff');
  const cert = crt!['certificate'] as { before: Array<{ serial: string; daysLeft: number }>; after: Array<{ serial: string; daysLeft: number }>; changed: string[] };
  t.is(cert.before[0]!.serial, new X509Certificate(client1.certPem).serialNumber);
  t.true(cert.after[0]!.daysLeft >= 364);
  t.true(cert.changed.includes('sha256'));
  t.deepEqual(json.plays[0]!.schedule, [
    { batch: 1, hosts: [{ host: 'h1', action: 'apply', changes: 2, waits: 0 }] },
    { batch: 2, hosts: [{ host: 'h2', action: 'none', changes: 0, waits: 0 }, { host: 'h3', action: 'unreachable', changes: 0, waits: 0 }] },
  ]);
  const verbose = renderPlan(plan, { color: false, verbose: true });
  // The same diffs as the terminal shows (masked the same way), line for line.
  for (const step of [kc!, crt!]) t.true(verbose.includes(String(step['diff']).trimEnd().replace(/^/gm, '      ')), `${String(step['diff'])}\nnot in\n${verbose}`);
  for (const out of [text, verbose, JSON.stringify(json)]) for (const k of keyMaterial()) t.false(out.includes(k), 'no key material');
  t.false(JSON.stringify(json).includes('preImage'));
});
