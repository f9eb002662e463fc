import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { BecomeError, HostKeyError, UnreachableError } from '../errors.ts';
import { BecomeGate } from './become-gate.ts';
import { buildBecomeCommand, describeBecomeFailure } from './become-command.ts';
import type { Host } from '../inventory/types.ts';
import type { Connector, ConnectorStats, ExecResult, RunScriptOptions } from './connector.ts';
import type { HandshakeGate } from './handshake-gate.ts';
import { keepaliveConnectOptions, resolveKeepalivePolicy } from './keepalive-policy.ts';
import { decideHostKey, orderHostKeyAlgorithms, type HostKeyContext, type StrictHostKeyChecking } from './host-key-decision.ts';
import { hostKeyRefusal } from './host-key-refusal.ts';
import { appendKnownHostsText, knownHostsName, lowercaseAscii } from './known-hosts.ts';
import { readSshConfigFile, resolveSshConfig, type SshHostConfig } from './ssh-config.ts';

export interface SshConnectorOptions {
  /** OpenSSH client config. @default ~/.ssh/config */
  readonly sshConfigPath?: string;
  /** Record unknown host keys (OpenSSH accept-new); changed keys are still refused. @default false */
  readonly acceptNewHostKeys?: boolean;
  /** known_hosts files to use instead of the ssh config's / the defaults. */
  readonly knownHostsFiles?: readonly string[];
  /** Shared by the connectors of a run: how many handshakes may be in flight at once. @default no limit */
  readonly handshakeGate?: HandshakeGate;
}

interface Endpoint {
  readonly alias: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly config: SshHostConfig;
  readonly identityFiles: readonly string[];
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f));

/**
 * One SSH connection per host for the whole run (ssh2 through node-ssh). Each runScript is one `exec` channel on it
 * with the script on stdin: one round trip. Strict host-key checking against known_hosts by default.
 */
