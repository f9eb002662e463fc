/**
 * Differential test: rig's ssh_config resolver against OpenSSH's own `ssh -G` (the oracle), on generated configs
 * (seeded PRNG; RIG_SSHCONFIG_SEED / RIG_SSHCONFIG_CASES change the seed and the number of cases, docs/ssh.md).
 * Each case is a directory used as HOME (so `~/.ssh/...` Includes land there) holding a main file read with
 * `ssh -G -F main` (with -F, OpenSSH reads neither ~/.ssh/config nor /etc/ssh/ssh_config; rig is given the same
 * file the same way), Include files, Match blocks, tokens, comments, quotes, case variations and hostile values.
 * For each host (× an optional `-l user` / `-p port`) every keyword rig reads must agree, and where ssh refuses
 * the config, rig must refuse it too. A second test runs hand-written hostile configs, one per class of disagreement
 * found in issue 15.
 *
 * Deliberate differences (docs/ssh.md "Deliberate differences from ssh -G"), which the generator therefore does not
 * produce: CanonicalizeHostname yes/always (rig refuses: no DNS canonicalisation); malformed values of keywords rig
 * does not read beyond flags and word counts (rig accepts them); getaddrinfo-only address forms (`10.1`); `~user` for
 * users outside /etc/passwd. ProxyCommand and the keywords rig refuses at connection time resolve like ssh -G here.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConfigError } from '../../src/errors.ts';
import { currentLocalIdentity, formatLikeSshG, SshConfigResolver } from '../../src/connectors/ssh-config.ts';
import { seededRandom as prng } from '../helpers/seeded-random.ts';

const SEED = Number(process.env['RIG_SSHCONFIG_SEED'] ?? 20261206);
const CASES = Number(process.env['RIG_SSHCONFIG_CASES'] ?? 500);
const PARALLEL = 4;


const HOSTS = ['web1', 'WEB1', 'db2', 'bastion', 'web1.example', 'gw', '10.0.0.5', 'Web2.Example'];
const HOST_PATTERNS = ['web1', 'WEB1', 'web*', '*.example', '!web2', '!db*', '*', '?eb1', 'db[12]', 'db2', 'bastion', 'gw', '10.0.0.*', 'web1,db2', '*1'];
const MATCH_CRITERIA = ['all', '!all', 'host web1', 'host web*.example', 'host WEB1', 'host 10.0.0.*', 'originalhost WEB1', 'originalhost web1', 'originalhost db*,!db9',
  'user alice', 'user root', 'user !alice,*', 'localuser root', 'localuser nobody', '!localuser nobody', 'exec true', 'exec false', 'exec "test %h = web1"',
  'exec "test %n = WEB1"', '!exec false', 'final', 'canonical', '!final', 'host db2 user alice', 'host *.example final', 'originalhost gw !user bob',
  'Host web1 # comment', 'final host real.example.com', 'exec "test %p = 2222" host web1', 'host=web1', 'HOST "web1"'];

/** keyword → values OpenSSH accepts (some of them odd: quotes, comments, tokens, `=`, service names). */
const VALUES: Readonly<Record<string, readonly string[]>> = {
  HostName: ['%h.example', '10.0.0.9', 'Real.Example.COM', 'web1.example', '%h', 'x%%y', '"quoted.example"', '::1', 'FE80::1'],
  Port: ['22', '2222', '2222 # staging', '"2200"', 'ssh', '+23', '022'],
  User: ['alice', 'bob', 'Carol', '"dave smith"', "'eve'", 'root', 'u\\ v', '%r'],
  IdentityFile: ['~/.ssh/id_test', '~/.ssh/id_%h', 'none', '"/keys/with space/k"', '/keys/a', '/keys/a', '%d/k_%r', '~root/k', '${HOME}/k', '~/.ssh/id_%C'],
  IdentitiesOnly: ['yes', 'no', 'true', 'false', 'YES'],
  IdentityAgent: ['SSH_AUTH_SOCK', 'none', '~/agent.sock', '/run/%u/agent_%h', '${HOME}/a.sock', '$HOME', '"/a b/sock"'],
  ProxyJump: ['bastion', 'alice@b1:2200,b2', 'ssh://ops@jump.example:2201', 'none', '[10.0.0.1]:22', 'a,b,c', 'j1 # comment', '10.1.1.1', 'ssh://j2.example.', 'u@[fe80::1]:2022'],
  ProxyCommand: ['ssh -W %h:%p gw', 'none', 'nc %h %p # comment'],
  ConnectTimeout: ['5', '1m', '1m30s', 'none', '0', '10S'],
  ServerAliveInterval: ['0', '15', '1m', 'none', '2h'],
  ServerAliveCountMax: ['0', '3', '5'],
  StrictHostKeyChecking: ['yes', 'no', 'ask', 'accept-new', 'off', 'true', 'false', 'Yes'],
  UserKnownHostsFile: ['~/.ssh/kh_%h', '/tmp/kh1 /tmp/kh2', 'none', '%d/kh %C', '${HOME}/kh', '"/k h/known"', '%k_%p_%r_%u_%n_%l_%L_%i', '~'],
  GlobalKnownHostsFile: ['/etc/ssh/kh', 'none', '/a /b'],
  HostKeyAlias: ['Alias1', 'web-key', '"Mixed.Case"'],
  CheckHostIP: ['yes', 'no'],
  HashKnownHosts: ['yes', 'no', 'true'],
  BatchMode: ['yes', 'no'],
  ConnectionAttempts: ['1', '3'],
  SendEnv: ['LANG LC_*'],
  Compression: ['yes'],
  ForwardAgent: ['no', 'yes'],
  LogLevel: ['ERROR'],
  Ciphers: ['aes128-ctr'],
  ControlMaster: ['auto', 'no'],
  AddressFamily: ['inet'],
  CanonicalizeHostname: ['no'],
};

