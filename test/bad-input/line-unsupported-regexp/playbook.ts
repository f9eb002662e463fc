import { definePlaybook } from '../../../src/playbook/types.ts';
import { line } from '../../../src/modules/index.ts';
// JavaScript's named-group syntax: Python (and so Ansible) rejects it; rig says what to write instead.
export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [line({ path: '/etc/default/kubelet', regexp: '^(?<key>KUBELET_OPTS)=', line: 'x' })] }] });
