import { spawn } from 'node:child_process';
import type { BecomeError } from '../errors.ts';
import type { Host } from '../inventory/types.ts';
import { buildBecomeCommand, describeBecomeFailure } from './become-command.ts';
import { BecomeGate } from './become-gate.ts';
import { endsWithMarkerLine } from './marker-line.ts';
import type { Connector, ConnectorStats, ExecResult, RunScriptOptions } from './connector.ts';

/** Runs scripts on the controller itself (`ansible_connection=local`); become goes through sudo as over SSH. */
export class LocalConnector implements Connector {
  readonly stats: ConnectorStats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0, connectMs: 0 };
  constructor(readonly host: Host) {}
  async connect(): Promise<void> {}
  runScript(script: string, options: RunScriptOptions = {}): Promise<ExecResult> {
    this.stats.roundTrips++;
    this.stats.bytesSent += Buffer.byteLength(script);
    const become = (options.become ?? this.host.become) === true && process.getuid?.() !== 0;
    let sudo: ReturnType<typeof buildBecomeCommand> | undefined;
    try { sudo = become ? buildBecomeCommand(this.host, options.becomeUser) : undefined; } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      const child = sudo ? spawn('sh', ['-c', sudo.command], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      const gate = sudo ? new BecomeGate(sudo.password) : undefined;
      let refused: BecomeError | undefined;
      const hold = options.hold;
      let marked = false;
      const send = (more?: string): void => {
        if (more) { this.stats.roundTrips++; this.stats.bytesSent += Buffer.byteLength(more); }
        child.stdin.end(more);
      };
      const finishInput = (): void => { if (hold) child.stdin.write(script); else child.stdin.end(script); };
      child.stdout.on('data', (d: Buffer) => {
        out.push(d); this.stats.bytesReceived += d.length; options.onStdout?.(d);
        if (hold && !marked && endsWithMarkerLine(out, hold.marker)) {
          marked = true;
          hold.onMarker({ stdout: Buffer.concat(out), stderr: gate ? gate.strip(err) : err }, send);
        }
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        const action = gate?.feed(err);
        if (action?.kind === 'password') child.stdin.write(`${action.password}\n`);
        else if (action?.kind === 'run' && sudo?.password !== undefined) finishInput();
        else if (action?.kind === 'refused') { refused = describeBecomeFailure(this.host, err, 'wrong-password'); child.kill('SIGTERM'); }
      });
      child.on('error', reject);
      options.signal?.addEventListener('abort', () => { child.kill('SIGTERM'); reject(options.signal!.reason); }, { once: true });
      child.on('close', (code) => {
        if (gate && !gate.ran) { reject(refused ?? describeBecomeFailure(this.host, err, gate.prompted ? (sudo?.password === undefined ? 'no-password' : 'wrong-password') : 'refused')); return; }
        resolve({ exitCode: code ?? 255, stdout: Buffer.concat(out), stderr: gate ? gate.strip(err) : err });
      });
      if (sudo?.password === undefined) finishInput();
    });
  }
  async close(): Promise<void> {}
}
