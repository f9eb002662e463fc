/**
 * How rig names a path's owner and group, on every host script that reads them (the gather, the apply script's
 * signatures): the user or group name, or the numeric id when the host has no name for it. GNU and busybox `stat`
 * print `UNKNOWN` for `%U`/`%G` then, which `chown` refuses ("cannot install"); the number is what a pre-image, a
 * plan and a rollback must carry so that `chown` puts it back. Shell function: `rig_ids USER GROUP UID GID` sets
 * `rig_own` and `rig_grp`. (A user really named UNKNOWN is read as its uid: the same owner for chown.)
 */
export const OWNER_IDS_FUNCTION = `rig_ids() { rig_own=$1 rig_grp=$2; [ "$1" = UNKNOWN ] && rig_own=$3; [ "$2" = UNKNOWN ] && rig_grp=$4; return 0; }`;
