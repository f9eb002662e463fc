import { UsageError } from '../errors.ts';
import type { ModuleReference } from './module-reference.ts';

/** A name as typed, compared loosely: `caCertificate`, `ca-certificate` and `ca_certificate` are the same module. */
const loose = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');

/** Levenshtein distance (names are short). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** Names close to `wanted` (a typo, a prefix or a part of one), best first. */
export function suggestModuleNames(wanted: string, modules: readonly ModuleReference[]): string[] {
  const w = loose(wanted);
  return modules
    .map((m) => ({ name: m.name, d: Math.min(editDistance(w, loose(m.name)), editDistance(w, loose(m.factory))) }))
    .filter(({ name, d }) => d <= Math.max(2, Math.floor(w.length / 3)) || (w.length >= 3 && loose(name).includes(w)))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .map((x) => x.name);
}

/** The module named `wanted` (its module name or its factory's), or a UsageError suggesting the nearest names. */
export function getModuleReference(wanted: string, modules: readonly ModuleReference[]): ModuleReference {
  const found = modules.find((m) => loose(m.name) === loose(wanted) || loose(m.factory) === loose(wanted));
  if (found) return found;
  const near = suggestModuleNames(wanted, modules);
  throw new UsageError(`no module or command named "${wanted}"${near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : ''}`, {
    hint: `modules: ${modules.map((m) => m.name).join(', ')} (\`rig help\` lists them with what each does)`,
  });
}
