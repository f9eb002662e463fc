import { UsageError } from '../errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `12h`, `30d`, `2w` → milliseconds; anything else is a USAGE error naming the option. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} ${text}: expected a number and a unit (s, m, h, d, w)`, { hint: `e.g. ${option} 30d` });
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
