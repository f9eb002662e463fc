/**
 * The published `--json` schema (docs/json-schema/rig-result.v1.json) holds for what rig prints: early errors (one
 * object, exitCode ≠ 0, error { code, message, where, hint }), a real plan on the fleet (diffs, certificates and a
 * kubeconfig decoded before/after, batches), its apply and its rollback. Validated against the schema as published
 * and against a closed copy (every object member documented). No key material or secret in any of it.
 */
import test from 'ava';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, execInHost, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig, type RigResult } from '../helpers/run-rig.ts';
import { writePlaybook } from '../helpers/write-playbook.ts';
import { compileResultSchema, type ResultValidator } from '../helpers/result-schema.ts';

const FLEET_ID = 65;
const PLAYBOOK = 'test/fixtures/playbooks/json-plan.ts';
let fleet: Fleet;
let work: string;
let validate: ResultValidator;

test.before(async () => {
  validate = compileResultSchema();
  fleet = await upFleet({ size: 2, id: FLEET_ID });
  work = join(fleet.dir, 'json-schema');
  rmSync(work, { recursive: true, force: true }); // an earlier run's PKI would already hold the rotated pairs
  mkdirSync(work, { recursive: true });
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const common = (inv = fleet.inventoryPath) => ['-i', inv, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state')];
const run = (...extra: string[]) => [...common(), '-e', `pki_dir=${join(work, 'pki')}`, ...extra];

/** stdout is exactly one JSON object, valid against the schema (open and closed), whose exitCode is the process's. */
function parseValid(t: { is: (a: unknown, b: unknown, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void }, r: RigResult, what: string): Record<string, any> {
  let j: Record<string, any>;
  try { j = JSON.parse(r.stdout) as Record<string, any>; } catch (e) { throw new Error(`${what}: stdout is not one JSON object (${(e as Error).message}):\n${r.stdout}\n${r.stderr}`); }
  t.deepEqual(validate(j), [], `${what}: valid against docs/json-schema/rig-result.v1.json`);
  t.is(j['exitCode'], r.code, `${what}: exitCode is the process exit code\n${r.stderr}`);
  return j;
}


test.serial('early errors: one valid JSON object, exitCode ≠ 0, error { code, message, where, hint }', async (t) => {
  const validation = writePlaybook(work, 'validation', `export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [file({ paht: '/tmp/x', content: 'x' } as never)] }] });`);
  const badInventory = join(work, 'bad-inventory.yaml');
  writeFileSync(badInventory, 'all:\n  hosts:\n    - not a mapping\n');
  const cases: Array<[string, string[], string]> = [
    ['bad pattern', ['plan', ...common(), '--json', '--limit', '~[unclosed', PLAYBOOK], 'PATTERN'],
    ['missing playbook', ['plan', ...common(), '--json', join(work, 'no-such-playbook.ts')], 'PLAYBOOK'],
    ['validation error', ['plan', ...common(), '--json', validation], 'VALIDATION'],
    ['bad inventory', ['plan', '-i', badInventory, '--json', PLAYBOOK], 'INVENTORY'],
    ['missing inventory', ['apply', '-i', join(work, 'nope.yaml'), '--json', PLAYBOOK], 'INVENTORY'],
  ];
  for (const [what, args, code] of cases) {
    const r = await runRig(args, { timeoutMs: 60_000 });
    t.not(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
    const j = parseValid(t, r, what);
    const e = j['error'] as { code: string; message: string; where: Record<string, unknown>; hint?: string };
    // A validation error found on the hosts is summarised (HOSTS_FAILED or its own code) with each host's in the plan.
    const codes = [e.code, ...((j['plan']?.hosts ?? []) as Array<{ error?: { code: string } }>).map((h) => h.error?.code)];
    t.true(codes.includes(code), `${what}: ${code} in ${r.stdout}`);
    t.true(e.message.length > 0, what);
    t.is(typeof e.where, 'object', what);
    t.true(typeof e.hint === 'string' && e.hint.length > 0, `${what}: a hint\n${r.stdout}`);
  }
});

/** Every piece of secret material on the hosts and in the controller PKI: key PEMs' base64 lines, embedded keys, the token. */
async function secretsOnFleet(): Promise<string[]> {
  const out: string[] = [];
  for (const h of fleet.hosts) {
    const key = (await execInHost(fleet, h.name, ['cat', '/etc/rig-json/server.key'])).stdout;
    const kc = (await execInHost(fleet, h.name, ['cat', '/etc/rig-json/admin.kubeconfig'])).stdout;
    out.push(...key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
    const embedded = /client-key-data: (\S+)/.exec(kc)?.[1];
    if (embedded) out.push(embedded, ...Buffer.from(embedded, 'base64').toString().split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
  }
  return out;
}
const assertNoSecrets = (t: { false: (a: boolean, m?: string) => void; notRegex: (a: string, r: RegExp, m?: string) => void }, text: string, secrets: readonly string[], what: string): void => {
  for (const s of secrets) t.false(text.includes(s), `${what}: key material ${s.slice(0, 12)}… in the output`);
  for (const v of ['first-Token-Value-1', 'second-Token-Value-2']) t.false(text.includes(v), `${what}: the secret token in the output`);
  t.notRegex(text, /PRIVATE KEY-----\\n(?!\*{8})/, `${what}: a private key block`);
  t.notRegex(text, /"(preImage|content)": "(?!\(\d+ bytes\)|\*{8})/, `${what}: a content or pre-image`);
};

test.serial('a real plan: valid, with diffs, certificates and a kubeconfig decoded before/after, and batches', async (t) => {
  const first = await runRig(['apply', '--json', ...run(), PLAYBOOK], { timeoutMs: 240_000 });
  t.is(first.code, 0, first.stdout + first.stderr);
  const applied = parseValid(t, first, 'apply');
  t.is(applied['hosts'].length, fleet.hosts.length);
  const before = await secretsOnFleet();
  assertNoSecrets(t, first.stdout, before, 'apply');
  const master = fleet.hosts.find((h) => h.role === 'master')!.name;
  const oldSerial = (await execInHost(fleet, master, ['openssl', 'x509', '-noout', '-serial', '-in', '/etc/rig-json/server.crt'])).stdout.trim().replace(/^serial=/, '');

  const r = await runRig(['plan', '--json', ...run('-e', 'extra_san=api.json.test', '-e', 'client=admin2', '-e', 'api_port=7443', '-e', 'motd=two', '-e', 'token=second-Token-Value-2'), PLAYBOOK], { timeoutMs: 240_000 });
  t.is(r.code, 2, r.stdout + r.stderr);
  const j = parseValid(t, r, 'plan');
  const plan = j['plan'];

  // Batches: serial 1 → one batch per host, each applying.
  const play = plan.plays[0];
  t.is(play.batches.length, fleet.hosts.length);
  t.deepEqual(play.schedule.map((b: { batch: number; hosts: Array<{ host: string; action: string; changes: number }> }) => [b.batch, b.hosts.map((h) => h.action)]), fleet.hosts.map((_h, i) => [i + 1, ['apply']]));
  t.deepEqual(play.schedule.flatMap((b: { hosts: Array<{ host: string }> }) => b.hosts.map((h) => h.host)), play.batches.flat());

  const host = plan.hosts.find((h: { host: string }) => h.host === master);
  const steps = host.plays[0].steps as Array<Record<string, any>>;
  const at = (path: string) => steps.find((s) => s.change.path === path)!;
  for (const s of steps) t.is(host.plays[0].tasks.flatMap((x: { steps: string[] }) => x.steps).includes(s.id), true, `${s.id} belongs to a task`);
  // A plain diff.
  t.regex(at('/etc/rig-json/motd').diff, /^-motd=one$/m);
  t.regex(at('/etc/rig-json/motd').diff, /^\+motd=two$/m);
  // The certificate decoded, before and after.
  const crt = at('/etc/rig-json/server.crt');
  t.is(crt.certificate.before[0].serial, oldSerial);
  t.not(crt.certificate.after[0].serial, oldSerial);
  t.true(crt.certificate.after[0].sans.includes('DNS:api.json.test'));
  t.false(crt.certificate.before[0].sans.includes('DNS:api.json.test'));
  t.true(crt.certificate.changed.includes('sha256'));
  t.true(crt.certificate.after[0].daysLeft > 300);
  t.regex(crt.diff, /^-MII/m, 'the public certificate\'s base64 diff');
  // The key: only that it changes.
  t.regex(at('/etc/rig-json/server.key').diff, /secret content masked/);
  t.is(at('/etc/rig-json/server.key').certificate, undefined);
  // The kubeconfig decoded: server and client certificate and key change, the CA does not.
  const kc = at('/etc/rig-json/admin.kubeconfig');
  t.deepEqual(kc.kubeconfig.changed, ['server', 'clientCertificate', 'clientKey']);
  t.regex(kc.kubeconfig.before.server, /:6443$/);
  t.regex(kc.kubeconfig.after.server, /:7443$/);
  t.is(kc.kubeconfig.before.clientCertificate.certificates[0].subject, 'CN=admin');
  t.is(kc.kubeconfig.after.clientCertificate.certificates[0].subject, 'CN=admin2');
  t.deepEqual(kc.kubeconfig.after.clientKey, { source: 'embedded' });
  t.is(kc.kubeconfig.before.ca.certificates[0].sha256, kc.kubeconfig.after.ca.certificates[0].sha256);
  t.regex(at('/etc/rig-json/token').diff, /secret content masked/);
  assertNoSecrets(t, r.stdout, [...before, ...(await controllerKeys())], 'plan');

  // The terminal shows the kubeconfig decoded too.
  const text = await runRig(['plan', ...run('-e', 'client=admin2', '-e', 'api_port=7443'), PLAYBOOK], { timeoutMs: 240_000 });
  t.regex(text.stdout, /kubeconfig, decoded \(the diff with -v\):/);
  t.regex(text.stdout, /^\s*~ server\s+https:\/\/\S+:6443\s+https:\/\/\S+:7443$/m);
  t.regex(text.stdout, /^\s*~ client cert subject\s+CN=admin\s+CN=admin2$/m);
  t.regex(text.stdout, /^\s*~ client key\s+embedded \(not shown\)\s+embedded \(not shown\), changed$/m);
  assertNoSecrets(t, text.stdout + text.stderr, [...before, ...(await controllerKeys())], 'text plan');
});

/** The key PEMs the controller PKI holds (the new pairs the plan would write). */
async function controllerKeys(): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  const dir = join(work, 'pki', 'issued');
  return readdirSync(dir).filter((f) => f.endsWith('.key')).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
}

test.serial('apply and rollback results are valid; the rollback plan has its diffs', async (t) => {
  const args = run('-e', 'extra_san=api.json.test', '-e', 'client=admin2', '-e', 'token=second-Token-Value-2');
  const apply = await runRig(['apply', '--json', ...args, PLAYBOOK], { timeoutMs: 240_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const a = parseValid(t, apply, 'apply');
  t.true(a['hosts'].every((h: { status: string }) => h.status === 'changed'));
  const check = await runRig(['rollback', '--check', '--json', ...common()], { timeoutMs: 240_000 });
  t.is(check.code, 2, check.stdout + check.stderr);
  const c = parseValid(t, check, 'rollback --check');
  const steps = c['plan'].hosts[0].plays[0].steps as Array<Record<string, any>>;
  t.true(steps.some((s) => s.certificate?.after?.length === 1), 'the certificate restored, decoded');
  const rb = await runRig(['rollback', '--json', ...common()], { timeoutMs: 240_000 });
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  parseValid(t, rb, 'rollback');
  const secrets = [...(await secretsOnFleet()), ...(await controllerKeys())];
  for (const [what, out] of [['apply', apply.stdout], ['rollback --check', check.stdout], ['rollback', rb.stdout]] as const) assertNoSecrets(t, out, secrets, what);
});
