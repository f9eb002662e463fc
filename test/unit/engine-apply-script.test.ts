import test from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change, WriteFileChange } from '../../src/core/change.ts';
import { buildApplyScript, type ScriptStep } from '../../src/engine/apply-script.ts';
import { signFileState } from '../../src/engine/file-signature.ts';
import { buildStopScript, STOPPED_EXIT_CODE } from '../../src/engine/stop-marker.ts';
import { buildGatherScript } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const runSh = (script: string) => spawnSync('sh', ['-s'], { input: script });

function stateOf(path: string) {
  const f = parseGatherOutput([{ kind: 'file', path }], execFileSync('sh', ['-s'], { input: buildGatherScript([{ kind: 'file', path }]) }).toString(), 'local');
  const { content: _c, ...s } = f.file(path);
  return s;
}

function writeChange(path: string, content: string, mode = '0640'): WriteFileChange {
  const before = stateOf(path);
  return {
    kind: 'write-file', path, before, content: Buffer.from(content).toString('base64'), secret: false, task: 't', reason: 'r',
    after: { exists: true, type: 'file', mode, owner: 'root', group: 'root', sha256: sha(content) },
  };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rig-apply-'));
  return { dir, state: join(dir, 'state') };
}

const lock = { acquire: true, release: true, owner: '{"runId":"r1"}' };

test('writes hostile paths and contents atomically with mode, journals intent and pre-images first', (t) => {
  const { dir, state } = setup();
  const p = join(dir, "we'ird $name ü.conf");
  writeFileSync(p, 'old\n');
  const content = "new 'quoted' \"dq\" $HOME `x` \\ ü\n";
  const steps: ScriptStep[] = [{ id: '0.0', change: writeChange(p, content) }];
  const r = runSh(buildApplyScript({ runId: 'r1', steps, intentJson: '{"x":1}', lock, stateDir: state }));
  t.is(r.status, 0, r.stderr.toString());
  t.regex(r.stdout.toString(), /^D 0\.0 file 0640 root root [0-9a-f]{64}$/m);
  t.is(readFileSync(p, 'utf8'), content);
  t.is((statSync(p).mode & 0o777).toString(8), '640');
  t.is(readFileSync(join(state, 'runs/r1/pre/0.0'), 'utf8'), 'old\n');
  t.is((statSync(join(state, 'runs/r1/pre/0.0')).mode & 0o777).toString(8), '600');
  t.is(readFileSync(join(state, 'runs/r1/intent.jsonl'), 'utf8'), '{"x":1}\n');
  t.false(existsSync(join(state, 'lock')), 'lock released');
  t.deepEqual(readdirSync(dir).filter((n) => n.includes('rig-tmp')), []);
});

test('drift: a file changed since the plan stops the host before any write', (t) => {
  const { dir, state } = setup();
  const a = join(dir, 'a'); const b = join(dir, 'b');
  writeFileSync(a, 'a0'); writeFileSync(b, 'b0');
  const steps: ScriptStep[] = [{ id: '0.0', change: writeChange(a, 'a1') }, { id: '0.1', change: writeChange(b, 'b1') }];
  writeFileSync(b, 'someone else');
  const r = runSh(buildApplyScript({ runId: 'r2', steps, intentJson: '{}', lock, stateDir: state }));
  t.is(r.status, 3);
  t.regex(r.stdout.toString(), /^V 0\.1 file /m);
  t.is(readFileSync(a, 'utf8'), 'a0', 'nothing written');
  t.false(existsSync(join(state, 'lock')));
});

test('a failing validation restores the files written in the script and reports the validator output', (t) => {
  const { dir, state } = setup();
  const conf = join(dir, 'site.conf');
  const created = join(dir, 'new.conf');
  writeFileSync(conf, 'good\n'); chmodSync(conf, 0o644);
  const validate = ['sh', '-c', 'grep -q good "$1" || { echo "nginx: [emerg] bad config in $1" >&2; exit 1; }', 'sh', conf];
  const steps: ScriptStep[] = [
    { id: '0.0', change: writeChange(conf, 'bad\n', '0644') },
    { id: '0.1', change: writeChange(created, 'x\n', '0644') },
    { id: '0.2', change: { kind: 'service', service: 'nginx', action: 'reload', init: 'sysv', validate, task: 't', reason: 'r' } as Change },
  ];
  const r = runSh(buildApplyScript({ runId: 'r3', steps, intentJson: '{}', lock, stateDir: state }));
  t.is(r.status, 1);
  const x = /^X 0\.2 1 (\S+)$/m.exec(r.stdout.toString());
  t.truthy(x);
  t.regex(Buffer.from(x![1]!, 'base64').toString(), /\[emerg\] bad config/);
  t.is(readFileSync(conf, 'utf8'), 'good\n');
  t.false(existsSync(created));
  t.regex(r.stdout.toString(), /^R 0\.2$/m);
});

