import type { Secret } from '../core/secret.ts';

/** A resolved host: connection details and merged variables (all → parent group → child group → host). */
export interface Host {
  /** Inventory name (what patterns and `--limit` match). */
  readonly name: string;
  /** Address to connect to (`ansible_host`, rig: `rig_host`); defaults to `name`. */
  readonly address: string;
  /** SSH port (`ansible_port`); undefined = ssh config / 22. */
  readonly port?: number;
  /** SSH user (`ansible_user`); undefined = ssh config / current user. */
  readonly user?: string;
  /** Identity file (`ansible_ssh_private_key_file`). */
  readonly identityFile?: string;
  /** Jump host(s) from `ansible_ssh_common_args` `-o ProxyJump=` / `-J`, or `rig_proxy_jump`. */
  readonly proxyJump?: string;
  /** Use sudo (`ansible_become`). @default false */
  readonly become?: boolean;
  /** sudo target user (`ansible_become_user`). @default 'root' */
  readonly becomeUser?: string;
  /** `ansible_become_method`: only `sudo` is supported (anything else is a BECOME error when used). @default 'sudo' */
  readonly becomeMethod?: string;
  /** `ansible_become_flags`: extra sudo flags without arguments (-H, -E, -i, -k). */
  readonly becomeFlags?: string;
  /** `ansible_become_password` / `ansible_become_pass` (or -e, or --ask-become-pass): sent to `sudo -S` on stdin. */
  readonly becomePassword?: Secret;
  /** `ansible_connection=local` or host named localhost without address: run locally. */
  readonly local?: boolean;
  /** Groups this host belongs to (including `all`, parents). */
  readonly groups: readonly string[];
  /** Merged variables, Ansible precedence. */
  readonly vars: Readonly<Record<string, unknown>>;
}

export interface Group {
  readonly name: string;
  /** Hosts directly in this group (not via children). */
  readonly hosts: readonly string[];
  readonly children: readonly string[];
  readonly vars: Readonly<Record<string, unknown>>;
}

export interface Inventory {
  /** Where it was loaded from (file or directory). */
  readonly source: string;
  /** Hosts in inventory order. */
  readonly hosts: readonly Host[];
  readonly groups: ReadonlyMap<string, Group>;
  /** Things Ansible warns about (e.g. a host and a group with the same name); the CLI prints them to stderr. */
  readonly warnings: readonly string[];
  /** Resolve an Ansible host pattern to hosts (inventory order). Throws PatternError when it matches nothing. */
  selectHosts(pattern: string): Host[];
  getHost(name: string): Host;
}
