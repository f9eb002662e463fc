import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { BecomeError, HostKeyError, SshConfigError, UnreachableError } from '../errors.ts';
import { BecomeGate } from './become-gate.ts';
import { buildBecomeCommand, describeBecomeFailure } from './become-command.ts';
import type { Host } from '../inventory/types.ts';
import { endsWithMarkerLine } from './marker-line.ts';
import type { Connector, ConnectorStats, ExecResult, RunScriptOptions } from './connector.ts';
import type { HandshakeGate } from './handshake-gate.ts';
import { keepaliveConnectOptions, resolveKeepalivePolicy } from './keepalive-policy.ts';
import { decideHostKey, orderHostKeyAlgorithms, type HostKeyContext, type StrictHostKeyChecking } from './host-key-decision.ts';
import { hostKeyRefusal } from './host-key-refusal.ts';
import { appendKnownHostsText, knownHostsName, lowercaseAscii } from './known-hosts.ts';
import type { ParsedJump } from './proxy-jump.ts';
import { sshOptionsFromInventory } from './ssh-command-line-options.ts';
import { SshConfigResolver, type SshHostConfig } from './ssh-config.ts';
import { resolveConnectionSettings, type ConnectionSettings } from './ssh-connection-settings.ts';
import { importEsm } from '../core/import-esm.ts';

export interface SshConnectorOptions {
  /** OpenSSH client config. @default ~/.ssh/config */
  readonly sshConfigPath?: string;
  /** Record unknown host keys (OpenSSH accept-new); changed keys are still refused. @default false */
  readonly acceptNewHostKeys?: boolean;
  /** known_hosts files to use instead of the ssh config's / the defaults. */
  readonly knownHostsFiles?: readonly string[];
  /** Shared by the connectors of a run: how many handshakes may be in flight at once. @default no limit */
  readonly handshakeGate?: HandshakeGate;
  /** Shared by the connectors of a run (reads each config file once). @default one reading sshConfigPath */
  readonly sshConfigResolver?: SshConfigResolver;
  /** Settings in ssh_config that rig does not act on (each message names the keyword and the host). */
  readonly onWarning?: (message: string) => void;
}

/** Jump hosts deeper than this are refused (OpenSSH would recurse until something breaks). */
const MAX_JUMP_DEPTH = 10;

interface Endpoint {
  readonly alias: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly config: SshHostConfig;
  readonly identityFiles: readonly string[];
  readonly settings: ConnectionSettings;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f));

let nodeSsh: Promise<typeof NodeSSH> | undefined;
function loadNodeSsh(): Promise<typeof NodeSSH> {
  nodeSsh ??= importEsm<typeof import('node-ssh')>('node-ssh').then((m) => m.NodeSSH);
  return nodeSsh;
}

/**
 * One SSH connection per host for the whole run (ssh2 through node-ssh). Each runScript is one `exec` channel on it
 * with the script on stdin: one round trip. Strict host-key checking against known_hosts by default.
 */
