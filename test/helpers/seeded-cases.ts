/**
 * Seeded generators shared by the lineinfile and Python-regexp differential tests: a small PRNG, pools of line
 * contents (ASCII, UTF-8, Latin-1 and invalid UTF-8 bytes, NUL, lone \r, NEL, U+2028) and terminators, fixed Python
 * patterns (valid, invalid, and ones rig refuses) and a grammar that generates more.
 */
import { seededRandom as prng } from './seeded-random.ts';
export { prng };

export const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Lines as bytes: ASCII, UTF-8, Latin-1 / invalid UTF-8, NUL, a lone \r inside. */
export const LINE_POOL: readonly Buffer[] = [
  'foo=1', 'foo = 2', 'bar=3', 'Foo=4', 'FOO=5', '# comment', '', 'key value', '  indented', 'listen 80', 'x', 'xx',
  'KUBELET_OPTS="--a=1"', 'a.b=c', 'tab\there', 'end$', 'back\\slash', '[section]', 'foofoo=6', 'baz=1',
].map(latin1).concat(
  ['café=ü', 'naïve=1', 'ü', '日本=語'].map(utf8),
  ['caf\xe9=1', '\xff\xfe', 'na\xefve=2', 'x\xa0y', 'caf\xc3', 'nul\x00byte', 'cr\rmid', '\xe9t\xe9 = 3', 'x\x85y', 'ls\xe2\x80\xa8ps', '\x0b\x0c\x1c'].map(latin1),
);
export const EOLS = ['\n', '\n', '\n', '\n', '\r\n', '\r\n', '\r\r\n'];
export const REGEXPS = [
  '^foo', '^foo=', 'foo', '=1$', '^#', '(?i)^FOO', '^(?P<k>\\w+)=(?P<v>.*)$', '^(\\w+)\\s*=\\s*(\\d)', 'caf.=', 'caf\\xe9',
  'café', 'caf[^=]*=', '\\xff', '^$', '\\s$', '^\\s', 'bar|baz', '\\Afoo', '1\\Z', '1\\n\\Z', '^x$', '(?m)^x$', '(?s)x.',
  '\\r', '\\r$', '.\\n', '(?x) ^ foo \\s* = # comment', 'b.r', '[a-f]{3}', 'o{2,}', 'o{,1}=', '[]x]', '\\d+',
  '(?P<w>o)(?P=w)', '(o)\\1', 'na.ve', 'na..ve', '\\w+$', '(?i)CAF', '(?i:F)oo', '=(?=1)', '(?<=foo)=', '(?<!#) comment',
  '', '[^\\x00-\\x7f]', '\\x00', '^.*$', '^(?:foo|bar)=(\\d)$', '\\bfoo\\b', '[\\s=]+\\d', '^[A-Z]+=', '(?i)^[a-f]oo',
  'é', '[é]', '\\u00e9', '(', '[a', '*x', 'a{2,1}', '(?<n>a)', '(?>a)', '(o)?\\1', '\\', '(?u)a', 'x{', '{2}',
];
export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const ATOMS = ['f', 'o', '=', '1', ' ', 'x', 'a', 'é', '\\xe9', '\\xff', '.', '\\d', '\\w', '\\s', '\\S', '\\W', '[a-f]', '[^=]',
  '[=\\s]', '[\\x80-\\xff]', '\\r', '\\n', '^', '$', '\\A', '\\Z', '\\b', 'F', 'O', '\\.', '\\$', '\\1', '[^\\W\\d]', '\\B'];
const QUANTIFIERS = ['', '', '', '*', '+', '?', '{1,2}', '{,1}', '*?', '{2}', '+?'];

/** A random Python pattern from a small grammar (atoms, classes, groups, alternatives, lookarounds, inline flags). */
export function generateRegexp(r: () => number, depth = 0, names = { n: 0 }): string {
  const pieces: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const k = r();
    let piece: string;
    if (k < 0.15 && depth < 2) {
      const open = pick(r, ['(', '(', '(?:', '(?P<g', '(?=', '(?!', '(?i:', '(?-i:', '(?s:', '(?<=', '(?<!']);
      const body = r() < 0.3 ? `${generateRegexp(r, depth + 1, names)}|${generateRegexp(r, depth + 1, names)}` : generateRegexp(r, depth + 1, names);
      piece = `${open === '(?P<g' ? `(?P<g${++names.n}>` : open}${body})`;
    } else piece = pick(r, ATOMS);
    pieces.push(piece + pick(r, QUANTIFIERS));
  }
  const flags = depth === 0 ? pick(r, ['', '', '', '(?i)', '(?m)', '(?s)', '(?im)']) : '';
  return flags + pieces.join('');
}