test('lock held by another run refuses; same run passes', (t) => {
  const { dir, state } = setup();
  const p = join(dir, 'f'); writeFileSync(p, '1');
  const first = runSh(buildApplyScript({ runId: 'A', steps: [], intentJson: '{}', lock: { acquire: true, owner: '{"runId":"A"}' }, stateDir: state }));
  t.is(first.status, 0);
  const second = runSh(buildApplyScript({ runId: 'B', steps: [{ id: '0.0', change: writeChange(p, '2') }], intentJson: '{}', lock: { acquire: true, owner: '{"runId":"B"}' }, stateDir: state }));
  t.is(second.status, 4);
  const m = /^L held (\S+)$/m.exec(second.stdout.toString());
  t.is(Buffer.from(m![1]!, 'base64').toString(), '{"runId":"A"}');
  t.is(readFileSync(p, 'utf8'), '1');
  // --break-lock breaks only the holder the controller inspected: another owner text leaves the lock alone.
  const notThatOne = runSh(buildApplyScript({ runId: 'B', steps: [{ id: '0.0', change: writeChange(p, '2') }], intentJson: '{}', lock: { acquire: true, breakStale: true, breakOwner: '{"runId":"C"}', release: true, owner: '{}' }, stateDir: state }));
  t.is(notThatOne.status, 4);
  t.is(readFileSync(p, 'utf8'), '1');
  const broken = runSh(buildApplyScript({ runId: 'B', steps: [{ id: '0.0', change: writeChange(p, '2') }], intentJson: '{}', lock: { acquire: true, breakStale: true, breakOwner: '{"runId":"A"}', release: true, owner: '{}' }, stateDir: state }));
  t.is(broken.status, 0);
  t.is(readFileSync(p, 'utf8'), '2');
});

test('signature computed on the host equals the controller signature', (t) => {
  const { dir } = setup();
  const p = join(dir, 'x y'); writeFileSync(p, 'hello'); chmodSync(p, 0o600);
  const steps: ScriptStep[] = [];
  void steps;
  const s = stateOf(p);
  t.is(s.mode, '0600');
  t.is(signFileState(s), `file 0600 root root ${sha('hello')}`);
});

test('a stop marker created while a step runs: that step finishes, the next does not start, the lock is released', (t) => {
  const { dir, state } = setup();
  const a = join(dir, 'a'); const b = join(dir, 'b'); const gate = join(dir, 'gate');
  writeFileSync(a, 'a0'); writeFileSync(b, 'b0');
  const hold: Change = { kind: 'run-command', argv: ['sh', '-c', `touch "$1.in"; while [ ! -e "$1" ]; do sleep 0.05; done`, 'sh', gate], task: 't', reason: 'r' } as Change;
  const steps: ScriptStep[] = [{ id: '0.0', change: writeChange(a, 'a1') }, { id: '0.1', change: hold }, { id: '0.2', change: writeChange(b, 'b1') }];
  const script = buildApplyScript({ runId: 'S', steps, intentJson: '{}', lock, stateDir: state });
  const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stdin.end(script);
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (!existsSync(`${gate}.in`)) return;
      clearInterval(poll);
      execFileSync('sh', ['-s'], { input: buildStopScript('S', state) });
      writeFileSync(gate, '');
    }, 20);
    child.on('close', (code) => {
      t.is(code, STOPPED_EXIT_CODE);
      t.regex(out, /^D 0\.1 -$/m, 'the step in flight finished');
      t.regex(out, /^I 0\.2$/m);
      t.is(readFileSync(a, 'utf8'), 'a1');
      t.is(readFileSync(b, 'utf8'), 'b0', 'nothing new started');
      t.false(existsSync(join(state, 'lock')), 'the lock is released');
      t.regex(readFileSync(join(state, 'runs', 'S', 'journal.log'), 'utf8'), /interrupted before 0\.2/);
      resolve();
    });
  });
});

