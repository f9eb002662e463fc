import { InternalError } from '../errors.ts';

/**
 * File modes, in one place. A mode reaches rig from a task (`'0644'`, `'644'`, `'02775'`, `'2775'`, `0o2775`) and
 * from a host (the gather's and the apply script's `stat -c %a`, printed `%04o`). Every mode rig compares, plans or
 * journals is the canonical form: exactly four octal digits, setuid/setgid/sticky first — `'0644'`, `'2775'`,
 * `'1777'`, `'4755'`. So `02775` in a task and `2775` from the host are the same mode, and a converged host plans
 * nothing.
 */

/** A mode as a task may give it: an octal string (`'0644'`, `'2775'`, `'02775'`, `'0o2775'`) or the number (`0o2775`). */
export type ModeInput = string | number;

/** The largest mode: rwx for all, setuid, setgid, sticky. */
const MAX_MODE = 0o7777;

/** An octal string with an optional `0`/`0o` prefix and at most four significant digits (leading zeros allowed). */
const OCTAL_TEXT = /^(?:0o)?0*([0-7]{1,4})$/;

/** Why `value` is not a mode, or undefined when it is one (prefix the problem with the prop name). */
export function checkMode(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > MAX_MODE) {
      return `${value} is not a mode (a number must be 0 to 0o7777; write octal as 0o2775 or as the string "2775")`;
    }
    if (looksLikeDecimalTypo(value)) {
      return `${value} is the number ${value} (octal ${value.toString(8)}), which gives others rights its owner lacks: write 0o${value} or the string "${value}"`;
    }
    return undefined;
  }
  if (typeof value === 'string') {
    const m = OCTAL_TEXT.exec(value);
    // Three or more digits: '644' and '0644' are modes, '44' is almost surely a typo.
    if (m && value.replace(/^0o/, '').length >= 3) return undefined;
    return `${JSON.stringify(value)} is not an octal mode string such as "0644" or "2775"`;
  }
  return `${JSON.stringify(value)} is not a mode (an octal string such as "0644", or a number such as 0o644)`;
}

/** The canonical form of a valid mode: four octal digits (`'0644'`, `'2775'`). Throws on an invalid one (validate first). */
export function normalizeMode(value: ModeInput): string {
  const problem = checkMode(value);
  if (problem !== undefined) throw new InternalError(`mode: ${problem}`);
  const n = typeof value === 'number' ? value : parseInt(OCTAL_TEXT.exec(value)![1]!, 8);
  return n.toString(8).padStart(4, '0');
}

/**
 * The argument for `chmod`: five digits (`'02775'` → `'02775'`, `'0755'` → `'00755'`). GNU chmod keeps a directory's
 * setuid/setgid bits for a numeric mode of four digits or fewer (`chmod 0755` on a 2775 directory leaves 2755, and
 * `chmod 1777` leaves 3777), so a plan to clear them would never converge; a leading zero sets exactly the mode.
 */
export function chmodArgument(mode: ModeInput): string {
  return `0${normalizeMode(mode)}`;
}

/**
 * A number such as 644 or 2775 written without 0o: its decimal digits look like an octal mode, and as a value it
 * gives the group or others a right the owner lacks (644 = 0o1204), which nobody means. 0o644 (420) passes.
 */
function looksLikeDecimalTypo(n: number): boolean {
  if (!/^[0-7]{3,4}$/.test(String(n))) return false;
  const u = (n >> 6) & 7; const g = (n >> 3) & 7; const o = n & 7;
  return (g & ~u) !== 0 || (o & ~u) !== 0;
}
