import test from 'ava';
import { getFileContent } from '../../src/facts/file-content.ts';
import { MAX_CONTENT_BYTES } from '../../src/facts/gather-script.ts';
import { DEBIAN_SYSV_OS, MemoryHostFacts } from '../../src/facts/host-facts.ts';
import { line } from '../../src/modules/line.ts';
import { flags } from '../../src/modules/flags.ts';
import type { TaskContext } from '../../src/modules/module.ts';

const big = { exists: true, type: 'file' as const, mode: '0644', owner: 'root', group: 'root', size: MAX_CONTENT_BYTES + 1, sha256: 'a'.repeat(64), contentOmitted: true };
const ctx = { host: { name: 'h', address: '10.0.0.1', groups: [], vars: {} }, vars: {}, taskPath: 'task', projectRoot: '/' } as unknown as TaskContext;

test('a file whose content was not read is FILE_TOO_LARGE for every content reader, never empty', (t) => {
  t.throws(() => getFileContent(big, '/x'), { message: /\/x is too large to read/ });
  const facts = new MemoryHostFacts({ os: DEBIAN_SYSV_OS, files: { '/x': big } });
  for (const plan of [() => line.module.plan({ path: '/x', line: 'a=1' }, facts, ctx), () => flags.module.plan({ path: '/x', set: { a: '1' } } as never, facts, ctx)]) {
    const e = t.throws(plan);
    t.is((e as { code?: string }).code, 'FILE_TOO_LARGE');
  }
  t.deepEqual(getFileContent({ exists: true, type: 'file', size: 0 }, '/e'), Buffer.alloc(0));
});
