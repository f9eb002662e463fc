import { matchPattern, matchPatternList } from './openssh-match.ts';
export { matchPattern, matchPatternList };
/**
 * How OpenSSH 9.2 splits an ssh_config line into words (readconf.c / misc.c). Two splitters are used, as in OpenSSH:
 * `strdelim` for the keyword and for `Match` criteria (splits on whitespace, one `=`, handles one pair of double
 * quotes), `argvSplit` for every other argument list (single and double quotes, backslash escapes, `#` starts a
 * comment only at the start of a word).
 */

const WHITESPACE = ' \t\r\n';

/** One `strdelim` step on `s`: [word, rest]; word is null when a quote is left open (OpenSSH's NULL). */
export function strdelim(s: string | null): [string | null, string | null] {
  if (s === null) return [null, null];
  let i = 0;
  while (i < s.length && !`${WHITESPACE}"=`.includes(s[i]!)) i++;
  if (i === s.length) return [s, null];
  if (s[i] === '"') {
    const t = s.slice(0, i) + s.slice(i + 1);
    const close = t.indexOf('"', i);
    if (close < 0) return [null, null];
    return [t.slice(0, close), skipWhitespace(t, close + 1)];
  }
  const equals = s[i] === '=';
  let rest = skipWhitespace(s, i + 1);
  if (rest.startsWith('=') && !equals) rest = skipWhitespace(rest, 1);
  return [s.slice(0, i), rest];
}

function skipWhitespace(s: string, from: number): string {
  let j = from;
  while (j < s.length && WHITESPACE.includes(s[j]!)) j++;
  return s.slice(j);
}

/** misc.c argv_split(s, terminate_on_comment = 1): the words, or null for an unterminated quote. */
export function argvSplit(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '#') break;
    let quote = '';
    let word = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) { i++; word += next; } else word += ch;
      } else if (quote === '' && (ch === ' ' || ch === '\t')) break;
      else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== '' && ch === quote) quote = '';
      else word += ch;
    }
    out.push(word);
    if (i >= s.length) {
      if (quote !== '') return null;
      break;
    }
  }
  return out;
}

/** A line as process_config_line sees it: trailing whitespace and form feeds removed (never the first character). */
export function trimConfigLine(line: string): string {
  let end = line.length;
  while (end > 1 && `${WHITESPACE}\f`.includes(line[end - 1]!)) end--;
  return line.slice(0, end);
}

/** The keyword of a line (lowercased) and the rest, or null for a blank or comment line. */
export function splitKeyword(line: string): { keyword: string; rest: string } | null {
  let [kw, rest] = strdelim(trimConfigLine(line));
  if (kw === null) return null;
  if (kw === '') [kw, rest] = strdelim(rest);
  if (kw === null || kw === '' || kw.startsWith('\n') || kw.startsWith('#')) return null;
  let r = rest ?? '';
  let j = 0;
  while (j < r.length && WHITESPACE.includes(r[j]!)) j++;
  r = r.slice(j);
  return { keyword: kw.toLowerCase(), rest: r };
}

/** match.c match_hostname: the host lowercased, the patterns lowercased. */
export function matchHostname(host: string, list: string): boolean {
  return matchPatternList(host.replace(/[A-Z]/g, (c) => c.toLowerCase()), list, true) === 1;
}
