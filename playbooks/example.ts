/**
 * The example playbook from the engine issue: files, a template, a line edit and a service restart by handler,
 * against the local fleet (`npm run fleet -- up 4`). Try:
 *   npm run fleet -- up 4        # once: the local fleet; writes rig.yaml (inventory, ssh_config, state and PKI dirs)
 *   npx rig plan  playbooks/example.ts
 *   npx rig apply playbooks/example.ts
 *   npx rig rollback
 * (elsewhere: -i INVENTORY --ssh-config FILE, or a rig.yaml of your own; `npx rig config` shows what is used)
 */
import { definePlaybook, directory, file, line, service, template } from 'rig';

export default definePlaybook({
  name: 'example',
  vars: { cluster_name: 'rig-demo' },
  plays: [
    {
      name: 'every host',
      hosts: 'all',
      tasks: [
        directory({ path: '/etc/rig-example', mode: '0755' }, { name: 'config directory' }),
        file({ path: '/etc/rig-example/owner', content: 'platform-team\n', mode: '0644' }, { name: 'owner file' }),
        template(
          (ctx) => ({ src: 'motd.hbs', path: '/etc/rig-example/motd', mode: '0644', vars: { role: ctx.host.groups.includes('masters') ? 'master' : 'worker' } }),
          { name: 'motd' },
        ),
        line({ path: '/etc/default/kubelet', regexp: '^# managed-by=', line: '# managed-by=rig' }, { name: 'mark kubelet flags as managed', notify: 'restart kubelet' }),
      ],
      handlers: [service({ name: 'kubelet', state: 'restarted' }, { name: 'restart kubelet' })],
    },
  ],
});
