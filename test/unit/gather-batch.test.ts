import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FactRequest } from '../../src/facts/fact-request.ts';
import { buildGatherScript, MAX_CONTENT_BYTES } from '../../src/facts/gather-script.ts';
import { parseGatherOutput } from '../../src/facts/parse-gather-output.ts';

// The gather script reads all file facts of a host in one batch (stat, sha256sum, cat: a few processes in all).
// These run the real script with sh against hostile file names and compare every fact with what Node sees.

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function makeTree() {
  const dir = mkdtempSync(join(tmpdir(), 'rig-gather-'));
  const sub = join(dir, 'd ir $HOME "q"');
  mkdirSync(sub);
  const paths = {
    hostile: join(sub, "we'ird $f ü `x` \\ .conf"),
    leadingDash: join(dir, '-n'),
    trailingSpace: join(dir, 'trail '),
    empty: join(dir, 'empty'),
    noContent: join(dir, 'no-content'),
    big: join(dir, 'big'),
    link: join(dir, 'link to sub'),
    newline: join(dir, 'new\nline'),
    backslashName: join(dir, 'back\\slash'),
    absent: join(dir, 'absent'),
    dir: sub,
    other: '/dev/null',
  };
  writeFileSync(paths.hostile, 'a $x "q" ü\n\0binary\n');
  writeFileSync(paths.leadingDash, '-n\n');
  writeFileSync(paths.trailingSpace, 'trailing\n');
  writeFileSync(paths.empty, '');
  writeFileSync(paths.noContent, 'secret-ish\n');
  chmodSync(paths.noContent, 0o600);
  writeFileSync(paths.big, Buffer.alloc(MAX_CONTENT_BYTES + 1, 7));
  symlinkSync(sub, paths.link);
  writeFileSync(paths.newline, 'nl\n');
  writeFileSync(paths.backslashName, 'bs\n');
  return { dir, paths };
}

function gather(requests: FactRequest[], env: NodeJS.ProcessEnv = process.env): { stdout: string; facts: ReturnType<typeof parseGatherOutput> } {
  const stdout = execFileSync('sh', ['-s'], { input: buildGatherScript(requests), env, maxBuffer: 64 * 1024 * 1024 }).toString();
  return { stdout, facts: parseGatherOutput(requests, stdout, 'local') };
}

function checkAgainstNode(t: import('ava').ExecutionContext, paths: Record<string, string>, facts: ReturnType<typeof parseGatherOutput>, noContent: string): void {
  for (const [name, path] of Object.entries(paths)) {
    const f = facts.file(path);
    let st;
    try { st = lstatSync(path); } catch { t.false(f.exists, `${name} absent`); continue; }
    t.true(f.exists, name);
    const type = st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
    t.is(f.type, type, name);
    t.is(f.mode, (st.mode & 0o7777).toString(8).padStart(4, '0'), `${name} mode`);
    t.is(f.size, st.size, `${name} size`);
    if (type === 'file') {
      const data = readFileSync(path);
      t.is(f.sha256, sha(data), `${name} sha256`);
      if (path === noContent || data.length > MAX_CONTENT_BYTES) t.is(f.content, undefined, `${name} has no content`);
      else t.deepEqual(f.content, data, `${name} content`);
    } else {
      t.is(f.sha256, undefined, `${name} no sha256`);
      t.is(f.content, undefined, `${name} no content`);
    }
    if (type === 'symlink') t.is(f.target, readlinkSync(path), `${name} target`);
  }
}

test('one batch reads every file fact exactly as Node sees it, hostile names included', (t) => {
  const { paths } = makeTree();
  const requests: FactRequest[] = Object.values(paths).map((path) => ({ kind: 'file', path, ...(path === paths.noContent ? { content: false } : {}) }));
  const { stdout, facts } = gather(requests);
  // Batched: one B record with the contents, no per-file F records except the absent one and the newline name.
  t.is(stdout.split('\n').filter((l) => l.startsWith('B ')).length, 1);
  t.deepEqual(stdout.split('\n').filter((l) => l.startsWith('F ')).map((l) => l.split(' ')[1]).sort(),
    [String(Object.keys(paths).indexOf('newline')), String(Object.keys(paths).indexOf('absent'))].sort());
  checkAgainstNode(t, paths, facts, paths.noContent);
});

