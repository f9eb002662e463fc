/**
 * Inventory parsing and resolution on fixtures (no Ansible needed; test/e2e/inventory-ansible.test.ts compares with
 * ansible-inventory). Typing as Ansible types values, precedence, ranges, hostile names, and bad input with file:line.
 */
import test from 'ava';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RigError } from '../../src/errors.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';
import { evalPythonLiteral } from '../../src/inventory/python-literal.ts';
import { expandHostRange } from '../../src/inventory/raw-inventory.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';

const FIX = join(PROJECT_ROOT, 'test', 'fixtures', 'inventories');

function write(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rig-inv-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('Python literals: what Ansible INI values become', (t) => {
  const ok = (src: string) => evalPythonLiteral(src)?.value;
  t.is(ok('True'), true);
  t.is(ok('42'), 42);
  t.is(ok('-0x10'), -16);
  t.is(ok('1_000'), 1000);
  t.is(ok('.5'), 0.5);
  t.is(ok("'it''s'"), 'its');
  t.is(ok('"caf\\u00e9" # comment'), 'café');
  t.is(ok("r'\\n'"), '\\n');
  t.deepEqual(ok("[1, 'two', (3,), {'k': None}]"), [1, 'two', [3], { k: null }]);
  t.deepEqual(ok('{True: 1}'), { true: 1 });
  for (const raw of ['yes', '007', 'a b', '$HOME', 'key=value', '1 + 2', '[1, 2', "'open", 'None None']) t.is(evalPythonLiteral(raw), undefined, raw);
});

test('host ranges: numeric with padding and step, letters, errors', (t) => {
  t.deepEqual(expandHostRange('node[01:10:3]'), ['node01', 'node04', 'node07', 'node10']);
  t.deepEqual(expandHostRange('rack[a:c]-[1:2]'), ['racka-1', 'racka-2', 'rackb-1', 'rackb-2', 'rackc-1', 'rackc-2']);
  t.deepEqual(expandHostRange('node[3:1]'), [], 'a reversed range stands for no host, as in Ansible');
  t.deepEqual(expandHostRange('n[:2]'), ['n0', 'n1', 'n2']);
  t.throws(() => expandHostRange('node[a:3]'), { message: /invalid literal for int/ });
  t.throws(() => expandHostRange('n[01:3]'), { message: /equal-length/ });
});

test('INI fixture: typing, precedence, groups and connection variables', async (t) => {
  const inv = await loadInventory(join(FIX, 'ini-constructs', 'hosts.ini'));
  const n1 = inv.getHost('node01');
  t.is(n1.vars['bool_true'], true);
  t.is(n1.vars['yes_string'], 'yes');
  t.is(n1.vars['int_value'], 42);
  t.is(n1.vars['hex'], 31);
  t.is(n1.vars['adjacent'], 'its');
  t.is(n1.vars['equals_in'], 'key=value=more');
  t.is(n1.vars['dollar'], '$HOME and ${PATH}');
  t.is(n1.vars['kubelet_flags'], '--max-pods=110 --node-labels=role=worker');
  t.is(n1.vars['cluster_name'], 'prod', 'child group beats all');
  t.is(n1.vars['role'], 'worker-override', 'group_vars/workers/ files merged in name order');
  t.deepEqual(n1.vars['nested'], { replaced: 'by-k8s_cluster' }, 'hashes are replaced, not merged');
  t.is(inv.getHost('node04').vars['rack'], 'host-vars-wins');
  t.is(inv.getHost('master1').vars['kube_version'], 'v1.29.3', 'group_vars priority is a plain var, not a priority');
  const edge = inv.getHost('edge.example.com');
  t.is(edge.port, 2222);
  t.is(edge.address, '198.51.100.7');
  const m1 = inv.getHost('master1');
  t.is(m1.address, '10.0.0.1', 'host_vars ansible_host wins');
  t.is(m1.user, 'admin');
  t.true(m1.become);
  t.is(inv.getHost('wörker-ünïcode').vars['label'], 'ça va');
  t.deepEqual(inv.selectHosts('ungrouped').map((h) => h.name), ['ungrouped-box']);
});

test('YAML fixture: YAML 1.1 typing, hostile host names and values', async (t) => {
  const inv = await loadInventory(join(FIX, 'yaml-constructs', 'hosts.yml'));
  const b = inv.getHost('bastion.example.com');
  t.is(b.vars['yes_bool'], true);
  t.is(b.vars['quoted_yes'], 'yes');
  t.is(b.vars['octal_looking'], 493);
  t.is(b.vars['date_like'], '2024-01-01');
  t.is(inv.getHost('node-y').vars['rack'], 'r=1, "quoted"');
  t.truthy(inv.getHost('spaced host'));
  t.is(inv.getHost('ünïcode-host').vars['motd'], 'héllo wörld ✓');
  t.is(inv.getHost('master1').vars['role'], 'first-master');
  t.is(inv.getHost('master2').vars['role'], 'master', 'masters has ansible_group_priority 5, so it beats k8s_cluster');
});

const bad: Array<[string, Record<string, string>, RegExp, RegExp]> = [
  ['bad YAML', { 'h.yml': 'all:\n  hosts:\n    a: [\n' }, /invalid YAML/, /h\.yml:\d/],
  ['unknown child', { 'h.ini': '[a]\nx\n[b:children]\na\nzz\n' }, /names group "zz"/, /h\.ini:5/],
  ['bad range', { 'h.ini': '[a]\nnode[01:3]\n' }, /equal-length begin and end/, /h\.ini:2/],
  ['conflicting duplicate host', { 'h.ini': '[a]\nx port_=1\n[b]\nx port_=2\n' }, /x is declared twice with conflicting values for port_: 1 \(.*h\.ini:2\) and 2/, /h\.ini:4/],
  ['unterminated quote', { 'h.ini': '[a]\nx v="open\n' }, /No closing quotation/, /h\.ini:2/],
  ['vars without =', { 'h.ini': '[a:vars]\njust-a-word\n' }, /expected key=value/, /h\.ini:2/],
  ['directory of .ini only', { 'inv/x.ini': '[a]\nx\n' }, /no inventory file in directory/, /inv/],
];
for (const [name, files, message, where] of bad) {
  test(`bad inventory: ${name} is an error naming the file and line`, async (t) => {
    const dir = write(files);
    const src = join(dir, Object.keys(files)[0]!.includes('/') ? Object.keys(files)[0]!.split('/')[0]! : Object.keys(files)[0]!);
    const e = await t.throwsAsync(loadInventory(src));
    t.true(e instanceof RigError);
    t.is((e as RigError).code, 'INVENTORY');
    t.regex(e!.message, message);
    t.regex(`${(e as RigError).describeWhere()} ${e!.message}`, where);
  });
}

test('the same host declared twice with the same vars is fine', async (t) => {
  const dir = write({ 'h.ini': '[a]\nx v=1\n[b]\nx v=1\n' });
  const inv = await loadInventory(join(dir, 'h.ini'));
  t.deepEqual(inv.getHost('x').groups, ['all', 'a', 'b']);
});

test('a host listed again later keeps the later line\'s variables; host:PORT counts only where the host first appears', async (t) => {
  const dir = write({ 'h.ini': '[a]\nx:2222 v=1\ny ansible_port=7\n[b]\nx w=2\nx:3333\ny:4444\n[c]\nz:22 ansible_port=23\n' });
  const inv = await loadInventory(join(dir, 'h.ini'));
  t.deepEqual(inv.getHost('x').vars, { ansible_port: 2222, v: 1, w: 2 });
  t.is(inv.getHost('y').port, 7);
  t.is(inv.getHost('z').port, 23, 'an inline ansible_port beats host:PORT on the same line');
});

test('YAML: PyYAML 1.1 scalars, host keys with ports, !unsafe, big integers', async (t) => {
  const dir = write({ 'h.yml': 'all:\n  hosts:\n    "web:2200":\n      a: y\n      b: 1e3\n      c: 1.0e+3\n      d: 08\n      e: 017\n      f: 0o17\n      g: 1:20\n      h: .inf\n      i: !!str 5\n      j: !unsafe "{{ x }}"\n      k: 123456789012345678901234567890\n      l: 2001-12-14 21:59:43.10 -5\n' });
  const inv = await loadInventory(join(dir, 'h.yml'));
  const v = inv.getHost('web').vars;
  t.is(v['ansible_port'], 2200);
  t.like(v, { a: 'y', b: '1e3', c: 1000, d: '08', e: 15, f: '0o17', g: 80, h: Infinity, i: '5', l: '2001-12-14T21:59:43.100000-05:00' });
  t.is(v['k'], 123456789012345678901234567890n);
  t.is(String(v['j']), '{{ x }}');
});

test('group_vars: NAME wins over NAME.yml; a NAME/ directory is read recursively, hidden and backup files skipped', async (t) => {
  const dir = write({
    'h.ini': '[web]\nw1\n[db]\nd1\n',
    'group_vars/web': 'a: plain\n', 'group_vars/web.yml': 'a: ignored\nb: ignored\n',
    'group_vars/db/10.yml': 'a: 1\n', 'group_vars/db/sub/20': 'a: 2\nb: 2\n', 'group_vars/db/.hidden.yml': 'a: no\n', 'group_vars/db/30.yml~': 'b: no\n',
    'group_vars/nosuch.yml': 'a: [broken\n',
  });
  const inv = await loadInventory(join(dir, 'h.ini'));
  t.deepEqual(inv.getHost('w1').vars, { a: 'plain' });
  t.deepEqual(inv.getHost('d1').vars, { a: 2, b: 2 });
});

test('dangling symlinks: skipped in a group_vars directory (as Ansible), an INVENTORY error in a directory source', async (t) => {
  const dir = write({ 'inv/hosts': '[web]\nw1\n', 'inv/group_vars/web/a.yml': 'a: 1\n' });
  symlinkSync(join(dir, 'nowhere'), join(dir, 'inv', 'group_vars', 'web', 'b.yml'));
  t.deepEqual((await loadInventory(join(dir, 'inv'))).getHost('w1').vars, { a: 1 });
  symlinkSync(join(dir, 'nowhere'), join(dir, 'inv', 'more'));
  const e = await t.throwsAsync(loadInventory(join(dir, 'inv')));
  t.is((e as RigError).code, 'INVENTORY');
  t.regex(e!.message, /cannot read .*more: ENOENT/);
});
