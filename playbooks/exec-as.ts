/**
 * exec-as: people enter containers only as the user that policy gives them (docs/exec-as.md), reversible with
 * `rig rollback`. One play on the nodes (group workers, or the pattern in RIG_EXEC_AS_HOSTS): operator accounts,
 * the helper /usr/local/bin/exec-as, its policy, a sudoers and an sshd drop-in (validated, then sshd reloaded).
 * Variables: tasks/exec-as.ts.
 *
 *   npx rig plan  -i inventory.yaml -e @exec-as-vars.yaml playbooks/exec-as.ts
 *   npx rig apply -i inventory.yaml -e @exec-as-vars.yaml playbooks/exec-as.ts
 */
import { definePlaybook, service } from 'rig';
import { execAsTasks } from '../tasks/exec-as.ts';

export default definePlaybook({
  name: 'exec-as',
  plays: [
    {
      name: 'exec-as nodes',
      hosts: process.env['RIG_EXEC_AS_HOSTS'] ?? 'workers',
      tasks: execAsTasks(),
      handlers: [service({ name: 'ssh', state: 'reloaded', validate: ['/usr/sbin/sshd', '-t'] }, { name: 'reload sshd' })],
    },
  ],
});
