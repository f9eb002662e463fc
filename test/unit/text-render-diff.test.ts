import test from 'ava';
import { registerSecretText } from '../../src/core/secret.ts';
import { renderDiff } from '../../src/text/render-diff.ts';

const b = (s: string): Buffer => Buffer.from(s);

test('renderDiff: unified diff with a/ b/ headers and context', (t) => {
  const before = b('1\n2\n3\n4\n5\n6\n7\n8\n9\n');
  const out = renderDiff({ path: '/etc/default/kubelet', before, after: b('1\n2\n3\n4\nfive\n6\n7\n8\n9\n'), context: 1 });
  t.is(out, '--- a/etc/default/kubelet\n+++ b/etc/default/kubelet\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n');
  t.is(renderDiff({ path: '/x', before, after: Buffer.from(before) }), '');
});

test('renderDiff: new and deleted files', (t) => {
  t.is(renderDiff({ path: '/x', after: b('hi\n') }), 'new file: /x\n--- /dev/null\n+++ b/x\n@@ -0,0 +1,1 @@\n+hi\n');
  t.is(renderDiff({ path: '/x', before: b('hi') }), 'deleted file: /x\n--- a/x\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-hi\n\\ No newline at end of file\n');
});

test('renderDiff: binary content is summarized', (t) => {
  const out = renderDiff({ path: '/bin/x', before: Buffer.from([0, 1, 2]), after: Buffer.from([0xff, 0xfe]) });
  t.regex(out, /^Binary files differ \(3 → 2 bytes, sha256 ae4b3280e56e… → [0-9a-f]{12}…\)\n$/);
});

test('renderDiff: a secret file never shows its content', (t) => {
  const out = renderDiff({ path: '/srv/kubernetes/basic_auth.csv', before: b('hunter2,admin,1\n'), after: b('s3cret-pw,admin,1\n'), secret: true, color: true });
  t.false(out.includes('hunter2') || out.includes('s3cret'));
  t.regex(out, /secret content masked: 16 → 18 bytes, sha256 changed/);
  t.regex(renderDiff({ path: '/k', after: b('x'), secret: true }), /new file: \/k\n\(secret content masked: 0 → 1 bytes, sha256 changed\)/);
});

test('renderDiff: registered secrets and private keys are redacted in a normal diff', (t) => {
  registerSecretText('tok-9f8e7d6c5b');
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
  const out = renderDiff({ path: '/x', before: b('a\n'), after: b(`token=tok-9f8e7d6c5b\n${key}`) });
  t.false(out.includes('tok-9f8e7d6c5b') || out.includes('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), out);
  t.true(out.includes('********'));
});

test('renderDiff: colors only when asked', (t) => {
  const args = { path: '/x', before: b('a\n'), after: b('b\n') };
  t.false(renderDiff(args).includes('\x1b['));
  const colored = renderDiff({ ...args, color: true });
  t.true(colored.includes('\x1b[31m-a'));
  t.true(colored.includes('\x1b[32m+b'));
  t.true(colored.includes('\x1b[36m@@'));
});

test('renderDiff: a Latin-1 file with one changed line is a readable one-line diff, its other bytes shown as \\xHH', (t) => {
  const before = Buffer.from('caf\xe9 = 1\r\nname = old\nlast = \xff', 'latin1');
  const after = Buffer.from('caf\xe9 = 1\r\nname = new\nlast = \xff', 'latin1');
  const out = renderDiff({ path: '/etc/app.conf', before, after });
  t.false(out.includes('Binary'));
  t.false(out.includes('\ufffd'));
  t.regex(out, /^\(bytes that are not UTF-8 are shown as \\xHH\)\n\(carriage returns are shown as \\r\)\n--- a\/etc\/app.conf\n\+\+\+ b\/etc\/app.conf\n/);
  t.true(out.includes(' caf\\xe9 = 1\\r\n-name = old\n+name = new\n last = \\xff\n'));
  // Mostly undecodable bytes stay "binary".
  t.regex(renderDiff({ path: '/x', before: Buffer.from(Array.from({ length: 64 }, (_, i) => 0x80 + i)), after: Buffer.from('x') }), /^Binary files differ/);
});
