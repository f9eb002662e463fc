import type { Host } from '../inventory/types.ts';

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface ConnectorStats {
  roundTrips: number;
  bytesSent: number;
  bytesReceived: number;
  /** ms spent connecting */
  connectMs: number;
}

export interface RunScriptOptions {
  /** Run through sudo. @default the host's `become` */
  readonly become?: boolean;
  /** sudo target user. @default the host's becomeUser, else root */
  readonly becomeUser?: string;
  /** Called with each stdout chunk as it arrives (the result still holds all of stdout). */
  readonly onStdout?: (chunk: Buffer) => void;
  /** Abort: stop waiting, close the channel, reject with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * A connection to one host for the whole run. The engine sends whole POSIX sh scripts (on stdin to `sh -s`,
 * through sudo when `become`); each `runScript` is one round trip.
 */
export interface Connector {
  readonly host: Host;
  readonly stats: ConnectorStats;
  connect(): Promise<void>;
  runScript(script: string, options?: RunScriptOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