/** Lines OpenSSH refuses (or that make it refuse the host): a hostile case gets one of them somewhere. */
const BAD: readonly string[] = ['Port 0', 'Port 70000', 'Port 2201 extra', 'IdentitiesOnly maybe', 'IdentityAgent ${RIG_NOPE_UNSET}',
  'ProxyJump bad/host', 'ProxyJump ssh://[::1]:2022', 'ProxyJump u@h:0', 'ConnectTimeout x', 'ConnectTimeout -1', 'ServerAliveCountMax -1',
  'StrictHostKeyChecking sometimes', 'UserKnownHostsFile none /x', 'ConnectionAttempts 0', 'ConnectionAttempts x', 'FooBarUnknown 1',
  'HostName h%d', 'User "unterminated', 'Port', 'IdentityFile ~nosuchuser/k', 'UserKnownHostsFile %z', 'Match host', 'Match bogus x',
  'Match all host x', 'Match exec %z', 'HostName web%', 'Compression maybe', 'ForwardAgent no extra', 'TCPKeepAlive yes no', 'GatewayPorts 1'];

/** `-o` arguments (the inventory's ansible_ssh_common_args): applied before the files, like ssh's own -o. */
const COMMAND_LINE_OPTIONS = ['User=cmd', 'Port=2022', 'StrictHostKeyChecking=no', 'IdentityFile ~/.ssh/cmdkey', 'ProxyJump=cj,ck',
  'ConnectTimeout=7', 'UserKnownHostsFile=/tmp/cmd_kh', 'HostName=cmd.example', 'ServerAliveInterval=3', 'ProxyCommand=nc %h %p',
  'Port=0', 'Host=x', 'Bogus=1'];

interface Case {
  readonly dir: string;
  readonly main: string;
  readonly runs: ReadonlyArray<{ host: string; user?: string; port?: number; options?: readonly string[] }>;
}

