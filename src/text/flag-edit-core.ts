import { InternalError, ParseError, ValidationError } from '../errors.ts';

/**
 * The flag semantics shared by every flag-holding format (an `/etc/default` `NAME_OPTS="..."` assignment, a systemd
 * `Environment="NAME=..."` drop-in, a kubeadm manifest's `command:` list). A format turns its text into a list of
 * tokens (argv words); this file reads flags from tokens and plans edits as token operations; the format applies
 * the operations to its own text, keeping every byte it does not have to change.
 *
 * Reading rules (documented in the README of src/text via this comment):
 * - a token `-x…`/`--x…` is a flag; `--` alone ends the flags (the rest is left alone);
 * - `--k=v` is the value `v` (form `equals`); `--k` followed by a token that does not start with `-` is that
 *   token's value (form `space`) — kube daemons take no positional arguments, so a bare word after a flag is its
 *   value, exactly as the daemons' own flag parsing and the fleet's stand-ins read it; otherwise `--k` is the
 *   boolean `true` (form `bare`);
 * - a token that is not a flag and not a flag's value (a positional word, `$EXTRA`) is kept untouched;
 * - flags are matched by name without their leading dashes (`-v` matches `--v`), names keep their dashes as written;
 * - a flag given several times: the last one counts (as for the daemons); `set` rewrites the last one, `remove`
 *   removes all of them.
 */
export type FlagEdit = { readonly set: string; readonly value: string | true } | { readonly remove: string };

export interface FlagToken {
  /** The decoded word (quotes and escapes removed). */
  readonly text: string;
  /** Holds an expansion (`$X`, `$(…)`, `%n`): its real value is unknown, so it never equals a wanted value. */
  readonly dynamic?: boolean;
}

export interface FlagOccurrence {
  /** Name as written, with its dashes, e.g. `--api-servers`. */
  readonly name: string;
  /** Name without leading dashes: the matching key. */
  readonly key: string;
  readonly value: string | true;
  readonly form: 'equals' | 'space' | 'bare';
  /** Token index of the flag. */
  readonly index: number;
  /** Token index of the value (form `space` only). */
  readonly valueIndex?: number;
  readonly dynamic: boolean;
}

/** Replace tokens [start, end) by `tokens` (none = delete them and one adjacent separator; start = end = count: append). */
export interface TokenOp {
  readonly start: number;
  readonly end: number;
  readonly tokens: readonly string[];
}

export interface FlagEditPlan {
  /** Non-overlapping operations, sorted by `start`, descending (apply them in this order). */
  readonly ops: readonly TokenOp[];
  /** One line per effective edit: `set --a=1 (was 0)`, `add --b=2`, `remove --c (was x)`. Empty = nothing to do. */
  readonly notes: readonly string[];
}

export interface FlagSyntax {
  /** Values are split on whitespace by the consumer (`$NAME_OPTS` unquoted): whitespace in a value is refused. */
  readonly splitsOnWhitespace: boolean;
  /** Characters a value may not hold in this format, with the reason, e.g. glob characters for sh. */
  readonly forbidden?: { readonly pattern: RegExp; readonly reason: string };
  /** Where the problem is, for error messages. */
  readonly file?: string;
}

export interface FlagEditResult {
  readonly text: string;
  readonly notes: readonly string[];
}

const stripDashes = (name: string): string => name.replace(/^-+/, '');
const isFlagToken = (t: string): boolean => t.length > 1 && t.startsWith('-') && t !== '--';

/** Find every flag in `tokens`, in order. */
export function scanFlags(tokens: readonly FlagToken[]): FlagOccurrence[] {
  const out: FlagOccurrence[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '--') break;
    if (!isFlagToken(t.text)) continue;
    const eq = t.text.indexOf('=');
    if (eq > 0) {
      const name = t.text.slice(0, eq);
      out.push({ name, key: stripDashes(name), value: t.text.slice(eq + 1), form: 'equals', index: i, dynamic: !!t.dynamic });
      continue;
    }
    const next = tokens[i + 1];
    if (next && !next.text.startsWith('-')) {
      out.push({ name: t.text, key: stripDashes(t.text), value: next.text, form: 'space', index: i, valueIndex: i + 1, dynamic: !!(t.dynamic || next.dynamic) });
      i++;
      continue;
    }
    out.push({ name: t.text, key: stripDashes(t.text), value: true, form: 'bare', index: i, dynamic: !!t.dynamic });
  }
  return out;
}

/** The flags of `tokens` as a map: name as written → value (`true` for a bare flag); the last occurrence wins. */
export function readFlagTokens(tokens: readonly FlagToken[]): ReadonlyMap<string, string | true> {
  const byKey = new Map<string, FlagOccurrence>();
  for (const f of scanFlags(tokens)) { byKey.delete(f.key); byKey.set(f.key, f); }
  return new Map([...byKey.values()].map((f) => [f.name, f.value]));
}

const editName = (e: FlagEdit): string => ('set' in e ? e.set : e.remove);
const show = (name: string, v: string | true): string => (v === true ? name : `${name}=${v}`);
/** Add `--` to a name given without dashes. */
export const normalizeFlagName = (name: string): string => (name.startsWith('-') ? name : `--${name}`);

