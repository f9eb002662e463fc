/**
 * docs/json-schema/rig-result.v1.json against what the code builds: a plan with every kind of change (planToJson),
 * error results (errorToJson, planFailureError), and objects the schema must refuse.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/pki/issue-certificate.ts';
import { loadOrCreateCa } from '../../src/pki/pki-store.ts';
import { renderKubeconfig } from '../../src/modules/kubeconfig.ts';
import { planToJson } from '../../src/cli/plan-json.ts';
import { errorToJson, planFailureError } from '../../src/cli/json-result.ts';
import { PatternError, ValidationError } from '../../src/errors.ts';
import { PLAN_FORMAT, type Plan } from '../../src/engine/plan-types.ts';
import type { Change } from '../../src/core/change.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';

const validate = compileResultSchema();
const pki = mkdtempSync(join(tmpdir(), 'rig-json-schema-'));
const ca = loadOrCreateCa(pki, { commonName: 'schema-ca' });
const a = issueCertificate(ca, { profile: 'server', commonName: 'api', dnsNames: ['api'] });
const b = issueCertificate(ca, { profile: 'server', commonName: 'api', dnsNames: ['api', 'api.example'] });
const kc = (pair: { certPem: string; keyPem: string }) => Buffer.from(renderKubeconfig({ path: '/k', server: 'https://10.0.0.1:6443', ca: { embedFrom: pki }, client: { embed: pair } }));
const file = (b: Buffer, mode = '0644') => ({ exists: true, type: 'file' as const, mode, owner: 'root', group: 'root', size: b.length, sha256: 'a'.repeat(64) });
const base = { task: 't', reason: 'r' };

function planWith(changes: Array<{ change: Change; before?: Buffer }>): Plan {
  return {
    format: PLAN_FORMAT, createdAt: new Date().toISOString(), playbook: { path: 'p.ts', name: 'p', sha256: '0'.repeat(64) }, inventory: ['inv.yaml'], limit: 'all',
    plays: [{ index: 0, name: 'p', hosts: 'all', hostNames: ['h1', 'h2', 'h3'], batches: [['h1'], ['h2', 'h3']], maxFailPercentage: 0, become: true }],
    hosts: [
      { host: 'h1', address: '10.0.0.1', become: true, plays: [{ play: 0, steps: changes.map((c, i) => ({ id: `0.${i}`, change: c.change, ...(c.before ? { preImage: c.before.toString('base64') } : {}) })), tasks: [{ task: 't', status: 'changed', reason: 'r', steps: changes.map((_c, i) => `0.${i}`), notified: ['restart x'] }, { task: 'u', status: 'skipped', reason: 'when', steps: [] }] }] },
      { host: 'h2', address: '10.0.0.2', plays: [{ play: 0, steps: [], tasks: [{ task: 't', status: 'ok', reason: 'already', steps: [], notable: true }] }], error: { code: 'VALIDATION', message: 'bad', task: 't', hint: 'fix', file: 'p.ts', line: 3 } },
      { host: 'h3', address: '10.0.0.3', plays: [], unreachable: 'refused', unreachableCode: 'UNREACHABLE' },
    ],
  };
}

const everyKind: Array<{ change: Change; before?: Buffer }> = [
  { change: { ...base, kind: 'write-file', path: '/etc/a.crt', before: file(Buffer.from(a.certPem)), after: file(Buffer.from(b.certPem)), content: Buffer.from(b.certPem).toString('base64'), secret: false, validate: ['true', '%s'] }, before: Buffer.from(a.certPem) },
  { change: { ...base, kind: 'write-file', path: '/etc/a.key', before: file(Buffer.from(a.keyPem), '0600'), after: file(Buffer.from(b.keyPem), '0600'), content: Buffer.from(b.keyPem).toString('base64'), secret: true }, before: Buffer.from(a.keyPem) },
  { change: { ...base, kind: 'write-file', path: '/k', before: { exists: false }, after: file(kc(b), '0600'), content: kc(b).toString('base64'), secret: true } },
  { change: { ...base, kind: 'write-file', path: '/etc/new', before: { exists: false }, after: file(Buffer.from('x=2\n')), content: Buffer.from('x=2\n').toString('base64'), secret: false, diffFrom: { label: 'the input', content: Buffer.from('x=1\n').toString('base64') } } },
  { change: { ...base, kind: 'write-file', path: '/etc/big', before: file(Buffer.alloc(10)), after: file(Buffer.from('y')), content: Buffer.from('y').toString('base64'), secret: false } },
  { change: { ...base, kind: 'set-attributes', path: '/etc/a', before: file(Buffer.alloc(1)), after: file(Buffer.alloc(1), '0600') } },
  { change: { ...base, kind: 'ensure-directory', path: '/etc/d', before: { exists: false }, after: { exists: true, type: 'directory', mode: '0755', owner: 'root', group: '1234' } } },
  { change: { ...base, kind: 'remove-path', path: '/etc/old', before: file(Buffer.from('old\n')), secret: false }, before: Buffer.from('old\n') },
  { change: { ...base, kind: 'restore-preimage', path: '/etc/huge', before: file(Buffer.alloc(1)), after: file(Buffer.alloc(1)), fromRun: 'r1', fromStep: '0.1', secret: false } },
  { change: { ...base, kind: 'symlink', path: '/etc/l', target: '/etc/a', before: { exists: false } } },
  { change: { ...base, kind: 'set-capability', path: '/bin/x', beforeCaps: '', afterCaps: 'cap_net_bind_service=ep' } },
  { change: { ...base, kind: 'run-command', argv: ['echo', 'x'], cwd: '/', undo: ['true'] } },
  { change: { ...base, kind: 'service', service: 'nginx', action: 'reload', init: 'systemd', wasRunning: true, validate: ['nginx', '-t'] } },
  { change: { ...base, kind: 'package', manager: 'apt', install: ['nginx'], remove: [] } },
  { change: { ...base, kind: 'wait', argv: ['true'], timeoutSeconds: 10, intervalSeconds: 1, description: 'up' } },
];

test('a plan with every kind of change, a failed and an unreachable host is valid', (t) => {
  const plan = planWith(everyKind);
  const error = planFailureError(plan)!;
  const result = { schemaVersion: 1, command: 'plan', exitCode: 1, error, plan: planToJson(plan, false) };
  t.deepEqual(validate(JSON.parse(JSON.stringify(result))), []);
  const steps = (result.plan as { hosts: Array<{ plays: Array<{ steps: Array<Record<string, unknown>> }> }> }).hosts[0]!.plays[0]!.steps;
  t.truthy(steps[0]!['certificate']);
  t.truthy(steps[2]!['kubeconfig']);
  t.regex(String(steps[3]!['diff']), /^-x=1$/m);
  const apply = { schemaVersion: 1, command: 'apply', runId: 'r2', exitCode: 0, plan: planToJson(planWith(everyKind.slice(0, 3)), false), hosts: [{ host: 'h1', status: 'changed', recap: { ok: 1, changed: 3, failed: 0, skipped: 0, unreachable: false } }], stats: [{ host: 'h1', roundTrips: 2, bytesSent: 10, bytesReceived: 20, connectMs: 5 }] };
  t.deepEqual(validate(JSON.parse(JSON.stringify({ ...apply, plan: { ...(apply.plan as object), hosts: [(apply.plan as { hosts: unknown[] }).hosts[0]] } }))), []);
});

test('error results are valid; broken results are refused', (t) => {
  for (const e of [new PatternError('bad', { hint: 'fix' }), new ValidationError(['bad'], { file: 'p.ts', line: 2, host: 'h', task: 't' }), new Error('boom')]) {
    t.deepEqual(validate(JSON.parse(JSON.stringify({ schemaVersion: 1, command: 'plan', exitCode: 1, error: errorToJson(e) }))), []);
  }
  const ok = { schemaVersion: 1, command: 'plan', exitCode: 1, error: { code: 'PATTERN', message: 'bad', where: {}, hint: 'h' } };
  t.deepEqual(validate(ok), []);
  const refused: Array<[string, unknown]> = [
    ['no exitCode', { schemaVersion: 1 }],
    ['an error without where', { ...ok, error: { code: 'PATTERN', message: 'bad' } }],
    ['exit 1 without error', { schemaVersion: 1, exitCode: 1 }],
    ['exit 0 with an error', { ...ok, exitCode: 0 }],
    ['an unknown exit code', { ...ok, exitCode: 5 }],
    ['another schema version', { ...ok, schemaVersion: 2 }],
    ['an undocumented member', { ...ok, surprise: true }],
  ];
  for (const [what, v] of refused) t.notDeepEqual(validate(v), [], what);
  // A content in clear, and a certificate with its days left as text.
  const plan = planToJson(planWith(everyKind.slice(0, 1)), false) as { hosts: Array<{ plays: Array<{ steps: Array<{ change: Record<string, unknown>; certificate: { after: Array<Record<string, unknown>> } }> }> }> };
  const step = plan.hosts[0]!.plays[0]!.steps[0]!;
  const leak = structuredClone(plan); leak.hosts[0]!.plays[0]!.steps[0]!.change['content'] = Buffer.from(b.certPem).toString('base64');
  t.notDeepEqual(validate({ ...ok, plan: leak }), [], 'a content in clear');
  const text = structuredClone(plan); text.hosts[0]!.plays[0]!.steps[0]!.certificate.after[0]!['daysLeft'] = '364 days';
  t.notDeepEqual(validate({ ...ok, plan: text }), [], 'daysLeft as text');
  t.truthy(step.certificate);
});
