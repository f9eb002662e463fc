import { definePlaybook } from '../../../src/playbook/types.ts';
import { line } from '../../../src/modules/index.ts';
// A validator that would check the old file, not the new content: refused (as Ansible does) before anything runs.
export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [line({ path: '/etc/default/kubelet', line: 'x=1', validate: ['sh', '-n', '/etc/default/kubelet'] })] }] });
