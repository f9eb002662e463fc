/**
 * One typed hierarchy for every error rig reports. Each class has a stable `code` (shown to the user, used in
 * `--json`, safe to match on in scripts). Only the CLI turns an error into an exit code (see src/cli/main.ts).
 */
export interface ErrorWhere {
  /** File the error is about (inventory, playbook, template, flag file on a host…). */
  readonly file?: string;
  /** 1-based line in `file`. */
  readonly line?: number;
  /** Host the error happened on. */
  readonly host?: string;
  /** Task path, e.g. `play "masters" › task 3 "set apiserver flags"`. */
  readonly task?: string;
}

export interface RigErrorOptions extends ErrorWhere {
  /** How to fix it: one sentence, imperative. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class RigError extends Error {
  readonly code: string = 'RIG_ERROR';
  readonly where: ErrorWhere;
  readonly hint?: string;

  constructor(message: string, options: RigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    const { hint, cause: _cause, ...where } = options;
    this.where = where;
    this.hint = hint;
  }

  /** Single-line location prefix such as `inventory/hosts.ini:12` or `host m1, task "flags"`. */
  describeWhere(): string {
    const parts: string[] = [];
    if (this.where.file) parts.push(this.where.line ? `${this.where.file}:${this.where.line}` : this.where.file);
    if (this.where.host) parts.push(`host ${this.where.host}`);
    if (this.where.task) parts.push(this.where.task);
    return parts.join(', ');
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.where, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** A module needs the content of a host file that the gather did not transfer (above the content cap). */
export class FileTooLargeError extends RigError { override readonly code = 'FILE_TOO_LARGE'; }

/** The gather could not read a path on a host (permission denied): never planned as absent or empty. */
export class UnreadableError extends RigError { override readonly code = 'UNREADABLE'; }

/** Bad command-line usage. */
export class UsageError extends RigError { override readonly code = 'USAGE'; }
/** The project file (rig.yaml) could not be read, parsed or validated. */
export class ProjectConfigError extends RigError { override readonly code = 'PROJECT_CONFIG'; }
/** `rig init` refused: a file it would write exists already, or the directory cannot be used. Nothing was written. */
export class InitError extends RigError { override readonly code = 'INIT'; }
/** Inventory file could not be parsed or is inconsistent. */
export class InventoryError extends RigError { override readonly code = 'INVENTORY'; }
/** A host pattern (`--limit`, play `hosts`) matched nothing or is malformed. */
export class PatternError extends RigError { override readonly code = 'PATTERN'; }
/** Playbook could not be loaded or failed validation. */
export class PlaybookError extends RigError { override readonly code = 'PLAYBOOK'; }
/** Task props failed validation. Holds every problem found, each with its path. */
export class ValidationError extends RigError {
  override readonly code = 'VALIDATION';
  constructor(readonly problems: readonly string[], options: RigErrorOptions = {}) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`, options);
  }
}
/** Template rendering failed (e.g. a missing variable). */
export class TemplateError extends RigError { override readonly code = 'TEMPLATE'; }
/** A text file on a host (flag file, JSON, YAML) could not be parsed. */
export class ParseError extends RigError { override readonly code = 'PARSE'; }
/** PKI problems: unreadable key, wrong-mode key file, certificate that does not parse. */
export class PkiError extends RigError { override readonly code = 'PKI'; }
/** Could not connect to a host (network, auth). */
export class UnreachableError extends RigError { override readonly code = 'UNREACHABLE'; }
/** Host key unknown or changed. */
export class HostKeyError extends RigError { override readonly code = 'HOST_KEY'; }
/** An OpenSSH client config (ssh_config) that OpenSSH itself would refuse, or a setting rig cannot honour. */
export class SshConfigError extends RigError { override readonly code = 'SSH_CONFIG'; }
/** A command on a host failed. */
export class RemoteCommandError extends RigError { override readonly code = 'REMOTE_COMMAND'; }
/** The host's state differs from the plan's `before` state. */
export class DriftError extends RigError { override readonly code = 'DRIFT'; }
/** Another run holds the host's lock. */
export class LockedError extends RigError { override readonly code = 'LOCKED'; }

/** sudo (become) refused: a password is needed or wrong, the user may not sudo, or an unsupported method. */
export class BecomeError extends RigError { override readonly code = 'BECOME'; }
/** Journal missing, unreadable, or rollback refused. */
export class JournalError extends RigError { override readonly code = 'JOURNAL'; }
/** A saved plan does not match the playbook or the format. */
export class PlanFileError extends RigError { override readonly code = 'PLAN_FILE'; }
/** Fleet (test infrastructure) problems. */
export class FleetError extends RigError { override readonly code = 'FLEET'; }
/** A step or a host script ran past its time limit (derived from the plan); the controller stopped waiting. */
export class TimeoutError extends RigError { override readonly code = 'TIMEOUT'; }
/** The run was interrupted (SIGINT/SIGTERM) before this host's work was done. */
export class InterruptedError extends RigError { override readonly code = 'INTERRUPTED'; }
/** A bug in rig. */
export class InternalError extends RigError { override readonly code = 'INTERNAL'; }

export function isRigError(e: unknown): e is RigError {
  return e instanceof RigError;
}

/** File capabilities: an unknown capability name, a text setcap refuses, a missing binary, getcap missing on the host. */
export class CapabilityError extends RigError { override readonly code = 'CAPABILITY'; }

/** The Kong manifest transform: invalid YAML, no Kong workload or two of them, a result the Kubernetes schema refuses. */
export class ManifestError extends RigError { override readonly code = 'MANIFEST'; }
/** A node's CNI config or plugin cannot be understood (malformed conflist, a plugin that does not answer VERSION). */
export class CniError extends RigError { override readonly code = 'CNI'; }
/** The CNI guard: the proposed CNI config would stop pods from being created on this node. */
export class CniGuardError extends RigError { override readonly code = 'CNI_WOULD_BREAK'; }

/** A user or group task that cannot be planned: a name or id taken, a group that does not exist, a malformed entry. */
export class AccountError extends RigError { override readonly code = 'ACCOUNT'; }
/** A health gate (src/gates/) did not pass within its timeout after a batch's changes: the run stopped there. */
export class GateFailedError extends RigError { override readonly code = 'GATE_FAILED'; }
