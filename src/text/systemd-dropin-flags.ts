import {
  assertFlagEdits, planFlagEdits, prefersSpaceForm, readFlagTokens, verifyFlagEdits,
  type FlagEdit, type FlagEditResult, type FlagSyntax,
} from './flag-edit-core.ts';
import { spliceWordTokens, wordTokens, type ParsedWord } from './quoted-word.ts';
import { parseSystemdWords, requoteSystemdWord, SYSTEMD_DIALECT } from './systemd-word.ts';

/**
 * Flags held in a systemd drop-in, e.g. `/etc/systemd/system/kubelet.service.d/10-kubeadm.conf`:
 * `Environment="KUBELET_EXTRA_ARGS=--a=b --c"` in a `[Service]` section, used as `$KUBELET_EXTRA_ARGS` (split on
 * whitespace) in ExecStart. The last assignment of the variable in a `[Service]` section counts and is edited;
 * everything else is kept byte for byte. An absent variable gets a new `Environment="NAME=…"` line after the last
 * `Environment=` line of the last `[Service]` section (or after its header; a `[Service]` section is added at the
 * end when there is none).
 */
export interface DropinFlagsOptions {
  /** The environment variable holding the flags, e.g. `KUBELET_EXTRA_ARGS`. */
  readonly variable: string;
  /** Keep the old line commented out (`# …`) above the new one. @default false */
  readonly keepOldCommented?: boolean;
  readonly file?: string;
}

interface Found {
  /** The whole `NAME=…` word in the Environment= value. */
  readonly word: ParsedWord;
  /** The part after `NAME=`: the flags. */
  readonly value: ParsedWord;
  /** Offset of the start of the Environment= line. */
  readonly lineStart: number;
  /** Offset just after the value's line ending. */
  readonly lineEnd: number;
}

interface Scan {
  readonly found?: Found;
  /** Where a new Environment= line goes (line start offset), when a [Service] section exists. */
  readonly insertAt?: number;
  readonly eol: string;
}

const lineEndAfter = (text: string, at: number): number => { const n = text.indexOf('\n', at); return n === -1 ? text.length : n + 1; };

function scanDropin(text: string, variable: string, file?: string): Scan {
  let section = '';
  let found: Found | undefined;
  let insertAt: number | undefined;
  let pos = 0;
  while (pos < text.length) {
    let next = lineEndAfter(text, pos);
    const line = text.slice(pos, next);
    const header = /^\s*\[([^\]]*)\]/.exec(line);
    const env = /^[ \t]*Environment[ \t]*=[ \t]*/.exec(line);
    if (header) {
      section = header[1]!;
      if (section === 'Service') insertAt = next;
    } else if (env && section === 'Service') {
      const { words, end } = parseSystemdWords(text, pos + env[0].length, file);
      next = lineEndAfter(text, end);
      insertAt = next;
      for (const word of words) {
        const eq = word.units.findIndex((u) => u.ch === '=');
        if (eq < 0 || word.units.slice(0, eq).map((u) => u.ch).join('') !== variable) continue;
        const eqUnit = word.units[eq]!;
        const units = word.units.slice(eq + 1);
        found = {
          word, lineStart: pos, lineEnd: next,
          value: { start: eqUnit.end, end: word.end, units, emptyAt: { pos: eqUnit.end, ctx: eqUnit.ctx }, quoted: word.quoted },
        };
      }
    }
    pos = next;
  }
  return { ...(found ? { found } : {}), ...(insertAt !== undefined ? { insertAt } : {}), eol: /^[^\n]*\r\n/.test(text) ? '\r\n' : '\n' };
}

const SYNTAX = (file?: string): FlagSyntax => ({ splitsOnWhitespace: true, ...(file ? { file } : {}) });

/** The flags of `variable` in the drop-in (empty when absent). */
export function readDropinFlags(text: string, variable: string, file?: string): ReadonlyMap<string, string | true> {
  const { found } = scanDropin(text, variable, file);
  return found ? readFlagTokens(wordTokens(found.value)) : new Map();
}

/** Apply `edits` to the flags of `variable`; returns the new text and one note per effective edit. Pure. */
export function applyDropinFlagEdits(text: string, edits: readonly FlagEdit[], options: DropinFlagsOptions): FlagEditResult {
  const { variable, file } = options;
  const syntax = SYNTAX(file);
  let scan = scanDropin(text, variable, file);
  if (!scan.found) return appendEnvironment(text, scan, edits, options, syntax);
  const original = scan.found;
  let plan = planFlagEdits(wordTokens(original.value), edits, syntax, prefersSpaceForm(wordTokens(original.value)));
  if (!plan.notes.length) return { text, notes: [] };
  let current = text;
  if (!original.word.quoted) {
    current = text.slice(0, original.word.start) + requoteSystemdWord(original.word) + text.slice(original.word.end);
    scan = scanDropin(current, variable, file);
    const tokens = wordTokens(scan.found!.value);
    plan = planFlagEdits(tokens, edits, syntax, prefersSpaceForm(tokens));
  }
  let out = spliceWordTokens(current, scan.found!.value, plan.ops, SYSTEMD_DIALECT);
  if (options.keepOldCommented) {
    const old = text.slice(original.lineStart, original.lineEnd).replace(/\r?\n$/, '');
    out = out.slice(0, original.lineStart) + old.split('\n').map((l) => `# ${l.replace(/\r$/, '')}`).join(scan.eol) + scan.eol + out.slice(original.lineStart);
  }
  verifyFlagEdits(() => readDropinFlags(out, variable, file), edits, `Environment=${variable}`, file);
  return { text: out, notes: plan.notes };
}

/** `applyDropinFlagEdits(...).text`. */
export function editDropinFlags(text: string, edits: readonly FlagEdit[], options: DropinFlagsOptions): string {
  return applyDropinFlagEdits(text, edits, options).text;
}

function appendEnvironment(text: string, scan: Scan, edits: readonly FlagEdit[], options: DropinFlagsOptions, syntax: FlagSyntax): FlagEditResult {
  assertFlagEdits(edits, syntax);
  const plan = planFlagEdits([], edits.filter((e) => 'set' in e), syntax);
  const words = plan.ops.flatMap((o) => o.tokens);
  if (!words.length) return { text, notes: [] };
  const { eol } = scan;
  const line = `Environment="${SYSTEMD_DIALECT.encode('double', `${options.variable}=${words.join(' ')}`)}"${eol}`;
  const notes = [`new Environment=${options.variable} line`, ...plan.notes];
  let out: string;
  if (scan.insertAt !== undefined) {
    const before = text.slice(0, scan.insertAt);
    out = before + (before === '' || before.endsWith('\n') ? '' : eol) + line + text.slice(scan.insertAt);
  } else {
    out = `${text}${text === '' ? '' : text.endsWith('\n') ? eol : eol + eol}[Service]${eol}${line}`;
  }
  verifyFlagEdits(() => readDropinFlags(out, options.variable, options.file), edits, `Environment=${options.variable}`, options.file);
  return { text: out, notes };
}
