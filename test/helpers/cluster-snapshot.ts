/** The paths secure-cluster touches on a fleet host, and a script listing them (mode, owner, type, sha256). */
export const CLUSTER_PATHS = ['/srv/kubernetes', '/etc/default', '/root/.kube'];
export const SNAPSHOT_SCRIPT = String.raw`find "$@" -xdev \( -type f -o -type d -o -type l \) 2>/dev/null | sort | while read -r p; do
  printf '%s %s ' "$p" "$(stat -c '%a %U %G %F' "$p")"; if [ -f "$p" ]; then sha256sum < "$p" | cut -c1-64; else echo; fi; done`;
