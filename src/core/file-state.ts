/** The observable state of one path on a host, as gathered and as recorded in plans and journals. */
export interface FileState {
  readonly exists: boolean;
  /** 'file' | 'directory' | 'symlink' | 'other'; undefined when absent. */
  readonly type?: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits as exactly 4 octal digits, e.g. '0644', '2775' (see file-mode.ts). */
  readonly mode?: string;
  /** User name, or the decimal uid when the host has no name for it (a value `chown` accepts either way). */
  readonly owner?: string;
  /** Group name, or the decimal gid when the host has no name for it. */
  readonly group?: string;
  /** sha256 hex of the content (regular files only). */
  readonly sha256?: string;
  readonly size?: number;
  /** Link target (symlinks only). */
  readonly target?: string;
}

export const ABSENT: FileState = Object.freeze({ exists: false });
