/**
 * Host entries of an inventory (`web1`, `web1:2222`, `[2001:db8::1]:22`, `node[01:20]`) read exactly as Ansible 2.14
 * reads them (ansible/parsing/utils/addresses.py `parse_address` and plugins/inventory `expand_hostname_range`):
 * a port is split off only when the rest is a valid host name, IPv4 or IPv6 address; anything else is kept whole as
 * the host's name; ranges are expanded afterwards.
 */

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const IPV6_C = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const IPV4_C = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const W = String.raw`[\p{L}\p{N}_]`;
const LABEL = String.raw`(?:${W}|${ALNUM_RANGE})(?:${W}|[_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/s;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/s;
const IPV4 = new RegExp(`^(?:${IPV4_C}\\.){3}${IPV4_C}$`, 'i');
const IPV6 = new RegExp(`^(?:${[
  `(?:${IPV6_C}:){7}${IPV6_C}`, `(?:${IPV6_C}:){1,6}:`, `(?:${IPV6_C}:)(?::${IPV6_C}){1,6}`,
  `(?:${IPV6_C}:){2}(?::${IPV6_C}){1,5}`, `(?:${IPV6_C}:){3}(?::${IPV6_C}){1,4}`, `(?:${IPV6_C}:){4}(?::${IPV6_C}){1,3}`,
  `(?:${IPV6_C}:){5}(?::${IPV6_C}){1,2}`, `(?:${IPV6_C}:){6}(?::${IPV6_C})`, `:(?::${IPV6_C}){1,6}`, `${IPV6_C}?::`,
  `(?:0:){6}(?:${IPV6_C}\\.){3}${IPV6_C}`, `::(?:ffff:)?(?:${IPV6_C}\\.){3}${IPV6_C}`, `(?:0:){5}ffff:(?:${IPV6_C}\\.){3}${IPV6_C}`,
].join('|')})$`, 'i');
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu');

/** `parse_address(address, allow_ranges=True)`: host and port, or undefined when Ansible would raise. */
export function parseAddress(address: string): { readonly host: string; readonly port?: number } | undefined {
  let port: number | undefined;
  let rest = address;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(rest);
    if (m) { rest = m[1]!; port = Number(m[2]); }
  }
  // Python's `$` also matches before a final newline; host entries never hold one (lines are split first).
  if (!IPV4.test(rest) && !IPV6.test(rest) && !HOSTNAME.test(rest)) return undefined;
  return port === undefined ? { host: rest } : { host: rest, port };
}

const ASCII_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Python's `int(text)` for a range bound: optional sign, digits and single underscores, surrounding spaces. */
function pyIntText(text: string): number {
  const t = text.trim();
  if (!/^[-+]?\d(?:_?\d)*$/.test(t)) throw new Error(`invalid literal for int() with base 10: '${text}'`);
  return Number(t.replace(/_/g, ''));
}

/** `expand_hostname_range`: the first `[..]` expanded, then the rest recursively. Throws Ansible's message. */
export function expandHostnameRange(line: string): string[] {
  if (!line) return [];
  const a = line.indexOf('[');
  const withBar = `${line.slice(0, a)}|${line.slice(a + 1)}`;
  const b = withBar.indexOf(']');
  const replaced = b < 0 ? withBar : `${withBar.slice(0, b)}|${withBar.slice(b + 1)}`;
  const parts = replaced.split('|');
  if (parts.length !== 3) throw new Error(`host range ${line}: expected one [begin:end] per bracket pair`);
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error('host range must be begin:end or begin:end:step');
  let beg = bounds[0]!;
  const end = bounds[1]!;
  const stepText = bounds.length === 2 ? '1' : bounds[2]!;
  if (!beg) beg = '0';
  if (!end) throw new Error('host range must specify end value');
  let fill = (x: string | number): string => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    const rlen = beg.length;
    if (rlen !== end.length) throw new Error('host range must specify equal-length begin and end formats');
    fill = (x) => { const s = String(x); return s.startsWith('-') ? `-${s.slice(1).padStart(rlen - 1, '0')}` : s.padStart(rlen, '0'); };
  }
  let seq: Array<string | number>;
  // Python's `ascii_letters.index(x)` finds any substring (`[ab:cd]` is a..c)
  const iBeg = ASCII_LETTERS.indexOf(beg);
  const iEnd = ASCII_LETTERS.indexOf(end);
  const step = pyIntText(stepText);
  if (iBeg >= 0 && iEnd >= 0 && step !== 0) {
    if (iBeg > iEnd) throw new Error('host range must have begin <= end');
    seq = [];
    if (step > 0) for (let i = iBeg; i <= iEnd; i += step) seq.push(ASCII_LETTERS[i]!);
  } else {
    const lo = pyIntText(beg); const hi = pyIntText(end) + 1;
    if (step === 0) throw new Error('range() arg 3 must not be zero');
    seq = [];
    if (step > 0) for (let i = lo; i < hi; i += step) seq.push(i);
    else for (let i = lo; i > hi; i += step) seq.push(i);
    if (seq.length > 100_000) throw new Error(`host range [${nrange}] expands to more than 100000 hosts`);
  }
  const out: string[] = [];
  for (const r of seq) {
    const name = `${head}${fill(r)}${tail}`;
    if (name.includes('[')) out.push(...expandHostnameRange(name));
    else out.push(name);
  }
  return out;
}

/** Ansible's `_expand_hostpattern`: the names an entry stands for and its port (undefined when none). */
export function expandHostPattern(pattern: string): { readonly names: string[]; readonly port?: number } {
  const parsed = parseAddress(pattern);
  const base = parsed ? parsed.host : pattern;
  const names = base.includes('[') ? expandHostnameRange(base) : [base];
  return parsed?.port === undefined ? { names } : { names, port: parsed.port };
}
