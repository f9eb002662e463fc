import type { FileState } from './file-state.ts';

/**
 * A Change is plain, serializable data: what the engine will do on one host. Modules produce them, the engine
 * applies them, the journal stores them (with `before` captured ahead of the write), rollback inverts them.
 * Contents travel base64-encoded so any byte sequence survives JSON.
 */
interface ChangeBase {
  /** Task path that produced it, e.g. `secure masters › 2 › set apiserver flags`. */
  readonly task: string;
  /** Why it is needed, shown in plan ("content differs", "SAN 10.0.0.5 missing", "file absent"). */
  readonly reason: string;
}

/** Write a regular file atomically (temp in same dir + fsync + rename; mode/owner set before rename). */
export interface WriteFileChange extends ChangeBase {
  readonly kind: 'write-file';
  readonly path: string;
  readonly before: FileState;
  /** Desired state; `sha256`, `mode`, `owner`, `group` are what the file will have. */
  readonly after: FileState;
  /** New content, base64. */
  readonly content: string;
  /** Content (and pre-image) are secret: never shown, journal copies 0600. */
  readonly secret: boolean;
  /**
   * Check the new content before it replaces the file (Ansible's `validate`): argv run on the host with every `%s`
   * in its arguments replaced by the path of the written temp file. A failure leaves the file as it was and fails the step.
   */
  readonly validate?: readonly string[];
  /** For a new file: the plan shows the diff from this content (e.g. the input a transform started from, base64)
   *  instead of from nothing. Display only; never set on secret changes. */
  readonly diffFrom?: { readonly label: string; readonly content: string };
}

/** Change only mode/owner/group of an existing file or directory. */
export interface SetAttributesChange extends ChangeBase {
  readonly kind: 'set-attributes';
  readonly path: string;
  readonly before: FileState;
  readonly after: FileState;
}

export interface EnsureDirectoryChange extends ChangeBase {
  readonly kind: 'ensure-directory';
  readonly path: string;
  readonly before: FileState;
  readonly after: FileState;
}

export interface RemovePathChange extends ChangeBase {
  readonly kind: 'remove-path';
  readonly path: string;
  readonly before: FileState;
  /** Secret pre-image: journal copy 0600, never shown. */
  readonly secret: boolean;
}

export interface SymlinkChange extends ChangeBase {
  readonly kind: 'symlink';
  readonly path: string;
  readonly target: string;
  readonly before: FileState;
}

/**
 * Put a regular file back from the pre-image an earlier run saved on the host (`/var/lib/rig/runs/<run>/pre/<step>`),
 * used by rollback when the controller holds no copy (files above the gather's content cap). The host copies the
 * pre-image to an exclusive temp file, checks its sha256 against `after.sha256` (the journaled hash) and only then
 * renames it over `path`.
 */
export interface RestorePreImageChange extends ChangeBase {
  readonly kind: 'restore-preimage';
  readonly path: string;
  readonly before: FileState;
  /** The state restored; `sha256` is the journaled hash the pre-image must have. */
  readonly after: FileState;
  /** Run and step whose host-side pre-image is restored. */
  readonly fromRun: string;
  readonly fromStep: string;
  readonly secret: boolean;
}

/** File capabilities (setcap), e.g. 'cap_net_bind_service=ep'; '' = none. */
export interface SetCapabilityChange extends ChangeBase {
  readonly kind: 'set-capability';
  readonly path: string;
  readonly beforeCaps: string;
  readonly afterCaps: string;
}

/** Run a command. Not reversible unless `undo` is given. */
export interface RunCommandChange extends ChangeBase {
  readonly kind: 'run-command';
  readonly argv: readonly string[];
  /** Working directory. */
  readonly cwd?: string;
  /** argv to run on rollback, if any. */
  readonly undo?: readonly string[];
}

/** Service action (start/stop/restart/reload/enable) through the host's init system. */
export interface ServiceChange extends ChangeBase {
  readonly kind: 'service';
  readonly service: string;
  readonly action: 'start' | 'stop' | 'restart' | 'reload' | 'enable' | 'disable';
  /** Init system detected at gather time. */
  readonly init: 'systemd' | 'sysv' | 'upstart' | 'openrc';
  /** For rollback: the state before (running or not). */
  readonly wasRunning?: boolean;
  /** Validate before acting, e.g. ['nginx','-t']; failure aborts this action and the host. */
  readonly validate?: readonly string[];
}

/** Install/remove packages. */
export interface PackageChange extends ChangeBase {
  readonly kind: 'package';
  readonly manager: 'apt' | 'yum' | 'dnf';
  readonly install: readonly string[];
  readonly remove: readonly string[];
}

/** Poll until healthy. Not a change of state: run only when the host has other changes in the play. */
export interface WaitChange extends ChangeBase {
  readonly kind: 'wait';
  /** Command to poll (exit 0 = healthy). */
  readonly argv: readonly string[];
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
  readonly description: string;
  /**
   * What `rig rollback` polls after undoing the play's steps on the host: absent, this same check; `false`, none;
   * else the check for the state before the run (the apply's check may need what the rollback removes).
   */
  readonly rollback?: false | WaitCheck;
}

/** A wait's check: poll `argv` until it exits 0, every interval, up to the timeout. */
export interface WaitCheck {
  readonly argv: readonly string[];
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
  readonly description: string;
}

export type Change =
  | WriteFileChange
  | SetAttributesChange
  | EnsureDirectoryChange
  | RemovePathChange
  | RestorePreImageChange
  | SymlinkChange
  | SetCapabilityChange
  | RunCommandChange
  | ServiceChange
  | PackageChange
  | WaitChange;

export type ChangeKind = Change['kind'];

/** True for changes that alter state (everything but waits). */
export function isStateChange(c: Change): boolean {
  return c.kind !== 'wait';
}
