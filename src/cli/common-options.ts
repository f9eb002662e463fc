import { Option, type Command } from 'commander';
import { createConnector } from '../connectors/create-connector.ts';
import { DEFAULT_MAX_HANDSHAKES, HandshakeGate } from '../connectors/handshake-gate.ts';
import { SshConfigResolver } from '../connectors/ssh-config.ts';
import { DEFAULT_STATE_DIR } from '../changelog/journal-store.ts';
import { UsageError } from '../errors.ts';
import { secret } from '../core/secret.ts';
import { promptHidden } from './prompt-hidden.ts';
import { Session } from '../engine/run-playbook.ts';
import type { RunEventListener } from '../engine/run-events.ts';
import { loadInventory } from '../inventory/load-inventory.ts';
import type { Inventory } from '../inventory/types.ts';

export interface CommonOptions {
  readonly inventory?: string[];
  readonly limit?: string;
  readonly extraVars?: string[];
  readonly sshConfig?: string;
  readonly acceptNewHostKeys?: boolean;
  readonly stateDir: string;
  readonly json?: boolean;
  readonly stats?: boolean;
  readonly forks?: string;
  /** --max-handshakes. @default DEFAULT_MAX_HANDSHAKES */
  readonly maxHandshakes?: string;
  readonly breakLock?: boolean;
  readonly color?: boolean;
  /** --ask-become-pass: prompt for the sudo password on the terminal (no echo). */
  readonly askBecomePass?: boolean;
  /** --project FILE: the project file (default: the nearest rig.yaml above the cwd; see project-config.ts). */
  readonly project?: string;
  /** Set from the project (effective-settings.ts): where templates/ and files/ resolve. @default process.cwd() */
  readonly projectRoot?: string;
  /** Set from -b/--become, --no-become, RIG_BECOME or rig.yaml `become`: ansible_become for hosts that do not set it. */
  readonly becomeDefault?: boolean;
  /** -b/--become, --no-become as typed (the effective value is becomeDefault). */
  readonly become?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Options shared by plan, apply and rollback. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable; default: $RIG_INVENTORY or inventory/)', collect)
    .option('-l, --limit <pattern>', 'restrict to hosts matching an Ansible pattern (@file reads a retry file)')
    .option('-e, --extra-vars <key=value>', 'extra variable (repeatable, highest precedence; value may be JSON)', collect)
    .option('--ssh-config <file>', 'OpenSSH client config to use instead of ~/.ssh/config')
    .option('--accept-new-host-keys', 'record unknown host keys (like StrictHostKeyChecking=accept-new); changed keys are still refused')
    .option('--state-dir <dir>', 'controller-side journal directory', DEFAULT_STATE_DIR)
    .option('--json', 'print a machine-readable result on stdout and nothing else')
    .option('--stats', 'print SSH round trips, bytes and time per host')
    .option('--forks <n>', 'hosts handled in parallel', '200')
    .option('--max-handshakes <n>', 'SSH handshakes in flight at once (a host\'s ConnectTimeout counts from the start of its own)', String(DEFAULT_MAX_HANDSHAKES))
    .option('--break-lock', 'clear a stale lock left on a host by a dead run')
    .option('-b, --become', 'run with sudo on hosts that do not set ansible_become (like ansible -b; the inventory, the play and the task still decide where they set it)')
    .option('--no-become', 'the opposite: no sudo on hosts that do not set ansible_become (overrides become: true of rig.yaml / RIG_BECOME)')
    .option('-K, --ask-become-pass', 'ask for the sudo password on the terminal (sent to sudo -S on stdin, never logged)')
    .option('--project <file>', 'project file (default: the nearest rig.yaml above the current directory; RIG_PROJECT_FILE=none for none)')
    .addOption(new Option('--no-color', 'disable colors'));
}

export function parseExtraVars(list: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`-e ${item}: expected key=value`, { hint: 'e.g. -e master_ip=10.0.0.1' });
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try { value = JSON.parse(raw); } catch { /* plain string */ }
    out[key] = value;
  }
  return out;
}

export async function loadInventoryOption(opts: CommonOptions): Promise<Inventory> {
  const sources = opts.inventory?.length ? opts.inventory : [process.env['RIG_INVENTORY'] ?? 'inventory'];
  // -e wins over the inventory (connection and become variables too, as in Ansible); -K over both.
  const extraVars: Record<string, unknown> = parseExtraVars(opts.extraVars);
  if (opts.askBecomePass) extraVars['ansible_become_password'] = secret(await promptHidden('BECOME password: '));
  const defaultVars = opts.becomeDefault === undefined ? {} : { ansible_become: opts.becomeDefault };
  const inv = await loadInventory(sources, extraVars, defaultVars);
  if (!opts.json) for (const w of inv.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
  return inv;
}

export function createSession(opts: CommonOptions, onEvent?: RunEventListener): Session {
  const forks = Number(opts.forks ?? 200);
  if (!Number.isInteger(forks) || forks < 1) throw new UsageError(`--forks ${opts.forks}: expected a positive integer`);
  const maxHandshakes = Number(opts.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES);
  if (!Number.isInteger(maxHandshakes) || maxHandshakes < 1) throw new UsageError(`--max-handshakes ${opts.maxHandshakes}: expected a positive integer`);
  const handshakeGate = new HandshakeGate(maxHandshakes);
  const sshConfigResolver = new SshConfigResolver(opts.sshConfig ? { configFile: opts.sshConfig } : {});
  const warned = new Set<string>();
  const onWarning = (w: string) => { if (!opts.json && !warned.has(w)) { warned.add(w); process.stderr.write(`[WARNING]: ssh_config: ${w}\n`); } };
  return new Session({
    forks,
    createConnector: (host) => createConnector(host, {
      ...(opts.sshConfig ? { sshConfigPath: opts.sshConfig } : {}),
      ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
      handshakeGate, sshConfigResolver, onWarning,
    }),
    ...(onEvent ? { onEvent } : {}),
  });
}

export function useColor(opts: CommonOptions): boolean {
  return opts.color !== false && !opts.json && process.stdout.isTTY === true && !process.env['NO_COLOR'];
}
