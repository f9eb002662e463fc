import { createHash } from 'node:crypto';
import { styleText } from 'node:util';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { MASK, redactText } from '../core/secret.ts';
import { escapeNonUtf8 } from './escape-bytes.ts';

export interface RenderDiffOptions {
  /** The file's path on the host (shown as `a/<path>` / `b/<path>`). */
  readonly path: string;
  /** Content before; absent = the file does not exist yet (a "new file"). */
  readonly before?: Buffer;
  /** Content after; absent = the file is deleted. */
  readonly after?: Buffer;
  /** Never show the content, only sizes and whether the sha256 changed. @default false */
  readonly secret?: boolean;
  /** Red `-`, green `+`, cyan `@@` (node's util.styleText). @default false */
  readonly color?: boolean;
  /** Lines of context around each change. @default 3 */
  readonly context?: number;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Binary: a NUL byte in the first 8 KiB (as git decides), or mostly bytes that are not UTF-8 (more than 8 and more
 * than 1 in 20 of the first 8 KiB). A text file with a few Latin-1 bytes is text: its diff shows them as `\xHH`.
 */
export function isBinaryContent(b: Buffer): boolean {
  const head = b.subarray(0, 8192);
  if (head.includes(0)) return true;
  const { escaped } = escapeNonUtf8(head);
  return escaped > 8 && escaped * 20 > head.length;
}

/**
 * A removed line replaced by a line whose secret is masked (`-db_password=old` / `+db_password=********`) holds the
 * old value of that secret, which nothing registered: mask the part of it that differs from the added line (same
 * text before and after the mask). Pairs are the n-th `-` and n-th `+` line of one run of changes.
 */
export function maskReplacedValues(lines: readonly string[]): string[] {
  const out = [...lines];
  for (let i = 0; i < out.length;) {
    if (!isRemoved(out[i]!)) { i++; continue; }
    let j = i;
    while (j < out.length && isRemoved(out[j]!)) j++;
    let k = j;
    while (k < out.length && isAdded(out[k]!)) k++;
    for (let n = 0; n < Math.min(j - i, k - j); n++) {
      const parts = out[j + n]!.slice(1).split(MASK);
      if (parts.length !== 2) continue;
      const [head, tail] = parts as [string, string];
      const old = out[i + n]!.slice(1);
      if (old.length > head.length + tail.length && old.startsWith(head) && old.endsWith(tail)) out[i + n] = `-${head}${MASK}${tail}`;
    }
    i = k;
  }
  return out;
}
const isRemoved = (l: string): boolean => l.startsWith('-') && !l.startsWith('--- ');
const isAdded = (l: string): boolean => l.startsWith('+') && !l.startsWith('+++ ');

/** The caller decided on color (`color: true`), so the stream check of styleText (TTY, NO_COLOR) is skipped. */
const paint = (format: Parameters<typeof styleText>[0], text: string): string => styleText(format, text, { validateStream: false });

function paintLine(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return paint('bold', line);
  if (line.startsWith('+')) return paint('green', line);
  if (line.startsWith('-')) return paint('red', line);
  if (line.startsWith('@@')) return paint('cyan', line);
  return line;
}

/**
 * A unified diff of one file for `plan`/`show`: `--- a/path` / `+++ b/path` headers (`/dev/null` for a new or
 * deleted file, with a `new file:`/`deleted file:` marker line), binary content summarized by size and sha256, secret
 * content never shown (only `(secret content masked: N → M bytes, sha256 changed)`), every line passed through
 * redactText. '' when nothing differs. Ends with a newline when not empty.
 */
export function renderDiff(options: RenderDiffOptions): string {
  const { path, before, after } = options;
  if (before === undefined && after === undefined) return '';
  if (before && after && before.equals(after)) return '';
  const old = before ?? Buffer.alloc(0);
  const now = after ?? Buffer.alloc(0);
  const lines: string[] = [];
  if (!before) lines.push(`new file: ${path}`);
  if (!after) lines.push(`deleted file: ${path}`);
  const sizes = `${old.length} → ${now.length} bytes`;
  if (options.secret) {
    lines.push(`(secret content masked: ${sizes}, sha256 ${sha256(old) === sha256(now) ? 'unchanged' : 'changed'})`);
  } else if (isBinaryContent(old) || isBinaryContent(now)) {
    const short = (b: Buffer | undefined): string => (b ? `${sha256(b).slice(0, 12)}…` : 'none');
    lines.push(`Binary files differ (${sizes}, sha256 ${short(before)} → ${short(after)})`);
  } else {
    const [oldBytes, nowBytes] = [escapeNonUtf8(old), escapeNonUtf8(now)];
    // Masked before diffing: a secret spanning lines would otherwise be split by the diff's line prefixes.
    const oldText = redactText(oldBytes.text);
    const newText = redactText(nowBytes.text);
    if (oldText === newText) {
      lines.push(`(only masked secret values differ: ${sizes})`);
    } else {
      if (oldBytes.escaped || nowBytes.escaped) lines.push('(bytes that are not UTF-8 are shown as \\xHH)');
      if (old.includes(13) || now.includes(13)) lines.push('(carriage returns are shown as \\r)');
      const rel = path.replace(/^\/+/, '');
      const patch = createTwoFilesPatch(before ? `a/${rel}` : '/dev/null', after ? `b/${rel}` : '/dev/null',
        oldText, newText, undefined, undefined, { context: options.context ?? 3, headerOptions: FILE_HEADERS_ONLY });
      // jsdiff ends header lines with a tab when there is no header text; drop that trailing tab.
      // A raw \r would send the terminal's cursor back to the start of the line: shown as the two characters \r.
      lines.push(...patch.replace(/\n$/, '').split('\n').map((l) => (/^(---|\+\+\+) /.test(l) ? l.replace(/\t$/, '') : l.replace(/\r/g, '\\r'))));
    }
  }
  const text = maskReplacedValues(redactText(lines.join('\n')).split('\n')).join('\n');
  return `${options.color ? text.split('\n').map(paintLine).join('\n') : text}\n`;
}