function generate(rand: () => number, dir: string): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const keywords = Object.keys(VALUES);
  const sshDir = join(dir, '.ssh');
  mkdirSync(join(sshDir, 'conf.d'), { recursive: true });
  const option = (): string => {
    const kw = pick(keywords);
    const v = pick(VALUES[kw]!);
    const name = rand() < 0.2 ? kw.toLowerCase() : rand() < 0.1 ? kw.toUpperCase() : kw;
    const sep = pick([' ', ' ', '  ', '\t', '=', ' = ', '= ']);
    const comment = rand() < 0.15 ? pick([' # note', '\t#x', ' #']) : '';
    return `${pick(['', '  ', '\t', '    '])}${name}${sep}${v}${comment}`;
  };
  const block = (): string[] => {
    const lines: string[] = [];
    const r = rand();
    if (r < 0.45) lines.push(`Host ${Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(HOST_PATTERNS)).join(' ')}`);
    else if (r < 0.75) lines.push(`Match ${pick(MATCH_CRITERIA)}`);
    else if (r < 0.8) lines.push(`host ${pick(HOST_PATTERNS)} # trailing comment`);
    for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) {
      const x = rand();
      if (x < 0.08) lines.push(pick(['# a comment', '', '   ', '\t# indented comment']));
      else if (x < 0.16) lines.push(pick(['Include conf.d/*.conf', 'Include ~/.ssh/inc_a', `Include ${join(dir, 'abs_inc')}`, 'Include nothing/here*', 'include "conf.d/2.conf" inc_a']));
      else lines.push(option());
    }
    return lines;
  };
  const file = (blocks: number, top: number): string => {
    const lines: string[] = [];
    for (let i = 0; i < top; i++) lines.push(option());
    for (let i = 0; i < blocks; i++) lines.push(...block());
    return lines.join(rand() < 0.1 ? '\r\n' : '\n') + (rand() < 0.8 ? '\n' : '');
  };
  writeFileSync(join(sshDir, 'conf.d', '1.conf'), file(1 + Math.floor(rand() * 2), Math.floor(rand() * 2)).replace(/Include [^\n]*/g, '# no include'));
  writeFileSync(join(sshDir, 'conf.d', '2.conf'), file(1, 1).replace(/Include [^\n]*/g, '# no include'));
  writeFileSync(join(sshDir, 'inc_a'), file(1, 1).replace(/Include [^\n]*/g, '# no include'));
  writeFileSync(join(dir, 'abs_inc'), file(1, 0).replace(/Include [^\n]*/g, 'Include conf.d/2.conf'));
  const main = join(dir, 'main');
  let text = file(2 + Math.floor(rand() * 5), Math.floor(rand() * 3));
  if (rand() < 0.12) { // hostile: one line OpenSSH refuses, at a random place
    const lines = text.split('\n');
    lines.splice(Math.floor(rand() * lines.length), 0, pick(BAD));
    text = lines.join('\n');
  }
  writeFileSync(main, text);
  const runs = Array.from({ length: 2 }, () => ({
    host: pick(HOSTS),
    ...(rand() < 0.25 ? { user: pick(['alice', 'bob', 'root']) } : {}),
    ...(rand() < 0.2 ? { port: pick([22, 2200]) } : {}),
    ...(rand() < 0.15 ? { options: Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pick(COMMAND_LINE_OPTIONS)) } : {}),
  }));
  return { dir, main, runs };
}

function sshG(c: Case, run: Case['runs'][number]): Promise<{ ok: boolean; values: Record<string, string>; stderr: string }> {
  const args = ['-G', '-F', c.main, ...(run.user ? ['-l', run.user] : []), ...(run.port ? ['-p', String(run.port)] : []),
    ...(run.options ?? []).flatMap((o) => ['-o', o]), run.host];
  return new Promise((resolve) => {
    execFile('ssh', args, { env: caseEnv(c), encoding: 'utf8' }, (err, stdout, stderr) => {
      const values: Record<string, string> = {};
      for (const line of stdout.split('\n')) {
        const sp = line.indexOf(' ');
        if (sp < 0) continue;
        const k = line.slice(0, sp).toLowerCase();
        const v = line.slice(sp + 1);
        values[k] = k in values && k === 'identityfile' ? `${values[k]}\n${v}` : v;
      }
      resolve({ ok: !err, values, stderr });
    });
  });
}

function caseEnv(c: Case): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: c.dir, SHELL: '/bin/sh', LANG: 'C' };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => { while (next < items.length) { const i = next++; out[i] = await fn(items[i]!); } }));
  return out;
}

interface Comparison { readonly failures: string[]; agreedErrors: number; readonly changed: Map<string, number> }

