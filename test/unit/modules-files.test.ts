/**
 * Module fixtures: gathered facts in, changes or a no-op reason out — file, directory, line, command, link, copy and
 * template — with hostile paths and contents (spaces, quotes, `$`, backslashes, unicode, newlines).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileFact } from '../../src/facts/fact-request.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { command, copy, directory, file, line, link, template } from '../../src/modules/index.ts';
import type { Module, PlanResult, TaskContext } from '../../src/modules/module.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

const HOSTILE = "/etc/rig test/it's \"$HOME\" `x` ünï\\code.conf";
const ctx: TaskContext = {
  host: { name: 'm1', address: '10.0.0.1', vars: {}, groups: ['all'] } as unknown as TaskContext['host'],
  vars: { cluster: 'prod $x "q"', q: "it's" }, taskPath: 'play 1 › task 1', projectRoot: join(PROJECT_ROOT, 'test', 'fixtures'),
};
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const present = (content: string, extra: Partial<FileFact> = {}): FileFact => ({
  exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', content: Buffer.from(content), sha256: sha(content), size: Buffer.byteLength(content), ...extra,
} as FileFact);
const absent = { exists: false } as FileFact;
const factsOf = (files: Record<string, FileFact>, commands: Record<string, { exitCode: number }> = {}) =>
  new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files, commands: Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, { key: k, ...v, stdout: '' }])) as never });

function plan<P>(m: { module: Module<P> }, props: P, files: Record<string, FileFact>, commands?: Record<string, { exitCode: number }>): PlanResult {
  t0(m.module.validate(props));
  return m.module.plan(props, factsOf(files, commands), ctx);
}
function t0(problems: string[]): void { if (problems.length) throw new Error(problems.join('; ')); }
const changeOf = (r: PlanResult) => ('changes' in r ? r.changes[0] as unknown as Record<string, unknown> : undefined);
/** A write-file change carries its content base64-encoded (the plan is serializable data). */
const bytesOf = (c: Record<string, unknown>): Buffer => Buffer.from(c['content'] as string, 'base64');

test('file: absent file is created with the exact bytes; same content and attrs is a no-op; mode drift is a chmod', (t) => {
  const content = 'a="$HOME" \'q\' `x` \\n ünï\n\ttab\n';
  const create = changeOf(plan(file, { path: HOSTILE, content, mode: '0600' }, { [HOSTILE]: absent }))!;
  t.like(create, { kind: 'write-file', path: HOSTILE, reason: 'file absent' });
  t.is(bytesOf(create).toString(), content);
  t.like(create['after'], { mode: '0600', owner: 'root', sha256: sha(content) });
  t.true('noop' in plan(file, { path: HOSTILE, content, mode: '0600' }, { [HOSTILE]: present(content, { mode: '0600' }) }));
  const chmod = changeOf(plan(file, { path: HOSTILE, content, mode: '0600' }, { [HOSTILE]: present(content) }))!;
  t.is(chmod['kind'], 'set-attributes');
  const removal = changeOf(plan(file, { path: HOSTILE, state: 'absent' }, { [HOSTILE]: present('x') }))!;
  t.like(removal, { kind: 'remove-path', path: HOSTILE });
  t.true('noop' in plan(file, { path: HOSTILE, state: 'absent' }, { [HOSTILE]: absent }));
});

test('directory: created, converged, and a file in the way is an error naming it', (t) => {
  const dir = '/srv/my dir/ü';
  t.like(changeOf(plan(directory, { path: dir, mode: '0700' }, { [dir]: absent })), { kind: 'ensure-directory', path: dir });
  t.true('noop' in plan(directory, { path: dir, mode: '0700' }, { [dir]: { exists: true, type: 'directory', mode: '0700', owner: 'root', group: 'root' } as FileFact }));
  t.throws(() => plan(directory, { path: dir }, { [dir]: present('x') }), { message: /my dir\/ü/ });
});

test('line: replaces the line the regexp matches (never appends a duplicate), appends when absent, removes', (t) => {
  const path = '/etc/default/ku be';
  const text = 'A=1\nKUBELET_OPTS="--x=$y"\nB=2\n';
  const replaced = changeOf(plan(line, { path, regexp: '^KUBELET_OPTS=', line: 'KUBELET_OPTS="--x=\'$z\'"' }, { [path]: present(text) }))!;
  t.is(bytesOf(replaced).toString(), 'A=1\nKUBELET_OPTS="--x=\'$z\'"\nB=2\n');
  t.true('noop' in plan(line, { path, regexp: '^KUBELET_OPTS=', line: 'KUBELET_OPTS="--x=$y"' }, { [path]: present(text) }));
  const appended = changeOf(plan(line, { path, line: 'C=ünï' }, { [path]: present('A=1') }))!;
  t.is(bytesOf(appended).toString(), 'A=1\nC=ünï\n');
  const removed = changeOf(plan(line, { path, regexp: '^B=', state: 'absent' }, { [path]: present(text) }))!;
  t.is(bytesOf(removed).toString(), 'A=1\nKUBELET_OPTS="--x=$y"\n');
});

test('command: creates / removes / unless guards decide; the argv is kept as an array', (t) => {
  const argv = ['sh', '-c', 'echo "$1" > "$2"', 'x', "/tmp/it's here"];
  t.true('noop' in plan(command, { argv, creates: '/tmp/done' }, { '/tmp/done': present('') }));
  t.like(changeOf(plan(command, { argv, creates: '/tmp/done' }, { '/tmp/done': absent })), { kind: 'run-command', argv, reason: '/tmp/done absent' });
  t.true('noop' in plan(command, { argv, removes: '/tmp/x' }, { '/tmp/x': absent }));
  const unless = ['grep', '-q', 'x', '/etc/x'];
  t.true('noop' in plan(command, { argv, unless }, {}, { [`unless:${JSON.stringify(unless)}`]: { exitCode: 0 } }));
  t.like(changeOf(plan(command, { argv, unless }, {}, { [`unless:${JSON.stringify(unless)}`]: { exitCode: 1 } })), { reason: 'grep -q x /etc/x failed' });
});

