/**
 * What a rollback in the run's order adds to the `--json` result is in the published schema
 * (docs/json-schema/rig-result.v1.json): its plays' `undoes`, a wait's `rollback` check, `stoppedAt`, `note` and a
 * host's `recap.notRun`.
 */
import test from 'ava';
import { planToJson } from '../../src/cli/plan-json.ts';
import { PLAN_FORMAT, type Plan } from '../../src/engine/plan-types.ts';
import { compileResultSchema } from '../helpers/result-schema.ts';

const validate = compileResultSchema();
const check = { argv: ['sh', '-c', 'service kubelet status'], timeoutSeconds: 60, intervalSeconds: 1, description: 'kubelet runs' };
const plan: Plan = {
  format: PLAN_FORMAT, createdAt: new Date().toISOString(), playbook: { path: 'p.ts', name: 'p', sha256: '0'.repeat(64) }, inventory: ['inv.yaml'],
  plays: [
    { index: 0, name: 'rollback of "workers"', hosts: 'w2,w1', hostNames: ['w2', 'w1'], batches: [['w2'], ['w1']], maxFailPercentage: 0, undoes: [1] },
    { index: 1, name: 'rollback of "master"', hosts: 'm', hostNames: ['m'], batches: [['m']], maxFailPercentage: 0, undoes: [0] },
  ],
  hosts: ['w2', 'w1'].map((host) => ({
    host, address: host, become: false,
    plays: [{ play: 0, tasks: [], steps: [
      { id: '0.0', change: { kind: 'service', service: 'kubelet', action: 'restart', init: 'sysv', task: 't', reason: 'r' } },
      { id: '0.1', change: { kind: 'wait', ...check, task: 't', reason: 'w', rollback: { ...check, description: 'before the run' } } },
      { id: '0.2', change: { kind: 'wait', ...check, task: 't', reason: 'w', rollback: false } },
    ] }],
  })),
};

test('a stopped rollback\'s --json result is valid against the published, closed schema', (t) => {
  const recap = { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: false };
  const result = {
    schemaVersion: 1, command: 'rollback', runId: 'R2', rollbackOf: 'R1', exitCode: 1,
    note: 'the journal of run R1 does not record the order of its batches',
    stoppedAt: { play: 0, playName: 'rollback of "workers"', batch: 0, failed: ['w2'] },
    error: { code: 'HOSTS_FAILED', message: '1 host did not finish', where: { host: 'w2' }, hint: 'h' },
    plan: planToJson(plan, false),
    hosts: [
      { host: 'w2', status: 'failed', recap: { ...recap, failed: 1 }, error: { code: 'REMOTE_COMMAND', message: 'x' } },
      { host: 'w1', status: 'not-run', recap: { ...recap, notRun: 'not run: the run stopped when batch 1 of play 1 failed' } },
    ],
  };
  t.deepEqual(validate(result), []);
  t.notDeepEqual(validate({ ...result, stoppedAt: { play: 0 } }), [], 'the schema is not vacuous');
});