/** Run `ssh -G` for every run of every case (4 at a time), resolve the same with rig, and collect the differences. */
async function compareWithSshG(cases: readonly Case[], root: string): Promise<Comparison> {
  const results = await mapLimit(cases, PARALLEL, async (c) => Promise.all(c.runs.map(async (run) => ({ run, g: await sshG(c, run) }))));
  const out: Comparison = { failures: [], agreedErrors: 0, changed: new Map() };
  // coverage: per keyword, how many resolutions got a value other than an empty config's (the generator reaches it)
  const emptyFile = join(root, 'empty');
  writeFileSync(emptyFile, '');
  for (const [i, c] of cases.entries()) {
    const resolver = new SshConfigResolver({ configFile: c.main, local: currentLocalIdentity(caseEnv(c)) });
    for (const { run, g } of results[i]!) {
      const overrides = { ...(run.user ? { user: run.user } : {}), ...(run.port ? { port: run.port } : {}), ...(run.options ? { options: run.options } : {}) };
      let mine: Record<string, string> | undefined;
      let err: unknown;
      try { mine = formatLikeSshG(resolver.resolve(run.host, overrides)); } catch (e) { err = e; }
      const where = `case ${i} (${c.dir}) ${run.user ? `-l ${run.user} ` : ''}${run.port ? `-p ${run.port} ` : ''}${(run.options ?? []).map((o) => `-o '${o}' `).join('')}${run.host}`;
      if (err !== undefined && !(err instanceof SshConfigError)) { out.failures.push(`${where}: rig threw ${String(err)}`); continue; }
      if (!g.ok && err !== undefined) { out.agreedErrors++; continue; }
      if (!g.ok) { out.failures.push(`${where}: ssh -G refused (${g.stderr.trim().split('\n').pop()}) but rig resolved`); continue; }
      if (err !== undefined) { out.failures.push(`${where}: rig refused (${(err as Error).message}) but ssh -G resolved`); continue; }
      const base = formatLikeSshG(new SshConfigResolver({ configFile: emptyFile, local: currentLocalIdentity(caseEnv(c)) }).resolve(run.host, overrides));
      for (const [k, v] of Object.entries(mine!)) {
        if (g.values[k] !== v) out.failures.push(`${where}: ${k}: ssh -G ${JSON.stringify(g.values[k])}, rig ${JSON.stringify(v)}`);
        if (base[k] !== v) out.changed.set(k, (out.changed.get(k) ?? 0) + 1);
      }
      for (const k of ['identityagent', 'proxyjump', 'proxycommand', 'hostkeyalias']) {
        if (k in g.values && !(k in mine!)) out.failures.push(`${where}: ${k}: ssh -G ${JSON.stringify(g.values[k])}, rig unset`);
      }
    }
  }
  return out;
}

