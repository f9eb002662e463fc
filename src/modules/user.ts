import type { Change } from '../core/change.ts';
import { AccountError } from '../errors.ts';
import type { HostFacts } from '../facts/fact-request.ts';
import { ACCOUNT_NAME, editMemberList, findAccountEntry, pickFreeId, splitAccountLines, usedAccountIds } from '../text/account-db.ts';
import { directory } from './directory.ts';
import { checkUnknownProps, planFileWrite } from './file-write.ts';
import {
  accountFileFacts, checkId, editAccountFile, GROUP_FILE, GSHADOW_FILE, PASSWD_FILE, planAccountWrites, readAccountFile, SHADOW_FILE,
} from './group.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';

export interface UserProps {
  /** User name: lower-case letters, digits, `_` and `-`, starting with a letter or `_`, at most 32 characters. */
  readonly name: string;
  /** 'absent' removes the account's entries and its group memberships (not its home directory nor its private group). @default 'present' */
  readonly state?: 'present' | 'absent';
  /** The user's uid; an existing user with another uid gets this one (files it owns are not chowned). @default for a new user the lowest uid from 1000 free in /etc/passwd (and, for a new private group, in /etc/group); an existing user keeps its uid */
  readonly uid?: number;
  /** Primary group (must exist or be created by an earlier task). @default for a new user a private group named like the user, created with it; an existing user keeps its primary group */
  readonly group?: string;
  /** Supplementary groups: the user ends in exactly these (each must exist). @default not managed */
  readonly groups?: readonly string[];
  /** Login shell. @default '/bin/sh' for a new user, else kept */
  readonly shell?: string;
  /** Home directory. @default '/home/<name>' for a new user, else kept */
  readonly home?: string;
  /** Create the home directory (not recursively). @default true */
  readonly createHome?: boolean;
  /** The whole authorized_keys file (`<home>/.ssh/authorized_keys`), one key per entry. @default not managed */
  readonly authorizedKeys?: readonly string[];
  /**
   * Who owns the home, `.ssh` and authorized_keys: 'root' makes them root-owned and read-only for the user (the user
   * cannot add keys or an ~/.ssh/rc), for accounts whose sessions are forced into a command. @default 'user'
   */
  readonly keysOwner?: 'user' | 'root';
  /** GECOS field. @default '' for a new user, else kept */
  readonly comment?: string;
}

const PATH_FIELD = /^\/[^:\n\0]*$/;

/**
 * `user({ name, authorizedKeys })`: a user account, its group memberships, home directory and authorized_keys. It is
 * planned as edits of /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow (not useradd: those tools also rewrite the
 * `-` backups and /etc/sub[ug]id, which no rollback could put back), plus the home directory and authorized_keys
 * through the file machinery. Every write is a diff (shadow
 * masked), journaled, and rolled back byte for byte: rollback removes what the run created and restores what it
 * changed. A new account has password `*` (no password login) and no password aging.
 *
 * @plan `update /etc/passwd`, `/etc/group` and the shadow files (secret, masked) with the diff of the entries added
 * or changed; `create directory /home/NAME (0750 NAME:NAME)`, `.ssh` and `authorized_keys` with its diff. The no-op
 * says `user NAME is as wanted (uid N)`. A uid used by another user, a group that does not exist, or a database
 * holding the name twice is an error at plan time.
 *
 * @rollback Puts the account databases back byte for byte (from the journal's pre-images), removes the home
 * directory, `.ssh` and `authorized_keys` the run created (rmdir: removing a directory someone put files in since
 * fails) and restores the ones it changed. A database changed since the run is a conflict unless
 * `--force`.
 *
 * @example
 * user({ name: 'deploy', groups: ['sudo'], shell: '/bin/bash',
 *   authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0k8Zk9Jq2r0m3b1m7p6sQ2b0x3n5v8c9d1e2f3g4h deploy@ci'] })
 */
