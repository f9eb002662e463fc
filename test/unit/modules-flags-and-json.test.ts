import test from 'ava';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { isRigError } from '../../src/errors.ts';
import type { FileFact } from '../../src/facts/fact-request.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { flags } from '../../src/modules/flags.ts';
import { json } from '../../src/modules/json.ts';
import type { Module, TaskContext } from '../../src/modules/module.ts';

/** One fixture: props, gathered file facts (content as text), and the expected change, noop reason or error. */
interface Fixture {
  readonly props: Record<string, unknown>;
  readonly facts: Record<string, Omit<FileFact, 'content'> & { readonly content?: string }>;
  readonly change?: { kind: string; reason: string; mode: string; owner: string; group: string; content?: string };
  readonly noop?: string;
  readonly error?: { code: string; message: string };
}

const ctx: TaskContext = { host: { name: 'm1', address: '10.0.0.1', vars: {} } as unknown as TaskContext['host'], vars: {}, taskPath: 'play "x" › task 1', projectRoot: '/nonexistent' };
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function runFixtures(name: string, module: Module<any>): void {
  const dir = new URL(`../fixtures/modules/${name}/`, import.meta.url);
  for (const entry of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    test(`${name} module: ${entry}`, (t) => {
      const fx = JSON.parse(readFileSync(new URL(entry, dir), 'utf8')) as Fixture;
      t.deepEqual(module.validate(fx.props), []);
      const path = fx.props.path as string;
      t.deepEqual(module.facts(fx.props, ctx), [{ kind: 'file', path, content: true }]);
      const files: Record<string, FileFact> = Object.fromEntries(Object.entries(fx.facts).map(([p, { content, ...f }]) => [p, {
        ...f, ...(content !== undefined ? { content: Buffer.from(content), sha256: sha(content), size: Buffer.byteLength(content) } : {}),
      }]));
      const facts = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files });
      if (fx.error) {
        const e = t.throws(() => module.plan(fx.props, facts, ctx));
        t.true(isRigError(e), String(e));
        if (!isRigError(e)) return;
        t.is(e.code, fx.error.code);
        t.true(e.message.includes(fx.error.message), e.message);
        t.is(e.where.file, path);
        t.truthy(e.hint);
        return;
      }
      const result = module.plan(fx.props, facts, ctx);
      if (fx.noop) { t.deepEqual(result, { noop: fx.noop }); return; }
      t.true('changes' in result);
      if (!('changes' in result)) return;
      t.is(result.changes.length, 1);
      const c = result.changes[0]!;
      const want = fx.change!;
      t.is(c.kind as string, want.kind);
      t.is(c.reason, want.reason);
      t.is(c.task, ctx.taskPath);
      if (c.kind !== 'write-file' && c.kind !== 'set-attributes') return;
      const { content: _c, ...beforeState } = files[path]!;
      t.deepEqual(c.before, beforeState);
      t.like(c.after, { exists: true, mode: want.mode, owner: want.owner, group: want.group });
      if (c.kind === 'write-file') {
        const text = Buffer.from(c.content, 'base64').toString('utf8');
        t.is(text, want.content ?? '');
        t.is(c.after.sha256, sha(text));
        t.is(c.after.size, Buffer.byteLength(text));
        t.false(c.secret);
        // Planning again on the result is a noop (idempotent).
        const again = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [path]: { exists: true, type: 'file', mode: want.mode, owner: want.owner, group: want.group, content: Buffer.from(text) } } });
        t.true('noop' in module.plan(fx.props, again, ctx));
      }
    });
  }
}

runFixtures('flags', flags.module);
runFixtures('json', json.module);

test('flags module: validate returns every problem with its prop path', (t) => {
  const problems = flags.module.validate({ path: 'etc/x', variable: '1X', set: { '--a': 'b c', 'bad name': 'x', '--g': '*.crt' }, remove: ['--a'], mode: '999', format: 'ini' as never, keepOldCommented: 'yes' as never });
  for (const re of [/^path: /, /^variable: /, /^mode: /, /^format: /, /^keepOldCommented: /]) t.true(problems.some((p) => re.test(p)), `${re} in ${problems.join(' | ')}`);
  const flagProblems = flags.module.validate({ path: '/etc/x', variable: 'X', set: { '--a': 'b c', 'bad name': 'x', '--g': '*.crt' }, remove: ['--a'] });
  for (const re of [/whitespace/, /not a flag name/, /glob/, /edited twice/]) t.true(flagProblems.some((p) => re.test(p) && p.startsWith('set/remove: ')), `${re} in ${flagProblems.join(' | ')}`);
  t.deepEqual(flags.module.validate({ path: '/m.yaml', format: 'kubeadm-manifest', set: { '--a': 'b c' } }), []);
  t.true(flags.module.validate({ path: '/etc/x', variable: 'X' }).some((p) => p.startsWith('set/remove: ')));
});

test('json module: validate returns every problem with its prop path', (t) => {
  const problems = json.module.validate({ path: 'x', set: { 'a..b': 1, c: Number.NaN, d: undefined }, remove: [''], mode: 'rw' });
  for (const re of [/^path: /, /^set\.a\.\.b: empty/, /^set\.c: not a JSON/, /^set\.d: not a JSON/, /^remove: /, /^mode: /]) t.true(problems.some((p) => re.test(p)), `${re} in ${problems.join(' | ')}`);
  t.deepEqual(json.module.validate({ path: '/x.json', set: { 'a\\.b.0': [1] } }), []);
});
