import type { Host } from '../inventory/types.ts';
import type { SshHostConfig } from './ssh-config.ts';

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

/** `-o Name=value` / `-oName value` from an ssh argument string (ansible_ssh_common_args / ansible_ssh_extra_args). */
function optionFromArgs(args: unknown, name: string): number | undefined {
  if (typeof args !== 'string') return undefined;
  const m = new RegExp(`-o\\s*["']?${name}(?:\\s*=\\s*|\\s+)(\\d+)`, 'i').exec(args);
  return m ? Number(m[1]) : undefined;
}

/**
 * Keepalives are on by default (rig's interval and count). The inventory's ssh arguments (`-o ServerAliveInterval=N`
 * in ansible_ssh_common_args / ansible_ssh_extra_args, like a command-line `-o` for OpenSSH) override ssh_config,
 * which overrides rig's defaults. A silent host is declared unreachable after `intervalSeconds × countMax`.
 */
export function resolveKeepalivePolicy(host: Host, config: SshHostConfig): KeepalivePolicy {
  const v = host.vars;
  const invInterval = optionFromArgs(v['ansible_ssh_extra_args'], 'ServerAliveInterval') ?? optionFromArgs(v['ansible_ssh_common_args'], 'ServerAliveInterval');
  const invCount = optionFromArgs(v['ansible_ssh_extra_args'], 'ServerAliveCountMax') ?? optionFromArgs(v['ansible_ssh_common_args'], 'ServerAliveCountMax');
  const intervalSeconds = invInterval ?? config.serverAliveInterval ?? DEFAULT_SERVER_ALIVE_INTERVAL;
  const countMax = invCount ?? config.serverAliveCountMax ?? DEFAULT_SERVER_ALIVE_COUNT_MAX;
  const source = invInterval !== undefined || invCount !== undefined ? 'inventory'
    : config.serverAliveInterval !== undefined || config.serverAliveCountMax !== undefined ? 'ssh_config' : 'default';
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
