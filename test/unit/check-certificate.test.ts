/**
 * The native certificate check (node:crypto X509Certificate) against the node-forge check it replaced
 * (test/helpers/check-certificate-forge.ts): the same verdict and reason on hand-picked cases (expired, not yet valid,
 * wrong CA, SAN mismatch DNS/IP, wildcard, subject, usage, key) and on seeded random certificate/spec pairs.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCertificate, parseSubjectAltNames } from '../../src/pki/check-certificate.ts';
import type { CertificateSpec } from '../../src/pki/certificate-spec.ts';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { generateKeyPem, loadOrCreateCa } from '../../src/pki/pki-store.ts';
import { checkCertificateWithForge } from '../helpers/check-certificate-forge.ts';

const work = mkdtempSync(join(tmpdir(), 'rig-check-cert-'));
const ca = loadOrCreateCa(join(work, 'ca'), { commonName: 'test-ca' });
const otherCa = loadOrCreateCa(join(work, 'other-ca'), { commonName: 'test-ca' });
const otherCaNamed = loadOrCreateCa(join(work, 'other-ca-named'), { commonName: 'another-ca' });
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const DAY = 86_400_000;
const base: CertificateSpec = { profile: 'server-client', commonName: 'system:node:worker1', organization: ['system:nodes'], dnsNames: ['worker1', 'worker1.cluster.local'], ipAddresses: ['10.0.0.11'] };

function same(t: import('ava').ExecutionContext, certPem: string | undefined, keyPem: string | undefined, o: Parameters<typeof checkCertificate>[2]): ReturnType<typeof checkCertificate> {
  const native = checkCertificate(certPem, keyPem, o);
  t.deepEqual(native, checkCertificateWithForge(certPem, keyPem, o));
  return native;
}

test.serial('hand-picked cases: native and forge agree, and say what is wrong', (t) => {
  const pair = issueCertificate(ca, base);
  t.true(same(t, pair.certPem, pair.keyPem, { ca, spec: base }).ok);
  t.deepEqual(same(t, undefined, pair.keyPem, { ca, spec: base }), { ok: false, reason: 'file absent' });
  t.deepEqual(same(t, pair.certPem, undefined, { ca, spec: base }), { ok: false, reason: 'key file absent' });
  t.deepEqual(same(t, 'garbage', pair.keyPem, { ca, spec: base }), { ok: false, reason: 'certificate does not parse' });
  t.deepEqual(same(t, pair.certPem, 'not a key', { ca, spec: base }), { ok: false, reason: 'key does not parse' });
  t.deepEqual(same(t, pair.certPem, generateKeyPem(), { ca, spec: base }), { ok: false, reason: 'key does not match certificate' });
  // expired, expiring, not yet valid (issued "in the future": refused beyond 5 minutes of clock skew)
  const old = issueCertificate(ca, { ...base, validityDays: 10 }, new Date(Date.now() - 20 * DAY));
  t.deepEqual(same(t, old.certPem, old.keyPem, { ca, spec: base }), { ok: false, reason: 'expired' });
  const soon = issueCertificate(ca, { ...base, validityDays: 10 });
  t.regex(String((same(t, soon.certPem, soon.keyPem, { ca, spec: base }) as { reason: string }).reason), /^expires in (9|10) days$/);
  const future = issueCertificate(ca, base, new Date(Date.now() + 30 * DAY));
  t.regex(String((same(t, future.certPem, future.keyPem, { ca, spec: base }) as { reason: string }).reason), /^not valid before \d{4}-\d\d-\d\dT[\d:]+Z \(a clock is off\?\)$/);
  const skewed = issueCertificate(ca, base, new Date(Date.now() + 3 * 60_000));
  t.true(same(t, skewed.certPem, skewed.keyPem, { ca, spec: base }).ok, 'a few minutes of skew is tolerated');
  // another CA with the same name, and one with another name
  t.deepEqual(same(t, pair.certPem, pair.keyPem, { ca: otherCa, spec: base }), { ok: false, reason: 'signed by another CA' });
  t.deepEqual(same(t, pair.certPem, pair.keyPem, { ca: otherCaNamed, spec: base }), { ok: false, reason: 'signed by another CA' });
  // the right issuer name and key identifier but a broken signature (last byte of the DER flipped)
  const der = Buffer.from(pair.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
  const tampered = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  t.deepEqual(same(t, tampered, pair.keyPem, { ca, spec: base }), { ok: false, reason: 'signed by another CA' });
  // SANs: DNS, IP (v4, v6 written two ways), wildcard taken literally
  t.deepEqual(same(t, pair.certPem, pair.keyPem, { ca, spec: { ...base, dnsNames: ['worker2'] } }), { ok: false, reason: 'SAN worker2 missing' });
  t.deepEqual(same(t, pair.certPem, pair.keyPem, { ca, spec: { ...base, ipAddresses: ['10.0.0.12'] } }), { ok: false, reason: 'SAN 10.0.0.12 missing' });
  const v6 = issueCertificate(ca, { ...base, ipAddresses: ['fd00::1', '10.0.0.11'] });
  t.true(same(t, v6.certPem, v6.keyPem, { ca, spec: { ...base, ipAddresses: ['fd00::1'] } }).ok);
  // the one intended difference: forge compared its own text form of the address (fd00::1), so the same address
  // written uncompressed was "missing" (and reissued on every plan); the native check compares the address bytes
  const longV6 = { ca, spec: { ...base, ipAddresses: ['fd00:0:0:0:0:0:0:1'] } };
  t.true(checkCertificate(v6.certPem, v6.keyPem, longV6).ok);
  t.false(checkCertificateWithForge(v6.certPem, v6.keyPem, longV6).ok);
  const wild = issueCertificate(ca, { ...base, dnsNames: ['*.cluster.local'] });
  t.true(same(t, wild.certPem, wild.keyPem, { ca, spec: { ...base, dnsNames: ['*.cluster.local'] } }).ok);
  t.false(same(t, wild.certPem, wild.keyPem, { ca, spec: { ...base, dnsNames: ['worker1.cluster.local'] } }).ok);
  t.false(same(t, pair.certPem, pair.keyPem, { ca, spec: { ...base, dnsNames: ['WORKER1'] } }).ok);
  // subject and usage
  t.false(same(t, pair.certPem, pair.keyPem, { ca, spec: { ...base, commonName: 'system:node:worker2' } }).ok);
  t.false(same(t, pair.certPem, pair.keyPem, { ca, spec: { ...base, organization: ['system:masters'] } }).ok);
  const client = issueCertificate(ca, { ...base, profile: 'client' });
  t.deepEqual(same(t, client.certPem, client.keyPem, { ca, spec: base }), { ok: false, reason: 'usage serverAuth missing' });
  const server = issueCertificate(ca, { ...base, profile: 'server' });
  t.deepEqual(same(t, server.certPem, server.keyPem, { ca, spec: base }), { ok: false, reason: 'usage clientAuth missing' });
});

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DNS = ['a', 'a.example.com', 'A.example.com', '*.example.com', 'b.example.com', 'x,y', 'quote"d', 'back\\slash', 'ümlaut.de', 'sp ace'];
const IPS = ['10.0.0.1', '10.0.0.2', '192.168.1.1', '::1', 'fd00::1', 'fe80::1:2']; // canonical spellings (see above)
const ORGS = ['system:nodes', 'system:masters', 'o,with,commas', 'O+plus', 'ünï'];
const CNS = ['system:node:w1', 'admin', 'cn with, comma', 'cn=equals', 'ünïcode'];

test.serial('random certificates and specs (seeded): native and forge agree on every pair', (t) => {
  const seed = Number(process.env['RIG_TEST_SEED'] ?? 21);
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => rnd() < 0.3);
  const randomSpec = (): CertificateSpec => ({
    profile: pick(['server', 'client', 'server-client'] as const), commonName: pick(CNS), organization: some(ORGS), dnsNames: some(DNS), ipAddresses: some(IPS),
    validityDays: pick([1, 20, 365]),
  });
  for (let i = 0; i < 12; i++) {
    const issued = randomSpec();
    const pair = issueCertificate(rnd() < 0.15 ? otherCa : ca, issued, new Date(Date.now() + (rnd() < 0.2 ? -400 * DAY : 0)));
    for (let j = 0; j < 8; j++) {
      const spec = j === 0 ? issued : rnd() < 0.5 ? { ...issued, ...pick([{ dnsNames: some(DNS) }, { ipAddresses: some(IPS) }, { organization: some(ORGS) }, { commonName: pick(CNS) }, { profile: pick(['server', 'client'] as const) }]) } : randomSpec();
      const o = { ca, spec, renewBeforeDays: pick([0, 30]) };
      t.deepEqual(checkCertificate(pair.certPem, pair.keyPem, o), checkCertificateWithForge(pair.certPem, pair.keyPem, o), `seed ${seed} cert ${i} spec ${j}: ${JSON.stringify({ issued, spec })}`);
    }
  }
});

test('parseSubjectAltNames: plain and JSON-quoted entries', (t) => {
  t.deepEqual(parseSubjectAltNames('DNS:a, DNS:"x,y", IP Address:10.0.0.1, DNS:"q\\"d"'), [['DNS', 'a'], ['DNS', 'x,y'], ['IP Address', '10.0.0.1'], ['DNS', 'q"d']]);
  t.deepEqual(parseSubjectAltNames(undefined), []);
});

test.serial('loadOrCreateCa: a second load is the cached CA; a key made readable by others since is refused', (t) => {
  const dir = join(work, 'ca');
  t.is(loadOrCreateCa(dir), loadOrCreateCa(dir));
  chmodSync(join(dir, 'ca.key'), 0o644);
  try {
    t.throws(() => loadOrCreateCa(dir), { message: /looser than 0600/ });
  } finally { chmodSync(join(dir, 'ca.key'), 0o600); }
});