/** Every problem with `edits` in this syntax (bad names, unsafe values, a flag edited twice). */
export function checkFlagEdits(edits: readonly FlagEdit[], syntax: FlagSyntax): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of edits) {
    const name = editName(e);
    const key = stripDashes(name);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(key) || /^-{3,}/.test(name)) {
      problems.push(`flag ${JSON.stringify(name)}: not a flag name (letters, digits, "-", "_", "." and ":" after one or two dashes)`);
      continue;
    }
    if (seen.has(key)) problems.push(`flag ${name}: edited twice`);
    seen.add(key);
    if (!('set' in e) || e.value === true) continue;
    if (typeof e.value !== 'string') { problems.push(`flag ${name}: value must be a string or true`); continue; }
    if (syntax.splitsOnWhitespace && /\s/.test(e.value)) {
      problems.push(`flag ${name}: value ${JSON.stringify(e.value)} holds whitespace, but this variable is split on whitespace by the daemon's start script`);
    } else if (/[\0-\x08\x0b-\x1f\x7f]/.test(e.value)) {
      problems.push(`flag ${name}: value ${JSON.stringify(e.value)} holds control characters`);
    } else if (syntax.forbidden?.pattern.test(e.value)) {
      problems.push(`flag ${name}: value ${JSON.stringify(e.value)} ${syntax.forbidden.reason}`);
    }
  }
  return problems;
}

/** Throw a ValidationError listing every problem of `edits`. */
export function assertFlagEdits(edits: readonly FlagEdit[], syntax: FlagSyntax): void {
  const problems = checkFlagEdits(edits, syntax);
  if (problems.length) {
    throw new ValidationError(problems, {
      ...(syntax.file ? { file: syntax.file } : {}),
      hint: 'give each flag once, with a value this file format can hold (no whitespace or control characters in a word-split variable)',
    });
  }
}

/** A space-form value is safe only when a reader would take it back as this flag's value. */
const spaceSafe = (v: string): boolean => v !== '' && !v.startsWith('-');

/**
 * Plan `edits` on `tokens`: which tokens to replace, delete or append. `preferSpace`: new flags are written `--k v`
 * (when the file writes its flags that way). Pure; validates the edits first (ValidationError).
 */
export function planFlagEdits(tokens: readonly FlagToken[], edits: readonly FlagEdit[], syntax: FlagSyntax, preferSpace = false): FlagEditPlan {
  assertFlagEdits(edits, syntax);
  const flags = scanFlags(tokens);
  const ops: TokenOp[] = [];
  const appended: string[] = [];
  const notes: string[] = [];
  for (const e of edits) {
    const key = stripDashes(editName(e));
    const found = flags.filter((f) => f.key === key);
    if (!('set' in e)) {
      for (const f of found) ops.push({ start: f.index, end: (f.valueIndex ?? f.index) + 1, tokens: [] });
      if (found.length) notes.push(`remove ${found.map((f) => show(f.name, f.value)).join(', ')}`);
      continue;
    }
    const want = e.value;
    const last = found[found.length - 1];
    if (!last) {
      const name = normalizeFlagName(e.set);
      if (want === true) appended.push(name);
      else if (preferSpace && spaceSafe(want)) appended.push(name, want);
      else appended.push(`${name}=${want}`);
      notes.push(`add ${show(name, want)}`);
      continue;
    }
    if (!last.dynamic && last.value === want) continue;
    notes.push(`set ${show(last.name, want)} (was ${last.value === true ? 'a bare flag' : JSON.stringify(last.value).slice(1, -1)})`);
    if (want === true) {
      if (last.form === 'space') ops.push({ start: last.valueIndex!, end: last.valueIndex! + 1, tokens: [] });
      else ops.push({ start: last.index, end: last.index + 1, tokens: [last.name] });
    } else if (last.form === 'space' && spaceSafe(want)) {
      ops.push({ start: last.valueIndex!, end: last.valueIndex! + 1, tokens: [want] });
    } else if (last.form === 'bare' && preferSpace && spaceSafe(want)) {
      ops.push({ start: last.index, end: last.index + 1, tokens: [last.name, want] });
    } else {
      ops.push({ start: last.index, end: (last.valueIndex ?? last.index) + 1, tokens: [`${last.name}=${want}`] });
    }
  }
  if (appended.length) ops.push({ start: tokens.length, end: tokens.length, tokens: appended });
  return { ops: mergeDeletions(ops), notes };
}

/** Sort descending and merge deletions of adjacent token ranges (so that two never claim the same separator). */
function mergeDeletions(ops: readonly TokenOp[]): TokenOp[] {
  const asc = [...ops].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: TokenOp[] = [];
  for (const op of asc) {
    const prev = out[out.length - 1];
    if (prev && prev.tokens.length === 0 && op.tokens.length === 0 && prev.end === op.start && op.end > op.start) {
      out[out.length - 1] = { start: prev.start, end: op.end, tokens: [] };
    } else out.push(op);
  }
  return out.reverse();
}

/** True when most flags of `tokens` are written `--k v` (new flags then follow that style). */
export function prefersSpaceForm(tokens: readonly FlagToken[]): boolean {
  const flags = scanFlags(tokens);
  const space = flags.filter((f) => f.form === 'space').length;
  const equals = flags.filter((f) => f.form === 'equals').length;
  return space > equals;
}

/**
 * Defence in depth after an edit: `read` (the format's reader on the new text) must succeed and give back exactly
 * what the edits want; otherwise InternalError (a bug in rig), so that a broken file is never written.
 */
export function verifyFlagEdits(read: () => ReadonlyMap<string, string | true>, edits: readonly FlagEdit[], what: string, file?: string): void {
  const where = file ? { file } : {};
  let flags: ReadonlyMap<string, string | true>;
  try { flags = read(); } catch (cause) {
    if (cause instanceof ParseError) throw new InternalError(`editing ${what} produced text that does not parse: ${cause.message}`, { ...where, cause });
    throw cause;
  }
  const byKey = new Map([...flags].map(([k, v]) => [stripDashes(k), v]));
  for (const e of edits) {
    const key = stripDashes(editName(e));
    const got = byKey.get(key);
    if ('set' in e ? got !== e.value : got !== undefined) {
      throw new InternalError(`editing ${what}: flag --${key} did not read back as intended`, where);
    }
  }
}
