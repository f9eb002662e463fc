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
  /** Keep the shell reading after the script (its stdin stays open): see HoldOptions. */
  readonly hold?: HoldOptions;
}

/**
 * A script whose shell stays alive for a follow-up: when stdout ends with a line equal to `marker`, `onMarker` gets
 * the output so far and `send`, which writes a second script (one more round trip, without a new channel or shell on
 * the host) or nothing, and closes the shell's stdin; the shell then exits and runScript resolves with the whole
 * output. Until `send` is called the shell waits (the channel stays open). A script that ends before the marker
 * resolves runScript as usual and `onMarker` is never called.
 */
export interface HoldOptions {
  readonly marker: string;
  readonly onMarker: (output: { readonly stdout: Buffer; readonly stderr: string }, send: (more?: string) => void) => void;
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
