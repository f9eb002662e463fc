import test from 'ava';
import { parseProjectConfig } from '../../src/cli/project-config.ts';
import { updateProjectText } from '../../test/fleet/fleet-project-file.ts';

const KEYS = { inventory: '.fleet/inventory.yaml', ssh_config: '.fleet/ssh_config', state_dir: '.fleet/rig-state', pki_dir: '.fleet/pki' };

test('a fresh rig.yaml holds exactly the fleet keys (valid for rig, with a header saying what it is)', (t) => {
  const text = updateProjectText(undefined, KEYS);
  t.regex(text, /^# rig project file/);
  const p = parseProjectConfig(text, '/co/rig.yaml');
  t.deepEqual(p.settings, { inventory: ['/co/.fleet/inventory.yaml'], ssh_config: '/co/.fleet/ssh_config', state_dir: '/co/.fleet/rig-state', pki_dir: '/co/.fleet/pki' });
});

test('an existing rig.yaml keeps the user\'s other keys and comments; only the fleet keys change', (t) => {
  const mine = '# my team settings\nforks: 20   # keep it low\ninventory: old/hosts.ini\nextra_vars:\n  cluster_name: prod\n';
  const text = updateProjectText(mine, { ...KEYS, inventory: '.fleet-4/inventory.yaml' });
  t.regex(text, /# my team settings/);
  t.regex(text, /forks: 20 +# keep it low/);
  const p = parseProjectConfig(text, '/co/rig.yaml');
  t.is(p.settings.forks, 20);
  t.deepEqual(p.settings.extra_vars, { cluster_name: 'prod' });
  t.deepEqual(p.settings.inventory, ['/co/.fleet-4/inventory.yaml']);
  t.is(p.settings.state_dir, '/co/.fleet/rig-state');
  t.is(updateProjectText(text, { ...KEYS, inventory: '.fleet-4/inventory.yaml' }), text, 'idempotent');
});

test('a rig.yaml that is not a mapping is refused, not overwritten', (t) => {
  t.throws(() => updateProjectText('- a\n- b\n', KEYS), { message: /not a YAML mapping/ });
  t.throws(() => updateProjectText('forks: [\n', KEYS), { message: /not a YAML mapping/ });
});
