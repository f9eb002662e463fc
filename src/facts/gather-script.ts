import { quoteShell } from '../text/shell-quote.ts';
import type { FactRequest } from './fact-request.ts';
import { OWNER_IDS_FUNCTION } from './owner-ids.ts';
import { PRIVATE_TEMP_DIR } from './private-temp-dir.ts';

/** Files larger than this are stat'ed and hashed but their content is not transferred. */
export const MAX_CONTENT_BYTES = 4 * 1024 * 1024;

/**
 * Shell functions of the gather protocol. Constant text; every value reaches them as a quoted argument.
 * Output records, one per line, fields separated by single spaces, free text base64-encoded:
 *   O <hostname> <os-id> <init> <pkg-manager> <uid> <user>   (hostname: `=name` when it is only letters, digits, `.`, `-`;
 *     else its base64, which never starts with `=`)
 *   F <i> absent | F <i> unreadable
 *     | F <i> <type> <mode> <owner> <group> <size> <sha256|-> <content-b64|-> <link-target-b64|-> <uid> <gid>
 *   `absent` only when the lookup of the path really found nothing: a path that cannot be looked up (a directory on
 *   the way that the login user may not search) or a regular file it may not read is `unreadable` — never absent,
 *   never empty (see rig_reach). Owner and group are names, or the numeric id when the host has no name for it
 *   (stat prints UNKNOWN; see OWNER_IDS_FUNCTION), so that `chown` accepts what rig read.
 *   Files are read in one batch (a handful of processes per host instead of ~6 per file; at 200 hosts on one machine the
 *   per-file forks starved SSH handshakes): per existing file, in request order, `T <i> <type>` (and `L <i> <target-b64>`
 *   for a symlink); then `Fs <mode> <owner> <group> <size> <uid> <gid>` per T record, `H <sha256>` per regular file, and one
 *   `B <content-b64>` holding the requested regular files ≤ MAX_CONTENT_BYTES concatenated in order (split by size on
 *   the controller, each part checked against its H: streamed from `cat` to `base64`, a content that came short or
 *   changed fails there, "changed while rig was reading it"). If `stat` or `sha256sum` fails (a file vanished, became
 *   unreadable), `X` follows and every queued file is read again one by one as full F records. Paths with a newline
 *   are always read one by one. Nothing of a file is written on the host: the queue and the lists are shell variables;
 *   only a command or capability fact makes the temp directory (PRIVATE_TEMP_DIR), for its stderr.
 *   C <i> <exit> <stdout-b64> <stderr-b64>
 *   S <i> <exists 0|1> <running 0|1>
 *   P <i> <version|->            (one per package name, in request order)
 *   K <i> ok <caps-b64> | K <i> absent|unreadable|nogetcap | K <i> error <stderr-b64>
 *     (getcap's text without the path: `cap_x=ep`, or ` = cap_x+ep` from older libcap; '' = none)
 */
