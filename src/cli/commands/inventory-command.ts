/**
 * `rig inventory`: show how rig resolved an inventory, in ansible-inventory's shapes (`--list`, `--graph`, `--host`),
 * so an operator can diff rig's view against Ansible's before moving a playbook over.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { formatAnsibleJson, graphInventory, hostInventory, listInventory } from '../../inventory/ansible-inventory-json.ts';
import { loadInventoryOption } from '../common-options.ts';
import type { SetExitCode } from './index.ts';

interface InventoryOptions {
  readonly inventory?: string[];
  readonly limit?: string;
  readonly list?: boolean;
  readonly graph?: boolean | string;
  readonly host?: string;
  readonly vars?: boolean;
  readonly showSecrets?: boolean;
  readonly stateDir: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command, _setExitCode: SetExitCode): void {
  program.command('inventory')
    .description('show the resolved inventory like ansible-inventory: --list (JSON), --graph [group], --host NAME')
    .option('-i, --inventory <path>', 'inventory file or directory (repeatable; default: $RIG_INVENTORY or inventory/)', collect)
    .option('-l, --limit <pattern>', 'only hosts matching an Ansible pattern')
    .option('--list', 'all groups and hosts as JSON, with merged host variables under _meta.hostvars')
    .option('--graph [group]', 'the group tree (from GROUP, default all)')
    .option('--host <name>', "one host's merged variables as JSON")
    .option('--vars', 'with --graph: show variables too')
    .option('--show-secrets', 'print password/token/secret variables instead of ********')
    .action(async (opts: InventoryOptions) => {
      const modes = [opts.list, opts.graph, opts.host].filter((m) => m !== undefined && m !== false).length;
      if (modes !== 1) throw new UsageError('rig inventory needs exactly one of --list, --graph or --host', { hint: 'e.g. rig inventory -i inventory/ --graph' });
      const inv = await loadInventoryOption({ ...opts, stateDir: '' });
      const hosts = opts.limit ? new Set(inv.selectHosts(opts.limit).map((h) => h.name)) : undefined;
      const view = { ...(hosts ? { hosts } : {}), ...(opts.showSecrets ? { showSecrets: true } : {}) };
      if (opts.list) process.stdout.write(`${formatAnsibleJson(listInventory(inv, view))}\n`);
      else if (opts.host !== undefined) process.stdout.write(`${formatAnsibleJson(hostInventory(inv, opts.host, view))}\n`);
      else process.stdout.write(`${graphInventory(inv, typeof opts.graph === 'string' ? opts.graph : 'all', { ...view, vars: opts.vars === true })}\n`);
    });
}