export class SshConnector implements Connector {
  readonly stats: ConnectorStats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0, connectMs: 0 };
  #ssh?: NodeSSH;
  readonly #jumps: NodeSSH[] = [];
  #connecting?: Promise<void>;
  #lost?: string;

  constructor(readonly host: Host, private readonly options: SshConnectorOptions = {}) {}

  #resolver(): SshConfigResolver {
    return this.options.sshConfigResolver ?? new SshConfigResolver(this.options.sshConfigPath !== undefined ? { configFile: this.options.sshConfigPath } : {});
  }

  /**
   * A host as `ssh [-l user] [-p port] [-J jump] alias` would reach it: its ssh_config settings resolved like `ssh -G`,
   * the inventory's address (when it differs from the alias) in place of HostName.
   */
  private endpoint(alias: string, o: { address?: string; port?: number; user?: string; jump?: string; identity?: string; options?: readonly string[] }): Endpoint {
    const resolver = this.#resolver();
    let config: SshHostConfig;
    let settings: ConnectionSettings;
    let configured: string[];
    try {
      config = resolver.resolve(alias, {
        ...(o.user !== undefined ? { user: o.user } : {}), ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.jump !== undefined ? { jump: o.jump } : {}), ...(o.options?.length ? { options: o.options } : {}),
      });
      settings = resolveConnectionSettings(config, alias);
      configured = config.defaultIdentityFiles ? [] : resolver.expandIdentityFiles(config);
    } catch (e) {
      if (e instanceof SshConfigError && e.where.host === undefined) {
        throw new SshConfigError(`${alias}: ${e.message}`, { ...e.where, host: this.host.name, cause: e, ...(e.hint ? { hint: e.hint } : {}) });
      }
      throw e;
    }
    for (const w of settings.warnings) this.options.onWarning?.(w);
    const identityFiles = [
      ...(o.identity ? [o.identity] : []),
      ...configured,
      ...(config.identitiesOnly && !config.defaultIdentityFiles ? [] : DEFAULT_IDENTITIES.filter((f) => existsSync(f))),
    ];
    const address = o.address && o.address !== alias ? o.address : config.hostName;
    return {
      alias, address, port: config.port, user: config.user, config, identityFiles: [...new Set(identityFiles)], settings,
    };
  }

  /** The known_hosts setup for `ep`, as OpenSSH would have it (HostName, port, HostKeyAlias, CheckHostIP…). */
  private hostKeyContext(ep: Endpoint, address: string | undefined): HostKeyContext {
    const c = ep.config;
    const strict: StrictHostKeyChecking = this.options.acceptNewHostKeys === true && c.strictHostKeyChecking !== 'no' ? 'accept-new' : c.strictHostKeyChecking;
    // resolved like ssh -G: OpenSSH's defaults filled in (`~` from the password database), `none` = no file
    const userFiles = this.options.knownHostsFiles?.length ? [...this.options.knownHostsFiles] : [...c.userKnownHostsFiles];
    const globalFiles = this.options.knownHostsFiles?.length ? [] : [...c.globalKnownHostsFiles];
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
    const ia = ep.config.identityAgent;
    const agent = ia === undefined || ia === 'SSH_AUTH_SOCK' ? process.env['SSH_AUTH_SOCK'] : ia === 'none' ? undefined
      : ia.startsWith('$') ? process.env[ia.slice(1)] : ia;
    const timeout = (ep.config.connectTimeout ?? 10) * 1000;
    const { warnings: _warnings, ...settings } = ep.settings;
    return {
      host: hk.address ?? ep.address, port: ep.port, username: ep.user, readyTimeout: timeout, ...settings,
      ...(keys[0] ? { privateKey: keys[0] } : {}),
      ...(agent && !ep.config.identitiesOnly ? { agent } : {}),
      ...keepaliveConnectOptions(resolveKeepalivePolicy(this.host, ep.config)),
      // the key types known_hosts has for this host first, as OpenSSH proposes them (unless HostKeyAlgorithms is set):
      // the server then offers that key
      algorithms: { ...settings.algorithms, ...(ep.config.other.has('hostkeyalgorithms') ? {} : { serverHostKey: orderHostKeyAlgorithms(hk) as never }) },
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
    // loaded on the first connection, not at startup (ssh2 is the largest module rig loads: `rig --version` skips it)
    const ssh = new (await loadNodeSsh())();
    try {
      // CheckHostIP needs the address really connected to: resolve first, then connect to that address (OpenSSH has
      // no address through a jump host)
      const address = sock ? undefined : isIP(ep.address) || ep.config.checkHostIp !== true ? ep.address : (await lookup(ep.address)).address;
      const hk = this.hostKeyContext(ep, address);
      const handshake = () => ssh.connect({ ...this.connectConfig(ep, hk, (e) => { refused = e; }), ...(sock ? { sock } : {}) } as never);
      // ConnectionAttempts: retry a direct connection that fails before the handshake (not a refused key or login)
      for (let attempt = 1; ; attempt++) {
        try {
          await (this.options.handshakeGate ? this.options.handshakeGate.run(handshake) : handshake());
          break;
        } catch (e) {
          if (refused || sock || attempt >= ep.config.connectionAttempts || !/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|Timed out/i.test((e as Error).message)) throw e;
        }
      }
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
      const target = this.endpoint(h.name, {
        address: h.address, ...(h.port !== undefined ? { port: h.port } : {}), ...(h.user !== undefined ? { user: h.user } : {}),
        ...(h.proxyJump !== undefined ? { jump: h.proxyJump } : {}), ...(h.identityFile !== undefined ? { identity: h.identityFile } : {}),
        options: sshOptionsFromInventory(h),
      });
      const sock = target.config.jump ? await this.openRoute(target.config.jump, target, 1) : undefined;
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
      const lost = (why: string) => new UnreachableError(`connection lost during a command: ${why}`, { host: this.host.name, hint: 'the host or the network went away; if the run had started changing it, `rig log` shows what was done and `rig rollback` undoes it' });
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
        // A held script: stdin stays open until the caller sends its follow-up (or nothing) at the marker.
        const hold = options.hold;
        let marked = false;
        const send = (more?: string): void => {
          if (more) { this.stats.roundTrips++; this.stats.bytesSent += Buffer.byteLength(more); }
          stream.end(more);
        };
        const finishInput = (): void => { if (hold) stream.write(input); else stream.end(input); };
        stream.on('data', (d: Buffer) => {
          out.push(d); this.stats.bytesReceived += d.length; options.onStdout?.(d);
          if (hold && !marked && endsWithMarkerLine(out, hold.marker)) {
            marked = true;
            hold.onMarker({ stdout: Buffer.concat(out), stderr: gate ? gate.strip(errText) : errText }, send);
          }
        });
        stream.stderr.on('data', (d: Buffer) => {
          errText += d.toString();
          this.stats.bytesReceived += d.length;
          if (!gate) return;
          const action = gate.feed(errText);
          if (action.kind === 'password') stream.write(`${action.password}\n`);
          else if (action.kind === 'run' && sudo?.password !== undefined) finishInput();
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
        if (sudo?.password === undefined) finishInput();
      });
    });
  }

  /**
   * A channel to `dest` through a ProxyJump value, the way OpenSSH builds it: the last hop is reached as
   * `ssh -l user -p port -J <the hops before it> hop` (so its own ssh_config settings apply, and its own ProxyJump
   * only when it is the first hop), then `-W dest`. Each hop's host key is checked like the target's, and each
   * handshake takes its own turn at the handshake gate (no slot is held while waiting for another).
   */
  private async openRoute(jump: ParsedJump, dest: Endpoint, depth: number): Promise<ClientChannel> {
    const last = jump.last!;
    if (depth > MAX_JUMP_DEPTH) {
      throw new UnreachableError(`${this.host.name}: more than ${MAX_JUMP_DEPTH} jump hosts (a ProxyJump loop in ssh_config?)`, { host: this.host.name, hint: 'check the ProxyJump settings of the jump hosts' });
    }
    const hop = this.endpoint(last.host, {
      ...(last.user !== undefined ? { user: last.user } : {}), ...(last.port !== undefined ? { port: last.port } : {}),
      ...(jump.extra !== undefined ? { jump: jump.extra } : {}),
    });
    const sock = hop.config.jump ? await this.openRoute(hop.config.jump, hop, depth + 1) : undefined;
    const conn = await this.open(hop, sock);
    this.#jumps.push(conn);
    const jc = conn.connection as Client;
    return new Promise<ClientChannel>((resolve, reject) => {
      jc.forwardOut('127.0.0.1', 0, dest.address, dest.port, (err, stream) => (err
        ? reject(new UnreachableError(`jump host ${hop.alias} cannot reach ${dest.alias} (${dest.address}:${dest.port}): ${err.message}`, { host: this.host.name }))
        : resolve(stream)));
    });
  }

  async close(): Promise<void> {
    this.#ssh?.dispose();
    for (const j of this.#jumps.reverse()) j.dispose();
  }
}
