import type { Inventory } from '../inventory/types.ts';
import type { LoadedPlaybook } from '../playbook/load-playbook.ts';
import { selectPlays } from './build-plan.ts';

/** `--list-hosts`: per play, the names of the hosts it would run on (its pattern ∩ --limit), as the plan selects them. */
export function listPlayHosts(inventory: Inventory, playbook: LoadedPlaybook, limit: string | undefined): string[][] {
  return selectPlays({ inventory, playbook, projectRoot: '.', ...(limit ? { limit } : {}) }).map((p) => [...p.hostNames]);
}
