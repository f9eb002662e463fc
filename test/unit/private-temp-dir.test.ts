import test from 'ava';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRIVATE_TEMP_DIR } from '../../src/facts/private-temp-dir.ts';
import { GATHER_PRELUDE, buildGatherScript } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';
import { APPLY_PRELUDE } from '../../src/engine/apply-script.ts';

/** A PATH holding the tools the snippet and the probe use, but no mktemp (a minimal host). */
function pathWithoutMktemp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rig-nomktemp-'));
  for (const tool of ['mkdir', 'rm', 'stat', 'cat', 'id', 'base64', 'sha256sum', 'tr']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(dir, tool));
  return dir;
}

/** The probe: the snippet, then what every host script does with the directory (writes a command's stderr there). */
const PROBE = `${PRIVATE_TEMP_DIR}\nstat -c '%a %F' -- "$rig_t"; echo "$rig_t"; echo secret > "$rig_t/e"`;

/**
 * Run the probe under `sh` with `path`. `beforeSnippet(pid)` runs once the shell has printed its pid and before it
 * runs the snippet: the moment another user, watching `ps`, would plant something at /tmp/rig.<pid>.
 */
function runProbe(path: string, beforeSnippet?: (pid: number) => void, script = PROBE): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `echo $$; read go; ${script}`], { env: { PATH: path } });
    let stdout = ''; let stderr = ''; let started = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!started && stdout.includes('\n')) {
        started = true;
        beforeSnippet?.(Number(stdout.split('\n')[0]));
        child.stdin.end('go\n');
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: stdout.split('\n').slice(1).join('\n'), stderr }));
  });
}

test('with mktemp: a private 0700 directory, removed when the script exits', async (t) => {
  const r = await runProbe(process.env.PATH ?? '/usr/bin:/bin');
  t.is(r.code, 0, r.stderr);
  const [mode, dir] = r.stdout.trim().split('\n');
  t.is(mode, '700 directory');
  t.false(dir === undefined || existsSync(dir), 'removed on exit');
});

test('without mktemp: /tmp/rig.<pid> made 0700 by the script itself, removed on exit', async (t) => {
  const path = pathWithoutMktemp();
  t.teardown(() => rmSync(path, { recursive: true, force: true }));
  let planned = '';
  const r = await runProbe(path, (pid) => { planned = `/tmp/rig.${pid}`; });
  t.is(r.code, 0, r.stderr);
  const [mode, dir] = r.stdout.trim().split('\n');
  t.is(dir, planned);
  t.is(mode, '700 directory');
  t.false(existsSync(planned), 'removed on exit');
});

for (const planted of ['a symlink to another user\'s directory', 'a directory of another user'] as const) {
  test(`without mktemp: ${planted} at /tmp/rig.<pid> stops the script before it writes anything`, async (t) => {
    const path = pathWithoutMktemp();
    const victim = mkdtempSync(join(tmpdir(), 'rig-victim-'));
    let plantedAt = '';
    t.teardown(() => { rmSync(path, { recursive: true, force: true }); rmSync(victim, { recursive: true, force: true }); if (plantedAt) rmSync(plantedAt, { recursive: true, force: true }); });
    const r = await runProbe(path, (pid) => {
      plantedAt = `/tmp/rig.${pid}`;
      if (planted.startsWith('a symlink')) symlinkSync(victim, plantedAt); else { mkdirSync(plantedAt); chmodSync(plantedAt, 0o777); }
    });
    t.is(r.code, 1);
    t.regex(r.stderr, /cannot create a private temporary directory: mktemp -d failed and \/tmp\/rig\.\d+ already exists/);
    t.is(r.stdout.trim(), '', 'nothing after the snippet ran');
    t.deepEqual(readdirSync(victim), [], 'nothing written through the link');
    if (planted.startsWith('a symlink')) t.true(lstatSync(plantedAt).isSymbolicLink(), 'the planted link is left alone');
    else { t.deepEqual(readdirSync(plantedAt), [], 'nothing written into their directory'); t.is(statSync(plantedAt).mode & 0o777, 0o777); }
  });
}

test('the gather and the apply scripts make their temp directory only this way', (t) => {
  for (const [name, prelude] of [['gather', GATHER_PRELUDE], ['apply', APPLY_PRELUDE]] as const) {
    t.true(prelude.includes(PRIVATE_TEMP_DIR), `${name} prelude uses PRIVATE_TEMP_DIR`);
    const rest = prelude.replace(PRIVATE_TEMP_DIR, '');
    t.false(/mktemp|\/tmp\/rig|mkdir -p "\$rig_t"/.test(rest), `${name} prelude makes no other temp directory`);
  }
});

test('a gather that needs the directory and is stopped this way fails the host with the shell\'s own words, not only "truncated answer"', async (t) => {
  const path = pathWithoutMktemp();
  let plantedAt = '';
  t.teardown(() => { rmSync(path, { recursive: true, force: true }); if (plantedAt) rmSync(plantedAt, { force: true }); });
  // A command fact needs the temp directory (its stderr); file facts are read without one (gather-batch.test.ts).
  const requests = [{ kind: 'file', path: '/etc/hostname' }, { kind: 'command', key: 'k', argv: ['true'] }] as const;
  const r = await runProbe(path, (pid) => { plantedAt = `/tmp/rig.${pid}`; symlinkSync('/etc', plantedAt); }, buildGatherScript(requests));
  t.not(r.code, 0);
  t.throws(() => parseGatherOutput(requests, r.stdout, 'w1', r.stderr), {
    message: /did not complete .*the host's shell said: rig: cannot create a private temporary directory: mktemp -d failed and \/tmp\/rig\.\d+ already exists/,
  });
});
