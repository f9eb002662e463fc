import type { Host } from '../inventory/types.ts';
import type { SshHostConfig } from './ssh-config.ts';
import { sshOptionsFromInventory } from './ssh-command-line-options.ts';

/** rig's keepalive interval when neither ssh_config nor the inventory sets `ServerAliveInterval` (seconds). */
export const DEFAULT_SERVER_ALIVE_INTERVAL = 5;
/** rig's keepalive count when neither ssh_config nor the inventory sets `ServerAliveCountMax`. */
export const DEFAULT_SERVER_ALIVE_COUNT_MAX = 3;

export interface KeepalivePolicy {
  /** Seconds between keepalive requests on a silent connection; 0 = keepalives off (OpenSSH's `ServerAliveInterval 0`). */
  readonly intervalSeconds: number;
  /** Unanswered keepalives after which the host is declared unreachable. */
  readonly countMax: number;
  /** Where the values came from, for messages. */
  readonly source: 'default' | 'ssh_config' | 'inventory';
}

/** Whether the inventory's ssh arguments name a keepalive option (only to say where the values came from). */
function inventorySetsKeepalive(host: Host): boolean {
  return sshOptionsFromInventory(host).some((o) => /^\s*serveralive(interval|countmax)\b/i.test(o));
}

/**
 * Keepalives are on by default (rig's interval and count). `config` is the host's resolved ssh configuration, with the
 * inventory's ssh arguments (`-o ServerAliveInterval=N` in ansible_ssh_common_args / ansible_ssh_extra_args) applied
 * as OpenSSH applies command-line `-o`: before ssh_config, the first value of a keyword winning. A silent host is
 * declared unreachable after `intervalSeconds × countMax`.
 */
export function resolveKeepalivePolicy(host: Host, config: SshHostConfig): KeepalivePolicy {
  const intervalSeconds = config.serverAliveInterval ?? DEFAULT_SERVER_ALIVE_INTERVAL;
  const countMax = config.serverAliveCountMax ?? DEFAULT_SERVER_ALIVE_COUNT_MAX;
  const configured = config.serverAliveInterval !== undefined || config.serverAliveCountMax !== undefined;
  const source = !configured ? 'default' : inventorySetsKeepalive(host) ? 'inventory' : 'ssh_config';
  return { intervalSeconds: Math.max(0, intervalSeconds), countMax: Math.max(1, countMax), source };
}

/**
 * ssh2 connect options for a policy. ssh2 gives up when a keepalive would be number `keepaliveCountMax + 1`, so
 * `countMax - 1` makes it give up `countMax × interval` after the last answer, like OpenSSH.
 */
export function keepaliveConnectOptions(p: KeepalivePolicy): { keepaliveInterval?: number; keepaliveCountMax?: number } {
  if (p.intervalSeconds <= 0) return {};
  return { keepaliveInterval: p.intervalSeconds * 1000, keepaliveCountMax: p.countMax - 1 };
}
