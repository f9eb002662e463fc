import test from 'ava';
import { createHash } from 'node:crypto';
import type { Change } from '../../src/core/change.ts';
import { PatternError, ValidationError } from '../../src/errors.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import type { Host, Inventory } from '../../src/inventory/types.ts';
import { flushHandlers } from '../../src/modules/flush-handlers.ts';
import { defineModule } from '../../src/modules/module.ts';
import { validatePlaybook } from '../../src/playbook/load-playbook.ts';
import { definePlaybook, type Playbook } from '../../src/playbook/types.ts';
import { computeBatches, HostTasks, planHost, selectPlays } from '../../src/engine/build-plan.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A test module: append a line to a file (reads its content fact). */
const append = defineModule<{ path: string; text: string }>({
  name: 'append',
  validate: (p) => (typeof p.text === 'string' ? [] : ['text: required']),
  facts: (p) => [{ kind: 'file', path: p.path }],
  plan: (p, facts) => {
    const f = facts.file(p.path);
    const old = f.content?.toString() ?? '';
    if (old.includes(p.text)) return { noop: `${p.path} has ${p.text}` };
    const next = old + p.text + '\n';
    const change: Change = {
      kind: 'write-file', path: p.path, before: { exists: f.exists, ...(f.exists ? { type: f.type, mode: f.mode, owner: f.owner, group: f.group, sha256: f.sha256 } : {}) },
      after: { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: sha(next) },
      content: Buffer.from(next).toString('base64'), secret: false, task: '', reason: `append ${p.text}`,
    };
    return { changes: [change] };
  },
});
const restart = defineModule<{ name: string }>({
  name: 'restart', validate: () => [], facts: () => [],
  plan: (p) => ({ changes: [{ kind: 'service', service: p.name, action: 'restart', init: 'sysv', task: '', reason: 'handler' }] }),
});
const waitFor = defineModule<{ what: string }>({
  name: 'waitfor', validate: () => [], facts: () => [],
  plan: (p) => ({ changes: [{ kind: 'wait', argv: ['true'], timeoutSeconds: 5, intervalSeconds: 1, description: p.what, task: '', reason: 'wait' }] }),
});

function host(name: string, groups: string[]): Host {
  return { name, address: `10.0.0.${name.length}`, groups: ['all', ...groups], vars: { who: name } };
}
function inventoryOf(hosts: Host[]): Inventory {
  return {
    source: 'mem', hosts, groups: new Map(), warnings: [],
    selectHosts: (pattern: string) => {
      const r = hosts.filter((h) => pattern === 'all' || h.name === pattern || h.groups.includes(pattern));
      if (!r.length) throw new PatternError(`no host matches ${pattern}`);
      return r;
    },
    getHost: (n: string) => hosts.find((h) => h.name === n)!,
  };
}
function loaded(pb: Playbook) { return { path: 'mem.ts', sha256: 'x', playbook: pb }; }
function factsWith(files: Record<string, string | null>): MemoryHostFacts {
  const f: Record<string, import('../../src/facts/fact-request.ts').FileFact> = {};
  for (const [p, c] of Object.entries(files)) {
    f[p] = c === null ? { exists: false } : { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: sha(c), content: Buffer.from(c) };
  }
  return new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: f });
}

test('two tasks on one file compose through the fact overlay; handler runs once at the end; wait kept', (t) => {
  const pb = definePlaybook({ name: 'x', plays: [{
    hosts: 'all',
    tasks: [
      append({ path: '/etc/f', text: 'a' }, { notify: 'restart svc' }),
      append({ path: '/etc/f', text: 'b' }, { notify: ['restart svc'] }),
      waitFor({ what: 'svc up' }),
    ],
    handlers: [restart({ name: 'svc' }, { name: 'restart svc' })],
  }] });
  const h = host('m1', ['masters']);
  const input = { inventory: inventoryOf([h]), playbook: loaded(pb), projectRoot: '/' };
  const tasks = new HostTasks(h, input, selectPlays(input));
  t.deepEqual(tasks.factRequests(), [{ kind: 'file', path: '/etc/f' }, { kind: 'file', path: '/etc/f' }]);
  const plan = planHost(tasks, factsWith({ '/etc/f': 'x\n' }));
  const steps = plan.plays[0]!.steps;
  t.deepEqual(steps.map((s) => s.change.kind), ['write-file', 'write-file', 'wait', 'service']);
  const [w1, w2] = steps as unknown as [{ change: Extract<Change, { kind: 'write-file' }> }, { change: Extract<Change, { kind: 'write-file' }> }];
  t.is(w2.change.before.sha256, w1.change.after.sha256, 'second task planned against the first one’s result');
  t.is(Buffer.from(w2.change.content, 'base64').toString(), 'x\na\nb\n');
  t.is(steps[0]!.preImage, Buffer.from('x\n').toString('base64'));
  t.is(steps[3]!.handler, 'restart svc');
});

