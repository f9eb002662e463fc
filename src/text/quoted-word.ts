import type { FlagToken, TokenOp } from './flag-edit-core.ts';

/**
 * A quoted word (sh or systemd syntax) seen as decoded characters, each tied to the raw bytes it came from and the
 * quoting context it was read in. This is what lets a flag be replaced inside `"…"`, `'…'` or a bare word while
 * every other byte (quotes, escapes, line continuations, spacing) stays as written. The dialect (sh, systemd)
 * parses words into units and says how to write text in each context.
 */
export type QuoteContext = 'none' | 'single' | 'double';

export interface WordUnit {
  /** Decoded text (one character, or the raw text of an expansion; '' for a line continuation in sh). */
  readonly ch: string;
  /** Raw span [start, end) in the whole file text. */
  readonly start: number;
  readonly end: number;
  readonly ctx: QuoteContext;
  /** An expansion (`$X`, `$(…)`, `%n`): value unknown until run time. */
  readonly dynamic?: boolean;
  /** Separates words of the value (decoded whitespace). */
  readonly space: boolean;
}

export interface ParsedWord {
  /** Raw span [start, end) in the whole file text. */
  readonly start: number;
  readonly end: number;
  readonly units: readonly WordUnit[];
  /** Where text goes when the word has no units (e.g. inside `""`), and in which context. */
  readonly emptyAt: { readonly pos: number; readonly ctx: QuoteContext };
  /** Holds quotes (false: a bare word such as `NAME=--a=b`). */
  readonly quoted: boolean;
}

export interface WordDialect {
  /** Raw text that reads back as `text` in context `ctx` (a bare context may open quotes). */
  encode(ctx: QuoteContext, text: string): string;
}

interface Token extends FlagToken { readonly first: WordUnit; readonly last: WordUnit }

/** The whitespace-separated tokens of a word's units. */
export function splitUnits(units: readonly WordUnit[]): Token[] {
  const out: Token[] = [];
  let cur: WordUnit[] = [];
  const flush = (): void => {
    const tokenUnits = cur.filter((u) => u.ch !== '' || u.dynamic);
    if (tokenUnits.length) {
      out.push({ text: cur.map((u) => u.ch).join(''), dynamic: cur.some((u) => u.dynamic), first: tokenUnits[0]!, last: tokenUnits[tokenUnits.length - 1]! });
    }
    cur = [];
  };
  for (const u of units) {
    if (u.space) flush();
    else cur.push(u);
  }
  flush();
  return out;
}

const QUOTE: Record<QuoteContext, string> = { none: '', single: "'", double: '"' };
/** Raw text that leaves context `from` and enters `to` without adding characters. */
const transition = (from: QuoteContext, to: QuoteContext): string => (from === to ? '' : QUOTE[from] + QUOTE[to]);

/**
 * The raw separator to reuse between new tokens in context `ctx`: the last separator between two tokens that lies
 * entirely in that context (e.g. `  ` or ` \⏎  `), else one encoded space.
 */
function separatorFor(text: string, units: readonly WordUnit[], tokens: readonly Token[], ctx: QuoteContext, dialect: WordDialect): string {
  for (let i = tokens.length - 1; i > 0; i--) {
    const from = tokens[i - 1]!.last;
    const to = tokens[i]!.first;
    const between = units.filter((u) => u.start >= from.end && u.end <= to.start);
    const contiguous = between.every((u, k) => u.ctx === ctx && (k === 0 ? u.start === from.end : u.start === between[k - 1]!.end));
    if (between.length && contiguous && from.ctx === ctx && to.ctx === ctx && between[between.length - 1]!.end === to.start) {
      return text.slice(from.end, to.start);
    }
  }
  return dialect.encode(ctx, ' ');
}

/** The word's tokens, as the flag core reads them. */
export function wordTokens(word: ParsedWord): FlagToken[] {
  return splitUnits(word.units).map(({ text, dynamic }) => (dynamic ? { text, dynamic } : { text }));
}

/** Apply token operations (from planFlagEdits) to the raw text of `word` inside `text`. */
export function spliceWordTokens(text: string, word: ParsedWord, ops: readonly TokenOp[], dialect: WordDialect): string {
  const tokens = splitUnits(word.units);
  const n = tokens.length;
  let out = text;
  const put = (from: number, to: number, raw: string): void => { out = out.slice(0, from) + raw + out.slice(to); };
  const joined = (ctx: QuoteContext, words: readonly string[]): string =>
    words.map((w) => dialect.encode(ctx, w)).join(separatorFor(text, word.units, tokens, ctx, dialect));
  for (const op of ops) {
    if (op.start === op.end) {
      // Append after the last token (or at the end of the word's spacing, or inside its empty quotes).
      const lastUnit = n ? tokens[n - 1]!.last : word.units[word.units.length - 1];
      const at = lastUnit ? { pos: lastUnit.end, ctx: lastUnit.ctx } : word.emptyAt;
      const sep = n ? separatorFor(text, word.units, tokens, at.ctx, dialect) : '';
      put(at.pos, at.pos, sep + joined(at.ctx, op.tokens));
      continue;
    }
    const first = tokens[op.start]!;
    const last = tokens[op.end - 1]!;
    if (op.tokens.length) {
      put(first.first.start, last.last.end, joined(first.first.ctx, op.tokens) + transition(first.first.ctx, last.last.ctx));
    } else if (op.start > 0) {
      const prev = tokens[op.start - 1]!.last;
      put(prev.end, last.last.end, transition(prev.ctx, last.last.ctx));
    } else if (op.end < n) {
      const next = tokens[op.end]!.first;
      put(first.first.start, next.start, transition(first.first.ctx, next.ctx));
    } else {
      put(first.first.start, last.last.end, transition(first.first.ctx, last.last.ctx));
    }
  }
  return out;
}
