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

/**
 * A connection to one host for the whole run. The engine sends whole POSIX sh scripts (on stdin to `sh -s`,
 * through sudo when `become`); each `runScript` is one round trip.
 */
export interface Connector {
  readonly host: Host;
  readonly stats: ConnectorStats;
  connect(): Promise<void>;
  runScript(script: string, options?: { readonly become?: boolean; readonly becomeUser?: string }): Promise<ExecResult>;
  close(): Promise<void>;
}