test('converged: no changes, handler not notified, wait dropped', (t) => {
  const pb = definePlaybook({ name: 'x', plays: [{
    hosts: 'all', tasks: [append({ path: '/etc/f', text: 'a' }, { notify: 'r' }), waitFor({ what: 'up' })],
    handlers: [restart({ name: 'svc' }, { name: 'r' })],
  }] });
  const h = host('m1', []);
  const input = { inventory: inventoryOf([h]), playbook: loaded(pb), projectRoot: '/' };
  const plan = planHost(new HostTasks(h, input, selectPlays(input)), factsWith({ '/etc/f': 'a\n' }));
  t.deepEqual(plan.plays[0]!.steps, []);
  t.is(plan.plays[0]!.tasks[0]!.status, 'ok');
  t.regex(plan.plays[0]!.tasks[0]!.reason, /has a/);
});

test('flushHandlers runs notified handlers where it stands; when=false skips; props may be functions of the host', (t) => {
  const pb = definePlaybook({ name: 'x', plays: [{
    hosts: 'all',
    tasks: [
      append((ctx) => ({ path: '/etc/f', text: String(ctx.vars['who']) }), { notify: 'r' }),
      flushHandlers(),
      append({ path: '/etc/g', text: 'only-masters' }, { when: (ctx) => ctx.host.groups.includes('masters') }),
    ],
    handlers: [restart({ name: 'svc' }, { name: 'r' })],
  }] });
  const w = host('w1', ['workers']);
  const input = { inventory: inventoryOf([w]), playbook: loaded(pb), projectRoot: '/' };
  const plan = planHost(new HostTasks(w, input, selectPlays(input)), factsWith({ '/etc/f': '', '/etc/g': null }));
  t.deepEqual(plan.plays[0]!.steps.map((s) => s.change.kind), ['write-file', 'service']);
  t.is(Buffer.from((plan.plays[0]!.steps[0]!.change as { content: string }).content, 'base64').toString(), 'w1\n');
  t.is(plan.plays[0]!.tasks.at(-1)!.status, 'skipped');
});

test('a module error is annotated with host and task path', (t) => {
  const boom = defineModule<{ x: number }>({ name: 'boom', validate: () => [], facts: () => [], plan: () => { throw new ValidationError(['x: bad']); } });
  const pb = definePlaybook({ name: 'x', plays: [{ name: 'p', hosts: 'all', tasks: [boom({ x: 1 }, { name: 'explode' })] }] });
  const h = host('m1', []);
  const input = { inventory: inventoryOf([h]), playbook: loaded(pb), projectRoot: '/' };
  const e = t.throws(() => planHost(new HostTasks(h, input, selectPlays(input)), factsWith({})));
  t.is((e as ValidationError).where.host, 'm1');
  t.is((e as ValidationError).where.task, 'play 1 "p" › task 1 "explode"');
});

test('validation collects every problem with its path, unknown handlers included', (t) => {
  const pb = definePlaybook({ name: 'x', plays: [
    { hosts: 'all', tasks: [append({ path: '/a', text: 1 as unknown as string }, { notify: 'nope' })], serial: '0x' },
    { hosts: '', tasks: [] },
  ] });
  const e = t.throws(() => validatePlaybook(pb, 'pb.ts'), { instanceOf: ValidationError });
  t.is(e!.problems.length, 4, e!.message);
  t.true(e!.problems.some((p) => p.includes('plays[0].tasks[0] "append /a": text: required')));
  t.true(e!.problems.some((p) => p.includes('no handler named "nope"')));
  t.true(e!.problems.some((p) => p.includes('plays[0].serial')));
  t.true(e!.problems.some((p) => p.includes('plays[1].hosts')));
});

test('serial batches follow Ansible: numbers, percentages, lists with the last size repeating', (t) => {
  const hs = ['a', 'b', 'c', 'd', 'e'];
  t.deepEqual(computeBatches(hs, undefined), [hs]);
  t.deepEqual(computeBatches(hs, 2), [['a', 'b'], ['c', 'd'], ['e']]);
  t.deepEqual(computeBatches(hs, '40%'), [['a', 'b'], ['c', 'd'], ['e']]);
  t.deepEqual(computeBatches(hs, [1, '50%']), [['a'], ['b', 'c'], ['d', 'e']]);
  t.deepEqual(computeBatches(hs, '10%'), [['a'], ['b'], ['c'], ['d'], ['e']]);
});

test('a play pattern matching nothing names the play', (t) => {
  const pb = definePlaybook({ name: 'x', plays: [{ name: 'ghosts', hosts: 'ghosts', tasks: [] }] });
  const input = { inventory: inventoryOf([host('m1', [])]), playbook: loaded(pb), projectRoot: '/' };
  const e = t.throws(() => selectPlays(input), { instanceOf: PatternError });
  t.regex(e!.message, /play 1 "ghosts"/);
});
