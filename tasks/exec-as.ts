/**
 * exec-as on the nodes (docs/exec-as.md): operators enter containers only as the user that policy gives them.
 *
 * Each operator gets an account (member of the exec group, root-owned home and authorized_keys, so the operator cannot
 * add keys or an ~/.ssh/rc); an sshd drop-in forces every session of the group into `sudo -n /usr/local/bin/exec-as`
 * with forwarding, agent, X11, tunnels, user rc and TTYs off; a sudoers drop-in lets the group run exactly that
 * helper, without arguments, keeping only SSH_ORIGINAL_COMMAND and SSH_CONNECTION; the helper (files/exec-as/exec-as)
 * reads the policy /etc/rig/exec-as.json rendered from the variables below. Every file is validated before it replaces
 * the old one (JSON, `visudo -cf`, `sshd -t` of the whole configuration with the new drop-in in place) and sshd is
 * reloaded only after a valid drop-in was written. `rig rollback` puts all of it back byte for byte.
 *
 * Variables (inventory, play vars or -e):
 *   exec_as_operators  [{ name, keys: ['ssh-ed25519 …'], uid?, allow: [{ namespace, pod, container?, user }] }]
 *                      (pod, namespace, container: shell globs; container defaults to '*'); at most MAX_OPERATORS.
 *   exec_as_group      the exec group (default rig-exec) · exec_as_sshd_options { Keyword: 'value' } added to the
 *                      Match block (e.g. { ClientAliveInterval: '60' }).
 */
import { ValidationError, copy, directory, file, group, line, user, ACCOUNT_NAME, type Task, type TaskContext } from 'rig';

export const MAX_OPERATORS = 16;
export const HELPER_PATH = '/usr/local/bin/exec-as';
export const POLICY_PATH = '/etc/rig/exec-as.json';
export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/rig-exec-as.conf';
export const SSHD_MAIN = '/etc/ssh/sshd_config';
export const SUDOERS_DROPIN = '/etc/sudoers.d/rig-exec-as';
export const LOGROTATE_RULE = '/etc/logrotate.d/exec-as';
export const LOG_PATH = '/var/log/exec-as.log';

export interface ExecAsRule { readonly namespace: string; readonly pod: string; readonly container: string; readonly user: string }
export interface ExecAsOperator { readonly name: string; readonly keys: readonly string[]; readonly uid?: number; readonly allow: readonly ExecAsRule[] }
export interface ExecAsVars {
  readonly operators: readonly ExecAsOperator[];
  readonly group: string;
  readonly sshdOptions: ReadonlyArray<readonly [string, string]>;
}

const GLOB = /^[A-Za-z0-9*?.\-_[\]]{1,253}$/;

