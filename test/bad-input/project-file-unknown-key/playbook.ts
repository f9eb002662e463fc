import { definePlaybook } from '../../../src/playbook/types.ts';
import { file, template, flags, json, copy, line, directory, service } from '../../../src/modules/index.ts';
export default definePlaybook({ name: 'ok', plays: [{ hosts: 'all', tasks: [file({ path: '/tmp/rig-bad-input-ok', content: 'x\n' })] }] });
