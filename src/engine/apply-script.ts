import type { Change } from '../core/change.ts';
import { chmodArgument } from '../core/file-mode.ts';
import { quoteArgv, quoteShell } from '../text/shell-quote.ts';
import { OWNER_IDS_FUNCTION } from '../facts/owner-ids.ts';
import { signFileState } from './file-signature.ts';
import { STOP_CHECK_FUNCTION, stopCheckLine } from './stop-marker.ts';
import { PAUSE_FUNCTION, pollPauses } from './poll-backoff.ts';
import type { ApplyScriptHooks } from './handler-script.ts';
import { PRIVATE_TEMP_DIR } from '../facts/private-temp-dir.ts';

/** Host-side root of rig's state: journals of runs, pre-images, the lock. */
export const HOST_STATE_DIR = '/var/lib/rig';

export interface ScriptStep {
  /** Stable id within the run for this host, e.g. "0.3" (play 0, change 3). */
  readonly id: string;
  readonly change: Change;
}

export interface LockSpec {
  /** Take the lock in this script (refuse when held by another run). */
  readonly acquire?: boolean;
  /** `--break-lock`: the controller may break a lock held by another run whose process is gone (or on another controller). */
  readonly breakStale?: boolean;
  /** `--break-lock --force`: break it even when its holder is alive on this controller. */
  readonly breakLive?: boolean;
  /** Remove the lock only if its owner text is exactly this (the holder the controller inspected and judged). */
  readonly breakOwner?: string;
  /** Release the lock at the end of this script (success or failure). */
  readonly release?: boolean;
  /** Text stored in the lock: run id + controller + pid (JSON). */
  readonly owner: string;
}

/**
 * The journal line helper and the sweep of temp files left by a script killed mid-write (any earlier run on the host):
 * a name recorded in a run's `tmp` record (`T <name> <dir-b64>` before creating it, `I <name> <dev:ino>` after,
 * `F <name>` once renamed or removed) is removed only if it still sits in the recorded directory (reached without a
 * symlink) and is the recorded inode, or, with no inode recorded, a root-owned regular file with one link. Never by
 * pattern. Journaled in both runs' journal.log; then the record goes. Needs RIG_STATE and RIG_RUN.
 */
const SWEEP_FUNCTIONS = String.raw`
rig_jlog() { [ -d "$RIG_RUN" ] && printf '%s\n' "$*" >> "$RIG_RUN/journal.log"; return 0; }
rig_sweep_one() {
  rig_d=$(printf %s "$3" | base64 -d) || return 2
  cd -P -- "$rig_d" 2>/dev/null && [ "$(pwd -P)" = "$rig_d" ] || { cd /; return 3; }
  rig_st=$(stat -c '%d:%i %u %h %F' -- "./$1" 2>/dev/null) || { cd /; return 2; }
  if [ -n "$2" ]; then [ "\${rig_st%% *}" = "$2" ] || { cd /; return 4; }
  else case \${rig_st#* } in '0 1 regular file'|'0 1 regular empty file') ;; *) cd /; return 4 ;; esac; fi
  rm -f -- "./$1"; cd /
}
rig_sweep() {
  for rig_rec in "$RIG_STATE"/runs/*/tmp; do
    [ -f "$rig_rec" ] && [ ! -L "$rig_rec" ] || continue
    while read -r rig_k rig_tn rig_tx; do
      [ "$rig_k" = T ] && ! grep -qx "F $rig_tn " "$rig_rec" || continue
      rig_ti=$(sed -n "s/^I $rig_tn //p" "$rig_rec" | head -n 1)
      rig_sweep_one "$rig_tn" "$rig_ti" "$rig_tx"
      case $? in 0) rig_w=removed ;; 2) rig_w=gone ;; 3) rig_w='left (its directory moved)' ;; *) rig_w='left (not the file rig created)' ;; esac
      rig_w="cleanup $(printf %s "$rig_tx" | base64 -d)/$rig_tn from \${rig_rec%/tmp}: $rig_w"
      rig_jlog "$rig_w"; printf '%s\n' "$rig_w" >> "\${rig_rec%/tmp}/journal.log"
    done < "$rig_rec"
    rm -f -- "$rig_rec"
  done
}
`.replace(/\\\$/g, '$');

