/**
 * A certificate rotation on the fleet: the plan shows the certificate decoded side by side (subject, SANs, serial,
 * SHA-256 before → after), no base64 unless -v, LF-only PEMs on the host, the public certificate never masked, the
 * reason once.
 */
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig } from '../helpers/run-rig.ts';

const FLEET_ID = 58;
const PLAYBOOK = 'test/fixtures/playbooks/cert-rotation.ts';
let fleet: Fleet;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID });
  work = join(fleet.dir, 'cert-rotation');
  rmSync(work, { recursive: true, force: true }); // the PKI store of an earlier run would already hold the rotated certificate
  mkdirSync(work, { recursive: true });
  for (const h of fleet.hosts) await execInHost(fleet, h.name, ['mkdir', '-p', '/etc/rig-rotation']);
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const host = () => fleet.hosts.find((h) => h.role === 'master')!.name;
const args = (...extra: string[]) => ['-i', fleet.inventoryPath, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state'),
  '--limit', host(), '-e', `pki_dir=${join(work, 'pki')}`, ...extra, PLAYBOOK];
const hostCert = async () => (await execInHost(fleet, host(), ['cat', '/etc/rig-rotation/server.crt'])).stdout;

test.serial('a rotated certificate is planned decoded, before and after', async (t) => {
  const first = await runRig(['apply', ...args()], { timeoutMs: 180_000 });
  t.is(first.code, 0, first.stdout + first.stderr);
  // One definition of a change: the task writes two files (certificate, key), and plan, progress and recap say 2.
  t.regex(first.stdout, /Plan: 2 changes on 1 of 1 host/, first.stdout);
  t.regex(first.stderr, new RegExp(`${host()}: applying 2 changes`), first.stderr);
  t.regex(first.stdout, new RegExp(`${host()}\\s*: ok=\\d+ changed=2 `), first.stdout);
  const before = await hostCert();
  t.false(before.includes('\r'), 'LF-only PEM on the host');
  const old = new X509Certificate(before);

  const plan = await runRig(['plan', ...args('-e', 'extra_san=api.rotation.test')], { timeoutMs: 180_000 });
  const out = plan.stdout + plan.stderr;
  t.is(plan.code, 2, out);
  t.regex(out, /certificate, decoded \(the base64 diff with -v\)/);
  const row = (label: string) => out.split('\n').find((l) => new RegExp(`^\\s*[~ ] ${label}\\s`).test(l)) ?? '';
  t.regex(row('subject'), new RegExp(`CN=rotation-${host()}.*=\\s*$`), 'same subject, unmarked');
  t.regex(row('SANs'), /~ .*DNS:api\.rotation\.test/, 'the new SAN, marked');
  t.regex(row('serial'), new RegExp(`~ .*${old.serialNumber}`));
  t.regex(row('SHA-256'), new RegExp(`~ .*${old.fingerprint256}`));
  t.regex(row('not after'), /days left/);
  t.notRegex(out, /^\s*[-+]MII/m, 'no base64 without -v');
  t.notRegex(out, /\^M|\\r/, 'no carriage returns');
  t.is((out.match(/SAN api\.rotation\.test missing/g) ?? []).length, 1, 'the reason once');

  const verbose = await runRig(['plan', '-v', ...args('-e', 'extra_san=api.rotation.test')], { timeoutMs: 180_000 });
  t.regex(verbose.stdout, /^\s*-MII/m, 'base64 with -v');
  const oldLines = before.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'));
  t.true(oldLines.every((l) => verbose.stdout.includes(l)), `the old public certificate is shown whole:\n${verbose.stdout}`);
  const crtDiff = verbose.stdout.slice(verbose.stdout.indexOf('--- a/etc/rig-rotation/server.crt'), verbose.stdout.indexOf('server.key'));
  t.false(crtDiff.includes('********'), 'nothing of the public certificate masked');
  t.regex(verbose.stdout, /BEGIN PRIVATE KEY-----\n?\s*[^\n]*\*{8}|secret content masked/, 'the key stays masked');
});
