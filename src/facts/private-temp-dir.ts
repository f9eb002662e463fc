/**
 * The temp directory of every host script (gather, apply): shell text that sets `rig_t` and removes it on exit.
 * `mktemp -d` where the host has it (0700, a name nobody can guess). Where it has not, `/tmp/rig.<pid>` made with a
 * plain `mkdir -m 0700` — never `mkdir -p`: a user who watches `ps` can guess that name and plant a directory or a
 * symlink there first, and the script would then write its outputs (a validator's, stderr of a root chown) into their
 * directory or through their link. `mkdir` fails when anything is already there, and the script stops with a message
 * on stderr (exit 1) before it reads or changes anything.
 */
export const PRIVATE_TEMP_DIR = String.raw`rig_t=$(mktemp -d 2>/dev/null) && [ -d "$rig_t" ] || {
  rig_t=/tmp/rig.$$
  mkdir -m 0700 -- "$rig_t" 2>/dev/null || { printf 'rig: cannot create a private temporary directory: mktemp -d failed and %s already exists (made by another user?); install mktemp (coreutils) on this host\n' "$rig_t" >&2; exit 1; }
}
trap 'rm -rf -- "$rig_t"' EXIT`;
