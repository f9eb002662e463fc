import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { loadOrCreateCa } from '../../src/pki/pki-store.ts';
import { renderCertificateChange } from '../../src/pki/render-certificate-change.ts';
import { MASK, redactText, registerSecretText } from '../../src/core/secret.ts';
import { renderPlan } from '../../src/cli/render-plan.ts';
import { PLAN_FORMAT, type Plan } from '../../src/engine/plan-types.ts';

const ca = loadOrCreateCa(mkdtempSync(join(tmpdir(), 'rig-cert-render-')), { commonName: 'render-test-ca' });
const now = new Date();
const old = issueCertificate(ca, { profile: 'server', commonName: 'kube-apiserver', dnsNames: ['kubernetes'], ipAddresses: ['10.0.0.1'], validityDays: 10 }, now);
const next = issueCertificate(ca, { profile: 'server', commonName: 'kube-apiserver', dnsNames: ['kubernetes', 'api.example'], ipAddresses: ['10.0.0.1'], validityDays: 365 }, now);

test('PEMs rig writes end lines with LF (node-forge writes CRLF)', (t) => {
  for (const pem of [ca.certPem, old.certPem, old.keyPem]) t.false(pem.includes('\r'), pem.slice(0, 40));
});

test('a certificate change is decoded side by side: subject, issuer, SANs, key, validity with days left, serial, SHA-256', (t) => {
  const out = renderCertificateChange(Buffer.from(old.certPem), Buffer.from(next.certPem), now)!;
  t.truthy(out);
  const a = new X509Certificate(old.certPem);
  const b = new X509Certificate(next.certPem);
  const row = (label: string): string => out.split('\n').find((l) => l.slice(2).startsWith(label))!;
  t.regex(row('subject'), /^ .*CN=kube-apiserver.*=$/, 'same subject: unmarked');
  t.regex(row('issuer'), /CN=render-test-ca/);
  t.regex(row('SANs'), /^~ .*DNS:kubernetes.*DNS:api\.example/);
  t.regex(row('key'), /^  key\s+RSA 2048 bits\s+=$/);
  t.regex(row('not after'), /^~ .*\(9 days left\).*\(364 days left\)/);
  t.regex(row('serial'), new RegExp(`^~ .*${a.serialNumber}.*${b.serialNumber}`));
  t.regex(row('SHA-256'), new RegExp(`^~ .*${a.fingerprint256}.*${b.fingerprint256}`));
  t.notRegex(out, /BEGIN|MII/, 'no base64');
});

test('a new certificate shows (none) before; a file that is not only certificates is not decoded', (t) => {
  t.regex(renderCertificateChange(undefined, Buffer.from(next.certPem), now)!, /SHA-256\s+\(none\)\s+[0-9A-F:]{20,}/);
  t.is(renderCertificateChange(Buffer.from('hello\n'), Buffer.from(next.certPem), now), undefined);
  t.is(renderCertificateChange(Buffer.from(old.certPem + old.keyPem), Buffer.from(next.certPem), now), undefined, 'a key beside it');
  t.is(renderCertificateChange(Buffer.from('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n'), Buffer.from(next.certPem), now), undefined);
});

test('a certificate beside its key in one file: only the key is secret, the certificate stays readable', (t) => {
  registerSecretText(old.certPem + old.keyPem);
  const body = old.keyPem.split('\n')[3]!;
  t.true(redactText(body).includes(MASK), 'a key line is masked');
  t.is(redactText(old.certPem), old.certPem, 'the certificate is not');
  registerSecretText('plain=Other-Secret-9\n' + old.keyPem);
  t.false(redactText('x plain=Other-Secret-9 y').includes('Other-Secret-9'), 'not only PEM: the text outside the blocks stays secret');
});

function planWithCertChange(before: string, after: string): Plan {
  const state = (s: string) => ({ exists: true, type: 'file' as const, mode: '0644', owner: 'root', group: 'root', size: s.length });
  return {
    format: PLAN_FORMAT, createdAt: now.toISOString(), playbook: { path: 'p.ts', name: 'p', sha256: '0'.repeat(64) }, inventory: [],
    plays: [{ index: 0, name: 'p', hosts: 'all', hostNames: ['h1'], batches: [['h1']], maxFailPercentage: 0 }],
    hosts: [{
      host: 'h1', address: '10.0.0.1',
      plays: [{
        play: 0,
        steps: [{ id: '0.1', preImage: Buffer.from(before).toString('base64'), change: { kind: 'write-file', path: '/etc/k/apiserver.crt', before: state(before), after: state(after), content: Buffer.from(after).toString('base64'), secret: false, reason: 'signed by another CA' } as never }],
        tasks: [{ task: 'apiserver cert', status: 'changed', reason: 'signed by another CA', steps: ['0.1'] }],
      }],
    }],
  };
}

test('the plan shows the decoded change, and the base64 diff only with -v', (t) => {
  const plan = planWithCertChange(old.certPem, next.certPem);
  const plain = renderPlan(plan, { color: false });
  t.regex(plain, /certificate, decoded \(the base64 diff with -v\)/);
  t.regex(plain, /~ SHA-256/);
  t.notRegex(plain, /^\s*[-+]MII/m);
  const verbose = renderPlan(plan, { color: false, verbose: true });
  t.regex(verbose, /~ SHA-256/);
  t.regex(verbose, /^\s*-MII/m);
  t.regex(verbose, /^\s*\+MII/m);
  t.notRegex(verbose, /\\r|\r/, 'no carriage returns');
});

test('a no-op the module marks notable is shown without -v; a routine one only with -v', (t) => {
  const plan = planWithCertChange(old.certPem, next.certPem);
  const host = plan.hosts[0]!;
  const play = host.plays[0]!;
  const withNoops: Plan = {
    ...plan,
    hosts: [{ ...host, plays: [{ ...play, tasks: [...play.tasks,
      { task: 'cni repair', status: 'ok', reason: 'plugin supports 0.3.1: left alone', steps: [], notable: true },
      { task: 'motd', status: 'ok', reason: 'content already as wanted', steps: [] }] }] }],
  };
  const plain = renderPlan(withNoops, { color: false });
  t.regex(plain, /= cni repair: plugin supports 0\.3\.1: left alone/);
  t.notRegex(plain, /motd/);
  t.regex(renderPlan(withNoops, { color: false, verbose: true }), /= motd: content already as wanted/);
});
