import { execInHost, type Fleet } from '../fleet/fleet-lib.ts';

/** Paths secure-cluster changes on its hosts. */
export const SECURE_CLUSTER_PATHS = ['/srv/kubernetes', '/etc/default', '/root/.kube'];

/** Every file, directory and link under the given paths: path, mode, owner, group, type, and a file's sha256. */
const SNAPSHOT = String.raw`find "$@" -xdev \( -type f -o -type d -o -type l \) 2>/dev/null | sort | while read -r p; do
  printf '%s %s ' "$p" "$(stat -c '%a %U %G %F' "$p")"; if [ -f "$p" ]; then sha256sum < "$p" | cut -c1-64; else echo; fi; done`;

/** A host's trees as text, to compare byte for byte before and after (rollback). */
export async function snapshotTrees(fleet: Fleet, host: string, paths: readonly string[] = SECURE_CLUSTER_PATHS): Promise<string> {
  return (await execInHost(fleet, host, ['sh', '-c', SNAPSHOT, 'sh', ...paths])).stdout;
}
