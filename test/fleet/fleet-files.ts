/**
 * The client-side files a fleet writes into its dir: Ansible-style YAML inventory, ssh_config and known_hosts.
 * Pure text builders.
 */
import { stringify } from 'yaml';

export interface FileHost {
  readonly name: string;
  readonly ip: string;
  readonly role: 'master' | 'worker';
}

/** `all.children.masters|workers.hosts.<name>: {ansible_host, ansible_user: root, ansible_ssh_private_key_file}`. */
export function renderInventory(hosts: readonly FileHost[], privateKeyPath: string): string {
  const group = (role: FileHost['role']) => ({
    hosts: Object.fromEntries(hosts.filter((h) => h.role === role)
      .map((h) => [h.name, { ansible_host: h.ip, ansible_user: 'root', ansible_ssh_private_key_file: privateKeyPath }])),
  });
  return stringify({ all: { children: { masters: group('master'), workers: group('worker') } } });
}

/** One `Host` entry per host, then the shared settings (strict host-key checking against the fleet's known_hosts). */
export function renderSshConfig(hosts: readonly FileHost[], privateKeyPath: string, knownHostsPath: string): string {
  const q = (p: string) => (/[\s"]/.test(p) ? `"${p}"` : p);
  const entries = hosts.map((h) => `Host ${h.name}\n  HostName ${h.ip}\n`).join('');
  return `${entries}\nHost *\n  User root\n  IdentityFile ${q(privateKeyPath)}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${q(knownHostsPath)}\n`
    + '  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 10\n';
}

/** `name,ip <public key>` per host (both the name and the IP are known). */
export function renderKnownHosts(hosts: readonly FileHost[], publicKeys: readonly string[]): string {
  return hosts.map((h, i) => `${h.name},${h.ip} ${publicKeys[i]!.trim().split(/\s+/).slice(0, 2).join(' ')}\n`).join('');
}