export const GATHER_PRELUDE = String.raw`
set -u
export LC_ALL=C
rig_b64() { base64 -w0 2>/dev/null || base64 | tr -d '\n'; }
rig_nl='
'
rig_q=
rig_t=
rig_tmp() { [ -n "$rig_t" ] && return 0
${PRIVATE_TEMP_DIR}
}
if [ -d /run/systemd/system ]; then rig_init=systemd
elif command -v initctl >/dev/null 2>&1 && initctl version 2>/dev/null | grep -q upstart; then rig_init=upstart
elif command -v openrc >/dev/null 2>&1 && [ -d /run/openrc ]; then rig_init=openrc
else rig_init=sysv; fi
if command -v apt-get >/dev/null 2>&1; then rig_pm=apt; elif command -v dnf >/dev/null 2>&1; then rig_pm=dnf
elif command -v yum >/dev/null 2>&1; then rig_pm=yum; else rig_pm=none; fi
rig_os=unknown; [ -r /etc/os-release ] && rig_os=$(. /etc/os-release && echo "\${ID:-unknown}")
rig_hn=; IFS= read -r rig_hn 2>/dev/null < /proc/sys/kernel/hostname || rig_hn=$(hostname)
rig_idl=$(id 2>/dev/null) || rig_idl=
case $rig_idl in
  uid=[0-9]*' gid='*) case $rig_idl in *' euid='*) rig_idl= ;; esac ;;
  *) rig_idl= ;;
esac
if [ -n "$rig_idl" ]; then
  rig_idl=\${rig_idl%% gid=*}; rig_uid=\${rig_idl#uid=}; rig_uid=\${rig_uid%%(*}
  case $rig_idl in *'('*')') rig_un=\${rig_idl#*(}; rig_un=\${rig_un%)} ;; *) rig_un=- ;; esac
else rig_uid=$(id -u); rig_un=$(id -un 2>/dev/null || echo -); fi
case $rig_hn in ''|*[!A-Za-z0-9.-]*) rig_hn=$(printf '%s\n' "$rig_hn" | rig_b64) ;; *) rig_hn==$rig_hn ;; esac
printf 'O %s %s %s %s %s %s\n' "$rig_hn" "$rig_os" "$rig_init" "$rig_pm" "$rig_uid" "$rig_un"
${OWNER_IDS_FUNCTION}
rig_reach() {
  rig_a=$1
  while :; do
    rig_a=\${rig_a%/*}; [ -n "$rig_a" ] || rig_a=/
    if [ -d "$rig_a" ]; then [ -x "$rig_a" ]; return; fi
    if [ -e "$rig_a" ] || [ -L "$rig_a" ]; then return 0; fi
  done
}
rig_type() {
  if [ -L "$1" ]; then rig_ty=symlink; elif [ -f "$1" ]; then rig_ty=file; [ -r "$1" ] || rig_ty=unreadable
  elif [ -d "$1" ]; then rig_ty=directory
  elif [ -e "$1" ]; then rig_ty=other; elif rig_reach "$1"; then rig_ty=absent; else rig_ty=unreadable; fi
}
rig_unread() { rig_type "$2"; [ "$rig_ty" = absent ] || rig_ty=unreadable; printf 'F %s %s\n' "$1" "$rig_ty"; }
rig_file() {
  rig_type "$2"; case $rig_ty in absent|unreadable) printf 'F %s %s\n' "$1" "$rig_ty"; return 0 ;; esac
  rig_st=$(stat -c '%a %U %G %s %u %g' -- "$2") || { rig_unread "$1" "$2"; return 0; }
  set -- "$1" "$2" "$3" $rig_st
  rig_ids "$5" "$6" "$8" "$9"
  rig_sum=- rig_c=- rig_l=-
  if [ "$rig_ty" = file ]; then
    rig_sum=$(sha256sum < "$2") || { rig_unread "$1" "$2"; return 0; }
    rig_sum=\${rig_sum%% *}
    if [ "$3" = 1 ] && [ "$7" -le ${MAX_CONTENT_BYTES} ]; then
      rig_c=$(rig_b64 < "$2") || { rig_unread "$1" "$2"; return 0; }
      [ -n "$rig_c" ] || rig_c=.
    fi
  elif [ "$rig_ty" = symlink ]; then rig_l=$(readlink -- "$2" | tr -d '\n' | rig_b64)
  fi
  printf 'F %s %s %04o %s %s %s %s %s %s %s %s\n' "$1" "$rig_ty" "0$4" "$rig_own" "$rig_grp" "$7" "$rig_sum" "$rig_c" "$rig_l" "$8" "$9"
}
rig_fq() {
  rig_type "$2"; case $rig_ty in absent|unreadable) printf 'F %s %s\n' "$1" "$rig_ty"; return 0 ;; esac
  printf 'T %s %s\n' "$1" "$rig_ty"
  rig_k=o; [ "$rig_ty" = file ] && rig_k=f
  rig_q=$rig_q$rig_k$3' '$1' '$2$rig_nl
  [ "$rig_ty" = symlink ] && printf 'L %s %s\n' "$1" "$(readlink -- "$2" | tr -d '\n' | rig_b64)"
  return 0
}
rig_fbatch() {
  [ -n "$rig_q" ] || return 0
  set --; rig_r=$rig_q
  while [ -n "$rig_r" ]; do rig_l=\${rig_r%%"$rig_nl"*}; rig_r=\${rig_r#*"$rig_nl"}; rig_l=\${rig_l#???}; set -- "$@" "\${rig_l#* }"; done
  rig_s=$(stat -c '%a %U %G %s %u %g' -- "$@") || return 1
  rig_s=$rig_s$rig_nl; rig_h=; rig_cl=; rig_r=$rig_q
  while [ -n "$rig_r" ]; do
    rig_l=\${rig_r%%"$rig_nl"*}; rig_r=\${rig_r#*"$rig_nl"}
    [ -n "$rig_s" ] || return 1
    set -f; set -- \${rig_s%%"$rig_nl"*}; set +f; rig_s=\${rig_s#*"$rig_nl"}
    [ $# = 6 ] || return 1
    rig_ids "$2" "$3" "$5" "$6"
    printf 'Fs %04o %s %s %s %s %s\n' "0$1" "$rig_own" "$rig_grp" "$4" "$5" "$6"
    rig_p=\${rig_l#???}; rig_p=\${rig_p#* }
    case $rig_l in
      f1*) rig_h=$rig_h$rig_p$rig_nl; [ "$4" -le ${MAX_CONTENT_BYTES} ] && rig_cl=$rig_cl$rig_p$rig_nl ;;
      f0*) rig_h=$rig_h$rig_p$rig_nl ;;
    esac
  done
  if [ -n "$rig_h" ]; then
    set --; while [ -n "$rig_h" ]; do set -- "$@" "\${rig_h%%"$rig_nl"*}"; rig_h=\${rig_h#*"$rig_nl"}; done
    rig_h=$(sha256sum -- "$@") || return 1
    rig_h=$rig_h$rig_nl
    while [ -n "$rig_h" ]; do rig_l=\${rig_h%%"$rig_nl"*}; rig_h=\${rig_h#*"$rig_nl"}; rig_l=\${rig_l%% *}; printf 'H %s\n' "\${rig_l#\\}"; done
  fi
  if [ -n "$rig_cl" ]; then
    set --; while [ -n "$rig_cl" ]; do set -- "$@" "\${rig_cl%%"$rig_nl"*}"; rig_cl=\${rig_cl#*"$rig_nl"}; done
    # Streamed, never stored on the host: a content that came short or changed fails its H check on the controller.
    printf 'B '; cat -- "$@" | rig_b64; echo
  fi
  return 0
}
rig_fdone() {
  rig_fbatch && return 0
  echo X
  rig_r=$rig_q
  while [ -n "$rig_r" ]; do
    rig_l=\${rig_r%%"$rig_nl"*}; rig_r=\${rig_r#*"$rig_nl"}
    rig_c=\${rig_l#?}; rig_c=\${rig_c%"\${rig_c#?}"}; rig_l=\${rig_l#???}
    rig_file "\${rig_l%% *}" "\${rig_l#* }" "$rig_c"
  done
}
rig_cmd() {
  rig_i=$1; shift
  rig_tmp; "$@" >"$rig_t/o" 2>"$rig_t/e" </dev/null; rig_rc=$?
  printf 'C %s %s %s %s\n' "$rig_i" "$rig_rc" "$(rig_b64 < "$rig_t/o")" "$(rig_b64 < "$rig_t/e")"
}
rig_svc() {
  rig_ex=0 rig_run=0
  case $rig_init in
    systemd) systemctl cat -- "$2" >/dev/null 2>&1 && rig_ex=1; systemctl is-active --quiet -- "$2" && rig_run=1 ;;
    upstart) initctl status "$2" >/dev/null 2>&1 && rig_ex=1; initctl status "$2" 2>/dev/null | grep -q running && rig_run=1
             [ $rig_ex = 0 ] && [ -x "/etc/init.d/$2" ] && { rig_ex=1; "/etc/init.d/$2" status >/dev/null 2>&1 && rig_run=1; } ;;
    openrc) [ -x "/etc/init.d/$2" ] && rig_ex=1; rc-service "$2" status >/dev/null 2>&1 && rig_run=1 ;;
    *) [ -x "/etc/init.d/$2" ] && { rig_ex=1; "/etc/init.d/$2" status >/dev/null 2>&1 && rig_run=1; } ;;
  esac
  printf 'S %s %s %s\n' "$1" "$rig_ex" "$rig_run"
}
rig_pkg() {
  rig_i=$1; shift
  for rig_p in "$@"; do
    rig_v=-
    case $rig_pm in
      apt) rig_q=$(dpkg-query -W -f='\${Status} \${Version}' -- "$rig_p" 2>/dev/null) && case $rig_q in "install ok installed "*) rig_v=\${rig_q##* };; esac ;;
      yum|dnf) rig_v=$(rpm -q --qf '%{VERSION}-%{RELEASE}' -- "$rig_p" 2>/dev/null) || rig_v=- ;;
    esac
    printf 'P %s %s\n' "$rig_i" "$rig_v"
  done
}
rig_cap() {
  rig_gc=$(command -v getcap 2>/dev/null) || rig_gc=
  [ -n "$rig_gc" ] || for rig_p in /usr/sbin/getcap /sbin/getcap; do [ -x "$rig_p" ] && { rig_gc=$rig_p; break; }; done
  if [ -z "$rig_gc" ]; then printf 'K %s nogetcap\n' "$1"; return 0; fi
  rig_type "$2"
  case $rig_ty in absent|unreadable) printf 'K %s %s\n' "$1" "$rig_ty"; return 0 ;; esac
  rig_tmp; rig_v=$("$rig_gc" -- "$2" 2>"$rig_t/e" </dev/null) || { printf 'K %s error %s\n' "$1" "$(rig_b64 < "$rig_t/e")"; return 0; }
  if [ -s "$rig_t/e" ]; then printf 'K %s error %s\n' "$1" "$(rig_b64 < "$rig_t/e")"; return 0; fi
  rig_v=\${rig_v#"$2"}
  printf 'K %s ok %s\n' "$1" "$(printf %s "$rig_v" | rig_b64)"
}
`.replace(/\\\$/g, '$');

