import type { Change } from '../core/change.ts';
import { AccountError } from '../errors.ts';
import { getFileContent } from '../facts/file-content.ts';
import type { HostFacts } from '../facts/fact-request.ts';
import { ACCOUNT_NAME, findAccountEntry, pickFreeId, setAccountEntry, splitAccountLines, usedAccountIds } from '../text/account-db.ts';
import { checkUnknownProps, planFileWrite } from './file-write.ts';
import { defineModule, type PlanResult, type TaskContext } from './module.ts';

export interface GroupProps {
  /** Group name: lower-case letters, digits, `_` and `-`, starting with a letter or `_`, at most 32 characters. */
  readonly name: string;
  /** 'absent' removes the entry (refused while the group is some user's primary group). @default 'present' */
  readonly state?: 'present' | 'absent';
  /** The group's gid; an existing group with another gid gets this one. @default for a new group the lowest free gid from 1000 (from 100 with `system`); an existing group keeps its gid */
  readonly gid?: number;
  /** Allocate from the system range 100–999. @default false */
  readonly system?: boolean;
}

export const GROUP_FILE = '/etc/group';
export const GSHADOW_FILE = '/etc/gshadow';
export const PASSWD_FILE = '/etc/passwd';
export const SHADOW_FILE = '/etc/shadow';

/** Gathered content of an account database, or undefined when the file is absent (gshadow is optional). */
export function readAccountFile(facts: HostFacts, path: string, ctx: TaskContext, required: boolean): Buffer | undefined {
  const f = facts.file(path);
  if (!f.exists) {
    if (required) throw new AccountError(`${path} does not exist on this host`, { task: ctx.taskPath });
    return undefined;
  }
  return getFileContent(f, path);
}

/** Edit one entry of an account database, refusing a file that holds the name twice. */
export function editAccountFile(content: Buffer, path: string, name: string, fields: readonly string[] | undefined, ctx: TaskContext): Buffer {
  const out = setAccountEntry(content, name, fields);
  if (!out) throw new AccountError(`${path} has more than one entry named ${name}: not changed`, { task: ctx.taskPath, hint: 'fix the file by hand (vipw / vigr)' });
  return out;
}

/** Write-file changes for every account file whose content changed (attributes kept; shadow files secret). */
export function planAccountWrites(edits: ReadonlyArray<readonly [string, Buffer | undefined, Buffer | undefined]>, facts: HostFacts, ctx: TaskContext): Change[] {
  const changes: Change[] = [];
  for (const [path, before, after] of edits) {
    if (!before || !after || before.equals(after)) continue;
    const r = planFileWrite({ path, fact: facts.file(path), content: after, secret: path === SHADOW_FILE || path === GSHADOW_FILE, ctx });
    if ('changes' in r) changes.push(...r.changes);
  }
  return changes;
}

export function accountFileFacts(): Array<{ kind: 'file'; path: string }> {
  return [PASSWD_FILE, SHADOW_FILE, GROUP_FILE, GSHADOW_FILE].map((path) => ({ kind: 'file' as const, path }));
}

export function checkId(v: unknown, key: string): string[] {
  return v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 31 - 1) ? [] : [`${key}: a non-negative integer`];
}

/**
 * `group({ name, gid })`: a group in /etc/group (and /etc/gshadow when the host has one). It is planned as file
 * writes of those databases — diff, journal and byte-exact rollback like any file. Absent removes the entry; a
 * group that is some user's primary group is not removed.
 *
 * @plan `update /etc/group` and `update /etc/gshadow` (secret, masked) with the diff of the one entry added, changed
 * or removed; the no-op says `group NAME exists (gid N)` or `group NAME is absent`. A gid used by another group, or
 * a database holding the name twice, is an error at plan time.
 *
 * @rollback Puts /etc/group and /etc/gshadow back byte for byte as they were (from the journal's pre-images). A
 * database changed since the run (another group added meanwhile) is a conflict unless `--force`.
 *
 * @example
 * group({ name: 'deploy', system: true })
 */
export const group = defineModule<GroupProps>({
  name: 'group',
  validate: (p) => {
    const problems = checkUnknownProps(p, ['name', 'state', 'gid', 'system']);
    if (typeof p.name !== 'string' || !ACCOUNT_NAME.test(p.name)) problems.push(`name: a group name matching ${ACCOUNT_NAME}`);
    if (p.state !== undefined && p.state !== 'present' && p.state !== 'absent') problems.push('state: present or absent');
    problems.push(...checkId(p.gid, 'gid'));
    if (p.system !== undefined && typeof p.system !== 'boolean') problems.push('system: a boolean');
    return problems;
  },
  facts: () => accountFileFacts(),
  plan: (p, facts, ctx) => planGroup(p, facts, ctx),
});

function planGroup(p: GroupProps, facts: HostFacts, ctx: TaskContext): PlanResult {
  const groupDb = readAccountFile(facts, GROUP_FILE, ctx, true)!;
  const gshadow = readAccountFile(facts, GSHADOW_FILE, ctx, false);
  const entry = findAccountEntry(groupDb, p.name);
  if (p.state === 'absent') {
    if (!entry) return { noop: `group ${p.name} is absent` };
    const passwd = readAccountFile(facts, PASSWD_FILE, ctx, true)!;
    const primaryOf = splitAccountLines(passwd).map((l) => l.split(':')).filter((f) => f[3] === entry[2]).map((f) => f[0]);
    if (primaryOf.length) throw new AccountError(`group ${p.name} is the primary group of ${primaryOf.join(', ')}: not removed`, { task: ctx.taskPath });
    const changes = planAccountWrites([
      [GROUP_FILE, groupDb, editAccountFile(groupDb, GROUP_FILE, p.name, undefined, ctx)],
      [GSHADOW_FILE, gshadow, gshadow && editAccountFile(gshadow, GSHADOW_FILE, p.name, undefined, ctx)],
    ], facts, ctx);
    return { changes };
  }
  const used = usedAccountIds(groupDb, 2);
  if (entry) {
    if (p.gid === undefined || entry[2] === String(p.gid)) return { noop: `group ${p.name} exists (gid ${entry[2]})` };
    if (used.has(p.gid)) throw new AccountError(`gid ${p.gid} is already used by another group`, { task: ctx.taskPath });
    const fields = [...entry];
    fields[2] = String(p.gid);
    return { changes: planAccountWrites([[GROUP_FILE, groupDb, editAccountFile(groupDb, GROUP_FILE, p.name, fields, ctx)]], facts, ctx) };
  }
  const gid = p.gid ?? (p.system ? pickFreeId(100, 999, used) : pickFreeId(1000, 59999, used));
  if (gid === undefined) throw new AccountError(`no free gid for group ${p.name}`, { task: ctx.taskPath });
  if (p.gid !== undefined && used.has(p.gid)) throw new AccountError(`gid ${p.gid} is already used by another group`, { task: ctx.taskPath });
  const changes = planAccountWrites([
    [GROUP_FILE, groupDb, editAccountFile(groupDb, GROUP_FILE, p.name, [p.name, 'x', String(gid), ''], ctx)],
    [GSHADOW_FILE, gshadow, gshadow && editAccountFile(gshadow, GSHADOW_FILE, p.name, [p.name, '!', '', ''], ctx)],
  ], facts, ctx);
  return { changes };
}
