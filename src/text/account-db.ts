/**
 * Pure edits of the colon-separated account databases (/etc/passwd, /etc/shadow, /etc/group, /etc/gshadow) as bytes:
 * one entry is found by its first field, every other line (comments, NIS `+` lines, odd bytes) is kept exactly, and
 * the edited file ends with a newline. The user and group modules plan their writes with these, so an account change
 * is an ordinary file write: shown as a diff, journaled with its pre-image and rolled back byte for byte.
 */

/** Lines of a database file, each without its newline; a final newline does not make an empty last line. */
export function splitAccountLines(content: Buffer): string[] {
  const text = content.toString('latin1'); // byte-preserving: every byte is one char and back
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function joinAccountLines(lines: readonly string[]): Buffer {
  return Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'latin1');
}

/** The fields of the entry named `name`, or undefined. */
export function findAccountEntry(content: Buffer, name: string): string[] | undefined {
  const line = splitAccountLines(content).find((l) => l.split(':')[0] === name);
  return line === undefined ? undefined : line.split(':');
}

/**
 * Replace the entry named `name` by `fields` (or append it when absent); `fields` undefined removes the entry.
 * Two entries with the same name are an error for the caller to report (returns undefined).
 */
export function setAccountEntry(content: Buffer, name: string, fields: readonly string[] | undefined): Buffer | undefined {
  const lines = splitAccountLines(content);
  const at = lines.flatMap((l, i) => (l.split(':')[0] === name ? [i] : []));
  if (at.length > 1) return undefined;
  if (fields === undefined) {
    if (at.length === 0) return content;
    lines.splice(at[0]!, 1);
  } else if (at.length === 0) {
    lines.push(fields.join(':'));
  } else {
    lines[at[0]!] = fields.join(':');
  }
  return joinAccountLines(lines);
}

/** Numeric ids used in field `index` (2 = uid in passwd, gid in group). */
export function usedAccountIds(content: Buffer, index: number): Set<number> {
  const ids = new Set<number>();
  for (const l of splitAccountLines(content)) {
    const f = l.split(':')[index];
    if (f !== undefined && /^\d+$/.test(f)) ids.add(Number(f));
  }
  return ids;
}

/** The lowest id in [from, to] that is in none of `used`, or undefined. */
export function pickFreeId(from: number, to: number, ...used: ReadonlyArray<ReadonlySet<number>>): number | undefined {
  for (let id = from; id <= to; id++) if (!used.some((u) => u.has(id))) return id;
  return undefined;
}

/** A member list field (`a,b,c`) with `member` added or removed, order kept. */
export function editMemberList(field: string, member: string, present: boolean): string {
  const members = field === '' ? [] : field.split(',');
  const has = members.includes(member);
  if (present && !has) return [...members, member].join(',');
  if (!present && has) return members.filter((m) => m !== member).join(',');
  return field;
}

/** Account and group names rig accepts (useradd's default NAME_REGEX, a little stricter). */
export const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
