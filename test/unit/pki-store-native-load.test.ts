/**
 * Loading an existing CA checks it with node:crypto; node-forge (pure JS, ~40 ms to load and parse) is loaded only
 * when a certificate is issued (issue 21: a converged run issues nothing). The CA is made by openssl, the real tool.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCertificate } from '../../src/pki/check-certificate.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { loadOrCreateCa } from '../../src/pki/pki-store.ts';
import { PkiError } from '../../src/errors.ts';

const work = mkdtempSync(join(tmpdir(), 'rig-pki-native-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function opensslCa(dir: string, keyAlg: string[] = ['-newkey', 'rsa:2048']): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync('openssl', ['req', '-x509', ...keyAlg, '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '30', '-subj', '/CN=openssl-ca'], { stdio: 'pipe' });
  chmodSync(join(dir, 'ca.key'), 0o600);
  return dir;
}

const forgeLoaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node-forge/'));

test.serial('an existing CA loads without node-forge; issuing loads it and the certificate checks out', (t) => {
  const dir = opensslCa(join(work, 'ok'));
  const ca = loadOrCreateCa(dir);
  t.false(forgeLoaded(), 'loading and checking the CA needs no node-forge');
  const spec = { commonName: 'node1', profile: 'server' as const, dnsNames: ['node1'] };
  const pair = issueCertificate(ca, spec);
  t.true(forgeLoaded());
  t.deepEqual(checkCertificate(pair.certPem, pair.keyPem, { ca, spec }).ok, true);
});

test('a CA key that belongs to another certificate is refused', (t) => {
  const a = opensslCa(join(work, 'a'));
  const b = opensslCa(join(work, 'b'));
  copyFileSync(join(b, 'ca.key'), join(a, 'ca.key'));
  const e = t.throws(() => loadOrCreateCa(a), { instanceOf: PkiError });
  t.regex(e!.message, /CA key .*ca\.key does not match .*ca\.crt/);
});

test('a CA key that is not RSA is refused as before (node-forge can only sign with RSA)', (t) => {
  const dir = opensslCa(join(work, 'ec'), ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
  const e = t.throws(() => loadOrCreateCa(dir), { instanceOf: PkiError });
  t.regex(e!.message, /ca\.key does not parse \(RSA PEM expected\)/);
});

test('a CA certificate that does not parse, and a key readable by others, are refused', (t) => {
  const dir = opensslCa(join(work, 'bad'));
  chmodSync(join(dir, 'ca.key'), 0o644);
  t.throws(() => loadOrCreateCa(dir), { instanceOf: PkiError, message: /ca\.key has mode 0644, looser than 0600/ });
  chmodSync(join(dir, 'ca.key'), 0o600);
  execFileSync('sh', ['-c', `echo garbage > ${join(dir, 'ca.crt')}`]);
  t.throws(() => loadOrCreateCa(dir), { instanceOf: PkiError, message: /ca\.crt does not parse/ });
});
