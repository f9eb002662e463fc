/**
 * Bytes as readable text for a diff: valid UTF-8 sequences decode to their characters, every other byte becomes
 * `\xHH` (a Latin-1 `é` is `\xe9`). Nothing is replaced by U+FFFD, so two different byte strings never look alike
 * except where the file itself holds the four characters `\xHH`.
 */
export interface EscapedText {
  readonly text: string;
  /** Bytes shown as `\xHH`. */
  readonly escaped: number;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there does not start one. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const ok = c === 0xe0 ? cont(1, 0xa0) : c === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const ok = c === 0xf0 ? cont(1, 0x90) : c === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

export function escapeNonUtf8(b: Buffer): EscapedText {
  let text = '';
  let escaped = 0;
  let start = 0;
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceLength(b, i);
    if (n > 0) { i += n; continue; }
    text += b.toString('utf8', start, i) + `\\x${b[i]!.toString(16).padStart(2, '0')}`;
    escaped++;
    i++;
    start = i;
  }
  return { text: text + b.toString('utf8', start), escaped };
}
