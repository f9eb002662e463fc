import { createHash } from 'node:crypto';
import type { Change } from '../core/change.ts';
import type { FileState } from '../core/file-state.ts';
import { checkMode, type ModeInput } from '../core/file-mode.ts';
import { ValidationError } from '../errors.ts';
import type { FileFact } from '../facts/fact-request.ts';
import type { PlanResult, TaskContext } from './module.ts';
import { hasAttributes, resolveAttributes } from './wanted-attributes.ts';

/** Problems for props not in `allowed` (a typo such as `paht` is an error, not a silent no-op). */
export function checkUnknownProps(props: object, allowed: readonly string[]): string[] {
  if (typeof props !== 'object' || props === null) return ['props: must be an object'];
  return Object.keys(props).filter((k) => !allowed.includes(k)).map((k) => `${k}: unknown prop (allowed: ${allowed.join(', ')})`);
}

/** Refuse to treat a directory (or device…) as a regular file. */
export function assertRegularOrAbsent(fact: FileFact, path: string, ctx: TaskContext): void {
  if (fact.exists && fact.type !== 'file') {
    throw new ValidationError([`${path} is a ${fact.type}, not a regular file`], { task: ctx.taskPath, hint: 'point the task at a file path, or remove what is there first' });
  }
}

export interface FileWriteOptions {
  readonly path: string;
  readonly fact: FileFact;
  readonly content: Buffer;
  readonly mode?: ModeInput | undefined;
  readonly owner?: string | undefined;
  readonly group?: string | undefined;
  readonly secret?: boolean;
  readonly ctx: TaskContext;
  /** No-op reason when nothing differs. */
  readonly noop?: string;
  /** Validation command for the new content (see WriteFileChange.validate and checkValidateProp). */
  readonly validate?: readonly string[] | undefined;
  /** For a new file, show the plan's diff from this content instead of from nothing (see WriteFileChange). */
  readonly diffFrom?: { readonly label: string; readonly content: Buffer } | undefined;
}

/**
 * The change that makes `path` hold `content` with the wanted attributes: a write-file, a set-attributes when only
 * mode/owner/group differ, or a no-op. Attributes default to the existing file's, else 0644 root:root.
 */
export function planFileWrite(o: FileWriteOptions): PlanResult {
  const { fact, path, content, ctx } = o;
  assertRegularOrAbsent(fact, path, ctx);
  const { content: current, ...before } = fact;
  const { mode, owner, group } = resolveAttributes(fact, o, '0644');
  const sha256 = createHash('sha256').update(content).digest('hex');
  const after: FileState = { exists: true, type: 'file', mode, owner, group, sha256, size: content.length };
  const sameContent = fact.exists && (current ? current.equals(content) : fact.sha256 === sha256); // sha256 covers files above the content cap
  const sameAttrs = hasAttributes(fact, { mode, owner, group });
  if (sameContent && sameAttrs) return { noop: o.noop ?? `${path} is as wanted` };
  if (sameContent) {
    const change: Change = { kind: 'set-attributes', path, before, after, task: ctx.taskPath, reason: `attributes ${fact.mode} ${fact.owner}:${fact.group} → ${mode} ${owner}:${group}` };
    return { changes: [change] };
  }
  const change: Change = {
    kind: 'write-file', path, before: fact.exists ? before : { exists: false }, after, content: content.toString('base64'),
    secret: o.secret === true, task: ctx.taskPath, reason: fact.exists ? 'content differs' : 'file absent',
    ...(o.validate ? { validate: o.validate } : {}),
    ...(!fact.exists && o.diffFrom && o.secret !== true ? { diffFrom: { label: o.diffFrom.label, content: o.diffFrom.content.toString('base64') } } : {}),
  };
  return { changes: [change] };
}

/** Common validation of path/mode/owner/group. */
export function checkFileAttrs(p: { path?: unknown; mode?: unknown; owner?: unknown; group?: unknown }): string[] {
  const problems: string[] = [];
  if (typeof p.path !== 'string' || !p.path.startsWith('/')) problems.push(`path: must be an absolute path (got ${JSON.stringify(p.path)})`);
  else if (p.path.includes('\n') || p.path.includes('\0')) problems.push('path: must not contain newlines or NUL');
  const modeProblem = p.mode === undefined ? undefined : checkMode(p.mode);
  if (modeProblem) problems.push(`mode: ${modeProblem}`);
  for (const k of ['owner', 'group'] as const) {
    if (p[k] !== undefined && (typeof p[k] !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(p[k] as string))) problems.push(`${k}: must be a user or group name`);
  }
  return problems;
}

/**
 * Problems with a `validate` prop shared by the file-writing modules: a non-empty argv (no shell) where at least one
 * argument holds `%s`, the temp file's path — e.g. `['/usr/sbin/visudo', '-cf', '%s']`, `['nginx', '-t', '-c', '%s']`.
 */
export function checkValidateProp(validate: unknown): string[] {
  if (validate === undefined) return [];
  if (!Array.isArray(validate) || !validate.length || validate.some((a) => typeof a !== 'string') || validate[0] === '') {
    return ['validate: must be a non-empty array of strings (argv, no shell), e.g. ["/usr/sbin/visudo", "-cf", "%s"]'];
  }
  if (!validate.some((a: string) => a.includes('%s'))) return ['validate: must contain %s (replaced by the path of the new content) in one of its arguments'];
  if (validate.some((a: string) => a.includes('\0'))) return ['validate: arguments must not contain NUL'];
  return [];
}
