import type { FileState } from '../core/file-state.ts';

/**
 * One-line signature of a path's state, computed the same way on the host (shell `rig_sig`, see apply-script.ts)
 * and on the controller: `absent`, or `<type> <mode> <owner> <group> <sha256|link-target|->`.
 */
export function signFileState(s: FileState): string {
  if (!s.exists) return 'absent';
  const tail = s.type === 'file' ? s.sha256 ?? '-' : s.type === 'symlink' ? Buffer.from(s.target ?? '').toString('base64') || '-' : '-';
  return `${s.type} ${s.mode} ${s.owner} ${s.group} ${tail}`;
}

/** Parse a signature back into a FileState (content not included). */
export function parseFileSignature(sig: string): FileState {
  if (sig === 'absent') return { exists: false };
  const [type, mode, owner, group, tail] = sig.split(' ');
  const t = type as FileState['type'];
  return {
    exists: true, type: t, mode, owner, group,
    ...(t === 'file' && tail && tail !== '-' ? { sha256: tail } : {}),
    ...(t === 'symlink' && tail && tail !== '-' ? { target: Buffer.from(tail, 'base64').toString() } : {}),
  };
}
