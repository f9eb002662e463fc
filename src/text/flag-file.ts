import {
  assertFlagEdits, planFlagEdits, prefersSpaceForm, readFlagTokens, verifyFlagEdits,
  type FlagEdit, type FlagEditResult, type FlagSyntax,
} from './flag-edit-core.ts';
import { spliceWordTokens, wordTokens, type ParsedWord } from './quoted-word.ts';
import { lineAt, parseErrorAt, parseShellWord, requoteShellWord, SHELL_DIALECT } from './shell-word.ts';

/**
 * `/etc/default/*` files: sh sourced by a sysv/upstart script that starts the daemon with `$NAME_OPTS` unquoted, so
 * the value is split on whitespace and glob-expanded. The file is parsed into nodes covering every byte (comments,
 * blank lines, other lines and assignments are kept verbatim); an assignment is `[export ]NAME=word[trailer]` where
 * the word may be bare, '…', "…" or a mix, with escapes and line continuations. Only the last assignment of a
 * variable counts (the file is sourced); edits go there. Flag semantics: see flag-edit-core.ts.
 */
export type FlagFileNode =
  | { readonly kind: 'text'; readonly raw: string }
  | {
    readonly kind: 'assignment';
    /** The whole assignment: from line start through its trailer and line ending. */
    readonly raw: string;
    readonly name: string;
    readonly exported: boolean;
    /** 1-based line of the assignment. */
    readonly line: number;
    /** Offsets in the file text. */
    readonly start: number;
    readonly word: ParsedWord;
    /** What follows the word on its last line (spaces, `# comment`, `; …`), without the line ending. */
    readonly trailer: string;
  };

export interface FlagFile {
  readonly nodes: readonly FlagFileNode[];
  /** The file's line ending: '\r\n' when its first line ends so, else '\n'. */
  readonly eol: string;
  readonly file?: string;
}

export interface EditFlagsOptions {
  /** The variable holding the flags, e.g. `KUBELET_OPTS`. */
  readonly variable: string;
  /** Keep the old assignment commented out (`# …`) above the new one. @default false */
  readonly keepOldCommented?: boolean;
  /** The file's path, for error messages. */
  readonly file?: string;
}

