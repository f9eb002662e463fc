/**
 * `--json` a CI job can trust (docs/json.md): stdout holds exactly one JSON object with `schemaVersion` and
 * `exitCode`, and `error` { code, message, where, hint } on failure — early errors (before planning) included — and
 * the exit codes of the table: 2 changes pending, 4 changes pending with a host unreachable, 1 error.
 */
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFleet, upFleet, type Fleet } from '../fleet/fleet-lib.ts';
import { runRig, type RigResult } from '../helpers/run-rig.ts';
import { writePlaybook } from '../helpers/write-playbook.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';

const FLEET_ID = 59;
let fleet: Fleet;
let work: string;

test.before(async () => {
  fleet = await upFleet({ size: 2, id: FLEET_ID });
  work = join(fleet.dir, 'json-result');
  mkdirSync(work, { recursive: true });
});
test.after.always(async () => { await downFleet({ id: FLEET_ID }); });

const common = (inv = fleet.inventoryPath) => ['-i', inv, '--ssh-config', fleet.sshConfigPath, '--state-dir', join(work, 'state')];

interface JsonResult { schemaVersion: number; command?: string; exitCode: number; error?: { code: string; message: string; where: Record<string, unknown>; hint?: string }; plan?: { hosts: { host: string }[] } }

/** The whole of stdout is one JSON object whose exitCode is the process's. */
const validateResult = compileResultSchema();
function parseOne(t: { is: (a: unknown, b: unknown, m?: string) => void; true: (a: boolean, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void }, r: RigResult): JsonResult {
  let j: JsonResult;
  try { j = JSON.parse(r.stdout) as JsonResult; } catch (e) { throw new Error(`stdout is not one JSON object (${(e as Error).message}):\n${r.stdout}\n${r.stderr}`); }
  t.true(typeof j === 'object' && j !== null && !Array.isArray(j), 'an object');
  t.is(j.schemaVersion, 1);
  t.is(j.exitCode, r.code, `exitCode is the process exit code: ${r.stderr}`);
  t.deepEqual(validateResult(j), [], 'valid against docs/json-schema/rig-result.v1.json');
  return j;
}


test.serial('early errors: one JSON object with exitCode 1 and a typed error', async (t) => {
  const validation = writePlaybook(work, 'validation', `export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [file({ paht: '/tmp/x', content: 'x' } as never)] }] });`);
  const cases: Array<[string, string[], string]> = [
    ['missing playbook', ['plan', ...common(), '--json', join(work, 'no-such-playbook.ts')], 'PLAYBOOK'],
    ['bad pattern', ['plan', ...common(), '--json', '--limit', '~[unclosed', 'playbooks/example.ts'], 'PATTERN'],
    ['pattern matching nothing', ['plan', ...common(), '--json', '--limit', 'nosuchhost', 'playbooks/example.ts'], 'PATTERN'],
    ['validation', ['apply', ...common(), '--json', validation], 'VALIDATION'],
    ['missing inventory', ['plan', '-i', join(work, 'nope.yaml'), '--json', 'playbooks/example.ts'], 'INVENTORY'],
    ['unknown option', ['plan', '--json', '--no-such-option', 'playbooks/example.ts'], 'USAGE'],
    ['bad -e', ['apply', ...common(), '--json', '-e', 'novalue', 'playbooks/example.ts'], 'USAGE'],
  ];
  for (const [what, args, code] of cases) {
    const r = await runRig(args, { timeoutMs: 60_000 });
    t.is(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    const j = parseOne(t, r);
    t.truthy(j.error, what);
    // A planning error on the hosts is summarised (HOSTS_FAILED) with the host's own code in the plan.
    const codes = [j.error!.code, ...[...JSON.stringify(j.plan ?? {}).matchAll(/"code": ?"([A-Z_]+)"/g)].map((m) => m[1])];
    t.true(codes.includes(code), `${what}: ${code} in ${JSON.stringify(j)}`);
    t.is(typeof j.error!.message, 'string', what);
    t.true(j.error!.message.length > 0, what);
    t.is(typeof j.error!.where, 'object', what);
  }
});

test.serial('a normal plan: exit 2 with changes pending, no error', async (t) => {
  const r = await runRig(['plan', ...common(), '--json', 'playbooks/example.ts'], { timeoutMs: 120_000 });
  t.is(r.code, 2, r.stdout + r.stderr);
  const j = parseOne(t, r);
  t.is(j.command, 'plan');
  t.is(j.error, undefined);
  t.is(j.plan?.hosts.length, fleet.hosts.length);
});

test.serial('changes pending and a host unreachable: exit 4, error UNREACHABLE naming the host', async (t) => {
  const inv = join(work, 'inventory-with-ghost.yaml');
  const ghostIp = fleet.hosts[0]!.ip.replace(/\.\d+$/, '.250');
  writeFileSync(inv, readFileSync(fleet.inventoryPath, 'utf8').replace(/(\n\s+workers:\s*\n\s+hosts:\s*\n)/, `$1        ghost: { ansible_host: ${ghostIp}, ansible_port: 1 }\n`));
  const r = await runRig(['plan', ...common(inv), '--json', 'playbooks/example.ts'], { timeoutMs: 120_000 });
  t.is(r.code, 4, r.stdout + r.stderr);
  const j = parseOne(t, r);
  t.is(j.error?.code, 'UNREACHABLE');
  t.is(j.error?.where['host'], 'ghost');
  t.true(j.plan!.hosts.some((h) => h.host === 'ghost'));
});

test.serial('a saved plan is recognised by its content, whatever its name', async (t) => {
  const saved = join(work, 'x.plan');
  const plan = await runRig(['plan', ...common(), '--out', saved, 'playbooks/example.ts'], { timeoutMs: 120_000 });
  t.is(plan.code, 2, plan.stdout + plan.stderr);
  const apply = await runRig(['apply', ...common(), '--json', saved], { timeoutMs: 180_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const j = parseOne(t, apply) as Omit<JsonResult, "plan"> & { hosts: { host: string; status: string; recap: { changed: number } }[]; plan: { hosts: { host: string; changes: number }[] } };
  t.is(j.command, 'apply');
  t.true(j.hosts.length > 0 && j.hosts.every((h) => h.status === 'changed'), apply.stdout);
  // One definition of a change: the plan's count per host is the recap's.
  for (const h of j.hosts) t.is(h.recap.changed, j.plan.hosts.find((p) => p.host === h.host)!.changes, `${h.host}: plan changes = recap changed`);
  const again = await runRig(['plan', ...common(), '--json', 'playbooks/example.ts'], { timeoutMs: 120_000 });
  t.is(again.code, 0, 'converged: the saved plan was applied');
});

test.serial('plan, progress and recap count the same changes', async (t) => {
  // Undo the saved plan's run so that there is something to change again.
  const rb = await runRig(['rollback', ...common()], { timeoutMs: 180_000 });
  t.is(rb.code, 0, rb.stdout + rb.stderr);
  const args = common();
  const plan = await runRig(['plan', ...args, '--json', 'playbooks/example.ts'], { timeoutMs: 120_000 });
  const planned = new Map((JSON.parse(plan.stdout) as { plan: { hosts: { host: string; changes: number }[] } }).plan.hosts.map((h) => [h.host, h.changes]));
  const apply = await runRig(['apply', ...args, 'playbooks/example.ts'], { timeoutMs: 180_000 });
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const total = [...planned.values()].reduce((a, b) => a + b, 0);
  t.true(total > 0, 'something to change');
  t.regex(apply.stdout, new RegExp(`Plan: ${total} changes? on`), apply.stdout);
  for (const [host, n] of planned) {
    if (!n) continue;
    const progress = [...apply.stderr.matchAll(new RegExp(`${host}: applying (\\d+) changes?`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
    t.is(progress, n, `${host}: progress counts the plan's changes\n${apply.stderr}`);
    t.regex(apply.stdout, new RegExp(`${host}\\s*: ok=\\d+ changed=${n} `), `${host}: recap counts the plan's changes`);
  }
});
