import { definePlaybook } from '../../../src/playbook/types.ts';
import { file, template, flags, json, copy, line, directory, service } from '../../../src/modules/index.ts';
export default definePlaybook({ name: 'x', plays: [{ hosts: 'all', tasks: [file({ path: '/etc/rig-should-not-exist', content: 'x' }), file((ctx) => ({ path: '/etc/y', content: ctx.host.name === 'master1' ? 'ok' : (42 as never) }))] }] });
