/**
 * `validate` of a write-file change (Ansible's validate, shared by the file writers): the new content is written to
 * the temp file, the argv runs with `%s` replaced by that file's path, and only a zero exit lets the rename happen.
 * Run through the real apply script in a local shell.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriteFileChange } from '../../src/core/change.ts';
import { buildApplyScript } from '../../src/engine/apply-script.ts';
import { buildGatherScript } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';
import { checkValidateProp } from '../../src/modules/file-write.ts';

const sha = (b: string): string => createHash('sha256').update(b).digest('hex');

function change(path: string, content: string, validate: readonly string[]): WriteFileChange {
  const f = parseGatherOutput([{ kind: 'file', path }], execFileSync('sh', ['-s'], { input: buildGatherScript([{ kind: 'file', path }]) }).toString(), 'local');
  const { content: _c, ...before } = f.file(path);
  return {
    kind: 'write-file', path, before, content: Buffer.from(content).toString('base64'), secret: false, task: 't', reason: 'r', validate,
    after: { exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', sha256: sha(content) },
  };
}

function apply(dir: string, c: WriteFileChange) {
  const script = buildApplyScript({ runId: 'r1', steps: [{ id: '0.0', change: c }], intentJson: '{}', lock: { acquire: true, release: true, owner: 'o' }, stateDir: join(dir, 'state') });
  return spawnSync('sh', ['-s'], { input: script });
}

// The validator sees the new content at the path given in place of %s (here inside a larger, hostile argument).
const VALIDATE = ['sh', '-c', 'f=${1#--file=}; grep -q "^ok" "$f" || { echo "not ok: $(cat "$f")" >&2; exit 3; }', "it's $x", '--file=%s'];

test('validate: content that passes is installed; content that fails leaves the file unchanged, no temp file, the output in the error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rig-validate '$x' "));
  const p = join(dir, 'app.conf');
  writeFileSync(p, 'ok old\n');
  const good = apply(dir, change(p, 'ok new\n', VALIDATE));
  t.is(good.status, 0, good.stderr.toString());
  t.is(readFileSync(p, 'utf8'), 'ok new\n');

  const bad = apply(dir, change(p, 'broken\n', VALIDATE));
  t.is(bad.status, 1);
  const x = /^X 0\.0 \d+ (\S+)$/m.exec(bad.stdout.toString());
  t.truthy(x, bad.stdout.toString());
  t.regex(Buffer.from(x![1]!, 'base64').toString(), /validation of the new .*app\.conf failed \(the file is unchanged\): not ok: broken/);
  t.is(readFileSync(p, 'utf8'), 'ok new\n');
  t.deepEqual(readdirSync(dir).filter((n) => n !== 'app.conf' && n !== 'state'), []);
});

test('validate prop: argv with %s, no shell string', (t) => {
  t.deepEqual(checkValidateProp(['visudo', '-cf', '%s']), []);
  t.regex(checkValidateProp('visudo -cf %s').join(), /non-empty array/);
  t.regex(checkValidateProp(['visudo', '-c']).join(), /must contain %s/);
  t.deepEqual(checkValidateProp(undefined), []);
});