const ASSIGNMENT = /^[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=/;
/** Flag syntax of an `/etc/default` variable: word-split and glob-expanded by the start script. */
export const shellFlagSyntax = (file?: string): FlagSyntax => ({
  splitsOnWhitespace: true,
  forbidden: { pattern: /[*?[]/, reason: 'holds a glob character (* ? [), which the start script would expand against file names' },
  ...(file ? { file } : {}),
});

/** Parse a whole file; throws ParseError (quoting the line, with its number) on an unterminated quote or expansion. */
export function parseFlagFile(text: string, file?: string): FlagFile {
  const nodes: FlagFileNode[] = [];
  let pos = 0;
  while (pos < text.length) {
    let lineEnd = text.indexOf('\n', pos);
    lineEnd = lineEnd === -1 ? text.length : lineEnd + 1;
    const m = ASSIGNMENT.exec(text.slice(pos, lineEnd));
    if (!m) { nodes.push({ kind: 'text', raw: text.slice(pos, lineEnd) }); pos = lineEnd; continue; }
    const word = parseShellWord(text, pos + m[0].length, file);
    let end = text.indexOf('\n', word.end);
    end = end === -1 ? text.length : end + 1;
    nodes.push({
      kind: 'assignment', raw: text.slice(pos, end), name: m[2]!, exported: !!m[1], line: lineAt(text, pos).line,
      start: pos, word, trailer: text.slice(word.end, end).replace(/\r?\n$/, ''),
    });
    pos = end;
  }
  return { nodes, eol: /^[^\n]*\r\n/.test(text) ? '\r\n' : '\n', ...(file ? { file } : {}) };
}

/** Print a parsed file: `printFlagFile(parseFlagFile(t)) === t` for every `t` that parses. */
export function printFlagFile(parsed: FlagFile): string {
  return parsed.nodes.map((n) => n.raw).join('');
}

type Assignment = Extract<FlagFileNode, { kind: 'assignment' }>;

function findAssignment(parsed: FlagFile, variable: string): Assignment | undefined {
  const all = parsed.nodes.filter((n): n is Assignment => n.kind === 'assignment' && n.name === variable);
  return all[all.length - 1];
}

function assertPlainTrailer(text: string, a: Assignment, file?: string): void {
  if (!/^[ \t]*(?:[#;].*)?\r?$/.test(a.trailer)) {
    throw parseErrorAt(text, a.word.end, `unexpected text after the value of ${a.name}`, file,
      `quote the whole value of ${a.name} (NAME="--a=b --c") so that it is one word`);
  }
}

/** The flags of the last `variable=` assignment (empty when absent). Names as written → value (`true`: bare flag). */
export function readFlags(text: string, variable: string, file?: string): ReadonlyMap<string, string | true> {
  const a = findAssignment(parseFlagFile(text, file), variable);
  return a ? readFlagTokens(wordTokens(a.word)) : new Map();
}

/**
 * Apply `edits` to `variable`'s flags; returns the new text and one note per effective edit (empty: nothing to do,
 * text unchanged). A variable absent from the file gets a new `NAME="…"` line at the end. A bare value
 * (`NAME=--a`) that must hold several flags is rewritten double-quoted. Pure; throws ParseError / ValidationError.
 */
export function applyFlagFileEdits(text: string, edits: readonly FlagEdit[], options: EditFlagsOptions): FlagEditResult {
  const { variable, file } = options;
  const syntax = shellFlagSyntax(file);
  let parsed = parseFlagFile(text, file);
  const original = findAssignment(parsed, variable);
  let a = original;
  if (!a || !original) return appendAssignment(text, parsed.eol, edits, options, syntax);
  assertPlainTrailer(text, a, file);
  let tokens = wordTokens(a.word);
  let plan = planFlagEdits(tokens, edits, syntax, prefersSpaceForm(tokens));
  if (!plan.notes.length) return { text, notes: [] };
  let current = text;
  if (!a.word.quoted) {
    current = text.slice(0, a.word.start) + requoteShellWord(a.word) + text.slice(a.word.end);
    parsed = parseFlagFile(current, file);
    a = findAssignment(parsed, variable)!;
    tokens = wordTokens(a.word);
    plan = planFlagEdits(tokens, edits, syntax, prefersSpaceForm(tokens));
  }
  let out = spliceWordTokens(current, a.word, plan.ops, SHELL_DIALECT);
  if (options.keepOldCommented) {
    const commented = original.raw.replace(/\r?\n$/, '').split('\n').map((l) => `# ${l.replace(/\r$/, '')}`).join(parsed.eol) + parsed.eol;
    out = out.slice(0, a.start) + commented + out.slice(a.start);
  }
  verifyFlagEdits(() => readFlags(out, options.variable, options.file), edits, options.variable, options.file);
  return { text: out, notes: plan.notes };
}

/** `applyFlagFileEdits(...).text`: the pure `(text, edits) → text` editor. */
export function editFlagFile(text: string, edits: readonly FlagEdit[], options: EditFlagsOptions): string {
  return applyFlagFileEdits(text, edits, options).text;
}

function appendAssignment(text: string, eol: string, edits: readonly FlagEdit[], options: EditFlagsOptions, syntax: FlagSyntax): FlagEditResult {
  assertFlagEdits(edits, syntax);
  const plan = planFlagEdits([], edits.filter((e) => 'set' in e), syntax);
  const words = plan.ops.flatMap((o) => o.tokens);
  if (!words.length) return { text, notes: [] };
  const line = `${options.variable}="${SHELL_DIALECT.encode('double', words.join(' '))}"${eol}`;
  const out = text + (text === '' || text.endsWith('\n') ? '' : eol) + line;
  verifyFlagEdits(() => readFlags(out, options.variable, options.file), edits, options.variable, options.file);
  return { text: out, notes: [`new ${options.variable} assignment`, ...plan.notes] };
}

/** The words of the last `variable=` assignment as the start script's `$variable` gives them (undefined: absent). */
export function readFlagWords(text: string, variable: string, file?: string): string[] | undefined {
  const a = findAssignment(parseFlagFile(text, file), variable);
  return a ? wordTokens(a.word).map((t) => t.text) : undefined;
}
