import type { ParsedWord, QuoteContext, WordDialect, WordUnit } from './quoted-word.ts';
import { parseErrorAt } from './shell-word.ts';

/**
 * Words of a systemd setting value (`Environment=` is a space-separated list of `NAME=value` words), as systemd's
 * extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) reads them: quotes may start anywhere in a word, C escapes
 * (`\"`, `\\`, `\n`, `\xHH`, `\NNN`, `\uXXXX`, `\s` …) work in and out of quotes, `%%` is a percent sign and `%X`
 * a specifier (kept as a dynamic unit), a line ending in `\` continues on the next line (read as one space).
 */
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', s: ' ', '\\': '\\', '"': '"', "'": "'",
};
const HINT = 'write the value the way `systemd-analyze verify` accepts it (close quotes, use only C escapes)';

/** Length of the line ending at `at` (1 for ⏎, 2 for ␍⏎, 0 when none). */
const eolAt = (text: string, at: number): number => (text[at] === '\n' ? 1 : text[at] === '\r' && text[at + 1] === '\n' ? 2 : 0);

function escapeAt(text: string, i: number, file: string | undefined): { ch: string; len: number } {
  const c = text[i + 1] ?? '';
  if (c in SIMPLE_ESCAPES) return { ch: SIMPLE_ESCAPES[c]!, len: 2 };
  const hex = (n: number, from: number): { ch: string; len: number } => {
    const digits = text.slice(from, from + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw parseErrorAt(text, i, `bad escape \\${c}`, file, HINT);
    return { ch: String.fromCodePoint(parseInt(digits, 16)), len: from - i + n };
  };
  if (c === 'x') return hex(2, i + 2);
  if (c === 'u') return hex(4, i + 2);
  if (c === 'U') return hex(8, i + 2);
  if (/^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) return { ch: String.fromCharCode(parseInt(text.slice(i + 1, i + 4), 8)), len: 4 };
  throw parseErrorAt(text, i, `bad escape \\${c}`, file, HINT);
}

/** Parse the words of a setting value from `start` to the end of its (continued) line. Returns the words and the end. */
export function parseSystemdWords(text: string, start: number, file?: string): { words: ParsedWord[]; end: number } {
  const words: ParsedWord[] = [];
  let i = start;
  for (;;) {
    // Spacing and continuations between words.
    while (i < text.length) {
      if (text[i] === ' ' || text[i] === '\t') i++;
      else if (text[i] === '\\' && eolAt(text, i + 1)) i += 1 + eolAt(text, i + 1);
      else break;
    }
    if (i >= text.length || eolAt(text, i)) return { words, end: i };
    const word = parseOneWord(text, i, file);
    words.push(word);
    i = word.end;
  }
}

function parseOneWord(text: string, start: number, file: string | undefined): ParsedWord {
  const units: WordUnit[] = [];
  let ctx: QuoteContext = 'none';
  let quoted = false;
  let emptyAt: ParsedWord['emptyAt'] | undefined;
  let opened = start;
  let i = start;
  const unit = (ch: string, s: number, e: number, dynamic = false): void => {
    units.push({ ch, start: s, end: e, ctx, space: !dynamic && /^\s$/.test(ch), ...(dynamic ? { dynamic } : {}) });
  };
  while (i < text.length) {
    const c = text[i]!;
    const eol = eolAt(text, i);
    if (eol && ctx !== 'none') throw parseErrorAt(text, opened, `unterminated ${ctx === 'single' ? "'" : '"'} quote`, file, HINT);
    if (c === '\\') {
      const cont = eolAt(text, i + 1);
      if (cont) {
        if (ctx === 'none') break;
        unit(' ', i, i + 1 + cont); i += 1 + cont; continue;
      }
      const e = escapeAt(text, i, file);
      unit(e.ch, i, i + e.len); i += e.len; continue;
    }
    if (c === '%') {
      const d = text[i + 1];
      if (d === '%') { unit('%', i, i + 2); i += 2; continue; }
      if (d !== undefined && /[A-Za-z]/.test(d)) { unit(text.slice(i, i + 2), i, i + 2, true); i += 2; continue; }
      throw parseErrorAt(text, i, 'lone % (write %% for a percent sign)', file, HINT);
    }
    if (ctx !== 'none' && c === (ctx === 'single' ? "'" : '"')) { ctx = 'none'; i++; continue; }
    if (ctx === 'none') {
      if (eol || c === ' ' || c === '\t') break;
      if (c === '"' || c === "'") {
        ctx = c === "'" ? 'single' : 'double';
        quoted = true;
        opened = i;
        emptyAt ??= { pos: i + 1, ctx };
        i++;
        continue;
      }
    }
    unit(c, i, i + 1); i++;
  }
  if (ctx !== 'none') throw parseErrorAt(text, opened, `unterminated ${ctx === 'single' ? "'" : '"'} quote`, file, HINT);
  return { start, end: i, units, emptyAt: emptyAt ?? { pos: start, ctx: 'none' }, quoted };
}

const escapeIn = (s: string, quote: string): string =>
  s.replace(/[\\%]|["']/g, (c) => (c === '%' ? '%%' : c === '\\' || c === quote ? `\\${c}` : c));

export const SYSTEMD_DIALECT: WordDialect = {
  encode(ctx, s) {
    if (ctx === 'double') return escapeIn(s, '"');
    if (ctx === 'single') return escapeIn(s, "'");
    return /^[A-Za-z0-9_/.,:=@+-]*$/.test(s) ? s : `"${escapeIn(s, '"')}"`;
  },
};

/** The same word written as one double-quoted string (specifiers kept as written). */
export function requoteSystemdWord(word: ParsedWord): string {
  return `"${word.units.map((u) => (u.dynamic ? u.ch : escapeIn(u.ch, '"'))).join('')}"`;
}