/**
 * Build the one script that gathers every requested fact (deduplicated by the caller). Its last line is `E done`, or
 * `E done <endTag>`: a held gather (src/engine/gather-facts.ts) passes a random tag, so that its end is told from
 * anything the host prints before the script runs (a login shell's `.bashrc` echoing "E done").
 */
export function buildGatherScript(requests: readonly FactRequest[], epilogue = '', endTag = ''): string {
  if (!/^[0-9a-f]*$/.test(endTag)) throw new Error(`gather end tag must be hex: ${endTag}`);
  // Every fact is read with stdin on /dev/null: the shell reads this script from stdin, and after the last line it
  // may keep waiting there for the run's next script (a held gather, src/connectors/connector.ts HoldOptions); a
  // service's status script or a package query that read stdin would eat that script, or wait for it forever.
  const lines = [GATHER_PRELUDE, '{'];
  // Files first, their batch read at once (rig_fdone) and then the programs (commands, services, packages): a file's
  // type is checked and its bytes read within moments, not after every status script has run — less time for
  // someone to swap it for a FIFO (the gather's time limit covers what is left).
  const order = [...requests.entries()].sort(([, a], [, b]) => Number(a.kind !== 'file') - Number(b.kind !== 'file'));
  let filesDone = false;
  for (const [i, r] of order) {
    if (!filesDone && r.kind !== 'file') { lines.push('rig_fdone'); filesDone = true; }
    switch (r.kind) {
      case 'file': lines.push(`${r.path.includes('\n') ? 'rig_file' : 'rig_fq'} ${i} ${quoteShell(r.path)} ${r.content === false ? 0 : 1}`); break;
      case 'command': lines.push(`rig_cmd ${i} ${r.argv.map(quoteShell).join(' ')}`); break;
      case 'service': lines.push(`rig_svc ${i} ${quoteShell(r.name)}`); break;
      case 'package': lines.push(`rig_pkg ${i} ${r.names.map(quoteShell).join(' ')}`); break;
      case 'capability': lines.push(`rig_cap ${i} ${quoteShell(r.path)}`); break;
    }
  }
  if (!filesDone) lines.push('rig_fdone');
  lines.push(epilogue, '} </dev/null', endTag ? `echo 'E done ${endTag}'` : 'echo "E done"', '');
  return lines.join('\n');
}
