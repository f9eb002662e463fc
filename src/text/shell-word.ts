import { ParseError } from '../errors.ts';
import type { ParsedWord, QuoteContext, WordDialect, WordUnit } from './quoted-word.ts';

/**
 * POSIX sh words, as in a sourced `/etc/default/*` file: bare text with backslash escapes, '…' (literal),
 * "…" (where `\` escapes `$`, backquote, `"`, `\` and newline), line continuations (`\⏎`, also `\␍⏎`),
 * expansions `$NAME`, `${…}`, `$(…)`, `$((…))` and backquotes (kept as opaque dynamic units).
 */
const WORD_END = new Set([' ', '\t', '\n', '\r', ';', '&', '|', '<', '>', '(', ')']);
const SPACE = new Set([' ', '\t', '\n', '\r']);

/** 1-based line number of offset `at`, and that line's text. */
export function lineAt(text: string, at: number): { line: number; text: string } {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  let end = text.indexOf('\n', at);
  if (end === -1) end = text.length;
  return { line: text.slice(0, start).split('\n').length, text: text.slice(start, end).replace(/\r$/, '') };
}

/** A ParseError quoting the line that holds offset `at`. */
export function parseErrorAt(text: string, at: number, what: string, file: string | undefined, hint: string): ParseError {
  const l = lineAt(text, at);
  return new ParseError(`${what} at line ${l.line}: ${l.text}`, { ...(file ? { file } : {}), line: l.line, hint });
}

const QUOTE_HINT = 'close the quote (or escape it with a backslash) so that `sh -n` accepts the file';

/** End offset of the expansion starting at `i` (a `$` or a backquote), or undefined when `$` is a literal dollar. */
function expansionEnd(text: string, i: number, file: string | undefined): number | undefined {
  const c = text[i];
  const unterminated = (): never => { throw parseErrorAt(text, i, 'unterminated expansion', file, QUOTE_HINT); };
  if (c === '`') {
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === '\\') j++;
      else if (text[j] === '`') return j + 1;
    }
    return unterminated();
  }
  const d = text[i + 1];
  if (d === undefined) return undefined;
  if (/[A-Za-z_]/.test(d)) {
    let j = i + 2;
    while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
    return j;
  }
  if (/[0-9@*#?$!-]/.test(d)) return i + 2;
  if (d !== '{' && d !== '(') return undefined;
  const close = d === '{' ? '}' : ')';
  let depth = 0;
  for (let j = i + 1; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') { j++; continue; }
    if (ch === "'") { j = text.indexOf("'", j + 1); if (j === -1) return unterminated(); continue; }
    if (ch === '"') {
      for (j++; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      if (j >= text.length) return unterminated();
      continue;
    }
    if (ch === d) depth++;
    else if (ch === close && --depth === 0) return j + 1;
  }
  return unterminated();
}

/** Parse the sh word starting at `start` (e.g. just after `NAME=`). Throws ParseError for an unterminated quote. */
export function parseShellWord(text: string, start: number, file?: string): ParsedWord {
  const units: WordUnit[] = [];
  let ctx: QuoteContext = 'none';
  let quoted = false;
  let emptyAt: ParsedWord['emptyAt'] | undefined;
  let opened = start;
  let i = start;
  const unit = (ch: string, s: number, e: number, extra: { dynamic?: boolean } = {}): void => {
    units.push({ ch, start: s, end: e, ctx, space: !extra.dynamic && SPACE.has(ch), ...extra });
  };
  const continuation = (at: number): number => (text[at] === '\n' ? 1 : text[at] === '\r' && text[at + 1] === '\n' ? 2 : 0);
  while (i < text.length) {
    const c = text[i]!;
    if (ctx === 'single') {
      if (c === "'") { ctx = 'none'; i++; continue; }
      unit(c, i, i + 1); i++; continue;
    }
    if (c === '\\') {
      const cont = continuation(i + 1);
      if (cont) { unit('', i, i + 1 + cont); i += 1 + cont; continue; }
      const next = text[i + 1];
      if (next === undefined) throw parseErrorAt(text, i, 'backslash at end of file', file, 'remove the trailing backslash');
      if (ctx === 'none' || '$`"\\'.includes(next)) { unit(next, i, i + 2); i += 2; continue; }
      unit('\\', i, i + 1); i++; continue;
    }
    if (c === '$' || c === '`') {
      const end = expansionEnd(text, i, file);
      if (end !== undefined) { unit(text.slice(i, end), i, end, { dynamic: true }); i = end; continue; }
      unit(c, i, i + 1); i++; continue;
    }
    if (ctx === 'double') {
      if (c === '"') { ctx = 'none'; i++; continue; }
      unit(c, i, i + 1); i++; continue;
    }
    if (c === "'" || c === '"') {
      ctx = c === "'" ? 'single' : 'double';
      quoted = true;
      opened = i;
      emptyAt ??= { pos: i + 1, ctx };
      i++;
      continue;
    }
    if (WORD_END.has(c)) break;
    unit(c, i, i + 1); i++;
  }
  if (ctx !== 'none') {
    throw parseErrorAt(text, opened, `unterminated ${ctx === 'single' ? "'" : '"'} quote`, file, QUOTE_HINT);
  }
  return { start, end: i, units, emptyAt: emptyAt ?? { pos: start, ctx: 'none' }, quoted };
}

const escapeDouble = (s: string): string => s.replace(/[\\"$`]/g, '\\$&');

export const SHELL_DIALECT: WordDialect = {
  encode(ctx, s) {
    if (ctx === 'double') return escapeDouble(s);
    if (ctx === 'single') return s.replace(/'/g, `'\\''`);
    return /^[A-Za-z0-9_/.,:=@%+-]*$/.test(s) ? s : `"${escapeDouble(s)}"`;
  },
};

/** The same word written as one double-quoted string (expansions kept as written). */
export function requoteShellWord(word: ParsedWord): string {
  return `"${word.units.map((u) => (u.dynamic ? u.ch : escapeDouble(u.ch))).join('')}"`;
}
