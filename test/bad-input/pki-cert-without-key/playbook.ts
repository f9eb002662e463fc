import { certificate } from '../../../src/modules/index.ts';
import { definePlaybook } from '../../../src/playbook/types.ts';
export default definePlaybook({ name: 'x', plays: [{ hosts: 'worker1', tasks: [certificate({ certPath: '/tmp/c.crt', keyPath: '/tmp/c.key', pkiDir: `${process.env['RIG_CASE_WORK']}/pki`, name: 'c', spec: { profile: 'client', commonName: 'c' } })] }] });