test(`rig resolves ssh_config like ssh -G (${CASES} generated cases, seed ${SEED})`, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rig-sshg-'));
  const rand = prng(SEED);
  const cases = Array.from({ length: CASES }, (_, i) => generate(rand, join(root, String(i))));
  const { failures, agreedErrors, changed } = await compareWithSshG(cases, root);
  if (failures.length === 0) rmSync(root, { recursive: true, force: true });
  t.log(`${cases.length} configs, ${cases.length * 2} resolutions, ${agreedErrors} refused by both`);
  t.deepEqual(failures.slice(0, 40), [], `${failures.length} differences (first 40 shown); files kept in ${root}`);
  t.log(`resolutions where the config changed each keyword: ${[...changed].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.true(agreedErrors < cases.length / 2, 'most generated configs are valid');
  if (CASES >= 200) {
    for (const k of ['user', 'hostname', 'port', 'identityfile', 'identitiesonly', 'identityagent', 'proxyjump', 'proxycommand', 'connecttimeout',
      'serveraliveinterval', 'serveralivecountmax', 'stricthostkeychecking', 'userknownhostsfile', 'globalknownhostsfile', 'hostkeyalias',
      'checkhostip', 'hashknownhosts', 'connectionattempts', 'batchmode']) {
      t.true((changed.get(k) ?? 0) >= 3, `the generator sets ${k} in at least 3 resolutions`);
    }
  }
});

/** Hand-written hostile cases, one per class of disagreement found in issue 15 (main file + files under HOME). */
const HANDWRITTEN: ReadonlyArray<{ name: string; main: string; files?: Readonly<Record<string, string>>; hosts: readonly string[] }> = [
  { name: 'trailing comment and quotes', main: 'Host web1\n  Port 2222 # staging\n  User "deploy"\n  HostName \'10.0.0.7\'\n', hosts: ['web1'] },
  { name: 'Host patterns are case-sensitive', main: 'Host WEB1\n  User upper\nHost web1\n  User lower\n', hosts: ['web1', 'WEB1', 'Web1'] },
  { name: 'Include glob, in place, only inside a matching block', main: 'Host web1\n  Include conf.d/*.conf\nHost *\n  Include conf.d/*.conf\n  User fallback\n',
    files: { '.ssh/conf.d/a.conf': 'Port 2201\nMatch all\n  User froma\n', '.ssh/conf.d/b.conf': 'User fromb\nHostName b.example\n' }, hosts: ['web1', 'db2'] },
  { name: 'Match host sees HostName, originalhost the alias', main: 'Host web1\n  HostName real.example\nMatch host real.example\n  User byhost\nMatch originalhost web1\n  Port 2022\n', hosts: ['web1', 'WEB1'] },
  { name: 'Match criteria and negation', main: 'Match !localuser nobody user root\n  Port 2001\nMatch exec "test %n = db2" !host web*\n  User viaexec\nMatch final host *.example\n  User final\nHost *\n  HostName %h.example\n',
    hosts: ['db2', 'web1'] },
  { name: 'tokens', main: 'Host *\n  UserKnownHostsFile ~/kh_%h_%n_%p_%r_%u_%% %d/x_%C_%i_%l_%L_%k\n  IdentityAgent ${HOME}/agent_%h\n  HostName %h.Example.COM\n', hosts: ['Web1', 'db2'] },
  { name: 'duplicate and none IdentityFile, booleans, times', main: 'Host *\n  IdentityFile ~/.ssh/a\n  IdentityFile ~/.ssh/a\n  IdentityFile none\n  IdentitiesOnly true\n  ConnectTimeout 1m30s\n  ServerAliveInterval none\n  ServerAliveInterval 2m\n  BatchMode false\n', hosts: ['web1'] },
  { name: 'ProxyJump URI and chain; first of ProxyCommand/ProxyJump wins', main: 'Host web1\n  ProxyJump ssh://ops@jump.example:2201,b2\n  ProxyCommand nc %h %p\nHost db2\n  ProxyCommand nc %h %p\n  ProxyJump j1\nHost gw\n  ProxyJump a,u@b:2200,[10.0.0.1]:22\n', hosts: ['web1', 'db2', 'gw'] },
  { name: 'IdentityAgent SSH_AUTH_SOCK and none', main: 'Host web1\n  IdentityAgent SSH_AUTH_SOCK\nHost db2\n  IdentityAgent none\n', hosts: ['web1', 'db2'] },
  { name: 'a bad line in a block that does not apply still fails', main: 'Host other\n  Port 0\nHost web1\n  User ok\n', hosts: ['web1'] },
  { name: 'StrictHostKeyChecking spellings', main: 'Host a\n  StrictHostKeyChecking off\nHost b\n  StrictHostKeyChecking Accept-New\nHost c\n  StrictHostKeyChecking true\n', hosts: ['a', 'b', 'c'] },
];

test('rig resolves the hand-written hostile configs like ssh -G', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rig-sshg-hand-'));
  const cases = HANDWRITTEN.map((h, i): Case => {
    const dir = join(root, String(i));
    mkdirSync(join(dir, '.ssh', 'conf.d'), { recursive: true });
    for (const [f, text] of Object.entries(h.files ?? {})) writeFileSync(join(dir, f), text);
    writeFileSync(join(dir, 'main'), h.main);
    return { dir, main: join(dir, 'main'), runs: h.hosts.flatMap((host) => [{ host }, { host, user: 'alice', port: 2200 }]) };
  });
  const { failures, changed } = await compareWithSshG(cases, root);
  t.deepEqual(failures, [], `files kept in ${root}`);
  if (failures.length === 0) rmSync(root, { recursive: true, force: true });
  t.true(changed.size >= 10, 'the hand-written cases change most keywords');
});
