import test from 'ava';
import { PatternError, ValidationError } from '../../src/errors.ts';
import type { Host, Inventory } from '../../src/inventory/types.ts';
import { defineModule } from '../../src/modules/module.ts';
import { validatePlaybook } from '../../src/playbook/load-playbook.ts';
import { definePlaybook, fromVar, type Playbook } from '../../src/playbook/types.ts';
import { selectPlays } from '../../src/engine/build-plan.ts';

const noop = defineModule<Record<string, never>>({ name: 'noop', validate: () => [], facts: () => [], plan: () => ({ noop: 'nothing' }) });

function host(name: string, vars: Record<string, unknown> = {}): Host {
  return { name, address: '10.0.0.1', groups: ['all', 'workers'], vars };
}
function inventoryOf(hosts: Host[]): Inventory {
  return {
    source: 'mem', hosts, groups: new Map(), warnings: [],
    selectHosts: (pattern: string) => {
      const r = hosts.filter((h) => pattern === 'all' || h.groups.includes(pattern));
      if (!r.length) throw new PatternError(`no host matches ${pattern}`);
      return r;
    },
    getHost: (n: string) => hosts.find((h) => h.name === n)!,
  };
}
const playbook = (play: Partial<Playbook['plays'][number]>): Playbook => definePlaybook({ name: 'p', plays: [{ hosts: 'workers', tasks: [noop({})], ...play }] });
const plays = (pb: Playbook, hosts: Host[], extraVars: Record<string, unknown> = {}) =>
  selectPlays({ inventory: inventoryOf(hosts), playbook: { path: 'mem.ts', sha256: 'x', playbook: pb }, extraVars, projectRoot: '/' });
const four = (vars: Record<string, unknown> = {}) => ['w1', 'w2', 'w3', 'w4'].map((n) => host(n, vars));

test('serial from a variable: default, -e (a digit string is a count, not a percentage), inventory', (t) => {
  const pb = playbook({ serial: fromVar('worker_serial', '50%') });
  t.deepEqual(plays(pb, four())[0]!.batches, [['w1', 'w2'], ['w3', 'w4']]);
  t.deepEqual(plays(pb, four(), { worker_serial: '1' })[0]!.batches, [['w1'], ['w2'], ['w3'], ['w4']]);
  t.deepEqual(plays(pb, four(), { worker_serial: 3 })[0]!.batches, [['w1', 'w2', 'w3'], ['w4']]);
  t.deepEqual(plays(pb, four({ worker_serial: '100%' }))[0]!.batches, [['w1', 'w2', 'w3', 'w4']]);
  t.deepEqual(plays(pb, four({ worker_serial: [1, '50%'] }))[0]!.batches, [['w1'], ['w2', 'w3'], ['w4']]);
});

test('play options as functions of the vars; maxFailPercentage and forceHandlers too', (t) => {
  const pb = playbook({
    serial: ({ vars }) => (vars['rolling'] ? 1 : undefined),
    maxFailPercentage: fromVar('max_fail', 0),
    forceHandlers: fromVar('force_handlers', false),
  });
  const a = plays(pb, four())[0]!;
  t.deepEqual(a.batches, [['w1', 'w2', 'w3', 'w4']]);
  t.is(a.maxFailPercentage, 0);
  t.is(a.forceHandlers, undefined);
  const b = plays(pb, four(), { rolling: true, max_fail: '25', force_handlers: 'yes' })[0]!;
  t.is(b.batches.length, 4);
  t.is(b.maxFailPercentage, 25);
  t.true(b.forceHandlers);
});

test('bad values from variables, and hosts that disagree, are one VALIDATION error naming each problem', (t) => {
  const pb = playbook({ serial: fromVar('worker_serial'), maxFailPercentage: fromVar('max_fail'), forceHandlers: fromVar('fh') });
  const e = t.throws(() => plays(pb, four(), { worker_serial: 'half', max_fail: 150, fh: 'maybe' }), { instanceOf: ValidationError })!;
  t.regex(e.message, /serial: "half" is not a positive integer or a percentage/);
  t.regex(e.message, /maxFailPercentage: must be 0\.\.100/);
  t.regex(e.message, /forceHandlers: "maybe" is not a boolean/);
  const mixed = [host('w1', { worker_serial: 1 }), host('w2', { worker_serial: 2 })];
  const d = t.throws(() => plays(pb, mixed), { instanceOf: ValidationError })!;
  t.regex(d.message, /variable worker_serial differs between the play's hosts \(w1: 1; w2: 2\)/);
  const thrower = playbook({ serial: () => { throw new Error('boom'); } });
  t.regex(t.throws(() => plays(thrower, four()))!.message, /serial: the function threw on w1: boom/);
});

test('static values are still checked when the playbook loads; deferred ones are not', (t) => {
  t.throws(() => validatePlaybook(playbook({ serial: 0 }), 'x.ts'), { message: /serial: 0 is not a positive integer/ });
  t.throws(() => validatePlaybook(playbook({ maxFailPercentage: 101 }), 'x.ts'), { message: /maxFailPercentage: must be 0\.\.100/ });
  t.notThrows(() => validatePlaybook(playbook({ serial: fromVar('x'), maxFailPercentage: () => 5 }), 'x.ts'));
});

test('become from a variable: the play\'s become for every host (a task\'s become: true still wins)', (t) => {
  const pb = playbook({ become: fromVar('use_sudo') });
  t.is(plays(pb, four())[0]!.become, undefined, 'not set: the hosts\' ansible_become decides');
  t.is(plays(pb, four(), { use_sudo: 'yes' })[0]!.become, true);
  t.is(plays(pb, four({ use_sudo: false }))[0]!.become, false);
  t.regex(t.throws(() => plays(pb, four(), { use_sudo: 'root' }))!.message, /become: "root" is not a boolean/);
});