test('link: created, converged, re-pointed; a regular file in the way is an error', (t) => {
  const p = '/etc/nginx/sites-enabled/my site';
  const target = '/etc/nginx/sites-available/my site';
  t.like(changeOf(plan(link, { path: p, target }, { [p]: absent })), { kind: 'symlink', target });
  t.true('noop' in plan(link, { path: p, target }, { [p]: { exists: true, type: 'symlink', target } as FileFact }));
  t.like(changeOf(plan(link, { path: p, target }, { [p]: { exists: true, type: 'symlink', target: '/old' } as FileFact })), { reason: 'points to /old' });
  t.throws(() => plan(link, { path: p, target }, { [p]: present('x') }), { message: /not a link/ });
});

test('copy and template: controller files, bytes exact; a missing template variable is an error naming it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-copy-'));
  const src = join(dir, "source file 'ü'.bin");
  const bytes = Buffer.from([0, 1, 2, 255, 10, 36, 34]);
  writeFileSync(src, bytes);
  const c = changeOf(plan(copy, { src, path: HOSTILE }, { [HOSTILE]: absent }))!;
  t.deepEqual(bytesOf(c), bytes);
  const tpl = changeOf(plan(template, { src: 'hostile.hbs', path: HOSTILE }, { [HOSTILE]: absent }))!;
  t.is(bytesOf(tpl).toString(), 'cluster=prod $x "q" host=m1\nquote="it\'s"\n');
  const missing = { ...ctx, vars: { q: 1 } };
  t.throws(() => template.module.plan({ src: 'hostile.hbs', path: HOSTILE }, factsOf({ [HOSTILE]: absent }), missing), { message: /template variable "cluster" is not defined/ });
});

test('kubeconfig: server, CA and client by path; embedded client keys make the file secret', async (t) => {
  const { kubeconfig } = await import('../../src/modules/index.ts');
  const path = '/root/.kube/my config';
  const byPath = changeOf(plan(kubeconfig, {
    path, server: 'https://10.0.0.1:6443', clusterName: 'prod', userName: 'system:node:w1',
    ca: { path: '/srv/kubernetes/ca.crt' }, client: { certPath: '/srv/kubernetes/kubelet.crt', keyPath: '/srv/kubernetes/kubelet.key' },
  }, { [path]: absent }))!;
  const text = bytesOf(byPath).toString();
  t.regex(text, /server: https:\/\/10\.0\.0\.1:6443/);
  t.regex(text, /certificate-authority: \/srv\/kubernetes\/ca\.crt/);
  t.regex(text, /client-key: \/srv\/kubernetes\/kubelet\.key/);
  t.like(byPath['after'], { mode: '0600' });
  t.falsy(byPath['secret']);
  const embedded = changeOf(plan(kubeconfig, {
    path, server: 'https://m:6443', ca: { path: '/ca' }, client: { embed: { certPem: 'CERT', keyPem: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n' } },
  }, { [path]: absent }))!;
  t.true(embedded['secret'] as boolean);
});

test('wait: a URL or a command, with timeout and interval, planned as a wait step', async (t) => {
  const { wait } = await import('../../src/modules/index.ts');
  const c = changeOf(plan(wait, { url: 'https://127.0.0.1:6443/version', caFile: '/srv/kubernetes/ca.crt', timeoutSeconds: 30 }, {}))!;
  t.is(c['kind'], 'wait');
  t.is(c['timeoutSeconds'], 30);
  t.true((c['argv'] as string[]).includes('https://127.0.0.1:6443/version'));
  t.true(wait.module.validate({} as never).length > 0, 'url or argv is required');
});

test('line: bytes kept, owner/group/mode like the other writers, create only when a line is written, validate carried', (t) => {
  const path = '/etc/app.conf';
  const latin = (s: string): FileFact => ({ ...present(''), content: Buffer.from(s, 'latin1'), size: s.length } as FileFact);
  const edited = changeOf(plan(line, { path, regexp: '^b=', line: 'b=2', validate: ['check', '%s'] }, { [path]: latin('a=\xe9\r\nb=1\nc=\xff') }))!;
  t.is(bytesOf(edited).toString('latin1'), 'a=\xe9\r\nb=2\nc=\xff');
  t.deepEqual(edited['validate'], ['check', '%s']);
  const chown = changeOf(plan(line, { path, line: 'b=1', owner: 'daemon', group: 'bin', mode: '0600' }, { [path]: latin('b=1\n') }))!;
  t.like(chown, { kind: 'set-attributes', after: { owner: 'daemon', group: 'bin', mode: '0600' } });
  t.true('noop' in plan(line, { path, regexp: '^x=(\\d)', line: 'x=\\1', backrefs: true, create: true }, { [path]: absent }));
  t.like(changeOf(plan(line, { path, line: 'x=1', create: true, owner: 'daemon' }, { [path]: absent })), { kind: 'write-file', after: { owner: 'daemon' } });
  t.throws(() => plan(line, { path, line: 'x=1' }, { [path]: absent }), { message: /does not exist/ });
  t.regex(line.module.validate({ path, line: 'x', regexp: '(?<n>x)' }).join(), /rig does not support named groups/);
  t.regex(line.module.validate({ path, line: 'x', searchString: 'x', backrefs: true }).join(), /backrefs: cannot be used with searchString/);
});