export class SshConnector implements Connector {
  readonly stats: ConnectorStats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0, connectMs: 0 };
  #ssh?: NodeSSH;
  #jump?: NodeSSH;
  #connecting?: Promise<void>;
  #lost?: string;

  constructor(readonly host: Host, private readonly options: SshConnectorOptions = {}) {}

  private endpoint(alias: string, address: string | undefined, port: number | undefined, user: string | undefined, identity: string | undefined): Endpoint {
    const { text, baseDir } = readSshConfigFile(this.options.sshConfigPath);
    const config = resolveSshConfig(text, alias, baseDir);
    const identityFiles = [
      ...(identity ? [identity] : []),
      ...config.identityFiles,
      ...(config.identitiesOnly ? [] : DEFAULT_IDENTITIES.filter((f) => existsSync(f))),
    ];
    return {
      alias, address: address && address !== alias ? address : config.hostName ?? alias,
      port: port ?? config.port ?? 22, user: user ?? config.user ?? process.env['USER'] ?? 'root', config, identityFiles,
    };
  }

  /** The known_hosts setup for `ep`, as OpenSSH would have it (HostName, port, HostKeyAlias, CheckHostIP…). */
  private hostKeyContext(ep: Endpoint, address: string | undefined): HostKeyContext {
    const c = ep.config;
    const strictFromConfig = c.strictHostKeyChecking === 'off' ? 'no' : c.strictHostKeyChecking;
    const strict: StrictHostKeyChecking = this.options.acceptNewHostKeys === true && strictFromConfig !== 'no' ? 'accept-new' : strictFromConfig ?? 'ask';
    const none = (files: readonly string[]) => (files.length === 1 && files[0]!.toLowerCase() === 'none' ? [] : [...files]);
    const userFiles = this.options.knownHostsFiles?.length ? [...this.options.knownHostsFiles]
      : c.userKnownHostsFiles.length ? none(c.userKnownHostsFiles) : [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')];
    const globalFiles = this.options.knownHostsFiles?.length ? []
      : c.globalKnownHostsFiles?.length ? none(c.globalKnownHostsFiles) : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
    return {
      hostname: isIP(ep.address) ? ep.address : lowercaseAscii(ep.address), port: ep.port,
      ...(address !== undefined ? { address } : {}),
      ...(c.hostKeyAlias !== undefined ? { hostKeyAlias: c.hostKeyAlias } : {}),
      checkHostIp: c.checkHostIp === true, strict, hashKnownHosts: c.hashKnownHosts === true, userFiles, globalFiles,
    };
  }

  private connectConfig(ep: Endpoint, hk: HostKeyContext, onRefused: (e: HostKeyError) => void): ConnectConfig {
    const keys: string[] = [];
    for (const f of ep.identityFiles) {
      try { keys.push(readFileSync(f, 'utf8')); } catch { /* missing identity: tried and reported below if auth fails */ }
    }
    const agent = ep.config.identityAgent && ep.config.identityAgent.toLowerCase() !== 'none' ? ep.config.identityAgent : process.env['SSH_AUTH_SOCK'];
    const timeout = (ep.config.connectTimeout ?? 10) * 1000;
    return {
      host: hk.address ?? ep.address, port: ep.port, username: ep.user, readyTimeout: timeout,
      ...(keys[0] ? { privateKey: keys[0] } : {}),
      ...(agent && !ep.config.identitiesOnly ? { agent } : {}),
      ...keepaliveConnectOptions(resolveKeepalivePolicy(this.host, ep.config)),
      // the key types known_hosts has for this host first, as OpenSSH proposes them: the server then offers that key
      algorithms: { serverHostKey: orderHostKeyAlgorithms(hk) as never },
      hostVerifier: (key: Buffer): boolean => {
        const d = decideHostKey(hk, key);
        if ((d.verdict === 'accept' || d.verdict === 'refuse-ip-changed') && d.append) appendKnownHostsText(d.append.file, d.append.text);
        if (d.verdict === 'accept') return true;
        onRefused(hostKeyRefusal(d, hk, key, `${ep.alias} (${knownHostsName(ep.address, ep.port)})`, this.host.name));
        return false;
      },
    };
  }

  private async open(ep: Endpoint, sock?: ClientChannel): Promise<NodeSSH> {
    let refused: HostKeyError | undefined;
    const ssh = new NodeSSH();
    try {
      // CheckHostIP needs the address really connected to: resolve first, then connect to that address (OpenSSH has
      // no address through a jump host)
      const address = sock ? undefined : isIP(ep.address) || ep.config.checkHostIp !== true ? ep.address : (await lookup(ep.address)).address;
      const hk = this.hostKeyContext(ep, address);
      const handshake = () => ssh.connect({ ...this.connectConfig(ep, hk, (e) => { refused = e; }), ...(sock ? { sock } : {}) } as never);
      await (this.options.handshakeGate ? this.options.handshakeGate.run(handshake) : handshake());
    } catch (e) {
      if (refused) throw refused;
      const msg = (e as Error).message;
      const auth = /authentication methods failed|All configured authentication/i.test(msg);
      throw new UnreachableError(`${ep.alias} (${ep.user}@${ep.address}:${ep.port}): ${auth ? `authentication failed (identities tried: ${ep.identityFiles.join(', ') || 'none'}${process.env['SSH_AUTH_SOCK'] ? ', ssh-agent' : ''})` : msg}`, {
        host: this.host.name, cause: e,
        hint: auth ? 'check ansible_user / ansible_ssh_private_key_file, or load the key into ssh-agent' : 'check the address and port, and that sshd runs on the host',
      });
    }
    return ssh;
  }

  connect(): Promise<void> {
    this.#connecting ??= (async () => {
      const t0 = Date.now();
      const h = this.host;
      if (h.identityFile && !existsSync(h.identityFile)) {
        throw new UnreachableError(`${h.name}: identity file ${h.identityFile} (ansible_ssh_private_key_file) does not exist`, {
          host: h.name, hint: 'fix the path in the inventory, or remove the variable to use ~/.ssh/config and ssh-agent',
        });
      }
      const target = this.endpoint(h.name, h.address, h.port, h.user, h.identityFile);
      const jumpSpec = h.proxyJump ?? target.config.proxyJump;
      let sock: ClientChannel | undefined;
      if (jumpSpec) {
        const first = jumpSpec.split(',')[0]!.trim();
        const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(first);
        const jump = this.endpoint(m?.[2]?.replace(/^\[|\]$/g, '') ?? first, undefined, m?.[3] ? Number(m[3]) : undefined, m?.[1], undefined);
        this.#jump = await this.open(jump);
        const jc = this.#jump.connection as Client;
        sock = await new Promise<ClientChannel>((resolve, reject) => {
          jc.forwardOut('127.0.0.1', 0, target.address, target.port, (err, stream) => (err ? reject(new UnreachableError(`jump host ${jump.alias} cannot reach ${target.address}:${target.port}: ${err.message}`, { host: h.name })) : resolve(stream)));
        });
      }
      this.#ssh = await this.open(target, sock);
      const conn = this.#ssh.connection as Client;
      conn.on('close', () => { this.#lost ??= 'connection closed'; });
      const ka = resolveKeepalivePolicy(h, target.config);
      conn.on('error', (e: Error & { level?: string }) => {
        this.#lost = e.level === 'client-timeout'
          ? `no answer to keepalives for ${ka.intervalSeconds * ka.countMax} s (ServerAliveInterval ${ka.intervalSeconds} × ServerAliveCountMax ${ka.countMax}, ${ka.source === 'default' ? "rig's defaults" : `from the ${ka.source}`})`
          : e.message;
      });
      this.stats.connectMs = Date.now() - t0;
    })();
    return this.#connecting;
  }

  async runScript(script: string, options: RunScriptOptions = {}): Promise<ExecResult> {
    await this.connect();
    const conn = this.#ssh!.connection as Client;
    const become = options.become ?? this.host.become;
    const sudo = become ? buildBecomeCommand(this.host, options.becomeUser) : undefined;
    const command = sudo?.command ?? 'sh -s';
    this.stats.roundTrips++;
    const input = Buffer.from(script);
    this.stats.bytesSent += input.length;
    return new Promise<ExecResult>((resolve, reject) => {
      const lost = (why: string) => new UnreachableError(`connection lost during a command: ${why}`, { host: this.host.name, hint: 'the host or the network went away; `rig rollback` can undo what the run did' });
      if (this.#lost) { reject(lost(this.#lost)); return; }
      conn.exec(command, (err, stream) => {
        if (err) { reject(lost(err.message)); return; }
        const out: Buffer[] = [];
        let errText = '';
        let exitCode: number | undefined;
        let signal: string | undefined;
        // Become: the script goes after sudo has let the wrapper run (BECOME_MARKER on stderr); with a password,
        // the password is written once, on stdin, when sudo prompts. A second prompt means it was refused.
        const gate = sudo ? new BecomeGate(sudo.password) : undefined;
        let becomeFailure: BecomeError | undefined;
        stream.on('data', (d: Buffer) => { out.push(d); this.stats.bytesReceived += d.length; options.onStdout?.(d); });
        stream.stderr.on('data', (d: Buffer) => {
          errText += d.toString();
          this.stats.bytesReceived += d.length;
          if (!gate) return;
          const action = gate.feed(errText);
          if (action.kind === 'password') stream.write(`${action.password}\n`);
          else if (action.kind === 'run' && sudo?.password !== undefined) stream.end(input);
          else if (action.kind === 'refused') { becomeFailure = describeBecomeFailure(this.host, errText, 'wrong-password'); stream.close(); }
        });
        stream.on('exit', (code: number | null, sig?: string) => { exitCode = code ?? undefined; signal = sig; });
        const onConnClose = () => { if (exitCode === undefined) reject(lost(this.#lost ?? 'connection closed')); };
        conn.once('close', onConnClose);
        const onAbort = () => { stream.close(); reject(options.signal!.reason); };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('close', () => {
          conn.removeListener('close', onConnClose);
          options.signal?.removeEventListener('abort', onAbort);
          if (gate && !gate.ran) {
            reject(becomeFailure ?? describeBecomeFailure(this.host, errText, gate.prompted ? (sudo?.password === undefined ? 'no-password' : 'wrong-password') : 'refused'));
            return;
          }
          if (exitCode === undefined && signal === undefined && this.#lost) { reject(lost(this.#lost)); return; }
          const stderr = gate ? gate.strip(errText) : errText;
          resolve({ exitCode: exitCode ?? 255, stdout: Buffer.concat(out), stderr: signal ? `${stderr}\nkilled by signal ${signal}` : stderr });
        });
        // Without a password sudo -n reads nothing: the script can go at once (no extra wait).
        if (sudo?.password === undefined) stream.end(input);
      });
    });
  }

  async close(): Promise<void> {
    this.#ssh?.dispose();
    this.#jump?.dispose();
  }
}