/**
 * Shell functions used by apply scripts. Constant text: all values arrive as quoted arguments.
 * Records on stdout: `B <id>` begin, `D <id> <sig-after>` done, `X <id> <rc> <msg-b64>` failure (script exits 1),
 * `R <id>` restored after a failed validation, `L held <owner-b64>` lock held by someone else, `V <id> <sig-now>` drift.
 * File steps never follow a path someone else could plant (docs/engine.md, "Host-side safety"): each works from inside
 * the target's directory (`rig_cd`), creates temp files exclusively under a random name recorded first in the run's
 * root-only journal (`$RIG_RUN/tmp`, swept by the next script: `rig_sweep`), sets attributes on the open file
 * (`/proc/self/fd/3`) and renames into place.
 */
export const APPLY_PRELUDE = String.raw`
set -u
export LC_ALL=C
rig_b64() { base64 -w0 2>/dev/null || base64 | tr -d '\n'; }
${PRIVATE_TEMP_DIR}
${OWNER_IDS_FUNCTION}
rig_sig() {
  if [ -L "$1" ]; then rig_ty=symlink; elif [ -f "$1" ]; then rig_ty=file; elif [ -d "$1" ]; then rig_ty=directory
  elif [ -e "$1" ]; then rig_ty=other; else echo absent; return 0; fi
  rig_st=$(stat -c '%a %U %G %u %g' -- "$1")
  set -- "$1" $rig_st
  rig_ids "$3" "$4" "$5" "$6"; set -- "$1" "$2" "$rig_own" "$rig_grp"
  case $rig_ty in
    file) rig_tail=$(sha256sum < "$1" | cut -c1-64) ;;
    symlink) rig_tail=$(readlink -- "$1" | tr -d '\n' | rig_b64); [ -n "$rig_tail" ] || rig_tail=- ;;
    *) rig_tail=- ;;
  esac
  printf '%s %04o %s %s %s\n' "$rig_ty" "0$2" "$3" "$4" "$rig_tail"
}
rig_fail() { printf 'X %s %s %s\n' "$1" "$2" "$(printf %s "$3" | rig_b64)"; rig_jlog "failed $1"; rig_on_fail; rig_unlock; exit 1; }
rig_on_fail() { :; }
rig_unlock() { if [ "$(cat "$RIG_LOCK/run" 2>/dev/null)" = "$RIG_ID" ]; then rm -rf -- "$RIG_LOCK"; fi; }
rig_expect() { rig_now=$(rig_sig "$2"); [ "$rig_now" = "$3" ] || { printf 'V %s %s\n' "$1" "$rig_now"; rig_drift=1; }; }
rig_done() { rig_jlog "done $1"; printf 'D %s %s\n' "$1" "$(rig_sig "$2")"; }
rig_fd=/proc/self/fd/3
rig_cd() {
  rig_base=\${1##*/}; rig_dir=\${1%/*}; [ -n "$rig_dir" ] || rig_dir=/
  case $rig_base in ''|.|..) rig_err="$1 is not a file path"; return 1 ;; esac
  cd -P -- "$rig_dir" 2>/dev/null || { rig_err="parent directory $rig_dir does not exist"; cd /; return 1; }
  rig_real=$(pwd -P)
  if [ "$rig_real" != "$rig_dir" ] && ! rig_trusted "$rig_dir" "$rig_real"; then
    rig_err="parent directory $rig_dir leads to $rig_real through a path a non-root user can change: not written"; cd /; return 1
  fi
  return 0
}
rig_trusted() {
  for rig_q; do
    while [ -n "$rig_q" ] && [ "$rig_q" != / ]; do
      rig_q=\${rig_q%/*}; [ -n "$rig_q" ] || rig_q=/
      rig_st=$(stat -L -c '%u %a' -- "$rig_q" 2>/dev/null) || return 1
      [ "\${rig_st%% *}" = 0 ] && [ $(( 0\${rig_st#* } & 022 )) = 0 ] || return 1
    done
  done
  return 0
}
rig_tmp_name() {
  rig_n=.rig-tmp.$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  [ \${#rig_n} = 33 ] && printf 'T %s %s\n' "$rig_n" "$(printf %s "$rig_real" | rig_b64)" >> "$RIG_RUN/tmp" \
    || { rig_err="cannot record a temporary name in $RIG_RUN"; cd /; return 1; }
}
rig_tmp_mark() { printf '%s %s %s\n' "$1" "$rig_n" "\${2:-}" >> "$RIG_RUN/tmp"; }
rig_tmp_open() {
  rig_tmp_name || return 1
  rig_um=$(umask); umask 077; set -C
  { command exec 3>"./$rig_n"; } 2>/dev/null; rig_rc=$?
  set +C; umask "$rig_um"
  [ $rig_rc = 0 ] || { rig_err="cannot create a temporary file in $rig_real"; cd /; return 1; }
  rig_ino=$(stat -L -c '%d:%i' $rig_fd); rig_tmp_mark I "$rig_ino"
}
rig_tmp_drop() {
  [ "$(stat -c '%d:%i' -- "./$rig_n" 2>/dev/null)" = "$rig_ino" ] && rm -f -- "./$rig_n"
  rig_tmp_mark F; exec 3>&-; cd /; return 1
}
rig_put() {
  rig_cd "$2" && rig_tmp_open || return 1
  case $6 in b64) base64 -d >&3 ;; *) cat >&3 ;; esac || { rig_err="cannot write a temporary file for $2"; rig_tmp_drop; return 1; }
  if [ -n "\${7:-}" ]; then
    rig_h=$(sha256sum < $rig_fd | cut -c1-64)
    [ "$rig_h" = "$7" ] || { rig_err="the content for $2 has sha256 $rig_h, the journal says $7: not installed"; rig_tmp_drop; return 1; }
  fi
  chown -- "$4:$5" $rig_fd && chmod -- "$3" $rig_fd && sync -- $rig_fd || { rig_err="cannot set $3 $4:$5 on the file for $2"; rig_tmp_drop; return 1; }
  if [ "\${rig_v:-0}" = 1 ]; then
    rig_v=0
    rig_validate "$rig_real/$rig_n" >"$rig_t/v" 2>&1 </dev/null 3>&- \
      || { rig_err="validation of the new $2 failed (the file is unchanged): $(tail -c 4000 "$rig_t/v")"; rig_tmp_drop; return 1; }
  fi
  mv -Tf -- "./$rig_n" "./$rig_base" 2>"$rig_t/e" || { rig_err="cannot install $2: $(cat "$rig_t/e")"; rig_tmp_drop; return 1; }
  rig_tmp_mark F
  rig_now=$(stat -c '%d:%i' -- "./$rig_base" 2>/dev/null); exec 3>&-
  [ "$rig_now" = "$rig_ino" ] || { rig_err="$2: the temporary file was replaced by someone else before the rename"; cd /; return 1; }
  sync . 2>/dev/null; cd /
}
rig_write() { rig_put "$1" "$2" "$3" "$4" "$5" b64 || rig_fail "$1" 1 "$rig_err"; }
rig_restore_pre() {
  [ -f "$3" ] && [ ! -L "$3" ] || rig_fail "$1" 1 "no pre-image $3 on the host"
  rig_put "$1" "$2" "$5" "$6" "$7" raw "$4" < "$3" || rig_fail "$1" 1 "$rig_err"
}
rig_open() {
  rig_cd "$1" || return 1
  [ -f "./$rig_base" ] || [ -d "./$rig_base" ] && [ ! -L "./$rig_base" ] || { rig_err="$1 is not a regular file or directory"; cd /; return 1; }
  { command exec 3<"./$rig_base"; } 2>/dev/null || { rig_err="cannot open $1"; cd /; return 1; }
  [ "$(stat -c '%d:%i' -- "./$rig_base" 2>/dev/null)" = "$(stat -L -c '%d:%i' $rig_fd)" ] \
    || { rig_err="$1 was replaced while rig opened it"; exec 3<&-; cd /; return 1; }
  if [ -f $rig_fd ] && [ "$(stat -L -c %h $rig_fd)" != 1 ] && ! rig_trusted "$rig_real/."; then
    rig_err="$1 has other hard links and its directory is writable by a non-root user: not changed"; exec 3<&-; cd /; return 1
  fi
}
rig_pre() {
  rig_h=-
  if rig_open "$2"; then
    if [ -f $rig_fd ]; then
      ( umask 077; cat <&3 > "$RIG_RUN/pre/$1" ) && chmod 600 "$RIG_RUN/pre/$1" && rig_h=$(sha256sum < "$RIG_RUN/pre/$1" | cut -c1-64)
    fi
    exec 3<&-; cd /
  fi
  if [ -n "\${3:-}" ] && [ "$rig_h" != "$3" ]; then printf 'V %s %s\n' "$1" "$(rig_sig "$2")"; rig_drift=1; fi
  return 0
}
rig_attr() {
  rig_err=
  if [ "$5" = symlink ]; then
    rig_cd "$2" && [ -L "./$rig_base" ] && chown -h -- "$3" "./$rig_base" 2>"$rig_t/e" \
      || { cd /; rig_fail "$1" 1 "cannot chown the link $2: \${rig_err:-$(cat "$rig_t/e")}"; }
  else
    rig_open "$2" || rig_fail "$1" 1 "$rig_err"
    chown -- "$3" $rig_fd 2>"$rig_t/e" && chmod -- "$4" $rig_fd 2>"$rig_t/e" || { exec 3<&-; cd /; rig_fail "$1" 1 "$2: $(cat "$rig_t/e")"; }
    exec 3<&-
  fi
  cd /
}
rig_mkdir() {
  rig_cd "$2" || rig_fail "$1" 1 "$rig_err"
  if [ -L "./$rig_base" ] || [ ! -d "./$rig_base" ]; then
    mkdir -m 0700 -- "./$rig_base" 2>"$rig_t/e" || { cd /; rig_fail "$1" 1 "cannot create directory $2: $(cat "$rig_t/e")"; }
  fi
  rig_open "$2" && [ -d $rig_fd ] || { cd /; rig_fail "$1" 1 "\${rig_err:-$2 is not a directory}"; }
  chown -- "$4:$5" $rig_fd 2>"$rig_t/e" && chmod -- "$3" $rig_fd 2>"$rig_t/e" || { exec 3<&-; cd /; rig_fail "$1" 1 "$2: $(cat "$rig_t/e")"; }
  exec 3<&-; cd /
}
rig_remove() {
  rig_cd "$2" || rig_fail "$1" 1 "$rig_err"
  if [ -d "./$rig_base" ] && [ ! -L "./$rig_base" ]; then rmdir -- "./$rig_base" 2>"$rig_t/e"; else rm -f -- "./$rig_base" 2>"$rig_t/e"; fi \
    || { cd /; rig_fail "$1" 1 "cannot remove $2: $(cat "$rig_t/e")"; }
  cd /
}
rig_link() {
  rig_cd "$2" && rig_tmp_name || return 1
  ln -s -- "$3" "./$rig_n" 2>"$rig_t/e" || { rig_err="cannot create a link for $2: $(cat "$rig_t/e")"; cd /; return 1; }
  rig_ino=$(stat -c '%d:%i' -- "./$rig_n"); rig_tmp_mark I "$rig_ino"
  mv -Tf -- "./$rig_n" "./$rig_base" 2>"$rig_t/e" || { rig_err="cannot install $2: $(cat "$rig_t/e")"; rig_tmp_drop; return 1; }
  rig_tmp_mark F; cd /
}
rig_run() {
  rig_i=$1; shift
  "$@" >"$rig_t/o" 2>&1 </dev/null; rig_rc=$?
  [ $rig_rc = 0 ] || rig_fail "$rig_i" "$rig_rc" "$(tail -c 4000 "$rig_t/o")"
}
rig_service() {
  case $2 in
    systemd) rig_run "$1" systemctl "$4" -- "$3" ;;
    upstart) rig_run "$1" initctl "$4" "$3" ;;
    openrc) rig_run "$1" rc-service "$3" "$4" ;;
    *) if command -v service >/dev/null 2>&1; then rig_run "$1" service "$3" "$4"; else rig_run "$1" "/etc/init.d/$3" "$4"; fi ;;
  esac
}
rig_setcap_tool() {
  rig_sc=$(command -v setcap 2>/dev/null) || rig_sc=
  [ -n "$rig_sc" ] || for rig_p in /usr/sbin/setcap /sbin/setcap; do [ -x "$rig_p" ] && { rig_sc=$rig_p; break; }; done
  [ -n "$rig_sc" ]
}
rig_capexpect() {
  if ! rig_setcap_tool || [ ! -f "$2" ] || [ -L "$2" ] || ! "$rig_sc" -q -v "\${3:-=}" "$2" >/dev/null 2>&1; then
    printf 'V %s %s\n' "$1" "$(rig_sig "$2")"; rig_drift=1
  fi
}
rig_setcap() {
  rig_setcap_tool || rig_fail "$1" 127 "setcap is not installed on the host (Debian: apt-get install libcap2-bin)"
  rig_open "$2" || rig_fail "$1" 1 "$rig_err"
  exec 3<&-
  [ -f "./$rig_base" ] && [ ! -L "./$rig_base" ] && [ -O "./$rig_base" ] || { cd /; rig_fail "$1" 1 "$2 is not a regular file owned by $(id -un): capabilities not set"; }
  if [ -n "$3" ]; then rig_run "$1" "$rig_sc" "$3" "./$rig_base"; else rig_run "$1" "$rig_sc" -r "./$rig_base"; fi
  "$rig_sc" -q -v "\${3:-=}" "./$rig_base" >/dev/null 2>&1 || { cd /; rig_fail "$1" 1 "setcap exited 0 but $2 does not have \${3:-no capabilities} (does its file system keep security.capability extended attributes?)"; }
  cd /
}
rig_wait() {
  rig_i=$1 rig_to=$2 rig_pz=$3; shift 3
  rig_end=$(( $(date +%s) + rig_to ))
  while :; do
    "$@" >"$rig_t/o" 2>&1 </dev/null && return 0
    [ "$(date +%s)" -ge "$rig_end" ] && rig_fail "$rig_i" 124 "timed out after \${rig_to}s: $(tail -c 2000 "$rig_t/o")"
    rig_pause
  done
}
`.replace(/\\\$/g, '$') + SWEEP_FUNCTIONS + '\n' + PAUSE_FUNCTION + '\n';

