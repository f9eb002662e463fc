import { definePlaybook } from '../../../src/playbook/types.ts';
import { directory, file, group, user } from '../../../src/modules/index.ts';
// A user and a group this playbook creates are known; `nosuchuser` and `nosuchgroup` are not: a plan error on each host.
export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [
  group({ name: 'rigmade' }),
  user({ name: 'rigmade', group: 'rigmade', createHome: false }),
  directory({ path: '/srv/rig-made', owner: 'rigmade', group: 'rigmade' }),
  file({ path: '/srv/rig-unknown-owner', content: 'x\n', owner: 'nosuchuser', group: 'nosuchgroup' }),
] }] });
