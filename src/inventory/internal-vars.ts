/**
 * Names `ansible-inventory` never prints among a host's variables (its INTERNAL_VARS: magic variables Ansible sets
 * itself, overriding whatever an inventory says); an inventory that sets one of them does not see it in `--list` or
 * `--host` either, and a value Ansible could not print (see UnusableValue) is harmless there.
 */
export const INTERNAL_VARS: ReadonlySet<string> = new Set(['ansible_diff_mode', 'ansible_config_file', 'ansible_facts', 'ansible_forks',
  'ansible_inventory_sources', 'ansible_limit', 'ansible_playbook_python', 'ansible_run_tags', 'ansible_skip_tags', 'ansible_verbosity',
  'ansible_version', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short', 'groups', 'group_names', 'omit',
  'playbook_dir']);
