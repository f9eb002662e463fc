/**
 * Differential test: generated inventories (INI, YAML, directories, two -i sources, with group_vars/ and host_vars/
 * files and directories) read by rig and by the real `ansible-inventory --list` (ansible-core 2.14 from Debian,
 * installed by scripts/install-deps.sh), and `--host NAME` for one host of each accepted case. Both must accept with
 * the same JSON, or both refuse. Deliberate differences are listed in EXPECTED below with the reason (and in
 * docs/inventory.md).
 *
 * Ansible is imported once by test/helpers/ansible-inventory-driver.py, which forks per case and runs the real
 * `ansible-inventory` entry point in the child. RIG_DIFF_SEED (default 20261206) and RIG_DIFF_CASES (default 600)
 * choose the cases; RIG_DIFF_SHOW=N prints the first N unexpected differences in full, RIG_DIFF_REPORT=FILE writes all.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { RigError } from '../../src/errors.ts';
import { formatAnsibleJson, hostInventory, listInventory } from '../../src/inventory/ansible-inventory-json.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';
import { PROJECT_ROOT } from '../helpers/run-rig.ts';
import { seededRandom as mulberry32 } from '../helpers/seeded-random.ts';

const SEED = Number(process.env['RIG_DIFF_SEED'] ?? 20261206);
const CASES = Number(process.env['RIG_DIFF_CASES'] ?? 600);
const SHOW = Number(process.env['RIG_DIFF_SHOW'] ?? 3);

/** Deliberate differences: rig's outcome is accepted when Ansible's differs in exactly this way. */
const EXPECTED = {
  'conflicting-duplicate': 'a host declared twice with different values for one variable is an error in rig (Ansible silently keeps the last one)',
  'integral-float': 'a float with no fraction (YAML 1.0e+3, !!float 3, INI 3.0) prints as an integer (JavaScript has one number type; the value is equal)',
} as const;
type Expected = keyof typeof EXPECTED;

// ---------------------------------------------------------------------------------------------------------------
// Seeded generator


