import { spawn } from 'node:child_process';
import type { Host } from '../inventory/types.ts';
import type { Connector, ConnectorStats, ExecResult, RunScriptOptions } from './connector.ts';

/** Runs scripts on the controller itself (`ansible_connection=local`). */
export class LocalConnector implements Connector {
  readonly stats: ConnectorStats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0, connectMs: 0 };
  constructor(readonly host: Host) {}
  async connect(): Promise<void> {}
  runScript(script: string, options: RunScriptOptions = {}): Promise<ExecResult> {
    this.stats.roundTrips++;
    this.stats.bytesSent += Buffer.byteLength(script);
    const become = options.become ?? this.host.become;
    const [cmd, ...args] = become && process.getuid?.() !== 0 ? ['sudo', '-n', '-u', options.becomeUser ?? 'root', 'sh', '-s'] : ['sh', '-s'];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out.push(d); this.stats.bytesReceived += d.length; options.onStdout?.(d); });
      child.stderr.on('data', (d: Buffer) => { err += d; });
      child.on('error', reject);
      options.signal?.addEventListener('abort', () => { child.kill('SIGTERM'); reject(options.signal!.reason); }, { once: true });
      child.on('close', (code) => resolve({ exitCode: code ?? 255, stdout: Buffer.concat(out), stderr: err }));
      child.stdin.end(script);
    });
  }
  async close(): Promise<void> {}
}