export const user = defineModule<UserProps>({
  name: 'user',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['name', 'state', 'uid', 'group', 'groups', 'shell', 'home', 'createHome', 'authorizedKeys', 'keysOwner', 'comment']);
    if (typeof p.name !== 'string' || !ACCOUNT_NAME.test(p.name)) problems.push(`name: a user name matching ${ACCOUNT_NAME}`);
    if (p.state !== undefined && p.state !== 'present' && p.state !== 'absent') problems.push('state: present or absent');
    problems.push(...checkId(p.uid, 'uid'));
    if (p.group !== undefined && (typeof p.group !== 'string' || !ACCOUNT_NAME.test(p.group))) problems.push('group: a group name');
    if (p.groups !== undefined && (!Array.isArray(p.groups) || p.groups.some((g) => typeof g !== 'string' || !ACCOUNT_NAME.test(g)))) problems.push('groups: an array of group names');
    for (const k of ['shell', 'home'] as const) if (p[k] !== undefined && (typeof p[k] !== 'string' || !PATH_FIELD.test(p[k]!))) problems.push(`${k}: an absolute path without ':' or newlines`);
    if (p.comment !== undefined && (typeof p.comment !== 'string' || /[:\n\0]/.test(p.comment))) problems.push('comment: text without \':\' or newlines');
    if (p.createHome !== undefined && typeof p.createHome !== 'boolean') problems.push('createHome: a boolean');
    if (p.keysOwner !== undefined && p.keysOwner !== 'user' && p.keysOwner !== 'root') problems.push('keysOwner: user or root');
    if (p.authorizedKeys !== undefined) {
      if (!Array.isArray(p.authorizedKeys) || p.authorizedKeys.some((k) => typeof k !== 'string' || !/^\S+ \S+/.test(k) || /[\n\r\0]/.test(k))) {
        problems.push('authorizedKeys: an array of single-line public keys ("ssh-ed25519 AAAA… comment")');
      }
      if (p.createHome === false) problems.push('authorizedKeys: needs the home directory (createHome must not be false)');
    }
    return problems;
  },
  facts: (p) => {
    const home = p.home ?? `/home/${p.name}`;
    return [...accountFileFacts(), { kind: 'file', path: home, content: false }, { kind: 'file', path: `${home}/.ssh`, content: false }, { kind: 'file', path: `${home}/.ssh/authorized_keys` }];
  },
  plan: (p, facts, ctx) => planUser(p, facts, ctx),
});

