import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, parse, parseDocument, type Scalar } from 'yaml';
import { ParseError } from '../errors.ts';
import {
  planFlagEdits, prefersSpaceForm, readFlagTokens, verifyFlagEdits,
  type FlagEdit, type FlagEditResult, type FlagToken,
} from './flag-edit-core.ts';
import { parseErrorAt } from './shell-word.ts';

/**
 * Flags of a kubeadm static-pod manifest (`/etc/kubernetes/manifests/kube-apiserver.yaml`): the items of a
 * container's `command:` block list (`- --flag=value`), each item one argv word (so values may hold spaces).
 * The YAML is parsed with the `yaml` package only to find the items' source ranges; edits splice the text there,
 * so comments, indentation, quoting of other items and everything outside the list stay byte for byte. A replaced
 * item keeps its quote style when it can; new items copy the last item's indentation.
 */
export interface ManifestFlagsOptions {
  /** Container whose `command` holds the flags. @default the first container */
  readonly container?: string;
  /** Keep the old item commented out (`# - …`) above the new one. @default false */
  readonly keepOldCommented?: boolean;
  readonly file?: string;
}

interface Item {
  readonly scalar: Scalar;
  /** Offset of the start of the item's line, of the scalar, of its end, and just after its last line. */
  readonly lineStart: number;
  readonly start: number;
  readonly end: number;
  readonly lineEnd: number;
  /** `    - ` : what precedes the scalar on its line. */
  readonly prefix: string;
}

const HINT = 'fix the manifest so that `kubectl apply --dry-run=client -f` (or any YAML linter) accepts it';

function commandItems(text: string, options: ManifestFlagsOptions): Item[] {
  const { file } = options;
  const doc = parseDocument(text, { keepSourceTokens: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line ?? 1;
    throw new ParseError(`YAML: ${err.message.split('\n')[0]} at line ${line}: ${text.split('\n')[line - 1]?.replace(/\r$/, '') ?? ''}`, {
      ...(file ? { file } : {}), line, hint: HINT,
    });
  }
  const containers = doc.getIn(['spec', 'containers'], true);
  const where = options.container ? `container ${JSON.stringify(options.container)}` : 'the first container';
  const missing = (what: string): ParseError => new ParseError(`${what} in ${where} of the manifest`, {
    ...(file ? { file } : {}), hint: 'point rig at a static-pod manifest whose container has a block-style `command:` list',
  });
  if (!isSeq(containers)) throw missing('no spec.containers list');
  const container = containers.items.find((c) => isMap(c) && (options.container === undefined || c.get('name') === options.container));
  if (!isMap(container)) throw missing('no such container');
  const command = container.get('command', true);
  if (!isSeq(command) || command.items.length === 0) throw missing('no non-empty command list');
  if (command.flow) throw parseErrorAt(text, command.range![0], 'flow-style command list ([…]) is not supported', file, 'write the command list in block style, one `- item` per line');
  return command.items.map((node) => {
    const at = isScalar(node) && node.range ? node.range[0] : (node as { range?: [number] }).range?.[0] ?? 0;
    if (!isScalar(node) || !node.range) throw parseErrorAt(text, at, 'command item is not a plain string', file, HINT);
    const lineStart = text.lastIndexOf('\n', node.range[0] - 1) + 1;
    const prefix = text.slice(lineStart, node.range[0]);
    if (!/^[ \t]*-[ \t]+$/.test(prefix)) throw parseErrorAt(text, node.range[0], 'command item does not start its own `- ` line', file, HINT);
    const nl = text.indexOf('\n', node.range[1]);
    return { scalar: node, lineStart, start: node.range[0], end: node.range[1], lineEnd: nl === -1 ? text.length : nl + 1, prefix };
  });
}

const tokensOf = (items: readonly Item[]): FlagToken[] => items.map((i) => ({ text: String(i.scalar.value) }));

/** The flags of the container's command list. */
export function readManifestFlags(text: string, options: ManifestFlagsOptions = {}): ReadonlyMap<string, string | true> {
  return readFlagTokens(tokensOf(commandItems(text, options)));
}

/** YAML text for one sequence item holding `value`, in `style` when that reads back exactly. */
function encodeItem(value: string, style: Scalar['type']): string {
  const reads = (s: string): boolean => { try { return isDeepStrictEqual(parse(`- ${s}\n`), [value]); } catch { return false; } };
  if (style === 'QUOTE_SINGLE' && !/[\n\r]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (style !== 'QUOTE_DOUBLE' && /^[^\s'"#&*!|>%@`{}[\],?]\S*$/.test(value) && !/\s#|:$|: /.test(value) && reads(value)) return value;
  return JSON.stringify(value);
}

/** Apply `edits` to the command list's flags; returns the new text and one note per effective edit. Pure. */
export function applyManifestFlagEdits(text: string, edits: readonly FlagEdit[], options: ManifestFlagsOptions = {}): FlagEditResult {
  const items = commandItems(text, options);
  const tokens = tokensOf(items);
  const plan = planFlagEdits(tokens, edits, { splitsOnWhitespace: false, ...(options.file ? { file: options.file } : {}) }, prefersSpaceForm(tokens));
  if (!plan.notes.length) return { text, notes: [] };
  const eol = /^[^\n]*\r\n/.test(text) ? '\r\n' : '\n';
  let out = text;
  const put = (from: number, to: number, raw: string): void => { out = out.slice(0, from) + raw + out.slice(to); };
  const newLines = (words: readonly string[], prefix: string): string => words.map((w) => `${prefix}${encodeItem(w, 'PLAIN')}${eol}`).join('');
  const commented = (from: number, to: number): string =>
    text.slice(from, to).replace(/\r?\n$/, '').split('\n').map((l) => `${/^[ \t]*/.exec(l)![0]}# ${l.replace(/^[ \t]*/, '').replace(/\r$/, '')}`).join(eol) + eol;
  for (const op of plan.ops) {
    if (op.start === op.end) {
      const last = items[items.length - 1]!;
      const glue = last.lineEnd === text.length && !text.endsWith('\n') ? eol : '';
      put(last.lineEnd, last.lineEnd, glue + newLines(op.tokens, last.prefix));
      continue;
    }
    const span = items.slice(op.start, op.end);
    const kept = Math.min(span.length, op.tokens.length);
    const lastKept = span[kept - 1];
    const tailFrom = lastKept ? lastKept.lineEnd : span[0]!.lineStart;
    // Later positions first: extra items (insert or delete), then in-place replacements.
    if (op.tokens.length > span.length) put(tailFrom, tailFrom, newLines(op.tokens.slice(kept), span[span.length - 1]!.prefix));
    else if (op.tokens.length < span.length) put(tailFrom, span[span.length - 1]!.lineEnd, '');
    for (let k = kept - 1; k >= 0; k--) put(span[k]!.start, span[k]!.end, encodeItem(op.tokens[k]!, span[k]!.scalar.type));
    if (options.keepOldCommented) put(span[0]!.lineStart, span[0]!.lineStart, commented(span[0]!.lineStart, span[span.length - 1]!.lineEnd));
  }
  verifyFlagEdits(() => readManifestFlags(out, options), edits, 'the command list', options.file);
  return { text: out, notes: plan.notes };
}

/** `applyManifestFlagEdits(...).text`. */
export function editManifestFlags(text: string, edits: readonly FlagEdit[], options: ManifestFlagsOptions = {}): string {
  return applyManifestFlagEdits(text, edits, options).text;
}