test('a temp file left by a killed write is removed by the next script only when the run journal names it as rig\'s own', (t) => {
  const { dir, state } = setup();
  const p = join(dir, 'big.conf');
  writeFileSync(p, 'before\n');
  // A write killed mid-way: the script dies while the content is streaming into its temp file.
  const killed = buildApplyScript({ runId: 'K', steps: [{ id: '0.0', change: writeChange(p, 'after\n') }], intentJson: '{}', lock, stateDir: state })
    .replace(/^rig_write /m, 'base64() { if [ "$1" = -d ]; then head -c 3 >&3; kill -9 $$$$; else command base64 "$@"; fi; }\nrig_write ');
  t.not(runSh(killed).status, 0);
  const left = readdirSync(dir).filter((n) => n.startsWith('.rig-tmp.'));
  t.is(left.length, 1, 'the killed write left its temp file');
  t.regex(left[0]!, /^\.rig-tmp\.[0-9a-f]{24}$/, 'an unpredictable name');
  t.is(readFileSync(p, 'utf8'), 'before\n');
  // A user's own file with a rig-like name is never removed by pattern.
  writeFileSync(join(dir, '.rig-tmp.0123456789abcdef01234567'), 'mine');
  rmSync(join(state, 'lock'), { recursive: true, force: true });
  const next = runSh(buildApplyScript({ runId: 'N', steps: [{ id: '0.0', change: writeChange(p, 'after\n') }], intentJson: '{}', lock, stateDir: state }));
  t.is(next.status, 0, next.stderr.toString());
  t.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.rig-tmp.')).sort(), ['.rig-tmp.0123456789abcdef01234567']);
  t.is(readFileSync(p, 'utf8'), 'after\n');
  t.regex(readFileSync(join(state, 'runs/N/journal.log'), 'utf8'), new RegExp(`cleanup ${dir}/${left[0]!.replace(/\./g, '\\.')} from .*/runs/K: removed`));
  t.false(existsSync(join(state, 'runs/K/tmp')), 'the record is cleared');
});

test('a parent directory swapped for a symlink into a root-only directory is not written through', (t) => {
  const { dir, state } = setup();
  const app = join(dir, 'app'); const conf = join(app, 'conf'); const secret = join(dir, 'root-only');
  mkdirSync(conf, { recursive: true }); mkdirSync(secret);
  chownSync(app, 65534, 65534);
  const step = writeChange(join(conf, 'x.conf'), 'planned\n');
  // The swap happens after the plan: the drift check still sees x.conf absent (absent in root-only/ too).
  rmSync(conf, { recursive: true }); symlinkSync(secret, conf);
  const r = runSh(buildApplyScript({ runId: 'P', steps: [{ id: '0.0', change: step }], intentJson: '{}', lock, stateDir: state }));
  t.is(r.status, 1);
  const x = /^X 0\.0 1 (\S+)$/m.exec(r.stdout.toString());
  t.regex(Buffer.from(x![1]!, 'base64').toString(), /leads to .*root-only through a path a non-root user can change/);
  t.deepEqual(readdirSync(secret), []);
});

test('ensure-directory, symlink and attribute steps act on the object at the path, never through a link', (t) => {
  const { dir, state } = setup();
  const victim = join(dir, 'victim'); writeFileSync(victim, 'v'); chmodSync(victim, 0o600);
  const d = join(dir, 'd'); const l = join(dir, 'l'); const f = join(dir, 'f');
  writeFileSync(f, 'f'); chmodSync(f, 0o600);
  const steps: ScriptStep[] = [
    { id: '0.0', change: { kind: 'ensure-directory', path: d, before: stateOf(d), after: { exists: true, type: 'directory', mode: '0750', owner: 'root', group: 'root' }, task: 't', reason: 'r' } },
    { id: '0.1', change: { kind: 'symlink', path: l, target: 'victim', before: stateOf(l), task: 't', reason: 'r' } },
    { id: '0.2', change: { kind: 'set-attributes', path: f, before: stateOf(f), after: { ...stateOf(f), mode: '0644' }, task: 't', reason: 'r' } },
  ];
  const r = runSh(buildApplyScript({ runId: 'Q', steps, intentJson: '{}', lock, stateDir: state }));
  t.is(r.status, 0, r.stdout.toString() + r.stderr.toString());
  t.is((statSync(d).mode & 0o7777).toString(8), '750');
  t.true(lstatSync(d).isDirectory());
  t.is(readlinkSync(l), 'victim');
  t.is((statSync(f).mode & 0o777).toString(8), '644');
  t.is((statSync(victim).mode & 0o777).toString(8), '600', 'the link target is untouched');
  t.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.rig-tmp')), []);
  // A directory step whose path became a symlink (after the drift check) fails instead of chmod-ing the target.
  const vdir = join(dir, 'vdir'); mkdirSync(vdir, 0o700);
  rmSync(d, { recursive: true }); symlinkSync(vdir, d);
  const again = buildApplyScript({ runId: 'R', steps: [steps[0]!], intentJson: '{}', lock, stateDir: state, checkDrift: false });
  t.is(runSh(again).status, 1);
  t.is((statSync(vdir).mode & 0o777).toString(8), '700', 'the directory behind the planted link keeps its mode');
});
