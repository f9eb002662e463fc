import type { Change } from '../core/change.ts';
import { quoteArgv, quoteShell } from '../text/shell-quote.ts';
import { signFileState } from './file-signature.ts';
import { STOP_CHECK_FUNCTION, stopCheckLine } from './stop-marker.ts';

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
 * Shell functions used by apply scripts. Constant text: all values arrive as quoted arguments.
 * Records on stdout: `B <id>` begin, `D <id> <sig-after>` done, `X <id> <rc> <msg-b64>` failure (script exits 1),
 * `R <id>` restored after a failed validation, `L held <owner-b64>` lock held by someone else, `V <id> <sig-now>` drift.
 */
export const APPLY_PRELUDE = String.raw`
set -u
export LC_ALL=C
rig_b64() { base64 -w0 2>/dev/null || base64 | tr -d '\n'; }
rig_t=$(mktemp -d 2>/dev/null || echo /tmp/rig.$$); mkdir -p "$rig_t"; trap 'rm -rf "$rig_t"' EXIT
rig_sig() {
  if [ -L "$1" ]; then rig_ty=symlink; elif [ -f "$1" ]; then rig_ty=file; elif [ -d "$1" ]; then rig_ty=directory
  elif [ -e "$1" ]; then rig_ty=other; else echo absent; return 0; fi
  rig_st=$(stat -c '%a %U %G' -- "$1")
  set -- "$1" $rig_st
  case $rig_ty in
    file) rig_tail=$(sha256sum < "$1" | cut -c1-64) ;;
    symlink) rig_tail=$(readlink -- "$1" | tr -d '\n' | rig_b64); [ -n "$rig_tail" ] || rig_tail=- ;;
    *) rig_tail=- ;;
  esac
  printf '%s %04o %s %s %s\n' "$rig_ty" "0$2" "$3" "$4" "$rig_tail"
}
rig_fail() { printf 'X %s %s %s\n' "$1" "$2" "$(printf %s "$3" | rig_b64)"; rig_jlog "failed $1"; rig_unlock; exit 1; }
rig_unlock() { if [ "$(cat "$RIG_LOCK/run" 2>/dev/null)" = "$RIG_ID" ]; then rm -rf -- "$RIG_LOCK"; fi; }
rig_expect() { rig_now=$(rig_sig "$2"); [ "$rig_now" = "$3" ] || { printf 'V %s %s\n' "$1" "$rig_now"; rig_drift=1; }; }
rig_jlog() { [ -d "$RIG_RUN" ] && printf '%s\n' "$*" >> "$RIG_RUN/journal.log"; return 0; }
rig_pre() { if [ -f "$2" ] && [ ! -L "$2" ]; then cp -- "$2" "$RIG_RUN/pre/$1" && chmod 600 "$RIG_RUN/pre/$1"; fi; }
rig_done() { rig_jlog "done $1"; printf 'D %s %s\n' "$1" "$(rig_sig "$2")"; }
rig_write() {
  rig_dir=$(dirname -- "$2"); [ -d "$rig_dir" ] || rig_fail "$1" 1 "parent directory $rig_dir does not exist"
  rig_tmp="$rig_dir/.rig-tmp.$RIG_ID.$1"
  ( umask 077; base64 -d > "$rig_tmp" ) || { rm -f -- "$rig_tmp"; rig_fail "$1" 1 "cannot write $rig_tmp"; }
  chown -- "$4:$5" "$rig_tmp" && chmod -- "$3" "$rig_tmp" && sync -- "$rig_tmp" && rig_check_tmp "$1" "$rig_tmp" "$2" && mv -f -- "$rig_tmp" "$2" \
    || { rm -f -- "$rig_tmp"; rig_fail "$1" 1 "cannot install $2"; }
  sync -- "$rig_dir" 2>/dev/null || true
}
rig_check_tmp() {
  [ "\${rig_v:-0}" = 1 ] || return 0
  rig_v=0
  rig_validate "$2" >"$rig_t/v" 2>&1 </dev/null && return 0
  rig_rc=$?; rm -f -- "$2"
  rig_fail "$1" "$rig_rc" "validation of the new $3 failed (the file is unchanged): $(tail -c 4000 "$rig_t/v")"
}
rig_restore_pre() {
  rig_dir=$(dirname -- "$2"); [ -d "$rig_dir" ] || rig_fail "$1" 1 "parent directory $rig_dir does not exist"
  [ -f "$3" ] && [ ! -L "$3" ] || rig_fail "$1" 1 "no pre-image $3 on the host"
  rig_tmp=$(mktemp -- "$rig_dir/.rig-restore.XXXXXXXXXX") || rig_fail "$1" 1 "cannot create a temporary file in $rig_dir"
  cat -- "$3" > "$rig_tmp" || { rm -f -- "$rig_tmp"; rig_fail "$1" 1 "cannot copy the pre-image $3"; }
  rig_h=$(sha256sum < "$rig_tmp" | cut -c1-64)
  [ "$rig_h" = "$4" ] || { rm -f -- "$rig_tmp"; rig_fail "$1" 1 "pre-image $3 has sha256 $rig_h, the journal says $4: not restored"; }
  chown -h -- "$6:$7" "$rig_tmp" && chmod -- "$5" "$rig_tmp" && sync -- "$rig_tmp" && mv -f -- "$rig_tmp" "$2" \
    || { rm -f -- "$rig_tmp"; rig_fail "$1" 1 "cannot install $2"; }
  sync -- "$rig_dir" 2>/dev/null || true
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
rig_wait() {
  rig_i=$1 rig_to=$2 rig_iv=$3; shift 3
  rig_end=$(( $(date +%s) + rig_to ))
  while :; do
    "$@" >"$rig_t/o" 2>&1 </dev/null && return 0
    [ "$(date +%s)" -ge "$rig_end" ] && rig_fail "$rig_i" 124 "timed out after \${rig_to}s: $(tail -c 2000 "$rig_t/o")"
    sleep "$rig_iv"
  done
}
`.replace(/\\\$/g, '$');

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
      return `${begin}\nrig_run ${q(id)} chown -h -- ${q(`${c.after.owner}:${c.after.group}`)} ${q(c.path)}\n` +
        (c.after.type === 'symlink' ? '' : `rig_run ${q(id)} chmod -- ${q(c.after.mode ?? '0644')} ${q(c.path)}\n`) + `rig_done ${q(id)} ${q(c.path)}`;
    case 'ensure-directory':
      return `${begin}\n[ -d ${q(c.path)} ] || rig_run ${q(id)} mkdir -- ${q(c.path)}\nrig_run ${q(id)} chown -- ${q(`${c.after.owner ?? 'root'}:${c.after.group ?? 'root'}`)} ${q(c.path)}\nrig_run ${q(id)} chmod -- ${q(c.after.mode ?? '0755')} ${q(c.path)}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'remove-path':
      return `${begin}\nif [ -d ${q(c.path)} ] && [ ! -L ${q(c.path)} ]; then rig_run ${q(id)} rmdir -- ${q(c.path)}; else rig_run ${q(id)} rm -f -- ${q(c.path)}; fi\nrig_done ${q(id)} ${q(c.path)}`;
    case 'symlink':
      return `${begin}\nrig_run ${q(id)} ln -sfn -- ${q(c.target)} ${q(`${c.path}.rig-tmp`)}\nrig_run ${q(id)} mv -Tf -- ${q(`${c.path}.rig-tmp`)} ${q(c.path)}\nrig_done ${q(id)} ${q(c.path)}`;
    case 'set-capability':
      return `${begin}\n` + (c.afterCaps === '' ? `rig_run ${q(id)} setcap -r ${q(c.path)}` : `rig_run ${q(id)} setcap ${q(c.afterCaps)} ${q(c.path)}`) +
        `\nrig_jlog done ${q(id)}; printf 'D %s -\\n' ${q(id)}`;
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
      return `${begin}\nrig_wait ${q(id)} ${Math.max(1, Math.floor(c.timeoutSeconds))} ${Math.max(0.1, c.intervalSeconds)} ${quoteArgv(c.argv)}\nprintf 'D %s -\\n' ${q(id)}`;
  }
}

/** Paths whose pre-image must be saved on the host before the first write. */
function preImagePaths(steps: readonly ScriptStep[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const { id, change: c } of steps) {
    if ((c.kind === 'write-file' || c.kind === 'remove-path' || c.kind === 'restore-preimage') && c.before.exists && c.before.type === 'file') out.push([id, c.path]);
  }
  return out;
}

/** Shell that puts every file this script changed back as it was (used when a validation fails). */
function restoreFunction(steps: readonly ScriptStep[]): string {
  const body: string[] = [];
  for (const { id, change: c } of [...steps].reverse()) {
    if (c.kind !== 'write-file' && c.kind !== 'symlink' && c.kind !== 'remove-path' && c.kind !== 'restore-preimage') continue;
    const q = quoteShell;
    if (c.before.exists && c.before.type === 'file') {
      body.push(`  if [ -f "$RIG_RUN/pre/"${q(id)} ]; then cp -p -- "$RIG_RUN/pre/"${q(id)} ${q(c.path)}.rig-restore && chown -- ${q(`${c.before.owner}:${c.before.group}`)} ${q(c.path)}.rig-restore && chmod -- ${q(c.before.mode ?? '0644')} ${q(c.path)}.rig-restore && mv -f -- ${q(c.path)}.rig-restore ${q(c.path)}; fi`);
    } else if (c.before.exists && c.before.type === 'symlink') {
      body.push(`  ln -sfn -- ${q(c.before.target ?? '')} ${q(c.path)}.rig-restore && mv -Tf -- ${q(c.path)}.rig-restore ${q(c.path)}`);
    } else if (!c.before.exists) {
      body.push(`  rm -f -- ${q(c.path)}`);
    }
  }
  return `rig_restore() {\n  rig_jlog restore\n${body.join('\n')}\n  :\n}`;
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
}

/** Script that re-checks `before` states, journals the intent on the host, applies the steps in order. */
export function buildApplyScript(o: ApplyScriptOptions): string {
  const q = quoteShell;
  const lines: string[] = [APPLY_PRELUDE];
  const dir = o.stateDir ?? HOST_STATE_DIR;
  lines.push(`RIG_ID=${q(o.runId)}; RIG_RUN=${q(`${dir}/runs/${o.runId}`)}; RIG_LOCK=${q(`${dir}/lock`)}`);
  lines.push(lockScript(o.lock, dir));
  if (o.checkDrift !== false) {
    lines.push('rig_drift=0');
    const seen = new Set<string>();
    for (const { id, change: c } of o.steps) {
      if (!('before' in c) || !('path' in c) || seen.has(c.path)) continue;
      seen.add(c.path);
      lines.push(`rig_expect ${q(id)} ${q(c.path)} ${q(signFileState(c.before))}`);
    }
    lines.push(`[ $rig_drift = 0 ] || { rig_unlock; exit 3; }`);
  }
  lines.push(restoreFunction(o.steps), STOP_CHECK_FUNCTION);
  // Write-ahead: the intent and the pre-images are on the host's disk before the first change.
  lines.push(`mkdir -p -m 0700 -- "$RIG_RUN/pre" && chmod 0700 ${q(dir)} ${q(`${dir}/runs`)} "$RIG_RUN" || rig_fail - 1 'cannot create the journal directory'`);
  lines.push(`( umask 077; base64 -d >> "$RIG_RUN/intent.jsonl" ) ${heredocBase64(Buffer.from(o.intentJson + '\n').toString('base64'))}`);
  for (const [id, path] of preImagePaths(o.steps)) lines.push(`rig_pre ${q(id)} ${q(path)}`);
  lines.push(`sync -- "$RIG_RUN/intent.jsonl" "$RIG_RUN/pre" 2>/dev/null || sync`);
  // Between steps: stop here if the controller was interrupted (src/engine/stop-marker.ts).
  for (const s of o.steps) lines.push(stopCheckLine(s.id), stepScript(s, dir));
  lines.push(`rig_jlog finished${o.lock.release ? '; rig_unlock' : ''}; echo 'Z ok'`);
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

/** Lock snippet for the end of a gather script: prints `L ok`, `L held <owner-b64>` or `L denied <user>`, never exits. */
export function gatherLockScript(runId: string, lock: LockSpec): string {
  const q = quoteShell;
  return [
    `RIG_ID=${q(runId)}; RIG_LOCK=${q(`${HOST_STATE_DIR}/lock`)}`,
    `mkdir -p -m 0700 -- ${q(HOST_STATE_DIR)} 2>/dev/null`,
    breakOwnerLine(lock),
    `if mkdir -m 0700 -- "$RIG_LOCK" 2>/dev/null; then printf '%s' "$RIG_ID" > "$RIG_LOCK/run"; printf '%s' ${q(lock.owner)} > "$RIG_LOCK/owner"; echo 'L ok'`,
    `elif [ "$(cat "$RIG_LOCK/run" 2>/dev/null)" = "$RIG_ID" ]; then echo 'L ok'`,
    `elif [ ! -d "$RIG_LOCK" ]; then printf 'L denied %s\\n' "$(id -un)"`,
    `else printf 'L held %s\\n' "$(cat "$RIG_LOCK/owner" 2>/dev/null | rig_b64)"; fi`,
  ].join('\n');
}

/** Script that only releases this run's lock (end of a run with nothing left to apply on the host). */
export function buildReleaseScript(runId: string): string {
  const q = quoteShell;
  return `RIG_LOCK=${q(`${HOST_STATE_DIR}/lock`)}\nif [ "$(cat "$RIG_LOCK/run" 2>/dev/null)" = ${q(runId)} ]; then rm -rf -- "$RIG_LOCK"; fi\necho 'Z ok'\n`;
}
