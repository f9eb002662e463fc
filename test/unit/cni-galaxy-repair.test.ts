/**
 * Issue 17's pure logic: the Galaxy repair (fixtures in test/fixtures/cni/repair-cases.json plus a seeded property
 * run), the guard, the VERSION fact's parser, and the fact script itself against Debian's real CNI plugins (the
 * oracle for what VERSION prints), then the two modules' plans over in-memory facts.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkProposedChain, proposeIstioChain } from '../../src/cni/chain-guard.ts';
import { parseConflist, pickVersion, planGalaxyRepair, type RepairInput } from '../../src/cni/galaxy-repair.ts';
import { compareCniVersions, parseVersionAnswer, parseVersionFact, versionFactArgv, versionFactKey, type PluginVersionAnswer } from '../../src/cni/plugin-versions.ts';
import { isRigError } from '../../src/errors.ts';
import type { FileFact } from '../../src/facts/fact-request.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { cniGuard } from '../../src/modules/cni-guard.ts';
import { cniRepair } from '../../src/modules/cni-repair.ts';
import { cniStuckPods } from '../../src/modules/cni-stuck-pods.ts';
import * as stuck from '../../src/cni/stuck-pods.ts';
import type { TaskContext } from '../../src/modules/module.ts';

const CONF = '/etc/cni/net.d/00-galaxy.conf';
const CONFLIST = '/etc/cni/net.d/00-galaxy.conflist';
const BIN = '/opt/cni/bin';
const base = { conflistPath: CONFLIST, confPath: CONF, binDir: BIN, confExists: false } as const;

interface Case {
  readonly name: string;
  readonly conflist?: string;
  readonly confExists?: boolean;
  readonly originalVersion?: string;
  readonly answers: Record<string, PluginVersionAnswer>;
  readonly expect: { action?: string; version?: string; conf?: unknown; reasonIncludes?: string[]; errorCode?: string; errorIncludes?: string };
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/cni/repair-cases.json', import.meta.url), 'utf8')) as Case[];

for (const c of cases) {
  test(`repair: ${c.name}`, (t) => {
    const input: RepairInput = {
      ...base, confExists: c.confExists ?? false, answers: new Map(Object.entries(c.answers)),
      ...(c.conflist !== undefined ? { conflist: c.conflist } : {}), ...(c.originalVersion ? { originalVersion: c.originalVersion } : {}),
    };
    if (c.expect.errorCode) {
      const e = t.throws(() => planGalaxyRepair(input));
      t.true(isRigError(e) && e.code === c.expect.errorCode, String(e));
      t.true(e!.message.includes(c.expect.errorIncludes!), e!.message);
      return;
    }
    const d = planGalaxyRepair(input);
    t.is(d.action as string | undefined, c.expect.action);
    for (const s of c.expect.reasonIncludes ?? []) t.true(d.reason.includes(s), d.reason);
    if (d.action === 'repair') {
      t.is(d.version as string | undefined, c.expect.version);
      t.deepEqual(JSON.parse(d.conf), c.expect.conf);
      t.deepEqual(Object.keys(JSON.parse(d.conf)).slice(0, 2), ['cniVersion', 'name'], 'a .conf leads with cniVersion and name');
      t.true(d.conf.endsWith('}\n'));
    }
  });
}

const version = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 2 })).map((v) => v.join('.'));

test('repair, seeded property run: the version is the highest supported at or below the original, the conf is plugins[0]', (t) => {
  fc.assert(fc.property(
    fc.uniqueArray(version, { minLength: 1, maxLength: 6 }), version, fc.option(version, { nil: undefined }), fc.boolean(), fc.integer({ min: 0, max: 2 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['type', 'cniVersion', 'name'].includes(k) && k !== '__proto__'), fc.jsonValue(), { maxKeys: 4 }),
    (supported, listVersion, entryVersion, named, istioBefore, extra) => {
      const entry = { ...extra, type: 'galaxy-sdn', ...(entryVersion ? { cniVersion: entryVersion } : {}), ...(named ? { name: 'galaxy' } : {}) };
      const plugins = [...Array.from({ length: istioBefore }, () => ({ type: 'istio-cni' })), entry, { type: 'istio-cni' }];
      const conflist = JSON.stringify({ cniVersion: listVersion, name: 'k8s-pod-network', plugins });
      const input: RepairInput = { ...base, conflist, answers: new Map([['galaxy-sdn', { kind: 'ok', supportedVersions: supported }]]) };
      const cap = entryVersion ?? listVersion;
      const fits = supported.filter((s) => compareCniVersions(s, cap) <= 0);
      if (supported.includes(listVersion)) return planGalaxyRepair(input).action === 'none';
      if (!fits.length) { try { planGalaxyRepair(input); return false; } catch (e) { return isRigError(e) && e.code === 'CNI'; } }
      const d = planGalaxyRepair(input);
      if (d.action !== 'repair') return false;
      const conf = JSON.parse(d.conf) as Record<string, unknown>;
      const { cniVersion: _v, name: _n, ...rest } = JSON.parse(JSON.stringify(entry)) as Record<string, unknown>;
      const { cniVersion, name, ...confRest } = conf;
      t.deepEqual(confRest, rest);
      return supported.includes(d.version) && compareCniVersions(d.version, cap) <= 0 && fits.every((f) => compareCniVersions(f, d.version) <= 0)
        && cniVersion === d.version && name === (named ? 'galaxy' : 'k8s-pod-network') && conf['type'] === 'galaxy-sdn';
    }), { seed: 17, numRuns: 400 });
});

test('pickVersion compares numerically and ignores non-versions', (t) => {
  t.is(pickVersion(['0.2.0', '0.10.0', '0.9.0', 'x'], '0.11.0'), '0.10.0');
  t.is(pickVersion(['1.0.0'], '0.4.0'), undefined);
  t.is(pickVersion(['0.1.0', '0.2.0'], '0.2.0'), '0.2.0');
});

const ok = (...v: string[]): PluginVersionAnswer => ({ kind: 'ok', supportedVersions: v });
const chained = parseConflist(readFileSync(new URL('../fixtures/cni/istio-chained-0.3.1.conflist', import.meta.url), 'utf8'), 'proposed');

test('guard: a plugin without the proposed version would break pods; Istio\'s own plugin is not asked', (t) => {
  const v = checkProposedChain(chained, new Map([['galaxy-sdn', ok('0.1.0', '0.2.0')]]), BIN);
  t.false(v.safe);
  t.true(!v.safe && v.problems.length === 1 && v.problems[0]!.includes('plugin galaxy-sdn supports 0.1.0, 0.2.0, not 0.3.1') && v.problems[0]!.includes('does not support config version "0.3.1"'));
  const s = checkProposedChain(chained, new Map([['galaxy-sdn', ok('0.2.0', '0.3.1')]]), BIN);
  t.true(s.safe && s.reason.includes('galaxy-sdn supports cniVersion 0.3.1'));
  const missing = checkProposedChain(chained, new Map([['galaxy-sdn', { kind: 'missing' }]]), BIN);
  t.true(!missing.safe && missing.problems[0] === 'plugin galaxy-sdn is not in /opt/cni/bin');
  const e = t.throws(() => checkProposedChain(chained, new Map([['galaxy-sdn', { kind: 'failed', detail: 'exit 2: ?' }]]), BIN));
  t.true(isRigError(e) && e.code === 'CNI');
});

test('guard: what Istio CNI\'s chained mode makes of a conf (0.3.1, the conf as plugins[0]) and of a conflist (version kept)', (t) => {
  const conf = '{"cniVersion":"0.2.0","name":"galaxy-sdn","type":"galaxy-sdn"}';
  const p = proposeIstioChain({ conf, confPath: CONF, conflistPath: CONFLIST })!;
  t.is(p.cniVersion, '0.3.1');
  t.deepEqual(p.plugins.map((x) => x['type']), ['galaxy-sdn', 'istio-cni']);
  t.is(proposeIstioChain({ conf, confPath: CONF, conflistPath: CONFLIST }, '0.4.0')!.cniVersion, '0.4.0');
  const fromList = proposeIstioChain({ conflist: '{"cniVersion":"0.2.0","name":"n","plugins":[{"type":"galaxy-sdn"},{"type":"istio-cni"}]}', confPath: CONF, conflistPath: CONFLIST })!;
  t.is(fromList.cniVersion, '0.2.0');
  t.deepEqual(fromList.plugins.map((x) => x['type']), ['galaxy-sdn', 'istio-cni']);
  t.is(proposeIstioChain({ confPath: CONF, conflistPath: CONFLIST }), undefined);
  for (const bad of ['{', '[]', '{"name":"x"}']) t.throws(() => proposeIstioChain({ conf: bad, confPath: CONF, conflistPath: CONFLIST }), { code: 'CNI' } as never);
});

test('VERSION answers: JSON with supportedVersions, or failed with what the plugin said', (t) => {
  t.deepEqual(parseVersionAnswer('{"cniVersion":"0.2.0","supportedVersions":["0.1.0","0.2.0"]}', 0), { kind: 'ok', cniVersion: '0.2.0', supportedVersions: ['0.1.0', '0.2.0'] });
  t.is(parseVersionAnswer('{"supportedVersions":[]}', 0).kind, 'failed');
  t.is(parseVersionAnswer('{"supportedVersions":["latest"]}', 0).kind, 'failed');
  t.regex((parseVersionAnswer('usage: x', 0) as { detail: string }).detail, /^not JSON: usage: x/);
  t.regex((parseVersionAnswer('boom', 127) as { detail: string }).detail, /^exit 127: boom/);
  const b64 = Buffer.from('{"supportedVersions":["0.2.0"]}').toString('base64');
  t.deepEqual([...parseVersionFact(`V a 0 ${b64}\nV b missing -\nnoise\nV c 1 -\n`).entries()].map(([k, v]) => [k, v.kind]), [['a', 'ok'], ['b', 'missing'], ['c', 'failed']]);
});

test('the VERSION fact script against Debian\'s real plugins (bridge, host-local), a missing one and a broken one', (t) => {
  if (!existsSync('/usr/lib/cni/bridge')) { t.fail('containernetworking-plugins is not installed (scripts/install-deps.sh)'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'rig-cni-unit-'));
  const bin = join(dir, 'bin');
  execFileSync('mkdir', [bin]);
  for (const p of ['bridge', 'host-local']) symlinkSync(`/usr/lib/cni/${p}`, join(bin, p));
  writeFileSync(join(bin, 'broken'), '#!/bin/sh\necho "no such command" >&2\nexit 3\n');
  chmodSync(join(bin, 'broken'), 0o755);
  const conflist = join(dir, 'x.conflist');
  // One "type" split across lines, a hostile type name that must never be run, ipam's type found too.
  writeFileSync(conflist, '{"cniVersion":"0.3.1","name":"n","plugins":[{"type":\n "bridge","ipam":{"type":"host-local"}},{"type":"../../bin/sh"},{"type":"absent-one"},{"type":"broken"}]}');
  const argv = versionFactArgv(bin, [conflist, join(dir, 'not-there.conf'), 'type:bridge']);
  const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const answers = parseVersionFact(out);
  t.deepEqual([...answers.keys()], ['bridge', 'host-local', 'absent-one', 'broken']);
  const bridge = answers.get('bridge')!;
  t.true(bridge.kind === 'ok' && ['0.1.0', '0.2.0', '0.3.1', '1.0.0'].every((v) => bridge.supportedVersions.includes(v)), JSON.stringify(bridge));
  t.is(answers.get('host-local')!.kind, 'ok');
  t.is(answers.get('absent-one')!.kind, 'missing');
  t.regex((answers.get('broken') as { detail: string }).detail, /^exit 3: no such command/);
  t.is(versionFactKey(bin, [conflist]), `cni-version:${bin}:${conflist}`);
});

// The modules over in-memory facts.
const ctx: TaskContext = { host: { name: 'w1', address: '10.0.0.2', vars: {} } as unknown as TaskContext['host'], vars: {}, taskPath: 'play "x" › task 1', projectRoot: '/nonexistent' };
const fileFact = (content: string): FileFact => ({ exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', size: Buffer.byteLength(content), sha256: 'x', content: Buffer.from(content) });
const answerLine = (type: string, json: unknown): string => `V ${type} 0 ${Buffer.from(JSON.stringify(json)).toString('base64')}\n`;
const BROKEN_LIST = '{"cniVersion":"0.3.1","name":"k8s-pod-network","plugins":[{"cniVersion":"0.2.0","name":"galaxy-sdn","type":"galaxy-sdn"},{"type":"istio-cni"}]}';

test('cniRepair module: facts, then a write of the conf and the removal of the conflist', (t) => {
  t.deepEqual(cniRepair.module.validate({}), []);
  t.deepEqual(cniRepair.module.validate({ dir: 'rel', confName: '../x', conflistName: 'a', originalVersion: '1' } as never), ['dir: an absolute path without ..', 'confName: a file name (letters, digits, . _ -)', 'originalVersion: a CNI version like "0.2.0"']);
  const facts = cniRepair.module.facts({}, ctx);
  t.deepEqual(facts.map((f) => f.kind), ['file', 'file', 'command']);
  const key = versionFactKey(BIN, [CONFLIST]);
  const host = new MemoryHostFacts({
    os: DEBIAN_SYSV_OS, files: { [CONFLIST]: fileFact(BROKEN_LIST), [CONF]: { exists: false } },
    commands: { [key]: { exitCode: 0, stdout: answerLine('galaxy-sdn', { supportedVersions: ['0.1.0', '0.2.0'] }), stderr: '' } },
  });
  const r = cniRepair.module.plan({}, host, ctx);
  t.true('changes' in r);
  const changes = 'changes' in r ? r.changes : [];
  t.deepEqual(changes.map((c) => [c.kind, 'path' in c ? c.path : '']), [['write-file', CONF], ['remove-path', CONFLIST]]);
  const write = changes[0] as { content: string; reason: string };
  t.deepEqual(JSON.parse(Buffer.from(write.content, 'base64').toString()), { cniVersion: '0.2.0', name: 'galaxy-sdn', type: 'galaxy-sdn' });
  t.regex(write.reason, /Istio's entry dropped/);

  const done = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [CONFLIST]: { exists: false }, [CONF]: fileFact('{}') }, commands: { [key]: { exitCode: 0, stdout: '', stderr: '' } } });
  t.deepEqual(cniRepair.module.plan({}, done, ctx), { noop: `${CONF} is in place and there is no ${CONFLIST}: nothing to repair`, notable: true });
  const dir = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { [CONFLIST]: { exists: true, type: 'directory' }, [CONF]: { exists: false } }, commands: { [key]: { exitCode: 0, stdout: '', stderr: '' } } });
  t.throws(() => cniRepair.module.plan({}, dir, ctx), { message: /is a directory, not a regular file/ });
});

test('cniGuard module: a node that would break fails with CNI_WOULD_BREAK; a safe one is a noop with the reason', (t) => {
  const proposed = { text: JSON.stringify({ cniVersion: '0.3.1', name: 'n', plugins: [{ type: 'galaxy-sdn' }, { type: 'istio-cni' }] }), source: 'istio.conflist' };
  const facts = cniGuard.module.facts({ proposed }, ctx);
  const cmd = facts.find((f) => f.kind === 'command') as { readonly key: string; readonly argv: readonly string[] };
  t.deepEqual(cmd.argv.slice(-1), ['type:galaxy-sdn'], 'the operator\'s plugin types are asked, not Istio\'s');
  const host = (supported: string[]) => new MemoryHostFacts({
    os: DEBIAN_SYSV_OS, files: { [CONF]: fileFact('{"cniVersion":"0.2.0","name":"g","type":"galaxy-sdn"}'), [CONFLIST]: { exists: false } },
    commands: { [cmd.key]: { exitCode: 0, stdout: answerLine('galaxy-sdn', { supportedVersions: supported }), stderr: '' } },
  });
  const e = t.throws(() => cniGuard.module.plan({ proposed }, host(['0.1.0', '0.2.0']), ctx));
  t.true(isRigError(e) && e.code === 'CNI_WOULD_BREAK', String(e));
  t.regex(e!.message, /pods would stop being created on this node with istio\.conflist: plugin galaxy-sdn supports 0\.1\.0, 0\.2\.0, not 0\.3\.1/);
  t.deepEqual(cniGuard.module.plan({ proposed }, host(['0.2.0', '0.3.1']), ctx), { noop: 'istio.conflist: galaxy-sdn supports cniVersion 0.3.1: pods keep being created', notable: true });
  const bad = { text: '{"cniVersion":"0.3.1"', source: 'bad.conflist' };
  t.throws(() => cniGuard.module.facts({ proposed: bad }, ctx), { message: /bad\.conflist is not valid JSON/ });
});

test('stuck pods: ContainerCreating with a FailedCreatePodSandBox CNI event, nothing else', (t) => {
  const pod = (ns: string, name: string, phase: string, waiting?: string) => ({ metadata: { namespace: ns, name }, status: { phase, containerStatuses: [{ state: waiting ? { waiting: { reason: waiting } } : { running: {} } }] } });
  const ev = (ns: string, name: string, message: string, reason = 'FailedCreatePodSandBox', kind = 'Pod') => ({ involvedObject: { kind, namespace: ns, name }, reason, message });
  const pods = JSON.stringify({ items: [pod('a', 'x', 'Pending', 'ContainerCreating'), pod('a', 'y', 'Running'), pod('b', 'z', 'Pending', 'ContainerCreating'), pod('b', 'w', 'Pending', 'ImagePullBackOff'), pod('c', 'v', 'Pending', 'ContainerCreating')] });
  const events = JSON.stringify({ items: [
    ev('a', 'x', 'plugin galaxy-sdn does not support config version "0.3.1"'), ev('a', 'x', 'again: does not support config version'),
    ev('a', 'y', 'does not support config version'), ev('b', 'z', 'networkPlugin cni failed to set up pod'), ev('b', 'w', 'does not support config version'),
    ev('c', 'v', 'failed to pull image'), ev('c', 'v', 'does not support config version', 'BackOff'), ev('c', 'v', 'does not support config version', 'FailedCreatePodSandBox', 'Node'),
  ] });
  const { selectStuckPods } = stuck;
  t.deepEqual(selectStuckPods(pods, events).map((p) => `${p.namespace}/${p.name}`), ['a/x', 'b/z']);
  t.throws(() => selectStuckPods('nope', events), { message: /kubectl get pods -o json printed no JSON/ });
  t.throws(() => selectStuckPods(pods, '{}'), { message: /kubectl get events -o json: no "items" list/ });
});

test('cniStuckPods module: skipped with its reason without a kubeconfig or kubectl; a kubectl failure fails the host', (t) => {
  const p = { kubeconfig: '/root/.kube/config', kubectl: 'kubectl' };
  const keys = cniStuckPods.module.facts(p, ctx).filter((f) => f.kind === 'command').map((f) => (f as { key: string }).key);
  const facts = (kubeconfig: boolean, code: number, stdout = '{"items":[]}') => new MemoryHostFacts({
    os: DEBIAN_SYSV_OS, files: { [p.kubeconfig]: kubeconfig ? { exists: true, type: 'file' } : { exists: false } },
    commands: Object.fromEntries(keys.map((k) => [k, { exitCode: code, stdout, stderr: code ? 'connection refused' : '' }])),
  });
  t.deepEqual(cniStuckPods.module.plan(p, facts(false, 0), ctx), { noop: 'no kubeconfig /root/.kube/config on this host: stuck pods not looked for', notable: true });
  t.deepEqual(cniStuckPods.module.plan(p, facts(true, 127), ctx), { noop: 'kubectl is not on this host: stuck pods not looked for', notable: true });
  t.deepEqual(cniStuckPods.module.plan(p, facts(true, 0), ctx), { noop: 'no pod is stuck in ContainerCreating with the CNI error' });
  t.throws(() => cniStuckPods.module.plan(p, facts(true, 1), ctx), { message: /kubectl get pods failed \(exit 1\): connection refused/ });
  t.deepEqual(cniStuckPods.module.validate({ kubeconfig: 'x', kubectl: '-x' }), ['kubeconfig: an absolute path', 'kubectl: a command name or path']);
});
