import { definePlaybook } from '../../../src/playbook/types.ts';
import { file, template, flags, json, copy, line, directory, service } from '../../../src/modules/index.ts';
export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [file({ paht: '/tmp/x', content: 'x' } as never)] }] });
