import { normalizeMode, type ModeInput } from '../core/file-mode.ts';
import type { FileFact } from '../facts/fact-request.ts';

/** Mode, owner and group as a task gives them (any of them may be left to the existing path or the default). */
export interface WantedAttributes {
  readonly mode?: ModeInput | undefined;
  readonly owner?: string | undefined;
  readonly group?: string | undefined;
}

/** Mode (canonical, see file-mode.ts), owner and group a path is planned to have. */
export interface Attributes {
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
}

/**
 * The attributes `path` must end with: the wanted ones in canonical form, the others kept from the existing path,
 * else `defaultMode` root:root. A numeric owner or group that is the existing path's uid or gid is the gathered name
 * (`owner: '0'` on a root file is `root`), so comparing with the host's state converges.
 */
export function resolveAttributes(fact: FileFact, wanted: WantedAttributes, defaultMode: string): Attributes {
  const mode = wanted.mode !== undefined && wanted.mode !== '' ? normalizeMode(wanted.mode) : fact.exists && fact.mode ? fact.mode : defaultMode;
  const owner = sameId(wanted.owner, fact.uid) ? fact.owner! : wanted.owner ?? (fact.exists ? fact.owner : undefined) ?? 'root';
  const group = sameId(wanted.group, fact.gid) ? fact.group! : wanted.group ?? (fact.exists ? fact.group : undefined) ?? 'root';
  return { mode, owner, group };
}

/** The existing path has exactly these attributes. */
export function hasAttributes(fact: FileFact, a: Attributes): boolean {
  return fact.exists && fact.mode === a.mode && fact.owner === a.owner && fact.group === a.group;
}

function sameId(wanted: string | undefined, id: number | undefined): boolean {
  return wanted !== undefined && id !== undefined && /^\d+$/.test(wanted) && Number(wanted) === id;
}
