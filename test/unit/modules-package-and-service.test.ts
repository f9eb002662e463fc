/** Planning of the package and service modules over gathered facts (pure; the e2e suites run them on the fleet). */
import test from 'ava';
import { isRigError } from '../../src/errors.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { packages } from '../../src/modules/package.ts';
import { service } from '../../src/modules/service.ts';
import type { TaskContext } from '../../src/modules/module.ts';

const ctx: TaskContext = { host: { name: 'm1', address: '10.0.0.1', vars: {} } as unknown as TaskContext['host'], vars: {}, taskPath: 'play 1 › task 1', projectRoot: '/nonexistent' };
const pkg = packages.module;
const facts = (pk: Record<string, string | undefined>, os = DEBIAN_SYSV_OS) => new MemoryHostFacts({ os, packages: pk });

test('package present: only the missing names are installed, with the manager from the facts', (t) => {
  t.deepEqual(pkg.facts({ names: ['nginx', 'libnginx-mod-http-lua'] }, ctx), [{ kind: 'package', names: ['nginx', 'libnginx-mod-http-lua'] }]);
  const r = pkg.plan({ names: ['nginx', 'libnginx-mod-http-lua'] }, facts({ nginx: '1.22.1-9', 'libnginx-mod-http-lua': undefined }), ctx);
  t.true('changes' in r);
  if (!('changes' in r)) return;
  t.like(r.changes[0], { kind: 'package', manager: 'apt', install: ['libnginx-mod-http-lua'], remove: [], reason: 'not installed: libnginx-mod-http-lua' });
  t.deepEqual(pkg.plan({ names: ['nginx'] }, facts({ nginx: '1.22.1-9' }), ctx), { noop: 'nginx installed' });
});

test('package absent removes installed names; yum hosts use yum; no manager is an error', (t) => {
  const r = pkg.plan({ names: ['telnetd', 'rsh'], state: 'absent' }, facts({ telnetd: '0.17', rsh: undefined }, { ...DEBIAN_SYSV_OS, packageManager: 'yum' }), ctx);
  t.true('changes' in r && r.changes[0]!.kind === 'package');
  if ('changes' in r) t.like(r.changes[0], { manager: 'yum', install: [], remove: ['telnetd'], reason: 'installed: telnetd 0.17' });
  const e = t.throws(() => pkg.plan({ names: ['x'] }, facts({ x: undefined }, { ...DEBIAN_SYSV_OS, packageManager: 'none' }), ctx));
  t.true(isRigError(e) && e.code === 'VALIDATION' && /no supported package manager/.test(e.message));
});

test('package props are validated (names, state, unknown props)', (t) => {
  t.deepEqual(pkg.validate({ names: ['nginx'] }), []);
  t.true(pkg.validate({ names: [] }).length > 0);
  t.true(pkg.validate({ names: ['rm -rf /'] }).length > 0);
  t.true(pkg.validate({ names: ['x'], state: 'latest' as never }).length > 0);
  t.true(pkg.validate({ names: ['x'], version: '1' } as never).some((p) => /version/.test(p)));
});

test('service: started/stopped converge, restarted/reloaded always act, unknown service is an error', (t) => {
  const f = (running: boolean, exists = true) => new MemoryHostFacts({ os: DEBIAN_SYSV_OS, services: { nginx: { name: 'nginx', exists, running } } });
  const svc = service.module;
  t.deepEqual(svc.plan({ name: 'nginx', state: 'started' }, f(true), ctx), { noop: 'nginx is running' });
  const start = svc.plan({ name: 'nginx', state: 'started', validate: ['nginx', '-t'] }, f(false), ctx);
  t.true('changes' in start);
  if ('changes' in start) t.like(start.changes[0], { kind: 'service', action: 'start', init: 'sysv', validate: ['nginx', '-t'] });
  const reload = svc.plan({ name: 'nginx', state: 'reloaded' }, f(true), ctx);
  if ('changes' in reload) t.like(reload.changes[0], { action: 'reload' }); else t.fail('reload must act');
  const reloadStopped = svc.plan({ name: 'nginx', state: 'reloaded' }, f(false), ctx);
  if ('changes' in reloadStopped) t.like(reloadStopped.changes[0], { action: 'start' }); else t.fail('reload of a stopped service starts it');
  t.throws(() => svc.plan({ name: 'nginx', state: 'started' }, f(false, false), ctx), { message: /not known to sysv/ });
});
