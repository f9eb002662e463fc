/**
 * Two content changes of one file in one apply script (two `line` edits of the same file in a play): the second
 * step's `before` is the first step's result, so only the first is checked against the file on the host. Before the
 * fix the pre-image check reported drift and nothing was applied.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileState } from '../../src/core/file-state.ts';
import type { WriteFileChange } from '../../src/core/change.ts';
import { buildApplyScript } from '../../src/engine/apply-script.ts';
import { buildGatherScript } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';

const sha = (b: string): string => createHash('sha256').update(b).digest('hex');

test('two writes of one file in a script: the second is planned on the first one\'s result, not drift', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rig-same-path-'));
  const p = join(dir, 'legacy.conf');
  writeFileSync(p, 'a=1\nb=1\n');
  const f = parseGatherOutput([{ kind: 'file', path: p }], execFileSync('sh', ['-s'], { input: buildGatherScript([{ kind: 'file', path: p }]) }).toString(), 'local');
  const { content: _c, ...now } = f.file(p);
  const state = (content: string): FileState => ({ ...now, exists: true, type: 'file', sha256: sha(content), size: content.length });
  const write = (before: FileState, content: string): WriteFileChange => ({
    kind: 'write-file', path: p, before, after: { ...state(content), mode: now.mode ?? '0644', owner: now.owner ?? 'root', group: now.group ?? 'root' },
    content: Buffer.from(content).toString('base64'), secret: false, task: 't', reason: 'r',
  });
  const steps = [{ id: '0.0', change: write(now, 'a=2\nb=1\n') }, { id: '0.1', change: write(state('a=2\nb=1\n'), 'a=2\nb=2\n') }];
  const r = spawnSync('sh', ['-s'], { input: buildApplyScript({ runId: 'r1', steps, intentJson: '{}', lock: { acquire: true, release: true, owner: 'o' }, stateDir: join(dir, 'state') }) });
  t.is(r.status, 0, r.stdout.toString() + r.stderr.toString());
  t.notRegex(r.stdout.toString(), /^V /m);
  t.is(readFileSync(p, 'utf8'), 'a=2\nb=2\n');
});