/** Read and check the variables; every problem names its variable. */
export function readExecAsVars(ctx: TaskContext): ExecAsVars {
  const v = ctx.vars;
  const problems: string[] = [];
  const groupName = v['exec_as_group'] === undefined ? 'rig-exec' : v['exec_as_group'];
  if (typeof groupName !== 'string' || !ACCOUNT_NAME.test(groupName)) problems.push('exec_as_group: a group name');
  const raw = v['exec_as_operators'] ?? [];
  const operators: ExecAsOperator[] = [];
  if (!Array.isArray(raw)) problems.push('exec_as_operators: a list of { name, keys, allow }');
  else {
    if (raw.length > MAX_OPERATORS) problems.push(`exec_as_operators: at most ${MAX_OPERATORS} operators`);
    const seen = new Set<string>();
    raw.forEach((o: any, i: number) => {
      const at = `exec_as_operators[${i}]`;
      if (typeof o !== 'object' || o === null) { problems.push(`${at}: an object { name, keys, allow }`); return; }
      if (typeof o.name !== 'string' || !ACCOUNT_NAME.test(o.name) || o.name === 'root') problems.push(`${at}.name: a user name (not root)`);
      else if (seen.has(o.name)) problems.push(`${at}.name: ${o.name} is listed twice`);
      seen.add(o.name);
      if (!Array.isArray(o.keys) || !o.keys.length || o.keys.some((k: unknown) => typeof k !== 'string' || !/^(ssh|ecdsa|sk)-\S+ \S+/.test(k) || /[\n\r\0]/.test(k))) {
        problems.push(`${at}.keys: a non-empty list of single-line public keys`);
      }
      if (o.uid !== undefined && !(Number.isInteger(o.uid) && o.uid >= 1000)) problems.push(`${at}.uid: an integer ≥ 1000`);
      const allow: ExecAsRule[] = [];
      if (!Array.isArray(o.allow)) problems.push(`${at}.allow: a list of { namespace, pod, container?, user }`);
      else o.allow.forEach((r: any, j: number) => {
        const rule = { namespace: r?.namespace, pod: r?.pod, container: r?.container ?? '*', user: r?.user };
        for (const k of ['namespace', 'pod', 'container'] as const) if (typeof rule[k] !== 'string' || !GLOB.test(rule[k])) problems.push(`${at}.allow[${j}].${k}: a name or shell glob`);
        if (typeof rule.user !== 'string' || !ACCOUNT_NAME.test(rule.user) || rule.user === 'root') problems.push(`${at}.allow[${j}].user: a user name of the container (not root)`);
        allow.push(rule as ExecAsRule);
      });
      operators.push({ name: o.name, keys: o.keys, ...(o.uid !== undefined ? { uid: o.uid } : {}), allow });
    });
  }
  const opts = v['exec_as_sshd_options'] ?? {};
  const sshdOptions: Array<[string, string]> = [];
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) problems.push('exec_as_sshd_options: a map { Keyword: value }');
  else for (const [k, val] of Object.entries(opts)) {
    if (!/^[A-Za-z]{1,64}$/.test(k)) problems.push(`exec_as_sshd_options.${k}: a keyword (letters only)`);
    else if (/^(ForceCommand|Match|Include)$/i.test(k)) problems.push(`exec_as_sshd_options.${k}: set by the playbook, not a variable`);
    if (typeof val !== 'string' || !/^[^\n\r\0#]{1,256}$/.test(val)) problems.push(`exec_as_sshd_options.${k}: a one-line value`);
    sshdOptions.push([k, String(val)]);
  }
  if (problems.length) throw new ValidationError(problems, { task: ctx.taskPath, hint: 'see tasks/exec-as.ts for the variables' });
  return { operators, group: groupName as string, sshdOptions };
}

/** The policy the helper reads: operator → rules (JSON, one object per rule); an operator without rules is not in it. */
export function renderExecAsPolicy(vars: ExecAsVars): string {
  const operators: Record<string, ExecAsRule[]> = {};
  for (const o of vars.operators) if (o.allow.length) operators[o.name] = o.allow.map((r) => ({ namespace: r.namespace, pod: r.pod, container: r.container, user: r.user }));
  return `${JSON.stringify({ version: 1, operators }, null, 2)}\n`;
}

/** The sshd drop-in: every session of the exec group is the helper, nothing else. */
export function renderSshdDropin(vars: ExecAsVars): string {
  return [
    '# Managed by rig (playbooks/exec-as.ts): sessions of this group run only the exec-as helper.',
    `Match Group ${vars.group}`,
    `    ForceCommand /usr/bin/sudo -n ${HELPER_PATH}`,
    '    AllowTcpForwarding no',
    '    AllowStreamLocalForwarding no',
    '    AllowAgentForwarding no',
    '    X11Forwarding no',
    '    PermitTunnel no',
    '    PermitTTY no',
    '    PermitUserRC no',
    ...vars.sshdOptions.map(([k, v]) => `    ${k} ${v}`),
    '',
  ].join('\n');
}

export function renderSudoers(vars: ExecAsVars): string {
  return [
    '# Managed by rig (playbooks/exec-as.ts): the exec group runs the exec-as helper as root, without arguments.',
    `Defaults!${HELPER_PATH} env_keep = "SSH_ORIGINAL_COMMAND SSH_CONNECTION"`,
    `%${vars.group} ALL=(root) NOPASSWD: ${HELPER_PATH} ""`,
    '',
  ].join('\n');
}

export const LOGROTATE_TEXT = `# Managed by rig (playbooks/exec-as.ts)\n${LOG_PATH} {\n    weekly\n    rotate 52\n    compress\n    missingok\n    notifempty\n    create 0600 root root\n}\n`;

/**
 * `sshd -t` of the configuration as it will be with the candidate drop-in: a temporary main config where the Include
 * line that covers the drop-in lists the other drop-ins explicitly and the candidate at the drop-in's place (sshd
 * reads the first value of a keyword, so order matters). Fails when the main config includes no such path: the
 * drop-in would have no effect. Run on the host as `python3 -I -c <this> <candidate> <drop-in> <main config>`.
 */
export const SSHD_CHECK_PROGRAM = `
import fnmatch, glob, os, subprocess, sys, tempfile
cand, target, main = sys.argv[1:4]
out, covered = [], False
for line in open(main, 'rb').read().decode('latin1').split('\\n'):
    words = line.split()
    if words and words[0].lower() == 'include':
        paths = []
        for p in words[1:]:
            p = p if p.startswith('/') else os.path.join('/etc/ssh', p)
            names = set(glob.glob(p))
            if fnmatch.fnmatchcase(target, p):
                covered = True
                names.add(target)
            paths += sorted(names)
        out += ['Include ' + (cand if n == target else n) for n in paths]
    else:
        out.append(line)
if not covered:
    sys.exit('%s does not include %s: the drop-in would have no effect' % (main, target))
with tempfile.TemporaryDirectory() as d:
    conf = os.path.join(d, 'sshd_config')
    with open(conf, 'w', encoding='latin1') as f:
        f.write('\\n'.join(out))
    r = subprocess.run(['/usr/sbin/sshd', '-t', '-f', conf])
sys.exit(r.returncode)
`;

/** Tasks for one play: accounts (MAX_OPERATORS slots), helper, policy, sudoers, sshd drop-in (notifies `reload sshd`). */
export function execAsTasks(): Task[] {
  const vars = readExecAsVars;
  const slots = Array.from({ length: MAX_OPERATORS }, (_, i) => user((ctx) => {
    const v = vars(ctx);
    const o = v.operators[i]!;
    return { name: o.name, groups: [v.group], shell: '/bin/sh', authorizedKeys: o.keys, keysOwner: 'root' as const, ...(o.uid !== undefined ? { uid: o.uid } : {}) };
  }, { name: `operator ${i + 1}`, when: (ctx) => vars(ctx).operators.length > i }));
  return [
    group((ctx) => ({ name: vars(ctx).group, system: true }), { name: 'exec group' }),
    ...slots,
    directory({ path: '/etc/rig', mode: '0755', owner: 'root', group: 'root' }, { name: '/etc/rig' }),
    file((ctx) => ({ path: POLICY_PATH, content: renderExecAsPolicy(vars(ctx)), mode: '0644', owner: 'root', group: 'root', validate: ['/usr/bin/python3', '-I', '-c', 'import json,sys; json.load(open(sys.argv[1]))', '%s'] }), { name: 'exec-as policy' }),
    copy({ src: 'files/exec-as/exec-as', path: HELPER_PATH, mode: '0755', owner: 'root', group: 'root' }, { name: 'exec-as helper' }),
    file({ path: LOGROTATE_RULE, content: LOGROTATE_TEXT, mode: '0644', owner: 'root', group: 'root' }, { name: 'exec-as log rotation' }),
    file((ctx) => ({ path: SUDOERS_DROPIN, content: renderSudoers(vars(ctx)), mode: '0440', owner: 'root', group: 'root', validate: ['/usr/sbin/visudo', '-cf', '%s'] }), { name: 'sudoers: the exec group runs the helper' }),
    line({ path: SSHD_MAIN, regexp: '^Include /etc/ssh/sshd_config\\.d/\\*\\.conf$', line: 'Include /etc/ssh/sshd_config.d/*.conf', insertBefore: 'BOF' }, { name: 'sshd reads its drop-ins', notify: 'reload sshd' }),
    file((ctx) => ({ path: SSHD_DROPIN, content: renderSshdDropin(vars(ctx)), mode: '0644', owner: 'root', group: 'root', validate: ['/usr/bin/python3', '-I', '-c', SSHD_CHECK_PROGRAM, '%s', SSHD_DROPIN, SSHD_MAIN] }), { name: 'sshd drop-in', notify: 'reload sshd' }),
  ];
}
