/**
 * An example playbook: the task group of tasks/motd.ts on every host of the inventory.
 *
 *   npx rig plan  playbooks/site.ts      # what would change, as diffs (exit 0: nothing, 2: changes)
 *   npx rig apply playbooks/site.ts      # asks before changing anything on a terminal (-y skips)
 *   npx rig rollback                     # undo the last run, byte for byte
 *   npx rig config                       # the settings in effect (rig.yaml, RIG_*, flags) and their sources
 */
import { definePlaybook } from 'rig';
import { motdTasks } from '../tasks/motd.ts';

export default definePlaybook({
  name: 'site',
  plays: [
    { name: 'every host', hosts: 'all', tasks: motdTasks() },
  ],
});