test('when a batch command fails, every file is read again one by one with the same results', (t) => {
  const { dir, paths } = makeTree();
  // A sha256sum that refuses file arguments (the batch form) but hashes stdin (the one-by-one form).
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'sha256sum'), '#!/bin/sh\n[ $# -gt 0 ] && { echo "sha256sum: refused" >&2; exit 1; }\nexec /usr/bin/sha256sum\n');
  chmodSync(join(bin, 'sha256sum'), 0o755);
  const requests: FactRequest[] = Object.values(paths).map((path) => ({ kind: 'file', path, ...(path === paths.noContent ? { content: false } : {}) }));
  const { stdout, facts } = gather(requests, { ...process.env, PATH: `${bin}:${process.env.PATH}` });
  t.true(stdout.split('\n').includes('X'), 'the batch reported its failure');
  checkAgainstNode(t, paths, facts, paths.noContent);
});

test('a file that changed between stat and read is an error, not wrong content', (t) => {
  const req: FactRequest[] = [{ kind: 'file', path: '/etc/x' }];
  const out = ['O bG9jYWw= debian sysv apt 0', 'T 0 file', 'Fs 0644 root root 3', `H ${sha(Buffer.from('abc'))}`,
    `B ${Buffer.from('abd').toString('base64')}`, 'E done', ''].join('\n');
  t.throws(() => parseGatherOutput(req, out, 'h1'), { message: /\/etc\/x changed while rig was reading it/ });
  const good = out.replace(Buffer.from('abd').toString('base64'), Buffer.from('abc').toString('base64'));
  t.deepEqual(parseGatherOutput(req, good, 'h1').file('/etc/x').content, Buffer.from('abc'));
});

test('a truncated batch (fewer stats than files) is an error', (t) => {
  const req: FactRequest[] = [{ kind: 'file', path: '/a' }, { kind: 'file', path: '/b' }];
  const out = ['O bG9jYWw= debian sysv apt 0', 'T 0 directory', 'T 1 directory', 'Fs 0755 root root 4096', 'E done', ''].join('\n');
  t.throws(() => parseGatherOutput(req, out, 'h1'), { message: /1 file stats for 2 files/ });
});

// Generated trees (seeded): hostile names (quotes, $, backquote, backslash, glob characters, dashes, spaces, tabs,
// non-ASCII), binary contents, empty files, symlinks, directories, absent paths, with and without
// content, in random order and with repeats. The batch must say what Node sees, file by file.
test('generated trees: the batch reads every fact as Node sees it', (t) => {
  const nameChar = fc.constantFrom(...'aZ09 \t\'"$`\\*?[]-=.:;&|<>(){}~#!%^,'.split(''), 'ü', '\u00ff', '\u2028');
  const entry = fc.record({
    name: fc.array(nameChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join('')).filter((n) => n !== '.' && n !== '..'),
    kind: fc.constantFrom('file', 'file', 'file', 'empty', 'symlink', 'dir', 'absent'),
    content: fc.uint8Array({ maxLength: 300 }),
    withContent: fc.boolean(),
  });
  fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(7), { maxLength: 4 }), (entries, repeats) => {
    const dir = mkdtempSync(join(tmpdir(), 'rig-gather-gen-'));
    const paths: string[] = [];
    entries.forEach((e, k) => {
      const p = join(dir, `${k}${e.name}`);
      if (e.kind === 'file') writeFileSync(p, e.content);
      else if (e.kind === 'empty') writeFileSync(p, '');
      else if (e.kind === 'symlink') symlinkSync(e.name, p);
      else if (e.kind === 'dir') mkdirSync(p);
      paths.push(p);
    });
    const order = [...paths, ...repeats.filter((r) => r < paths.length).map((r) => paths[r]!)];
    const requests: FactRequest[] = order.map((path) => ({ kind: 'file', path, ...(entries[paths.indexOf(path)]!.withContent ? {} : { content: false }) }));
    const { facts } = gather(requests);
    for (const [k, path] of paths.entries()) {
      const f = facts.file(path);
      const e = entries[k]!;
      if (e.kind === 'absent') { if (f.exists) return false; continue; }
      const st = lstatSync(path);
      if (!f.exists || f.size !== st.size || f.mode !== (st.mode & 0o7777).toString(8).padStart(4, '0')) return false;
      if (e.kind === 'symlink' && (f.type !== 'symlink' || f.target !== readlinkSync(path))) return false;
      if (e.kind === 'dir' && f.type !== 'directory') return false;
      if (e.kind === 'file' || e.kind === 'empty') {
        const data = readFileSync(path);
        if (f.type !== 'file' || f.sha256 !== sha(data)) return false;
        // A path asked for twice, once with content, is read with content (merged requests).
        const wanted = requests.some((r) => r.kind === 'file' && r.path === path && r.content !== false);
        if (wanted ? !f.content?.equals(data) : f.content !== undefined) return false;
      }
    }
    return true;
  }), { seed: 2112, numRuns: 60 });
  t.pass();
});
