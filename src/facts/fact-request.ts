import type { FileState } from '../core/file-state.ts';

/**
 * What a module asks the gatherer to read on a host before planning. The engine merges every task's requests for
 * a host into ONE shell script and ONE round trip. Absent and wrong-type are distinct results (FileFact.exists,
 * FileFact.type).
 */
export type FactRequest =
  /** stat + sha256 (+ content when `content` is true, the default, for regular files ≤ 4 MiB). */
  | { readonly kind: 'file'; readonly path: string; readonly content?: boolean }
  /** Run a read-only command; its exit code, stdout and stderr become a fact under `key`. */
  | { readonly kind: 'command'; readonly key: string; readonly argv: readonly string[] }
  /** Is the service known and running (via the detected init system). */
  | { readonly kind: 'service'; readonly name: string }
  /** Installed version of packages (dpkg-query / rpm). */
  | { readonly kind: 'package'; readonly names: readonly string[] }
  /** File capabilities (getcap). */
  | { readonly kind: 'capability'; readonly path: string };

export interface FileFact extends FileState {
  /** Content when requested and the path is a regular file. Read it through `getFileContent` (file-content.ts). */
  readonly content?: Buffer;
  /** Numeric uid and gid (gathered with the names; a task's numeric `owner: '1000'` matches them). */
  readonly uid?: number;
  readonly gid?: number;
  /** Content was requested but not transferred: the file is larger than the gather's cap (MAX_CONTENT_BYTES). */
  readonly contentOmitted?: boolean;
}

export interface CommandFact {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ServiceFact {
  readonly name: string;
  /** An init script / unit exists for it. */
  readonly exists: boolean;
  readonly running: boolean;
}

export interface OsFact {
  readonly hostname: string;
  /** /etc/os-release ID, e.g. 'debian'. */
  readonly id: string;
  readonly init: 'systemd' | 'sysv' | 'upstart' | 'openrc';
  readonly packageManager: 'apt' | 'yum' | 'dnf' | 'none';
  /** Effective uid of the session (0 = root). */
  readonly uid: number;
  /** Name of that user, when the host has one. */
  readonly user?: string;
}

/** Facts of one host, read-only. Getters throw InternalError when the fact was not requested (a module bug). */
export interface HostFacts {
  readonly os: OsFact;
  file(path: string): FileFact;
  command(key: string): CommandFact;
  service(name: string): ServiceFact;
  /** Installed version or undefined. */
  packageVersion(name: string): string | undefined;
  /** getcap's text without the path (any of its forms; see src/text/file-capabilities.ts), '' when none. Throws
   *  CapabilityError when they could not be read (no such file, getcap missing, getcap failed). */
  capability(path: string): string;
}
