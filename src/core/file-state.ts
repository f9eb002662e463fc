/** The observable state of one path on a host, as gathered and as recorded in plans and journals. */
export interface FileState {
  readonly exists: boolean;
  /** 'file' | 'directory' | 'symlink' | 'other'; undefined when absent. */
  readonly type?: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits as 4-digit octal string, e.g. '0644'. */
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
  /** sha256 hex of the content (regular files only). */
  readonly sha256?: string;
  readonly size?: number;
  /** Link target (symlinks only). */
  readonly target?: string;
}

export const ABSENT: FileState = Object.freeze({ exists: false });