function heredocBase64(b64: string): string {
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return `<<'RIG_EOF'\n${lines.join('\n')}\nRIG_EOF`;
}

/**
 * For a write-file with `validate`: `rig_validate TMP` runs the argv with each `%s` replaced by the temp file's path
 * (quoted pieces around "$1"), and `rig_v=1` makes rig_write call it before the rename.
 */
function validateFunction(validate: readonly string[] | undefined): string {
  if (!validate || !validate.length) return '';
  const argv = validate.map((a) => a.split('%s').map((piece) => quoteShell(piece)).join('"$1"')).join(' ');
  return `rig_validate() { ${argv}; }; rig_v=1\n`;
}

function stepScript(s: ScriptStep, stateDir: string): string {
  const { id, change: c } = s;
  const q = quoteShell;
  const begin = `printf 'B %s\\n' ${q(id)}; rig_jlog begin ${q(id)}`;
  switch (c.kind) {
    case 'write-file':
      return `${begin}\n${validateFunction(c.validate)}rig_write ${q(id)} ${q(c.path)} ${q(c.after.mode ?? '0644')} ${q(c.after.owner ?? 'root')} ${q(c.after.group ?? 'root')} ${heredocBase64(c.content)}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'restore-preimage':
      return `${begin}\nrig_restore_pre ${q(id)} ${q(c.path)} ${q(`${stateDir}/runs/${c.fromRun}/pre/${c.fromStep}`)} ${q(c.after.sha256 ?? '')} ${q(c.after.mode ?? '0644')} ${q(c.after.owner ?? 'root')} ${q(c.after.group ?? 'root')}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'set-attributes':
      return `${begin}\nrig_attr ${q(id)} ${q(c.path)} ${q(`${c.after.owner}:${c.after.group}`)} ${q(chmodArgument(c.after.mode ?? '0644'))} ${q(c.after.type ?? 'file')}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'ensure-directory':
      return `${begin}\nrig_mkdir ${q(id)} ${q(c.path)} ${q(chmodArgument(c.after.mode ?? '0755'))} ${q(c.after.owner ?? 'root')} ${q(c.after.group ?? 'root')}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'remove-path':
      return `${begin}\nrig_remove ${q(id)} ${q(c.path)}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'symlink':
      return `${begin}\nrig_link ${q(id)} ${q(c.path)} ${q(c.target)} || rig_fail ${q(id)} 1 "$rig_err"\nrig_done ${q(id)} ${q(c.path)}`;
    case 'set-capability':
      // Pinned like every write (rig_open: no planted parent or link), not a symlink, and read back after setcap (setcap -v compares sets, whatever their text form).
      return `${begin}\nrig_setcap ${q(id)} ${q(c.path)} ${q(c.afterCaps)}\nrig_jlog done ${q(id)}; printf 'D %s -\\n' ${q(id)}`;
    case 'run-command':
      return `${begin}\n${c.cwd ? `cd -- ${q(c.cwd)} || rig_fail ${q(id)} 1 ${q(`cannot cd to ${c.cwd}`)}\n` : ''}rig_run ${q(id)} ${quoteArgv(c.argv)}\ncd / \nrig_jlog done ${q(id)}; printf 'D %s -\\n' ${q(id)}`;
    case 'service': {
      const validate = c.validate && c.validate.length > 0
        ? `if ! ${quoteArgv(c.validate)} >"$rig_t/v" 2>&1; then rig_restore; printf 'R %s\\n' ${q(id)}; rig_fail ${q(id)} 1 "$(tail -c 4000 "$rig_t/v")"; fi\n`
        : '';
      return `${begin}\n${validate}rig_service ${q(id)} ${q(c.init)} ${q(c.service)} ${q(c.action)}\nrig_jlog done ${q(id)}; printf 'D %s -\\n' ${q(id)}`;
    }
    case 'package': {
      const cmds: string[] = [];
      if (c.manager === 'apt') {
        if (c.install.length) cmds.push(`rig_run ${q(id)} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -- ${quoteArgv(c.install)}`);
        if (c.remove.length) cmds.push(`rig_run ${q(id)} env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -- ${quoteArgv(c.remove)}`);
      } else {
        if (c.install.length) cmds.push(`rig_run ${q(id)} ${c.manager} install -y ${quoteArgv(c.install)}`);
        if (c.remove.length) cmds.push(`rig_run ${q(id)} ${c.manager} remove -y ${quoteArgv(c.remove)}`);
      }
      return `${begin}\n${cmds.join('\n')}\nrig_jlog done ${q(id)}; printf 'D %s -\\n' ${q(id)}`;
    }
    case 'wait':
      return `${begin}\nrig_wait ${q(id)} ${Math.max(1, Math.floor(c.timeoutSeconds))} ${q(pollPauses(c.intervalSeconds))} ${quoteArgv(c.argv)}\nprintf 'D %s -\\n' ${q(id)}`;
  }
}

/** Ids of the script's first step on each path: its `before` is the host's state; a later step's is what an earlier one makes. */
function firstStepsOnPaths(steps: readonly ScriptStep[]): Set<string> {
  const seen = new Set<string>();
  const first = new Set<string>();
  for (const { id, change: c } of steps) {
    if (!('before' in c) || !('path' in c) || seen.has(c.path)) continue;
    seen.add(c.path);
    first.add(id);
  }
  return first;
}

/** Paths whose pre-image must be saved on the host before the first write, with the sha256 the file must have then. */
function preImagePaths(steps: readonly ScriptStep[]): Array<[string, string, string | undefined]> {
  const out: Array<[string, string, string | undefined]> = [];
  const first = firstStepsOnPaths(steps);
  for (const { id, change: c } of steps) {
    if ((c.kind === 'write-file' || c.kind === 'remove-path' || c.kind === 'restore-preimage') && c.before.exists && c.before.type === 'file') out.push([id, c.path, first.has(id) ? c.before.sha256 : undefined]);
  }
  return out;
}

/** Shell that puts every file this script changed back as it was before the script (used when a validation fails). */
function restoreFunction(steps: readonly ScriptStep[], afterRestore: string | undefined): string {
  const body: string[] = [];
  const first = firstStepsOnPaths(steps);
  for (const { id, change: c } of [...steps].reverse()) {
    if (c.kind !== 'write-file' && c.kind !== 'symlink' && c.kind !== 'remove-path' && c.kind !== 'restore-preimage') continue;
    if (!first.has(id)) continue;
    const q = quoteShell;
    const failed = `|| rig_jlog "restore failed: $rig_err"`;
    if (c.before.exists && c.before.type === 'file') {
      body.push(`  if [ -f "$RIG_RUN/pre/"${q(id)} ]; then rig_put ${q(id)} ${q(c.path)} ${q(c.before.mode ?? '0644')} ${q(c.before.owner ?? 'root')} ${q(c.before.group ?? 'root')} raw ${q(c.before.sha256 ?? '')} < "$RIG_RUN/pre/"${q(id)} ${failed}; fi`);
    } else if (c.before.exists && c.before.type === 'symlink') {
      body.push(`  rig_link ${q(id)} ${q(c.path)} ${q(c.before.target ?? '')} ${failed}`);
    } else if (!c.before.exists) {
      body.push(`  if rig_cd ${q(c.path)}; then rm -f -- "./$rig_base"; cd /; fi`);
    }
  }
  return `rig_restore() {\n  rig_jlog restore\n${body.join('\n')}\n${afterRestore ? `${afterRestore}\n` : ''}  :\n}`;
}

export interface ApplyScriptOptions {
  readonly runId: string;
  /** Journal file name prefix on the host, e.g. the play index. */
  readonly steps: readonly ScriptStep[];
  /** JSON intent written to the host journal before any change (write-ahead). */
  readonly intentJson: string;
  readonly lock: LockSpec;
  /** Check each change's `before` against the host first and stop on drift. @default true */
  readonly checkDrift?: boolean;
  /** Host-side state directory. @default HOST_STATE_DIR */
  readonly stateDir?: string;
  /** Handler bookkeeping (pending records, forced handlers: src/engine/handler-script.ts) and epilogue. */
  readonly hooks?: ApplyScriptHooks;
}

/** Put `hook` between a step's change and its done record (the last line of every stepScript prints `D`). */
function withAfterChange(script: string, hook: string | undefined): string {
  if (!hook) return script;
  const i = script.lastIndexOf('\n');
  return `${script.slice(0, i + 1)}${hook}\n${script.slice(i + 1)}`;
}

/** A step with its hooks: before it (after the stop check), and between its change and its done record. */
function hookedStep(s: ScriptStep, dir: string, hooks: ApplyScriptHooks | undefined): string {
  const before = hooks?.beforeStep?.get(s.id);
  return `${before ? `${before}\n` : ''}${withAfterChange(stepScript(s, dir), hooks?.afterChange?.get(s.id))}`;
}

/** `rig_on_fail` for forced handlers: once, the groups whose flag is set, in order (a failure among them stops it). */
function onFailureFunction(steps: readonly ScriptStep[], dir: string, hooks: ApplyScriptHooks | undefined): string {
  if (!hooks?.onFailure?.length) return '';
  const byId = new Map(steps.map((s) => [s.id, s]));
  const body = hooks.onFailure.map((g) => `if [ "\${${g.flag}:-0}" = 1 ]; then rig_jlog 'forced handlers'\n${g.stepIds.map((id) => byId.get(id)).filter((s): s is ScriptStep => s !== undefined).map((s) => hookedStep(s, dir, hooks)).join('\n')}\nfi`);
  return `rig_on_fail() {\n[ "\${rig_forcing:-0}" = 0 ] || return 0; rig_forcing=1; cd /\n${body.join('\n')}\n}`;
}

/** Script that re-checks `before` states, journals the intent on the host, applies the steps in order. */
export function buildApplyScript(o: ApplyScriptOptions): string {
  const q = quoteShell;
  const lines: string[] = [APPLY_PRELUDE];
  const dir = o.stateDir ?? HOST_STATE_DIR;
  lines.push(`RIG_ID=${q(o.runId)}; RIG_STATE=${q(dir)}; RIG_RUN=${q(`${dir}/runs/${o.runId}`)}; RIG_LOCK=${q(`${dir}/lock`)}`);
  lines.push(lockScript(o.lock, dir));
  if (o.checkDrift !== false) {
    lines.push('rig_drift=0');
    const first = firstStepsOnPaths(o.steps);
    const seenCaps = new Set<string>();
    for (const { id, change: c } of o.steps) {
      // Capabilities: the first step on a path expects what the plan read (setcap -v: same set, any text form).
      if (c.kind === 'set-capability' && !seenCaps.has(c.path)) { seenCaps.add(c.path); lines.push(`rig_capexpect ${q(id)} ${q(c.path)} ${q(c.beforeCaps)}`); }
      if (first.has(id) && 'before' in c && 'path' in c) lines.push(`rig_expect ${q(id)} ${q(c.path)} ${q(signFileState(c.before))}`);
    }
    lines.push(`[ $rig_drift = 0 ] || { rig_unlock; exit 3; }`);
  }
  lines.push(restoreFunction(o.steps, o.hooks?.afterRestore), STOP_CHECK_FUNCTION);
  if (o.hooks?.prologue) lines.push(o.hooks.prologue);
  lines.push(onFailureFunction(o.steps, dir, o.hooks));
  // Write-ahead: the intent and the pre-images are on the host's disk before the first change.
  lines.push(`mkdir -p -m 0700 -- "$RIG_RUN/pre" && chmod 0700 ${q(dir)} ${q(`${dir}/runs`)} "$RIG_RUN" || rig_fail - 1 'cannot create the journal directory'`);
  lines.push(`( umask 077; base64 -d >> "$RIG_RUN/intent.jsonl" ) ${heredocBase64(Buffer.from(o.intentJson + '\n').toString('base64'))}`);
  // Temp files of an earlier script on this host that was killed mid-write: removed if still rig's own (journaled).
  lines.push('rig_sweep');
  // Pre-images read the file at the path itself (never through a link planted since the gather) and must hash as
  // the plan's `before`: anything else is drift, and the host stops before its first change.
  for (const [id, path, sha] of preImagePaths(o.steps)) lines.push(`rig_pre ${q(id)} ${q(path)}${o.checkDrift !== false && sha ? ` ${q(sha)}` : ''}`);
  if (o.checkDrift !== false) lines.push(`[ $rig_drift = 0 ] || { rig_jlog 'drift at the pre-images'; rig_unlock; exit 3; }`);
  lines.push(`sync -- "$RIG_RUN/intent.jsonl" "$RIG_RUN/pre" 2>/dev/null || sync`);
  // Between steps: stop here if the controller was interrupted (src/engine/stop-marker.ts).
  for (const s of o.steps) lines.push(stopCheckLine(s.id), hookedStep(s, dir, o.hooks));
  if (o.hooks?.epilogue) lines.push(o.hooks.epilogue);
  lines.push(`rm -f -- "$RIG_RUN/tmp"; rig_jlog finished${o.lock.release ? '; rig_unlock' : ''}; echo 'Z ok'`);
  return lines.join('\n') + '\n';
}

/** Break the lock only if it is still held by the owner the controller judged breakable (not a newer run's). */
function breakOwnerLine(lock: LockSpec): string {
  if (lock.breakOwner === undefined) return '';
  return `if [ -d "$RIG_LOCK" ] && [ "$(cat "$RIG_LOCK/owner" 2>/dev/null)" = ${quoteShell(lock.breakOwner)} ]; then rm -rf -- "$RIG_LOCK"; fi`;
}

/** Lock prologue: `mkdir` is atomic; the lock directory holds `run` (the run id) and `owner` (JSON). */
export function lockScript(lock: LockSpec, dir: string = HOST_STATE_DIR): string {
  if (!lock.acquire) {
    return `[ "$(cat "$RIG_LOCK/run" 2>/dev/null)" = "$RIG_ID" ] || { printf 'L lost %s\\n' "$(cat "$RIG_LOCK/owner" 2>/dev/null | rig_b64)"; exit 4; }`;
  }
  const q = quoteShell;
  return [
    `mkdir -p -m 0700 -- ${q(dir)}`,
    breakOwnerLine(lock),
    `if mkdir -m 0700 -- "$RIG_LOCK" 2>/dev/null; then printf '%s' "$RIG_ID" > "$RIG_LOCK/run"; printf '%s' ${q(lock.owner)} > "$RIG_LOCK/owner"`,
    `elif [ "$(cat "$RIG_LOCK/run" 2>/dev/null)" != "$RIG_ID" ]; then printf 'L held %s\\n' "$(cat "$RIG_LOCK/owner" 2>/dev/null | rig_b64)"; exit 4; fi`,
  ].join('\n');
}

/** The lock's run id into $rig_lr ('' without a lock) with the shell's own `read` (no process; the file has no newline). */
const READ_LOCK_RUN = 'rig_lr=; IFS= read -r rig_lr 2>/dev/null < "$RIG_LOCK/run"';

/** Lock snippet for the end of a gather script: prints `L ok`, `L held <owner-b64>` or `L denied <user>`, never exits. */
export function gatherLockScript(runId: string, lock: LockSpec): string {
  const q = quoteShell;
  return [
    `RIG_ID=${q(runId)}; RIG_LOCK=${q(`${HOST_STATE_DIR}/lock`)}`,
    // builtins where they do: a converged run's gather and release are most of what it costs a host
    `[ -d ${q(HOST_STATE_DIR)} ] || mkdir -p -m 0700 -- ${q(HOST_STATE_DIR)} 2>/dev/null`,
    breakOwnerLine(lock),
    `if mkdir -m 0700 -- "$RIG_LOCK" 2>/dev/null; then printf '%s' "$RIG_ID" > "$RIG_LOCK/run"; printf '%s' ${q(lock.owner)} > "$RIG_LOCK/owner"; echo 'L ok'`,
    `else ${READ_LOCK_RUN}`,
    `if [ "$rig_lr" = "$RIG_ID" ]; then echo 'L ok'`,
    `elif [ ! -d "$RIG_LOCK" ]; then printf 'L denied %s\\n' "$(id -un)"`,
    `else printf 'L held %s\\n' "$(cat "$RIG_LOCK/owner" 2>/dev/null | rig_b64)"; fi; fi`,
  ].join('\n');
}

/** Script that releases this run's lock (end of a run with nothing left to apply on the host), sweeping first. */
export function buildReleaseScript(runId: string, stateDir: string = HOST_STATE_DIR): string {
  const q = quoteShell;
  return `RIG_STATE=${q(stateDir)}; RIG_RUN=${q(`${stateDir}/runs/${runId}`)}; RIG_LOCK=${q(`${stateDir}/lock`)}\n${SWEEP_FUNCTIONS}\n` +
    `${READ_LOCK_RUN}\nif [ "$rig_lr" = ${q(runId)} ]; then rig_sweep; rm -rf -- "$RIG_LOCK"; fi\necho 'Z ok'\n`;
}
