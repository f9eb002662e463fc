/**
 * The `-o` options in an inventory's ssh arguments (`ansible_ssh_common_args`, then `ansible_ssh_extra_args`, the
 * order Ansible puts them on the ssh command line), split like Ansible splits them (shlex). rig applies them as
 * OpenSSH applies command-line options: before any ssh_config file, so they win.
 */
import { SshConfigError } from '../errors.ts';
import type { Host } from '../inventory/types.ts';
import { splitWords } from '../inventory/parse-ini.ts';

/** `-o X` / `-oX` values from the host's ansible_ssh_common_args and ansible_ssh_extra_args, in order. */
export function sshOptionsFromInventory(host: Host): string[] {
  const out: string[] = [];
  for (const name of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const v = host.vars[name];
    if (typeof v !== 'string' || v.trim() === '') continue;
    let words: string[];
    try { words = splitWords(v); } catch (e) {
      throw new SshConfigError(`${name}: ${(e as Error).message}`, { host: host.name, hint: 'fix the quoting of the ssh arguments in the inventory' });
    }
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '-o') {
        const next = words[++i];
        if (next === undefined) throw new SshConfigError(`${name}: -o without an option`, { host: host.name });
        out.push(next);
      } else if (w.startsWith('-o')) out.push(w.slice(2));
    }
  }
  return out;
}