class Gen {
  private readonly rnd: () => number;
  constructor(seed: number) { this.rnd = mulberry32(seed); }
  int(n: number): number { return Math.floor(this.rnd() * n); }
  chance(p: number): boolean { return this.rnd() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  some<T>(xs: readonly T[], max: number): T[] {
    const n = this.int(max + 1);
    return Array.from({ length: n }, () => this.pick(xs));
  }
}

const HOSTS = ['web1', 'web2', 'db-1.example.com', 'node01', 'h_1', '10.0.0.5', 'wörker', 'localhost', 'a.b-c', 'ünï', 'Web1', 'x9'];
const HOST_SPECS = [
  ...HOSTS, 'web1:2222', 'node01:22', '10.0.0.5:2200', 'db-1.example.com:0', 'node[1:3]', 'node[01:03]', 'r[a:c]', 'x[1:6:2]',
  'n[:2]', 'z[1:2]-[a:b]', 'q[1:2]:2022', '2001:db8:0:0:0:0:0:1', '2001:db8::1', '[2001:db8::2]:2222', 'fe80::1',
  '[10.0.0.7]:23', 'ünï:2022', 'r[a:C]', 'FE80::A',
];
const HOSTILE_HOST_SPECS = ['node[3:1]', 'n[01:3]', 'bad[a:3]', 'host:name', 'weird:', 'a[1:2', 'dash-', '-lead', 'sp%ce', '---', 'h.', '.h', 'x[1:4:0]', '[h]:22', 'a:b:c:22', 'r[A:c]'];
const GROUPS = ['web', 'db', 'k8s_cluster', 'workers', 'grp-dash', 'ünicode', 'masters', 'etcd', 'Web', 'g.dot', 'x9'];
const VAR_NAMES = ['v1', 'v2', 'role', 'ansible_port', 'ansible_host', 'ansible_user', 'x_password', 'nested', 'Role', 'v-dash', 'vär', '10', 'omit', 'inventory_dir', 'groups'];
const INI_VALUES = [
  '1', '0x1f', '007', '0', 'True', 'false', 'yes', 'None', "'quoted str'", '"dq \\" in"', "[1, 'a']", "{'k': 1, 'l': [None]}",
  '1_000', '3.0', '2.5', '1e3', '-5', '+7', 'a=b', '$HOME', '12345678901234567890123', '"caf\\u00e9"', "'it''s'",
  'x#y', 'ça', "u'x'", "b'y'", '(1, 2)', '()', '-0x10', '0o17', '0b101', "r'\\n'", '"a b"', '""', "''", '1.5e-7', '1e16',
  '.5', '5.', "{'a': 1,}", '{"k": "v"}', '-', '~', 'null', "'\\x41'", '0_0', '09', '[[]]', '{True: 1}', '10000000000000000.0',
  '-0', '-0.0', "{1: 'x', 'y': 2}", '1e400', '0xffffffffffffffffff', "'''tri'''", '"{{ v }}"',
];
const HOSTILE_INI_VALUES = ['"unterminated', '[', '[1,', 'True False', '1j', '{1, 2}', "[b'x']", '"\\N{DASH}"', '1__0', 'a\\ b', "'a' 'b'", "{[1]: 2}"];
const YAML_VALUES = [
  'yes', 'no', 'on', 'Off', 'y', 'n', 'True', 'TRUE', 'tRue', 'null', '~', '', '1e3', '1.0e+3', '1.0e3', '08', '0o17', '0x1f',
  '0b101', '017', '1_000', '1:20', '-1:30', '.inf', '-.inf', '.NaN', '.5', '3.', '2024-01-01', '2001-12-14t21:59:43.10-05:00',
  '2001-12-14 21:59:43.10', '2001-12-14 21:59:43 +1', '2001-12-14T21:59:43Z', '2001-1-4', '12345678901234567890123', '-0',
  '+12', '!!float 3', '!!str 08', '!!int "42"', '!!bool "yes"', "!unsafe '{{ x }}'", '!unsafe 5', '"quoted yes"', "'single'",
  '[1, 2, yes]', '{a: 1, b: [x]}', "'{{ lookup }}'", 'café', '"tab\\there"', '"\\u00e9"', '0.1', '1.5e-7', '10000000000000000.0',
  '-0.0', '0x_1F', '1__2', '6.8523015e+5', '685.230_15e+03', '190:20:30.15', '!!null x', '!!float "1e3"', '!!str', '=',
  '"multi\\nline"', '>-\n      folded\n      text', '|\n      literal\n      text', '1e400', '[a, {b: c}]', '"\\x41"',
  '0.', '+.inf', '2001-12-14 21:59:43.1234567', '1_2:3',
];
const HOSTILE_YAML_VALUES = ['=', '- - 1', 'a: b: c', '!foo x', '!!null x', '!!float "1e3"', '&anc 5', '*nosuch', '!vault x', '"open', '[1, 2', '<<', '2001-13-14', '0b', '!!binary aGk=', '- 1\n      - 2'];

interface Case { readonly id: number; readonly kind: string; readonly files: Record<string, string>; readonly sources: readonly string[] }

const HOSTILE = 0.04;
const iniValue = (g: Gen): string => (g.chance(HOSTILE) ? g.pick(HOSTILE_INI_VALUES) : g.pick(INI_VALUES));
const hostSpec = (g: Gen): string => (g.chance(HOSTILE) ? g.pick(HOSTILE_HOST_SPECS) : g.pick(HOST_SPECS));
const hostSpecs = (g: Gen, max: number): string[] => Array.from({ length: g.int(max + 1) }, () => hostSpec(g));

/** An INI host-line value: quoted (as people do) when it holds spaces, most of the time. */
function iniWord(g: Gen, v: string): string {
  if (!/\s/.test(v) || g.chance(0.1)) return v;
  return v.includes("'") ? `"${v.replace(/["\\]/g, '\\$&')}"` : `'${v}'`;
}

function iniHostLine(g: Gen, spec: string): string {
  const vars = g.some(VAR_NAMES, 3).map((k) => `${k}${g.chance(0.05) ? ' ' : ''}=${iniWord(g, iniValue(g))}`);
  const comment = g.chance(0.1) ? `  ${g.pick(['# note', '# note', '; not a comment', '#x=1'])}` : '';
  return [spec, ...vars].join(g.chance(0.1) ? '\t' : ' ') + comment;
}

function genIni(g: Gen): string {
  const lines: string[] = [];
  if (g.chance(0.3)) for (const h of hostSpecs(g, 2)) lines.push(iniHostLine(g, h));
  const groups = g.some(GROUPS, 4);
  if (g.chance(0.15)) groups.push(g.pick(['all', 'ungrouped']));
  for (const grp of groups) {
    const kind = g.pick(['hosts', 'hosts', 'hosts', 'vars', 'children']);
    lines.push(kind === 'hosts' ? `[${grp}]${g.chance(0.1) ? ' # section' : ''}` : `[${grp}:${kind}]`);
    if (kind === 'hosts') for (const h of hostSpecs(g, 3)) lines.push(iniHostLine(g, h));
    else if (kind === 'vars') {
      for (const k of g.some([...VAR_NAMES, 'ansible_group_priority'], 3)) {
        const v = k === 'ansible_group_priority' ? g.pick(['1', '5', '10', '-2', '3', '"3"', '2.7', 'x']) : iniValue(g);
        lines.push(`${k}${g.chance(0.3) ? ' = ' : '='}${v}${g.chance(0.1) ? ' # trailing comment' : ''}`);
      }
    } else for (const c of g.some(GROUPS, 2)) if (c !== grp || g.chance(0.1)) lines.push(`${c}${g.chance(0.1) ? ' # child' : ''}`);
    if (g.chance(0.2)) lines.push(g.chance(0.2) ? g.pick(['[bad group]', 'just words here', '[x:unknown]', '[g]extra']) : g.pick(['  ', '; comment', '# c', '\t# indented']));
    if (g.chance(0.2)) lines.push('');
  }
  // a host listed again in another section, sometimes with more (or conflicting) vars
  if (g.chance(0.4)) {
    const h = g.pick(HOSTS);
    lines.push(`[${g.pick(GROUPS)}]`, iniHostLine(g, h));
    if (g.chance(0.5)) lines.push(`[${g.pick(GROUPS)}]`, iniHostLine(g, h));
  }
  return (g.chance(0.03) ? '\ufeff' : '') + lines.join(g.chance(0.1) ? '\r\n' : '\n') + (g.chance(0.8) ? '\n' : '');
}

function yamlValue(g: Gen, indent: string): string {
  const v = g.chance(HOSTILE) ? g.pick(HOSTILE_YAML_VALUES) : g.pick(YAML_VALUES);
  return v.replace(/\n {6}/g, `\n${indent}  `);
}

function yamlVars(g: Gen, indent: string, names = VAR_NAMES): string[] {
  return g.some(names, 3).map((k) => `${indent}${k}: ${yamlValue(g, indent)}`);
}

function genYamlGroup(g: Gen, name: string, indent: string, depth: number): string[] {
  const out = [`${indent}${name}:${g.chance(0.06) ? ` ${g.pick(['', '~', '[]', 'x', '{}'])}` : ''}`];
  if (out[0]!.endsWith(':') === false) return out;
  const i2 = `${indent}  `; const i3 = `${i2}  `; const i4 = `${i3}  `;
  for (const section of g.some(['hosts', 'hosts', 'vars', 'children', 'other'], 3)) {
    if (section === 'hosts') {
      if (g.chance(0.04)) { out.push(`${i2}hosts: ${g.pick(['[a, b]', 'solo', '~', '5'])}`); continue; }
      out.push(`${i2}hosts:`);
      for (const h of [...hostSpecs(g, 3), ...(g.chance(0.05) ? [g.pick(['1', 'yes', '"quoted host"', 'spaced host', 'null', '2024-01-01', '"1"', '!unsafe uh'])] : [])]) {
        const key = /[:#[\]{},&*!|>'"%@`]|^-|^\s|\s$/.test(h) && !h.startsWith('"') ? `"${h}"` : h;
        if (g.chance(0.3)) { out.push(`${i3}${key}:${g.chance(0.1) ? ` ${g.pick(['', '5', '0', '""', '[x]'])}` : ''}`); continue; }
        out.push(`${i3}${key}:`, ...yamlVars(g, i4));
        if (out.at(-1) === `${i3}${key}:` && g.chance(0.5)) out.push(`${i4}v1: 1`);
      }
    } else if (section === 'vars') {
      out.push(`${i2}vars:`, ...yamlVars(g, i3, [...VAR_NAMES, 'ansible_group_priority']));
    } else if (section === 'children') {
      out.push(`${i2}children:`);
      for (const c of g.some(GROUPS, 2)) {
        if (c === name && g.chance(0.9)) continue;
        if (depth < 2 && g.chance(0.6)) out.push(...genYamlGroup(g, c, i3, depth + 1));
        else out.push(`${i3}${c}:`);
      }
    } else if (g.chance(0.3)) out.push(`${i2}${g.pick(['other', 'host', 'var'])}: ${g.pick(['{}', '[1]', 'x', '{a: 1}'])}`);
  }
  return out;
}

function genYaml(g: Gen): string {
  const lines: string[] = [];
  if (g.chance(0.05)) lines.push(g.pick(['---', '# comment', '%YAML 1.1\n---']));
  lines.push(...genYamlGroup(g, 'all', '', 0));
  for (const grp of g.some(GROUPS, 2)) lines.push(...genYamlGroup(g, grp, '', 1));
  if (g.chance(0.05)) lines.push(g.pick(['plugin: yaml', '- a', 'ungrouped:', '1: {}', 'all:', '"x": {hosts: {h9: {v1: 2}}}', 'base: &b {vars: {v1: 1}}', 'merged: {<<: *b, hosts: {m1: }}']));
  if (g.chance(0.02)) lines.push('\tbad: tab');
  return `${g.chance(0.03) ? '\ufeff' : ''}${lines.join('\n')}\n`;
}

function genVarsText(g: Gen): string {
  const r = g.int(20);
  if (r === 0) return '';
  if (r === 1) return '[]';
  if (r === 2) return '"just a string"';
  if (r === 3) return '- a\n- b\n';
  if (r <= 6) {
    const obj: Record<string, unknown> = {};
    for (const k of g.some(VAR_NAMES, 3)) obj[k] = g.pick([1, 'x', true, null, [1, 'a'], { a: 1 }, 1.5, '{{ v }}']);
    const numbers = g.pick(['', ', "f": 1e2', ', "g": 12345678901234567890', ', "h": 1.0', ', "i": NaN', ', "j": -0.0']);
    return `${JSON.stringify(obj).slice(0, -1)}${Object.keys(obj).length ? numbers : numbers.slice(1)}}`;
  }
  return `${yamlVars(g, '').join('\n')}\n`;
}

function genVarsFiles(g: Gen, base: string, files: Record<string, string>): void {
  for (const [dir, names] of [['group_vars', ['all', ...GROUPS, 'ungrouped', 'nosuch']], ['host_vars', [...HOSTS, 'node1', 'node2', 'nosuch']]] as const) {
    if (!g.chance(0.6)) continue;
    for (const name of g.some(names, 3)) {
      const form = g.int(10);
      const p = `${base}${dir}/${name}`;
      if (form <= 2) files[`${p}.yml`] = genVarsText(g);
      else if (form === 3) files[p] = genVarsText(g);
      else if (form === 4) files[`${p}.${g.pick(['yaml', 'json', 'txt', 'yml~', 'ini'])}`] = genVarsText(g);
      else if (form === 5) { files[`${p}.yml`] = genVarsText(g); files[p] = genVarsText(g); }
      else {
        for (const f of g.some(['a.yml', 'b', 'c.yaml', 'd.json', '.hidden.yml', 'e.yml~', 'f.txt', 'sub/g.yml', 'sub/deeper/h', 'x.d/i.yml', 'z.yml'], 4)) {
          files[`${p}/${f}`] = genVarsText(g);
        }
      }
    }
  }
}

function genCase(seed: number, id: number): Case {
  const g = new Gen(seed * 1_000_003 + id);
  const files: Record<string, string> = {};
  const kind = g.pick(['ini', 'ini', 'ini-noext', 'yaml', 'yaml', 'yaml-noext', 'dir', 'two-sources']);
  let source: string;
  if (kind === 'two-sources') {
    // `-i a -i b`: in one directory (one group_vars/) or in two (each with its own)
    const apart = g.chance(0.5);
    const sources = apart ? ['a/hosts.ini', 'b/hosts.yml'] : ['hosts.ini', 'more.yml'];
    files[sources[0]!] = genIni(g);
    files[sources[1]!] = genYaml(g);
    for (const base of apart ? ['a/', 'b/'] : ['']) genVarsFiles(g, base, files);
    return { id, kind, files, sources };
  }
  if (kind === 'ini') { source = 'hosts.ini'; files[source] = genIni(g); }
  else if (kind === 'ini-noext') { source = 'hosts'; files[source] = genIni(g); }
  else if (kind === 'yaml') { source = g.pick(['hosts.yml', 'hosts.yaml', 'hosts.json']); files[source] = genYaml(g); }
  else if (kind === 'yaml-noext') { source = 'hosts'; files[source] = genYaml(g); }
  else {
    source = 'inv';
    for (const f of g.some(['01-hosts', '02-more.yml', '03-x.ini', '.hidden', 'notes.md', 'backup~', 'sub/04-deep', '05.yaml', '06.cfg'], 4)) {
      files[`inv/${f}`] = /yml|yaml/.test(f) ? genYaml(g) : genIni(g);
    }
    if (!Object.keys(files).length) files['inv/01-hosts'] = genIni(g);
  }
  genVarsFiles(g, kind === 'dir' ? 'inv/' : '', files);
  return { id, kind, files, sources: [source] };
}

// ---------------------------------------------------------------------------------------------------------------
// The real ansible-inventory, through the forking driver

interface AnsibleResult { readonly code: number; readonly stdout: string; readonly stderr: string }

function ansiblePython(): string {
  let shebang = '';
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    try { shebang = readFileSync(join(dir, 'ansible-inventory'), 'utf8').split('\n')[0]!; break; } catch { /* next */ }
  }
  const m = /^#!\s*(\S+)/.exec(shebang);
  if (!m) throw new Error('ansible-inventory not found on PATH (scripts/install-deps.sh installs Debian\'s ansible-core)');
  return m[1]!;
}

function runCommand(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<AnsibleResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** The environment both the driver and the command run with: no config file, unreadable sources are errors. */
function driverEnv(cfg: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ANSIBLE_')) env[k] = v;
  Object.assign(env, {
    ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_DEPRECATION_WARNINGS: 'False',
    ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
    // rig refuses an inventory it cannot read; make Ansible do the same instead of warning and going on
    ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True', ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True',
    ANSIBLE_HOME: join(dirname(cfg), 'home'), ANSIBLE_LOCAL_TEMP: join(dirname(cfg), 'tmp'),
  });
  return env;
}

async function runAnsible(requests: ReadonlyArray<{ argv: string[]; cwd: string }>, cfg: string): Promise<AnsibleResult[]> {
  const env = driverEnv(cfg);
  const child = spawn(ansiblePython(), ['-I', join(PROJECT_ROOT, 'test', 'helpers', 'ansible-inventory-driver.py')], { env, cwd: dirname(cfg), stdio: ['pipe', 'pipe', 'inherit'] });
  const results: AnsibleResult[] = [];
  const rl = createInterface({ input: child.stdout });
  const done = new Promise<void>((resolve, reject) => {
    rl.on('line', (l) => { results.push(JSON.parse(l) as AnsibleResult); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ansible driver exited ${code}`))));
  });
  for (const r of requests) child.stdin.write(`${JSON.stringify(r)}\n`);
  child.stdin.end();
  await done;
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing JSON texts: numbers keep their text, objects are compared with sorted keys

type J = null | boolean | string | { readonly num: string } | J[] | { readonly obj: Array<[string, J]> };

function parseJsonText(text: string): J {
  let i = 0;
  const ws = (): void => { while (/\s/.test(text[i] ?? '')) i++; };
  const value = (): J => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++; const obj: Array<[string, J]> = []; ws();
      if (text[i] === '}') { i++; return { obj }; }
      for (;;) {
        ws(); const k = value() as string; ws(); i++; // ':'
        obj.push([k, value()]); ws();
        if (text[i++] === '}') return { obj };
      }
    }
    if (ch === '[') {
      i++; const arr: J[] = []; ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) { arr.push(value()); ws(); if (text[i++] === ']') return arr; }
    }
    if (ch === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/s.exec(text.slice(i))!;
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(?:Infinity|NaN|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(text.slice(i));
    if (!m) throw new Error(`bad JSON at ${i}: ${text.slice(i, i + 20)}`);
    i += m[0].length;
    return { num: m[0] };
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return v;
}

const isNum = (v: J): v is { num: string } => typeof v === 'object' && v !== null && 'num' in v;
const isObj = (v: J): v is { obj: Array<[string, J]> } => typeof v === 'object' && v !== null && 'obj' in v;

/** Differences between rig's tree and Ansible's, with the deliberate ones classified. */
function diffJson(rig: J, ans: J, path: string, out: { unexpected: string[]; expected: Set<Expected> }): void {
  if (isNum(rig) && isNum(ans)) {
    if (rig.num === ans.num) return;
    if (/^-?\d+\.0$/.test(ans.num) && rig.num === ans.num.slice(0, -2).replace(/^-0$/, '0')) { out.expected.add('integral-float'); return; }
    out.unexpected.push(`${path}: rig ${rig.num}, ansible ${ans.num}`);
    return;
  }
  if (isObj(rig) && isObj(ans)) {
    const r = new Map(rig.obj); const a = new Map(ans.obj);
    for (const k of new Set([...r.keys(), ...a.keys()])) {
      if (!r.has(k)) out.unexpected.push(`${path}.${k}: missing in rig (ansible ${JSON.stringify(a.get(k))})`);
      else if (!a.has(k)) out.unexpected.push(`${path}.${k}: only in rig (${JSON.stringify(r.get(k))})`);
      else diffJson(r.get(k)!, a.get(k)!, `${path}.${k}`, out);
    }
    return;
  }
  if (Array.isArray(rig) && Array.isArray(ans) && rig.length === ans.length) {
    rig.forEach((x, n) => diffJson(x, ans[n]!, `${path}[${n}]`, out));
    return;
  }
  if (JSON.stringify(rig) !== JSON.stringify(ans)) out.unexpected.push(`${path}: rig ${JSON.stringify(rig)}, ansible ${JSON.stringify(ans)}`);
}

interface Outcome { readonly ok: boolean; readonly text: string }

async function runRigList(sources: readonly string[], host?: string): Promise<Outcome> {
  try {
    const inv = await loadInventory(sources);
    const view = host === undefined ? listInventory(inv, { showSecrets: true }) : hostInventory(inv, host, { showSecrets: true });
    return { ok: true, text: formatAnsibleJson(view) };
  } catch (e) {
    if (e instanceof RigError) return { ok: false, text: `${e.code} ${e.describeWhere()}: ${e.message}` };
    return { ok: false, text: `CRASH ${(e as Error).stack}` };
  }
}

const runRigHost = (sources: readonly string[], host: string): Promise<Outcome> => runRigList(sources, host);

function compareCase(rig: Outcome, ans: AnsibleResult): { unexpected: string[]; expected: Set<Expected> } {
  const out = { unexpected: [] as string[], expected: new Set<Expected>() };
  if (rig.text.startsWith('CRASH')) { out.unexpected.push(`rig crashed (not a RigError): ${rig.text}`); return out; }
  if (!rig.ok && ans.code !== 0) return out;
  if (!rig.ok) {
    if (/declared twice with conflicting values/.test(rig.text)) out.expected.add('conflicting-duplicate');
    else out.unexpected.push(`rig refuses what Ansible accepts: ${rig.text}`);
    return out;
  }
  if (ans.code !== 0) { out.unexpected.push(`rig accepts what Ansible refuses: ${ans.stderr.trim().split('\n').slice(-3).join(' | ')}`); return out; }
  diffJson(parseJsonText(rig.text), parseJsonText(ans.stdout.trimEnd()), '', out);
  return out;
}

test(`rig inventory --list equals ansible-inventory --list on ${CASES} generated inventories (seed ${SEED})`, async (t) => {
  t.timeout(10 * 60_000);
  const root = mkdtempSync(join(tmpdir(), 'rig-inv-diff-'));
  try {
    const cfg = join(root, 'ansible.cfg');
    writeFileSync(cfg, '[defaults]\n');
    mkdirSync(join(root, 'cwd'));
    const cases = Array.from({ length: CASES }, (_, n) => genCase(SEED, n));
    for (const c of cases) {
      for (const [name, text] of Object.entries(c.files)) {
        const p = join(root, String(c.id), name);
        try {
          mkdirSync(dirname(p), { recursive: true });
          writeFileSync(p, text);
        } catch { delete (c.files as Record<string, string>)[name]; } // a file and a directory of the same name
      }
    }
    const paths = (c: Case): string[] => c.sources.map((s) => join(root, String(c.id), s));
    const answers = await runAnsible(cases.map((c) => ({ argv: [...paths(c).flatMap((p) => ['-i', p]), '--list'], cwd: join(root, 'cwd') })), cfg);
    t.is(answers.length, cases.length);
    // The driver must print exactly what the ansible-inventory command prints: check a few accepted and refused cases.
    const probe = [...answers.entries()].filter(([, a]) => a.code === 0).slice(0, 3).concat([...answers.entries()].filter(([, a]) => a.code !== 0).slice(0, 1));
    for (const [n, a] of probe) {
      const real = await runCommand('ansible-inventory', [...paths(cases[n]!).flatMap((p) => ['-i', p]), '--list'], join(root, 'cwd'), driverEnv(cfg));
      t.is(real.code, a.code, `exit code of ansible-inventory on case ${n}`);
      t.is(real.stdout, a.stdout, `stdout of ansible-inventory on case ${n}`);
    }
    const expectedCount = new Map<Expected, number>();
    const failures: string[] = [];
    let accepted = 0;
    const refusals = new Map<string, number>();
    for (const [n, c] of cases.entries()) {
      const rig = await runRigList(paths(c));
      const ans = answers[n]!;
      if (ans.code === 0) accepted++;
      else {
        const flat = ans.stderr.replace(/\s+/g, ' ');
        const why = [...flat.matchAll(/with (ini|yaml) plugin: (.*?)(?= \[WARNING\]| ERROR!|$)/g)].map((m) => `${m[1]}: ${m[2]}`).at(-1) ?? flat; // ini is the last plugin tried
        const key = why.replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N').slice(0, 150);
        refusals.set(key, (refusals.get(key) ?? 0) + 1);
      }
      const d = compareCase(rig, ans);
      for (const e of d.expected) expectedCount.set(e, (expectedCount.get(e) ?? 0) + 1);
      if (d.unexpected.length) {
        const files = Object.entries(c.files).map(([f, text]) => `--- ${f}\n${text}`).join('\n');
        failures.push(`case ${c.id} (${c.kind}, RIG_DIFF_SEED=${SEED}):\n  ${d.unexpected.slice(0, 8).join('\n  ')}\n${files}`);
      }
    }
    // --host NAME for one host of each accepted case (a plain name: --host takes a pattern, and not an option's look)
    const hostCases: Array<{ c: Case; host: string }> = [];
    for (const [n, c] of cases.entries()) {
      const a = answers[n]!;
      if (a.code !== 0) continue;
      const tree = parseJsonText(a.stdout.trimEnd());
      const meta = isObj(tree) ? tree.obj.find(([k]) => k === '_meta')?.[1] : undefined;
      const hv = meta && isObj(meta) ? meta.obj.find(([k]) => k === 'hostvars')?.[1] : undefined;
      const host = hv && isObj(hv) ? hv.obj.map(([k]) => k).find((k) => /^[\p{L}_][\p{L}\p{N}_.-]*$/u.test(k)) : undefined;
      if (host) hostCases.push({ c, host });
    }
    const hostAnswers = await runAnsible(hostCases.map(({ c, host }) => ({ argv: [...paths(c).flatMap((p) => ['-i', p]), '--host', host], cwd: join(root, 'cwd') })), cfg);
    for (const [n, { c, host }] of hostCases.entries()) {
      const rig = await runRigHost(paths(c), host);
      const d = compareCase(rig, hostAnswers[n]!);
      for (const e of d.expected) expectedCount.set(e, (expectedCount.get(e) ?? 0) + 1);
      if (d.unexpected.length) failures.push(`case ${c.id} --host ${host} (${c.kind}, RIG_DIFF_SEED=${SEED}):\n  ${d.unexpected.slice(0, 8).join('\n  ')}`);
    }
    t.log(`${cases.length} cases, ${accepted} accepted by Ansible, ${hostCases.length} --host checks; deliberate differences: ${[...expectedCount].map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}`);
    t.log(`Ansible's most frequent refusals: ${[...refusals].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([k, v]) => `${v}× ${k}`).join('\n')}`);
    t.true(accepted > cases.length / 3, 'the generator should mostly produce inventories Ansible accepts');
    if (process.env['RIG_DIFF_REPORT']) writeFileSync(process.env['RIG_DIFF_REPORT'], failures.join('\n\n'));
    if (failures.length) t.fail(`${failures.length} of ${cases.length} cases differ from ansible-inventory:\n\n${failures.slice(0, SHOW).join('\n\n')}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