function planUser(p: UserProps, facts: HostFacts, ctx: TaskContext): PlanResult {
  const passwd = readAccountFile(facts, PASSWD_FILE, ctx, true)!;
  const shadow = readAccountFile(facts, SHADOW_FILE, ctx, false);
  const groupDb = readAccountFile(facts, GROUP_FILE, ctx, true)!;
  const gshadow = readAccountFile(facts, GSHADOW_FILE, ctx, false);
  const entry = findAccountEntry(passwd, p.name);

  if (p.state === 'absent') {
    if (!entry) return { noop: `user ${p.name} is absent` };
    let g = groupDb;
    let gs = gshadow;
    for (const line of splitAccountLines(groupDb)) {
      const f = line.split(':');
      if (f.length >= 4 && f[3]!.split(',').includes(p.name)) {
        g = editAccountFile(g, GROUP_FILE, f[0]!, [...f.slice(0, 3), editMemberList(f[3]!, p.name, false), ...f.slice(4)], ctx);
        gs = gs && editGshadowMember(gs, f[0]!, p.name, false, ctx);
      }
    }
    const changes = planAccountWrites([
      [GROUP_FILE, groupDb, g], [GSHADOW_FILE, gshadow, gs],
      [PASSWD_FILE, passwd, editAccountFile(passwd, PASSWD_FILE, p.name, undefined, ctx)],
      [SHADOW_FILE, shadow, shadow && editAccountFile(shadow, SHADOW_FILE, p.name, undefined, ctx)],
    ], facts, ctx);
    return changes.length ? { changes } : { noop: `user ${p.name} is absent` };
  }

  const usedUids = usedAccountIds(passwd, 2);
  const usedGids = usedAccountIds(groupDb, 2);
  let g = groupDb;
  let gs = gshadow;
  // Primary group: named, or the user's private group (created with the user, gid = uid when free).
  const groupName = p.group ?? (entry ? undefined : p.name);
  let gid = entry?.[3];
  let uid = entry?.[2];
  if (p.uid !== undefined && uid !== String(p.uid)) {
    if (usedUids.has(p.uid)) throw new AccountError(`uid ${p.uid} is already used by another user`, { task: ctx.taskPath });
    uid = String(p.uid);
  }
  if (uid === undefined) {
    const free = pickFreeId(1000, 59999, usedUids, p.group === undefined ? usedGids : new Set());
    if (free === undefined) throw new AccountError(`no free uid for user ${p.name}`, { task: ctx.taskPath });
    uid = String(free);
  }
  if (groupName !== undefined) {
    const ge = findAccountEntry(groupDb, groupName);
    if (ge) gid = ge[2];
    else if (p.group !== undefined) throw new AccountError(`group ${p.group} does not exist`, { task: ctx.taskPath, hint: 'create it with a group task before the user' });
    else {
      const newGid = usedGids.has(Number(uid)) ? pickFreeId(1000, 59999, usedGids) : Number(uid);
      if (newGid === undefined) throw new AccountError(`no free gid for the group of ${p.name}`, { task: ctx.taskPath });
      gid = String(newGid);
      g = editAccountFile(g, GROUP_FILE, groupName, [groupName, 'x', gid, ''], ctx);
      gs = gs && editAccountFile(gs, GSHADOW_FILE, groupName, [groupName, '!', '', ''], ctx);
    }
  }
  if (p.groups !== undefined) {
    for (const name of p.groups) {
      if (!findAccountEntry(g, name)) throw new AccountError(`group ${name} (in groups) does not exist`, { task: ctx.taskPath, hint: 'create it with a group task before the user' });
    }
    for (const line of splitAccountLines(g)) {
      const f = line.split(':');
      if (f.length < 4) continue;
      const want = p.groups.includes(f[0]!);
      const members = editMemberList(f[3]!, p.name, want);
      if (members === f[3]) continue;
      g = editAccountFile(g, GROUP_FILE, f[0]!, [...f.slice(0, 3), members, ...f.slice(4)], ctx);
      gs = gs && editGshadowMember(gs, f[0]!, p.name, want, ctx);
    }
  }
  const home = p.home ?? entry?.[5] ?? `/home/${p.name}`;
  const fields = [p.name, entry?.[1] ?? 'x', uid, gid!, p.comment ?? entry?.[4] ?? '', home, p.shell ?? entry?.[6] ?? '/bin/sh'];
  const newPasswd = editAccountFile(passwd, PASSWD_FILE, p.name, [...fields, ...(entry?.slice(7) ?? [])], ctx);
  const newShadow = shadow && (findAccountEntry(shadow, p.name) ? shadow : editAccountFile(shadow, SHADOW_FILE, p.name, [p.name, '*', '', '', '', '', '', '', ''], ctx));
  const changes: Change[] = planAccountWrites([[GROUP_FILE, groupDb, g], [GSHADOW_FILE, gshadow, gs], [PASSWD_FILE, passwd, newPasswd], [SHADOW_FILE, shadow, newShadow]], facts, ctx);

  if (p.createHome !== false) {
    const rootOwned = p.keysOwner === 'root';
    const owner = rootOwned ? 'root' : p.name;
    const group = rootOwned ? 'root' : splitAccountLines(g).map((l) => l.split(':')).find((f) => f[2] === gid)?.[0] ?? gid!;
    changes.push(...planned(directory.module.plan({ path: home, mode: rootOwned ? '0755' : '0750', owner, group }, facts, ctx)));
    if (p.authorizedKeys !== undefined) {
      changes.push(...planned(directory.module.plan({ path: `${home}/.ssh`, mode: rootOwned ? '0755' : '0700', owner, group }, facts, ctx)));
      const keysPath = `${home}/.ssh/authorized_keys`;
      const content = Buffer.from(p.authorizedKeys.map((k) => `${k}\n`).join(''));
      changes.push(...planned(planFileWrite({ path: keysPath, fact: facts.file(keysPath), content, mode: rootOwned ? '0644' : '0600', owner, group, ctx })));
    }
  }
  return changes.length ? { changes } : { noop: `user ${p.name} is as wanted (uid ${uid})` };
}

function planned(r: PlanResult): readonly Change[] {
  return 'changes' in r ? r.changes : [];
}

/** gshadow's member list is field 4 (index 3), like group's. */
function editGshadowMember(gshadow: Buffer, groupName: string, member: string, present: boolean, ctx: TaskContext): Buffer {
  const f = findAccountEntry(gshadow, groupName);
  if (!f || f.length < 4) return gshadow;
  const members = editMemberList(f[3]!, member, present);
  return members === f[3] ? gshadow : editAccountFile(gshadow, GSHADOW_FILE, groupName, [...f.slice(0, 3), members, ...f.slice(4)], ctx);
}
